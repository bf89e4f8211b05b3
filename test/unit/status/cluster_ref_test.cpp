// The per-cluster status ref (issue 15) over in-memory servers: one push per
// report with the next Gitfed-Sequence, the branch only on headline changes,
// heartbeats to the ref only, an older report never replacing a newer one
// (a restarted writer, a leader change between read and push), a branch that
// lags catching up, signatures that verify only for their cluster, sequence
// and content.

#include <catch2/catch.hpp>

#include <algorithm>
#include <map>

#include "gitfed/status/cluster_ref.h"
#include "gitfed/status/reader.h"
#include "gitfed/status/signing.h"
#include "gitfed/status/writer.h"

using namespace gitfed::status;
namespace git = gitfed::git;

namespace {

// The server's refs/gitfed/status/<cluster>: a commit id, and the commits.
struct FakeRef {
  struct Commit {
    std::string content, message;
  };
  std::map<std::string, Commit> commits;
  std::optional<std::string> held;
  int counter = 0;
  const Commit& tip() const { return commits.at(*held); }
  RefTrailers trailers() const { return parseRefTrailers(tip().message); }
};

class FakeRefStore final : public ClusterRefStore {
 public:
  explicit FakeRefStore(FakeRef& ref) : ref_(ref) {}
  int fetches = 0, pushes = 0;
  std::size_t fleet = 0;             // what fleetSize() says
  std::function<void()> beforePush;  // another agent, between our read and our push
  std::size_t fleetSize() const override { return fleet; }

  Result<std::optional<RefReport>> fetch() override {
    ++fetches;
    leased_ = ref_.held;
    if (!ref_.held) return std::optional<RefReport>{};
    const auto& c = ref_.tip();
    return std::optional<RefReport>{RefReport{*ref_.held, c.content, parseRefTrailers(c.message)}};
  }
  Result<std::string> commit(const std::string& content, const git::Signature&, const std::string& message) override {
    std::string id = "r" + std::to_string(++ref_.counter);
    ref_.commits[id] = {content, message};
    return id;
  }
  Result<git::PushResult> push(const std::string& commit) override {
    ++pushes;
    if (beforePush) {
      auto hook = std::move(beforePush);
      beforePush = nullptr;
      hook();
    }
    if (ref_.held != leased_) return git::PushResult{false, "failed to update ref"};  // the lease
    ref_.held = commit;
    return git::PushResult{true, {}};
  }

 private:
  FakeRef& ref_;
  std::optional<std::string> leased_;
};

// The people's branch, as the writer's store sees it (no rebuild races here:
// writer_test.cpp covers those).
class FakeBranchStore final : public StatusStore {
 public:
  std::map<std::string, std::string> files;
  int commits = 0, pushes = 0, failNext = 0;
  std::vector<std::string> messages;
  Result<Tip> fetch(const std::string& path) override {
    if (failNext > 0) {
      --failNext;
      return git::fail(ErrorCode::Auth, "the server refused the credentials (HTTP 401)");
    }
    Tip t;
    if (commits > 0) t.commit = "b" + std::to_string(commits);
    if (auto it = files.find(path); it != files.end()) t.file = it->second;
    t.clusters = files.size();
    return t;
  }
  Result<std::string> commit(const std::optional<std::string>&, const std::string& path, const std::string& content,
                             const git::Signature&, const std::string& message) override {
    pending_ = {path, content};
    messages.push_back(message);
    return "b" + std::to_string(commits + 1);
  }
  Result<git::PushResult> push(const std::string&) override {
    ++pushes;
    files[pending_.first] = pending_.second;
    ++commits;
    return git::PushResult{true, {}};
  }

 private:
  std::pair<std::string, std::string> pending_;
};

ClusterStatus report(int objects, const std::string& at, Phase phase = Phase::Synced) {
  ClusterStatus r;
  r.name = "eu-west-1";
  r.source = {"https://git.example.com/fleet.git", "main", std::string(40, 'a')};
  r.sync.phase = phase;
  r.sync.appliedRevision = std::string(40, 'a');
  r.sync.lastAttemptAt = parseTime(at);
  r.summary.objects = static_cast<std::size_t>(objects);
  r.agentVersion = "test";
  return r;
}

struct Harness {
  FakeRef ref;
  std::shared_ptr<FakeRefStore> refStore = std::make_shared<FakeRefStore>(ref);
  FakeBranchStore branch;
  Clock::time_point now = *parseTime("2026-01-01T00:00:00Z");
  std::vector<std::chrono::milliseconds> sleeps;
  StatusWriter writer(std::chrono::seconds heartbeat = {}, std::shared_ptr<const ReportSigner> signer = nullptr,
                      std::shared_ptr<FakeRefStore> store = nullptr) {
    WriterOptions o;
    o.cluster = "eu-west-1";
    o.heartbeat = heartbeat;
    o.maxAttempts = 5;
    o.clusterRef = store ? store : refStore;
    o.signer = std::move(signer);
    return StatusWriter(branch, o, [this] { return now; }, [this](std::chrono::milliseconds d) { sleeps.push_back(d); });
  }
};

}  // namespace

