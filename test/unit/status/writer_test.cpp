// StatusWriter over an in-memory status branch: the branch created as a root
// commit, commit only on change, heartbeat, retries that rebuild on the new
// tip without touching other clusters' files, per-ref refusals, supersession,
// giving up, redaction on the way out.

#include <catch2/catch.hpp>

#include <map>

#include "gitfed/status/writer.h"

using namespace gitfed::status;
using nlohmann::json;

namespace {

// The remote branch: commits (their files and parent) and a tip.
struct FakeBranch {
  struct Commit {
    std::optional<std::string> parent;
    std::map<std::string, std::string> files;
    std::string message, author;
  };
  std::map<std::string, Commit> commits;
  std::optional<std::string> tip;
  int counter = 0;

  std::vector<std::string> history() const {  // newest first
    std::vector<std::string> out;
    for (auto c = tip; c; c = commits.at(*c).parent) out.push_back(*c);
    return out;
  }
};

class FakeStore final : public StatusStore {
 public:
  explicit FakeStore(FakeBranch& branch) : branch_(branch) {}
  int fetches = 0, pushes = 0, rejectNext = 0, failFetchNext = 0;
  std::function<void()> beforePush;

  Result<Tip> fetch(const std::string& path) override {
    ++fetches;
    if (failFetchNext > 0) {
      --failFetchNext;
      return gitfed::git::fail(ErrorCode::Network, "connection refused");
    }
    Tip t;
    t.commit = branch_.tip;
    if (t.commit) {
      const auto& files = branch_.commits.at(*t.commit).files;
      if (auto it = files.find(path); it != files.end()) t.file = it->second;
      for (const auto& [name, content] : files) t.clusters += name.starts_with("clusters/") ? 1u : 0u;
    }
    return t;
  }
  Result<std::string> commit(const std::optional<std::string>& parent, const std::string& path,
                             const std::string& content, const gitfed::git::Signature& author,
                             const std::string& message) override {
    FakeBranch::Commit c;
    c.parent = parent;
    if (parent) c.files = branch_.commits.at(*parent).files;
    c.files[path] = content;
    c.message = message;
    c.author = author.name + " <" + author.email + ">";
    std::string id = "c" + std::to_string(++branch_.counter);
    branch_.commits[id] = std::move(c);
    return id;
  }
  Result<gitfed::git::PushResult> push(const std::string& commit) override {
    ++pushes;
    if (beforePush) beforePush();
    if (rejectNext > 0) {
      --rejectNext;
      return gitfed::git::PushResult{false, "pre-receive hook declined"};
    }
    if (branch_.commits.at(commit).parent != branch_.tip) return gitfed::git::PushResult{false, "non-fast-forward"};
    branch_.tip = commit;
    return gitfed::git::PushResult{true, {}};
  }

 private:
  FakeBranch& branch_;
};

ClusterStatus report(const std::string& cluster, int objects, const std::string& at = "2026-01-01T00:00:00Z") {
  ClusterStatus r;
  r.name = cluster;
  r.source = {"https://git.example.com/fleet.git", "main", std::string(40, 'a')};
  r.sync.phase = Phase::Synced;
  r.sync.appliedRevision = std::string(40, 'a');
  r.sync.lastAttemptAt = parseTime(at);
  r.sync.lastSuccessAt = parseTime(at);
  r.summary.objects = static_cast<std::size_t>(objects);
  r.summary.synced = static_cast<std::size_t>(objects);
  r.agentVersion = "test";
  return r;
}

struct Harness {
  FakeBranch branch;
  Clock::time_point now = *parseTime("2026-01-01T00:00:00Z");
  std::vector<std::chrono::milliseconds> sleeps;
  StatusWriter writer(StatusStore& store, const std::string& cluster, std::chrono::seconds heartbeat = {}) {
    WriterOptions o;
    o.cluster = cluster;
    o.email = "agent@example.org";
    o.heartbeat = heartbeat;
    o.maxAttempts = 10;
    return StatusWriter(store, o, [this] { return now; }, [this](std::chrono::milliseconds d) { sleeps.push_back(d); });
  }
};

}  // namespace

TEST_CASE("the first report creates the branch; only changes are committed", "[status][writer]") {
  Harness h;
  FakeStore store(h.branch);
  auto w = h.writer(store, "eu-west-1");
  auto first = w.write(report("eu-west-1", 5));
  REQUIRE(first);
  CHECK(first->kind == WriteOutcome::Kind::Committed);
  REQUIRE(h.branch.tip);
  CHECK_FALSE(h.branch.commits.at(*h.branch.tip).parent);  // a root commit
  CHECK(h.branch.commits.at(*h.branch.tip).message == "eu-west-1: Synced aaaaaaa (5 objects)");
  CHECK(h.branch.commits.at(*h.branch.tip).author == "gitfed eu-west-1 <agent@example.org>");
  CHECK(h.branch.commits.at(*h.branch.tip).files.contains("clusters/eu-west-1.yaml"));

  // Only the timestamps differ: nothing is sent, not even a fetch.
  int fetches = store.fetches;
  auto same = w.write(report("eu-west-1", 5, "2026-01-01T00:05:00Z"));
  REQUIRE(same);
  CHECK(same->kind == WriteOutcome::Kind::Unchanged);
  CHECK(store.fetches == fetches);
  CHECK(h.branch.history().size() == 1);

  auto changed = w.write(report("eu-west-1", 6, "2026-01-01T00:10:00Z"));
  REQUIRE(changed);
  CHECK(changed->kind == WriteOutcome::Kind::Committed);
  CHECK(h.branch.history().size() == 2);

  // A new writer (an agent restart) compares with the branch, not with memory.
  auto restarted = h.writer(store, "eu-west-1");
  auto again = restarted.write(report("eu-west-1", 6, "2026-01-01T00:20:00Z"));
  REQUIRE(again);
  CHECK(again->kind == WriteOutcome::Kind::Unchanged);
  CHECK(h.branch.history().size() == 2);
}

