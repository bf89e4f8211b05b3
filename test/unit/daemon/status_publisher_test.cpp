// gitfed::daemon::StatusPublisher: the queue's policy and the writer thread
// over an in-memory status branch that can be taken down.

#include <catch2/catch.hpp>

#include <atomic>
#include <map>
#include <mutex>

#include "gitfed/daemon/status_publisher.h"

using namespace gitfed;
using namespace gitfed::daemon;
using namespace std::chrono_literals;

namespace {

// A branch in memory: commits are (parent, files); push is fast-forward only.
class MemoryStore final : public status::StatusStore {
 public:
  std::atomic<bool> down{false};
  std::atomic<int> pushes{0};

  status::Result<Tip> fetch(const std::string& path) override {
    if (down) return git::fail(git::ErrorCode::Network, "connection refused", "fetch");
    std::lock_guard lock(mu_);
    Tip t;
    if (!tip_.empty()) {
      t.commit = tip_;
      auto& files = commits_.at(tip_).second;
      if (auto it = files.find(path); it != files.end()) t.file = it->second;
    }
    return t;
  }
  status::Result<std::string> commit(const std::optional<std::string>& parent, const std::string& path,
                                     const std::string& content, const git::Signature&, const std::string& message) override {
    std::lock_guard lock(mu_);
    std::map<std::string, std::string> files;
    if (parent) files = commits_.at(*parent).second;
    files[path] = content;
    std::string id = "c" + std::to_string(commits_.size() + 1);
    commits_[id] = {parent.value_or(""), files};
    messages_.push_back(message);
    return id;
  }
  status::Result<git::PushResult> push(const std::string& commit) override {
    if (down) return git::fail(git::ErrorCode::Network, "connection refused", "push");
    std::lock_guard lock(mu_);
    ++pushes;
    if (commits_.at(commit).first != tip_) return git::PushResult{false, "non-fast-forward"};
    tip_ = commit;
    history_.push_back(commit);
    return git::PushResult{true, ""};
  }
  // The phases of the file at each commit of the branch, oldest first.
  std::vector<std::string> phases(const std::string& path) {
    std::lock_guard lock(mu_);
    std::vector<std::string> out;
    for (const auto& c : history_) {
      auto doc = status::parseReport(commits_.at(c).second.at(path));
      out.push_back(doc ? status::toString(doc->sync.phase) : "?");
    }
    return out;
  }

 private:
  std::mutex mu_;
  std::string tip_;
  std::map<std::string, std::pair<std::string, std::map<std::string, std::string>>> commits_;
  std::vector<std::string> messages_;
  std::vector<std::string> history_;
};

status::ClusterStatus report(status::Phase phase, std::size_t objects, int second) {
  status::ClusterStatus r;
  r.name = "c1";
  r.source = {"https://h/f.git", "main", std::string(40, 'a')};
  r.sync.phase = phase;
  r.sync.lastAttemptAt = status::Clock::time_point{} + std::chrono::seconds(1795300000 + second);
  r.summary.objects = objects;
  r.agentVersion = "test";
  return r;
}

status::WriterOptions writerOptions() {
  status::WriterOptions w;
  w.cluster = "c1";
  w.deadline = 300ms;
  w.backoffBase = 1ms;
  w.backoffMax = 5ms;
  return w;
}

}  // namespace

TEST_CASE("status publisher: consecutive reports of one phase collapse; transitions are kept", "[daemon]") {
  std::deque<StatusPublisher::Item> q;
  auto add = [&](status::Phase p, std::size_t n) {
    StatusPublisher::enqueue(q, StatusPublisher::Item{n, report(p, n, static_cast<int>(n)), {}});
  };
  add(status::Phase::Synced, 1);
  add(status::Phase::Synced, 2);
  add(status::Phase::Stale, 3);
  add(status::Phase::Stale, 4);
  add(status::Phase::Synced, 5);
  REQUIRE(q.size() == 3);
  CHECK(q[0].report.summary.objects == 2);
  CHECK(q[1].report.summary.objects == 4);
  CHECK(q[2].report.summary.objects == 5);
  for (std::size_t i = 0; i < 20; ++i) add(i % 2 ? status::Phase::Failed : status::Phase::Synced, 10 + i);
  CHECK(q.size() == StatusPublisher::kMaxQueued);
  CHECK(q.back().report.summary.objects == 29);
}

TEST_CASE("status publisher: writes in the background; flush waits for it", "[daemon]") {
  auto store = std::make_unique<MemoryStore>();
  auto* branch = store.get();
  std::vector<std::string> outcomes;
  std::mutex m;
  StatusPublisher p(std::move(store), writerOptions(), [&](const std::string& o) {
    std::lock_guard lock(m);
    outcomes.push_back(o);
  });
  p.publish(report(status::Phase::Synced, 3, 1), {});
  REQUIRE(p.flush(5s));
  CHECK(branch->phases("clusters/c1.yaml") == std::vector<std::string>{"Synced"});
  // The same report again (newer timestamp only): nothing committed.
  p.publish(report(status::Phase::Synced, 3, 2), {});
  REQUIRE(p.flush(5s));
  CHECK(branch->phases("clusters/c1.yaml").size() == 1);
  std::lock_guard lock(m);
  CHECK(outcomes == std::vector<std::string>{"Committed", "Unchanged"});
}

TEST_CASE("status publisher: while the server is down reports wait; every transition lands in order", "[daemon][slow]") {
  auto store = std::make_unique<MemoryStore>();
  auto* branch = store.get();
  StatusPublisher p(std::move(store), writerOptions());
  p.publish(report(status::Phase::Synced, 3, 1), {});
  REQUIRE(p.flush(5s));
  branch->down = true;
  p.publish(report(status::Phase::Stale, 3, 2), {});
  p.publish(report(status::Phase::Stale, 3, 3), {});
  CHECK_FALSE(p.flush(500ms));
  p.publish(report(status::Phase::Synced, 4, 4), {});
  branch->down = false;
  REQUIRE(p.flush(10s));
  CHECK(branch->phases("clusters/c1.yaml") == std::vector<std::string>{"Synced", "Stale", "Synced"});
}