TEST_CASE("trailers: written and read back", "[status][clusterref]") {
  RefTrailers t{"eu-west-1", 42, "ed25519 AAAA"};
  std::string m = refCommitMessage("eu-west-1: Synced aaaaaaa (5 objects)", t);
  CHECK(m.starts_with("eu-west-1: Synced aaaaaaa (5 objects)\n\n"));
  auto back = parseRefTrailers(m);
  CHECK(back.cluster == "eu-west-1");
  CHECK(back.sequence == 42);
  CHECK(back.signature == "ed25519 AAAA");
  CHECK(parseRefTrailers("x\n\nGitfed-Sequence: 12x\n").sequence == 0);  // not a number: none
  CHECK(clusterRef("eu-west-1") == "refs/gitfed/status/eu-west-1");
}

TEST_CASE("every report is one push to the cluster's ref; the branch gets headline changes only", "[status][clusterref]") {
  Harness h;
  auto w = h.writer();
  auto first = w.write(report(5, "2026-01-01T00:00:00Z"));
  REQUIRE(first);
  CHECK(first->kind == WriteOutcome::Kind::Committed);
  CHECK(first->attempts == 1);
  CHECK(first->sequence == 1);
  CHECK(h.ref.trailers().sequence == 1);
  CHECK(h.ref.trailers().cluster == "eu-west-1");
  CHECK(h.ref.trailers().signature.empty());
  CHECK(h.ref.tip().content.find("objects: 5") != std::string::npos);
  CHECK(first->branch == WriteOutcome::Kind::Committed);  // a first headline
  CHECK(h.branch.commits == 1);

  // More objects, same phase and revisions: the ref only.
  h.now += std::chrono::minutes(1);
  auto second = w.write(report(6, "2026-01-01T00:01:00Z"));
  REQUIRE(second);
  CHECK(second->kind == WriteOutcome::Kind::Committed);
  CHECK(second->sequence == 2);
  CHECK(second->attempts == 1);
  CHECK(h.ref.tip().content.find("objects: 6") != std::string::npos);
  CHECK(h.branch.commits == 1);
  CHECK_FALSE(second->branchError);

  // Only timestamps: nothing at all, not even a connection.
  int fetches = h.refStore->fetches;
  auto same = w.write(report(6, "2026-01-01T00:02:00Z"));
  REQUIRE(same);
  CHECK(same->kind == WriteOutcome::Kind::Unchanged);
  CHECK(h.refStore->fetches == fetches);

  // A phase change: both.
  auto failed = w.write(report(6, "2026-01-01T00:03:00Z", Phase::Failed));
  REQUIRE(failed);
  CHECK(failed->kind == WriteOutcome::Kind::Committed);
  CHECK(failed->branch == WriteOutcome::Kind::Committed);
  CHECK(h.branch.commits == 2);
  CHECK(h.branch.files.at("clusters/eu-west-1.yaml").find("phase: Failed") != std::string::npos);
  CHECK(h.ref.trailers().sequence == 3);
}

TEST_CASE("heartbeats go to the ref only", "[status][clusterref]") {
  Harness h;
  auto w = h.writer(std::chrono::seconds(30));
  REQUIRE(w.write(report(5, "2026-01-01T00:00:00Z")));
  h.now += std::chrono::seconds(10);
  auto early = w.write(report(5, "2026-01-01T00:00:10Z"));
  REQUIRE(early);
  CHECK(early->kind == WriteOutcome::Kind::Unchanged);
  h.now += std::chrono::seconds(25);
  auto beat = w.write(report(5, "2026-01-01T00:00:35Z"));
  REQUIRE(beat);
  CHECK(beat->kind == WriteOutcome::Kind::Committed);
  CHECK(beat->sequence == 2);
  CHECK(h.ref.tip().message.starts_with("eu-west-1: Synced aaaaaaa (5 objects) (heartbeat)\n"));
  CHECK(h.ref.tip().content.find("2026-01-01T00:00:35Z") != std::string::npos);
  CHECK(h.branch.commits == 1);
  CHECK(h.branch.messages.size() == 1);
}