TEST_CASE("heartbeat: an unchanged report is committed once the interval passed", "[status][writer]") {
  Harness h;
  FakeStore store(h.branch);
  auto w = h.writer(store, "c1", std::chrono::seconds(600));
  REQUIRE(w.write(report("c1", 1, "2026-01-01T00:00:00Z")));
  h.now += std::chrono::seconds(300);
  CHECK(w.write(report("c1", 1, "2026-01-01T00:05:00Z"))->kind == WriteOutcome::Kind::Unchanged);
  h.now += std::chrono::seconds(400);
  auto beat = w.write(report("c1", 1, "2026-01-01T00:11:40Z"));
  REQUIRE(beat);
  CHECK(beat->kind == WriteOutcome::Kind::Committed);
  CHECK(h.branch.commits.at(*h.branch.tip).message == "c1: Synced aaaaaaa (1 object) (heartbeat)");
}

TEST_CASE("a push refused because another agent moved the branch is rebuilt on the new tip", "[status][writer]") {
  Harness h;
  FakeStore a(h.branch), b(h.branch);
  auto wa = h.writer(a, "a");
  auto wb = h.writer(b, "b");
  REQUIRE(wb.write(report("b", 1)));
  // Between a's fetch and a's push, b commits twice.
  int racing = 2;
  a.beforePush = [&] {
    if (racing-- > 0) REQUIRE(wb.write(report("b", 10 + racing)));
  };
  auto r = wa.write(report("a", 7));
  REQUIRE(r);
  CHECK(r->kind == WriteOutcome::Kind::Committed);
  CHECK(r->attempts == 3);
  CHECK(h.sleeps.size() == 2);
  // Full jitter over a doubling window (instant attempts: the 50 ms base slot).
  CHECK(h.sleeps[0] <= std::chrono::milliseconds(50));
  CHECK(h.sleeps[1] <= std::chrono::milliseconds(100));
  // Linear history; every commit changes exactly its own cluster's file, and
  // b's last report survived a's retries.
  auto history = h.branch.history();
  CHECK(history.size() == 4);
  const auto& files = h.branch.commits.at(*h.branch.tip).files;
  REQUIRE(files.size() == 2);
  auto bReport = parseReport(files.at("clusters/b.yaml"));
  REQUIRE(bReport);
  CHECK(bReport->summary.objects == 10);
  CHECK(parseReport(files.at("clusters/a.yaml"))->summary.objects == 7);
}

TEST_CASE("per-ref refusals (a hook) and fetch errors are retried; then it gives up", "[status][writer]") {
  Harness h;
  FakeStore store(h.branch);
  auto w = h.writer(store, "c1");
  store.rejectNext = 3;
  store.failFetchNext = 2;
  auto r = w.write(report("c1", 1));
  REQUIRE(r);
  CHECK(r->kind == WriteOutcome::Kind::Committed);
  CHECK(r->attempts == 4);
  CHECK(store.fetches == 6);

  store.rejectNext = 100;
  auto giveUp = w.write(report("c1", 2));
  REQUIRE_FALSE(giveUp);
  CHECK(giveUp.error().code == ErrorCode::Rejected);
  CHECK(giveUp.error().format().find("pre-receive hook declined") != std::string::npos);
  CHECK(parseReport(h.branch.commits.at(*h.branch.tip).files.at("clusters/c1.yaml"))->summary.objects == 1);
}

TEST_CASE("a newer report of the same cluster on the branch supersedes an older one", "[status][writer]") {
  Harness h;
  FakeStore store(h.branch);
  auto newer = h.writer(store, "c1");
  REQUIRE(newer.write(report("c1", 2, "2026-01-01T00:10:00Z")));
  auto older = h.writer(store, "c1");
  auto r = older.write(report("c1", 1, "2026-01-01T00:05:00Z"));
  REQUIRE(r);
  CHECK(r->kind == WriteOutcome::Kind::Superseded);
  CHECK(h.branch.history().size() == 1);
}