TEST_CASE("a restarted writer never replaces a newer report with an older one", "[status][clusterref]") {
  Harness h;
  {
    auto before = h.writer();
    REQUIRE(before.write(report(7, "2026-01-01T00:10:00Z")));
  }
  // A new process (no memory, an old report still queued): the server decides.
  auto after = h.writer();
  auto old = after.write(report(3, "2026-01-01T00:05:00Z"));
  REQUIRE(old);
  CHECK(old->kind == WriteOutcome::Kind::Superseded);
  CHECK(old->attempts == 0);
  CHECK(h.refStore->pushes == 1);
  CHECK(h.ref.tip().content.find("objects: 7") != std::string::npos);
  CHECK(h.branch.commits == 1);  // the older one does not reach the branch either

  // Its next, newer report continues the sequence.
  auto next = after.write(report(8, "2026-01-01T00:11:00Z"));
  REQUIRE(next);
  CHECK(next->kind == WriteOutcome::Kind::Committed);
  CHECK(next->sequence == 2);
}

TEST_CASE("a leader change between read and push: the lease refuses, the newer report stays", "[status][clusterref]") {
  Harness h;
  auto oldLeader = h.writer();
  REQUIRE(oldLeader.write(report(1, "2026-01-01T00:00:00Z")));
  FakeRefStore newLeaderStore(h.ref);
  // The new leader writes a later report while the old one is between its
  // read and its push.
  h.refStore->beforePush = [&] {
    REQUIRE(newLeaderStore.fetch());
    auto c = newLeaderStore.commit(toYamlText(report(9, "2026-01-01T00:02:00Z")), {},
                                   refCommitMessage("new leader", RefTrailers{"eu-west-1", 2, {}}));
    REQUIRE(c);
    auto p = newLeaderStore.push(*c);
    REQUIRE(p);
    REQUIRE(p->accepted);
  };
  auto lost = oldLeader.write(report(2, "2026-01-01T00:01:00Z"));
  REQUIRE(lost);
  CHECK(lost->kind == WriteOutcome::Kind::Superseded);
  CHECK(lost->attempts == 1);  // refused once, then the read showed the newer one
  CHECK(h.ref.tip().content.find("objects: 9") != std::string::npos);
  CHECK(h.ref.trailers().sequence == 2);
  CHECK(h.sleeps.size() == 1);

  // The other way round: what got in between is older, so our retry lands after it.
  h.refStore->beforePush = [&] {
    REQUIRE(newLeaderStore.fetch());
    auto c = newLeaderStore.commit(toYamlText(report(4, "2026-01-01T00:02:30Z")), {},
                                   refCommitMessage("stale", RefTrailers{"eu-west-1", 3, {}}));
    REQUIRE(c);
    REQUIRE(newLeaderStore.push(*c)->accepted);
  };
  auto landed = oldLeader.write(report(10, "2026-01-01T00:03:00Z"));
  REQUIRE(landed);
  CHECK(landed->kind == WriteOutcome::Kind::Committed);
  CHECK(landed->attempts == 2);
  CHECK(landed->sequence == 4);
  CHECK(h.ref.tip().content.find("objects: 10") != std::string::npos);
}

TEST_CASE("a branch that cannot be written lags and catches up; the ref has the report", "[status][clusterref]") {
  Harness h;
  auto w = h.writer();
  h.branch.failNext = 1;
  auto r = w.write(report(5, "2026-01-01T00:00:00Z"));
  REQUIRE(r);  // not an error of the report
  CHECK(r->kind == WriteOutcome::Kind::Committed);
  REQUIRE(r->branchError);
  CHECK(r->branchError->code == ErrorCode::Auth);
  CHECK(h.branch.commits == 0);
  // The same report again: the ref is known to hold it, the branch is retried.
  int pushes = h.refStore->pushes;
  auto again = w.write(report(5, "2026-01-01T00:01:00Z"));
  REQUIRE(again);
  CHECK(h.refStore->pushes == pushes);
  CHECK_FALSE(again->branchError);
  CHECK(again->branch == WriteOutcome::Kind::Committed);
  CHECK(h.branch.commits == 1);
  // Then both are known: nothing.
  auto idle = w.write(report(5, "2026-01-01T00:02:00Z"));
  REQUIRE(idle);
  CHECK(idle->kind == WriteOutcome::Kind::Unchanged);
  CHECK(idle->branch == WriteOutcome::Kind::Unchanged);
  CHECK(h.branch.commits == 1);
}

TEST_CASE("signed reports verify only for their cluster, sequence and content", "[status][clusterref][signing]") {
  auto signer = ReportSigner::generate();
  REQUIRE(signer);
  auto other = ReportSigner::generate();
  REQUIRE(other);
  const std::string pub = (*signer)->publicKeyPem();
  REQUIRE(pub.starts_with("-----BEGIN PUBLIC KEY-----"));
  auto sig = (*signer)->sign("eu-west-1", 7, "report text");
  REQUIRE(sig);
  CHECK(sig->starts_with("ed25519 "));
  CHECK(verifyReport(pub, "eu-west-1", 7, "report text", *sig) == SignatureState::Valid);
  CHECK(verifyReport(pub, "eu-west-2", 7, "report text", *sig) == SignatureState::Bad);
  CHECK(verifyReport(pub, "eu-west-1", 8, "report text", *sig) == SignatureState::Bad);
  CHECK(verifyReport(pub, "eu-west-1", 7, "report text!", *sig) == SignatureState::Bad);
  CHECK(verifyReport((*other)->publicKeyPem(), "eu-west-1", 7, "report text", *sig) == SignatureState::Bad);
  CHECK(verifyReport(pub, "eu-west-1", 7, "report text", "") == SignatureState::Unsigned);
  CHECK(verifyReport("", "eu-west-1", 7, "report text", *sig) == SignatureState::NoKey);
  CHECK(verifyReport(pub, "eu-west-1", 7, "report text", "ed25519 !!!") == SignatureState::Bad);
  CHECK(verifyReport(pub, "eu-west-1", 7, "report text", "rsa " + sig->substr(8)) == SignatureState::Bad);
  CHECK(verifyReport("not a key", "eu-west-1", 7, "report text", *sig) == SignatureState::Bad);

  // The PEM round trip (what a Secret holds).
  auto reloaded = ReportSigner::fromPem((*signer)->privateKeyPem());
  REQUIRE(reloaded);
  CHECK((*reloaded)->publicKeyPem() == pub);
  auto bad = ReportSigner::fromPem("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n");
  REQUIRE_FALSE(bad);
  CHECK(bad.error().message.find("AAAA") == std::string::npos);

  // The writer signs what it pushes.
  Harness h;
  auto w = h.writer({}, *signer);
  REQUIRE(w.write(report(5, "2026-01-01T00:00:00Z")));
  auto t = h.ref.trailers();
  CHECK(verifyReport(pub, t.cluster, t.sequence, h.ref.tip().content, t.signature) == SignatureState::Valid);
}