TEST_CASE("the writer refuses foreign or invalid names and redacts on the way out", "[status][writer]") {
  Harness h;
  FakeStore store(h.branch);
  auto w = h.writer(store, "c1");
  CHECK(w.write(report("c2", 1)).error().code == ErrorCode::InvalidArgument);
  auto bad = h.writer(store, "../x");
  CHECK(bad.write(report("../x", 1)).error().code == ErrorCode::InvalidArgument);

  ClusterStatus r = report("c1", 1);
  r.sync.phase = Phase::Drifted;
  r.sync.message = "live value s3cr3t-value differs";
  ObjectStatus o;
  o.apiVersion = "v1";
  o.kind = "Secret";
  o.ns = "shop";
  o.name = "db";
  o.drift = {{"/data/password", "czNjcjN0LXZhbHVl", "b3RoZXI="}};
  r.objects = {o};
  Redactor redactor;
  redactor.learn(json::parse(R"({"apiVersion":"v1","kind":"Secret","data":{"password":"czNjcjN0LXZhbHVl"}})"));
  REQUIRE(w.write(r, redactor));
  const auto& c = h.branch.commits.at(*h.branch.tip);
  const std::string& text = c.files.at("clusters/c1.yaml");
  CHECK(text.find("s3cr3t-value") == std::string::npos);
  CHECK(text.find("czNjcjN0LXZhbHVl") == std::string::npos);
  CHECK(text.find("b3RoZXI=") == std::string::npos);
  CHECK(text.find("<redacted>") != std::string::npos);
  CHECK(c.message.find("s3cr3t") == std::string::npos);
}

TEST_CASE("errors that another attempt cannot fix are returned at once", "[status][writer]") {
  Harness h;
  struct AuthFailing final : StatusStore {
    int fetches = 0;
    Result<Tip> fetch(const std::string&) override {
      ++fetches;
      return gitfed::git::fail(ErrorCode::Auth, "the server refused the credentials");
    }
    Result<std::string> commit(const std::optional<std::string>&, const std::string&, const std::string&,
                               const gitfed::git::Signature&, const std::string&) override {
      return std::string("x");
    }
    Result<gitfed::git::PushResult> push(const std::string&) override { return gitfed::git::PushResult{true, {}}; }
  } store;
  auto w = h.writer(store, "c1");
  auto r = w.write(report("c1", 1));
  REQUIRE_FALSE(r);
  CHECK(r.error().code == ErrorCode::Auth);
  CHECK(store.fetches == 1);
  CHECK(h.sleeps.empty());
}

TEST_CASE("the backoff window doubles from the last attempt's time up to a cap sized for the fleet",
          "[status][writer][backoff]") {
  using std::chrono::milliseconds;
  WriterOptions o;  // base 50 ms, 50 ms per cluster, cap within [1 s, 60 s]
  // Doubling from max(base, last attempt).
  CHECK(backoffWindow(o, 1, milliseconds(0), 50) == milliseconds(50));
  CHECK(backoffWindow(o, 2, milliseconds(0), 50) == milliseconds(100));
  CHECK(backoffWindow(o, 2, milliseconds(300), 50) == milliseconds(600));
  // 50 clusters on the branch: at most 2.5 s; 2 clusters: the 1 s floor;
  // 10,000 clusters: the 60 s ceiling.
  CHECK(backoffWindow(o, 10, milliseconds(300), 50) == milliseconds(2500));
  CHECK(backoffWindow(o, 10, milliseconds(300), 2) == milliseconds(1000));
  CHECK(backoffWindow(o, 30, milliseconds(300), 10'000) == milliseconds(60'000));
  CHECK(backoffWindow(o, 8, milliseconds(300), 1'000) == milliseconds(38'400));  // still doubling below its cap
  // Not known yet (no branch, or no reports on it): the ceiling bounds it.
  CHECK(backoffWindow(o, 30, milliseconds(300), 0) == milliseconds(60'000));
  // A ceiling below the floor wins (tests and impatient callers).
  WriterOptions quick;
  quick.backoffBase = milliseconds(1);
  quick.backoffMax = milliseconds(5);
  CHECK(backoffWindow(quick, 10, milliseconds(0), 50) == milliseconds(5));
}

TEST_CASE("a writer's retries wait within the window for the number of clusters on the branch",
          "[status][writer][backoff]") {
  Harness h;
  // 60 other clusters have reported: a cap of 60 x 50 ms = 3 s.
  for (int i = 0; i < 60; ++i) {
    FakeStore other(h.branch);
    auto w = h.writer(other, "c" + std::to_string(i));
    REQUIRE(w.write(report("c" + std::to_string(i), 1)));
  }
  h.sleeps.clear();
  FakeStore a(h.branch);
  a.rejectNext = 9;  // refused nine times (a hook), accepted the tenth
  auto wa = h.writer(a, "a");
  auto r = wa.write(report("a", 1));
  REQUIRE(r);
  CHECK(r->attempts == 10);
  REQUIRE(h.sleeps.size() == 9);
  for (std::size_t i = 0; i < h.sleeps.size(); ++i) {
    INFO("retry " << i + 1);
    CHECK(h.sleeps[i] <= backoffWindow(WriterOptions{}, static_cast<int>(i) + 1, std::chrono::milliseconds(0), 60));
    CHECK(h.sleeps[i] <= std::chrono::milliseconds(3000));
  }
}