TEST_CASE("the fleet reader takes the newer of a cluster's ref and branch file", "[status][clusterref][reader]") {
  FleetStatus fleet;
  fleet.clusters.push_back(report(1, "2026-01-01T00:00:00Z"));  // eu-west-1 on the branch
  auto other = report(2, "2026-01-01T00:00:00Z");
  other.name = "us-east-1";
  fleet.clusters.push_back(other);
  for (const auto& c : fleet.clusters) fleet.origins[c.name] = ReportOrigin{};
  auto signer = ReportSigner::generate();
  REQUIRE(signer);
  PublicKeys keys{{"eu-west-1", (*signer)->publicKeyPem()}};

  auto refOf = [&](ClusterStatus r, std::uint64_t seq, bool sign) {
    RefReport ref;
    ref.commit = "r" + std::to_string(seq);
    ref.content = toYamlText(r);
    ref.trailers = {r.name, seq, {}};
    if (sign) ref.trailers.signature = *(*signer)->sign(r.name, seq, ref.content);
    return ref;
  };
  // Newer on the ref: it replaces the branch's, signed.
  mergeRefReport(fleet, "refs/gitfed/status/eu-west-1", refOf(report(9, "2026-01-01T00:05:00Z"), 4, true), &keys);
  REQUIRE(fleet.clusters.size() == 2);
  CHECK(fleet.clusters[0].summary.objects == 9);
  CHECK(fleet.origins["eu-west-1"].where == ReportOrigin::Where::Ref);
  CHECK(fleet.origins["eu-west-1"].sequence == 4);
  CHECK(fleet.origins["eu-west-1"].signature == SignatureState::Valid);
  // Older on the ref (left behind): the branch's stays.
  auto oldOther = report(1, "2025-12-31T00:00:00Z");
  oldOther.name = "us-east-1";
  mergeRefReport(fleet, "refs/gitfed/status/us-east-1", refOf(oldOther, 1, false), &keys);
  CHECK(fleet.clusters[1].summary.objects == 2);
  CHECK(fleet.origins["us-east-1"].where == ReportOrigin::Where::Branch);
  CHECK(fleet.origins["us-east-1"].hasRef);
  // A cluster only on a ref: inserted in order; signed, but no key.
  auto ap = report(3, "2026-01-01T00:00:00Z");
  ap.name = "ap-south-1";
  auto apRef = refOf(ap, 1, false);
  apRef.trailers.signature = *(*signer)->sign("ap-south-1", 1, apRef.content);
  mergeRefReport(fleet, "refs/gitfed/status/ap-south-1", apRef, &keys);
  REQUIRE(fleet.clusters.size() == 3);
  CHECK(fleet.clusters[0].name == "ap-south-1");
  CHECK(fleet.origins["ap-south-1"].signature == SignatureState::NoKey);
  // Signed with eu-west-1's key for another sequence: bad.
  auto replay = refOf(report(9, "2026-01-01T00:06:00Z"), 5, true);
  replay.trailers.sequence = 6;
  mergeRefReport(fleet, "refs/gitfed/status/eu-west-1", replay, &keys);
  CHECK(fleet.origins["eu-west-1"].signature == SignatureState::Bad);
  // Refs that are not a cluster's report: warnings, no rows.
  CHECK(fleet.warnings.empty());
  mergeRefReport(fleet, "refs/gitfed/status/Not_A_Name", refOf(report(1, "2026-01-01T00:00:00Z"), 1, false), &keys);
  mergeRefReport(fleet, "refs/gitfed/status/eu-west-2", refOf(report(1, "2026-01-01T00:00:00Z"), 1, false), &keys);
  RefReport empty;
  mergeRefReport(fleet, "refs/gitfed/status/eu-west-3", empty, &keys);
  CHECK(fleet.clusters.size() == 3);
  REQUIRE(fleet.warnings.size() == 3);
  CHECK(fleet.warnings[0].find("not a cluster's status ref") != std::string::npos);
  CHECK(fleet.warnings[1] == "refs/gitfed/status/eu-west-2: the report is about cluster \"eu-west-1\"");
  CHECK(fleet.warnings[2].find("no report.yaml") != std::string::npos);
}

TEST_CASE("a headline change reaches the branch after a wait spread over the fleet", "[status][clusterref]") {
  Harness h;
  h.refStore->fleet = 100;  // the push connection advertised 100 clusters' refs
  auto w = h.writer();
  auto first = w.write(report(5, "2026-01-01T00:00:00Z"));
  REQUIRE(first);
  CHECK(first->branch == WriteOutcome::Kind::Committed);
  REQUIRE(h.sleeps.size() == 1);  // before the branch, after the ref: 0..100 x 50 ms
  CHECK(h.sleeps[0] <= std::chrono::milliseconds(5000));
  // A change the branch does not get: no wait.
  auto count = w.write(report(6, "2026-01-01T00:01:00Z"));
  REQUIRE(count);
  CHECK(count->kind == WriteOutcome::Kind::Committed);
  CHECK(h.sleeps.size() == 1);
  // The window is capped by backoffMax (60 s) for a big fleet.
  h.refStore->fleet = 1'000'000;
  for (int i = 0; i < 20; ++i) {
    auto phase = i % 2 ? Phase::Synced : Phase::Failed;
    REQUIRE(w.write(report(6, "2026-01-01T00:0" + std::to_string(2 + i / 10) + ":" + std::to_string(10 + i) + "Z", phase)));
  }
  CHECK(h.sleeps.size() == 21);
  for (auto d : h.sleeps) CHECK(d <= std::chrono::milliseconds(60000));
  CHECK(*std::max_element(h.sleeps.begin() + 1, h.sleeps.end()) > std::chrono::milliseconds(5000));
}
