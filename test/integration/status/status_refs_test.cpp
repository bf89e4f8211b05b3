// Per-cluster status refs (issue 15) against the real servers of test/env,
// over https (git http-backend behind apache) and ssh (sshd):
// - concurrent writers: each cluster's report is one push, its ref holds one
//   parentless commit with the last sequence, and the branch has every file;
// - a writer restarted with an older cache never replaces a newer report;
// - a leader change between a read and a push: the server's lease refuses
//   the stale push and the newer report stays;
// - a push refused for wrong credentials loses nothing: the report lands
//   at the next write;
// - the people's branch, refused by a hook during a storm, catches up;
// - `gitfed status` reads the fleet in one connection, says where each
//   report came from, and shows a forged report as BAD SIGNATURE;
// - without --public-keys, the keys are the registry's (a Cluster's
//   spec.statusPublicKey on the config branch): a report forged for another
//   cluster is BAD SIGNATURE, a bad key field a warning with file and line.

#include <catch2/catch.hpp>

#include <map>
#include <nlohmann/json.hpp>
#include <sstream>

#include "git_itest.h"
#include "gitfed/git/libgit2.h"
#include "gitfed/status/cluster_ref.h"
#include "gitfed/status/signing.h"
#include "gitfed/status/writer.h"

using namespace gitfed;
using namespace gitfed::git::itest;

namespace {

std::string transportName(int t) { return t == 0 ? "https" : "ssh"; }

git::RemoteOptions optionsFor(int transport, const ServerRepo& repo, const TempDir& secrets) {
  return transport == 0 ? httpsOptions(repo.httpsUrl(), secrets) : sshOptions(repo.sshUrl());
}

// The seeded status branch, as an operator or the first agent leaves it.
void seedBranch(ServerRepo& repo) { repo.commit("clusters/README", "# status\n", "gitfed-status"); }

status::ClusterStatus report(const std::string& cluster, int objects, status::Clock::time_point at,
                             const std::string& revision = std::string(40, 'a'),
                             status::Phase phase = status::Phase::Synced) {
  status::ClusterStatus r;
  r.name = cluster;
  r.source = {"https://git.example.com/fleet.git", "main", revision};
  r.sync.phase = phase;
  r.sync.appliedRevision = revision;
  r.sync.lastAttemptAt = at;
  r.summary.objects = static_cast<std::size_t>(objects);
  r.agentVersion = "itest";
  return r;
}

// One agent: the branch store and the ref store on one cache directory.
struct Agent {
  std::unique_ptr<status::GitStatusStore> branch;
  std::unique_ptr<status::StatusWriter> writer;
  std::shared_ptr<status::ClusterRefStore> ref;
  Agent(const std::filesystem::path& cache, const git::RemoteOptions& remote, const std::string& cluster,
        std::shared_ptr<const status::ReportSigner> signer = nullptr,
        std::function<std::shared_ptr<status::ClusterRefStore>(std::shared_ptr<status::ClusterRefStore>)> wrap = {},
        int maxAttempts = 10) {
    auto b = status::GitStatusStore::open(cache, remote);
    REQUIRE(b);
    branch = std::move(*b);
    auto r = status::GitClusterRefStore::open(cache, remote, cluster);
    REQUIRE(r);
    ref = std::shared_ptr<status::ClusterRefStore>(std::move(*r));
    if (wrap) ref = wrap(ref);
    status::WriterOptions o;
    o.cluster = cluster;
    o.maxAttempts = maxAttempts;
    o.deadline = std::chrono::seconds(60);
    o.clusterRef = ref;
    o.signer = std::move(signer);
    writer = std::make_unique<status::StatusWriter>(*branch, o);
  }
};

// What the server's ref holds: {report text, trailers, number of commits reachable}.
struct ServerRef {
  std::string content;
  status::RefTrailers trailers;
  int commits = 0;
};
ServerRef serverRef(const ServerRepo& repo, const std::string& cluster) {
  ServerRef r;
  std::string ref = status::clusterRef(cluster);
  r.content = gitCli(repo.bare, "show " + ref + ":report.yaml");
  r.trailers = status::parseRefTrailers(gitCli(repo.bare, "log -1 --format=%B " + ref));
  r.commits = std::stoi(gitCli(repo.bare, "rev-list --count " + ref));
  return r;
}

bool hasObjects(const std::string& content, int n) {
  return content.find("objects: " + std::to_string(n) + "\n") != std::string::npos ||
         content.find("objects: " + std::to_string(n) + ",") != std::string::npos ||
         content.find("objects: " + std::to_string(n) + "}") != std::string::npos;
}

// A wrapper that lets another agent act between our read and our push.
class Interleaved final : public status::ClusterRefStore {
 public:
  explicit Interleaved(std::shared_ptr<status::ClusterRefStore> inner) : inner_(std::move(inner)) {}
  std::function<void()> beforePush;
  status::Result<std::optional<status::RefReport>> fetch() override { return inner_->fetch(); }
  status::Result<std::string> commit(const std::string& c, const git::Signature& a, const std::string& m) override {
    return inner_->commit(c, a, m);
  }
  status::Result<git::PushResult> push(const std::string& commit) override {
    if (beforePush) {
      auto hook = std::move(beforePush);
      beforePush = nullptr;
      hook();
    }
    return inner_->push(commit);
  }

 private:
  std::shared_ptr<status::ClusterRefStore> inner_;
};

}  // namespace

TEST_CASE("concurrent writers: one push per report, one parentless commit per ref", "[refs-concurrent]") {
  git::Libgit2 lib;
  for (int transport : {0, 1}) {
    DYNAMIC_SECTION(transportName(transport)) {
      ServerRepo repo("status-refs-concurrent");
      seedBranch(repo);
      TempDir secrets;
      auto o = optionsFor(transport, repo, secrets);
      const int n = 8, reports = 3;
      std::vector<std::pair<pid_t, std::filesystem::path>> children;
      std::fflush(stdout);
      std::fflush(stderr);
      for (int i = 0; i < n; ++i) {
        auto dir = secrets.path() / ("agent-" + std::to_string(i));
        std::filesystem::create_directories(dir);
        std::vector<std::string> argv = {GITFED_STATUS_WRITER, "--url", o.url, "--cluster", "c" + std::to_string(i),
                                         "--cache", (dir / "cache").string(), "--reports", std::to_string(reports),
                                         "--cluster-ref", "--deadline-ms", "120000"};
        if (transport == 0) {
          for (const auto& a : {std::string("--username-file"), o.credentials.usernameFile.string(),
                                std::string("--password-file"), o.credentials.passwordFile.string(),
                                std::string("--ca-file"), o.credentials.caFile.string()})
            argv.push_back(a);
        } else {
          for (const auto& a : {std::string("--ssh-key"), o.credentials.sshKeyFile.string(), std::string("--known-hosts"),
                                o.credentials.knownHostsFile.string()})
            argv.push_back(a);
        }
        pid_t pid = ::fork();
        REQUIRE(pid >= 0);
        if (pid == 0) {
          (void)!std::freopen((dir / "out").c_str(), "w", stdout);
          (void)!std::freopen((dir / "err").c_str(), "w", stderr);
          std::vector<char*> args;
          for (auto& a : argv) args.push_back(a.data());
          args.push_back(nullptr);
          ::execv(args[0], args.data());
          ::_exit(127);
        }
        children.emplace_back(pid, dir);
      }
      for (auto& [pid, dir] : children) {
        int st = 0;
        ::waitpid(pid, &st, 0);
        INFO(gitfed::test::readAll(dir / "err"));
        REQUIRE(WIFEXITED(st));
        REQUIRE(WEXITSTATUS(st) == 0);
        // "<i> Committed <pushes> <ms> ref-ms=.. ref-at=.. seq=<n> ...": one push each, sequence 1..reports.
        std::istringstream lines(gitfed::test::readAll(dir / "out"));
        std::string line;
        int count = 0;
        while (std::getline(lines, line)) {
          ++count;
          INFO(line);
          std::istringstream words(line);
          std::string index, outcome;
          int pushes = 0;
          words >> index >> outcome >> pushes;
          CHECK(outcome == "Committed");
          CHECK(pushes == 1);
          CHECK(line.find(" seq=" + std::to_string(count) + " ") != std::string::npos);
        }
        CHECK(count == reports);
      }
      for (int i = 0; i < n; ++i) {
        auto r = serverRef(repo, "c" + std::to_string(i));
        CHECK(r.commits == 1);  // parentless: the ref never grows a history
        CHECK(r.trailers.sequence == reports);
        CHECK(r.trailers.cluster == "c" + std::to_string(i));
        CHECK(hasObjects(r.content, reports));
      }
      // The branch got the first (headline) report of each cluster, and nothing else.
      auto files = gitCli(repo.bare, "ls-tree --name-only gitfed-status clusters/");
      for (int i = 0; i < n; ++i) CHECK(files.find("clusters/c" + std::to_string(i) + ".yaml") != std::string::npos);
      CHECK(gitCli(repo.bare, "rev-list --count gitfed-status") == std::to_string(1 + n));
    }
  }
}

TEST_CASE("a writer restarted with an older cache never replaces a newer report", "[refs-restart]") {
  git::Libgit2 lib;
  for (int transport : {0, 1}) {
    DYNAMIC_SECTION(transportName(transport)) {
      ServerRepo repo("status-refs-restart");
      seedBranch(repo);
      TempDir secrets, caches;
      auto o = optionsFor(transport, repo, secrets);
      auto t0 = status::Clock::now();
      {
        Agent a(caches.path() / "cache", o, "eu-1");
        REQUIRE(a.writer->write(report("eu-1", 1, t0)));
      }
      std::filesystem::copy(caches.path() / "cache", caches.path() / "old", std::filesystem::copy_options::recursive);
      {
        Agent a(caches.path() / "cache", o, "eu-1");
        auto w = a.writer->write(report("eu-1", 2, t0 + std::chrono::seconds(10)));
        REQUIRE(w);
        CHECK(w->kind == status::WriteOutcome::Kind::Committed);
        CHECK(w->sequence == 2);
      }
      // The old cache knows only sequence 1; its agent still holds an older report.
      Agent restarted(caches.path() / "old", o, "eu-1");
      auto stale = restarted.writer->write(report("eu-1", 99, t0 + std::chrono::seconds(5)));
      REQUIRE(stale);
      CHECK(stale->kind == status::WriteOutcome::Kind::Superseded);
      CHECK(stale->attempts == 0);
      auto held = serverRef(repo, "eu-1");
      CHECK(hasObjects(held.content, 2));
      CHECK(held.trailers.sequence == 2);
      // Its next report is newer: it lands, after sequence 2.
      auto next = restarted.writer->write(report("eu-1", 3, t0 + std::chrono::seconds(20)));
      REQUIRE(next);
      CHECK(next->kind == status::WriteOutcome::Kind::Committed);
      CHECK(next->sequence == 3);
      CHECK(hasObjects(serverRef(repo, "eu-1").content, 3));
      CHECK(serverRef(repo, "eu-1").commits == 1);
    }
  }
}

TEST_CASE("a leader change mid-write: the server's lease refuses the stale push", "[refs-leader]") {
  git::Libgit2 lib;
  for (int transport : {0, 1}) {
    DYNAMIC_SECTION(transportName(transport)) {
      ServerRepo repo("status-refs-leader");
      seedBranch(repo);
      TempDir secrets, caches;
      auto o = optionsFor(transport, repo, secrets);
      auto t0 = status::Clock::now();
      std::shared_ptr<Interleaved> gate;
      Agent oldLeader(caches.path() / "old-leader", o, "eu-1", nullptr, [&](std::shared_ptr<status::ClusterRefStore> s) {
        gate = std::make_shared<Interleaved>(std::move(s));
        return gate;
      });
      REQUIRE(oldLeader.writer->write(report("eu-1", 1, t0)));
      Agent newLeader(caches.path() / "new-leader", o, "eu-1");
      // The old leader has read the ref (sequence 1) when the new leader's
      // later report lands; then it pushes.
      gate->beforePush = [&] {
        auto w = newLeader.writer->write(report("eu-1", 7, t0 + std::chrono::seconds(10)));
        REQUIRE(w);
        REQUIRE(w->kind == status::WriteOutcome::Kind::Committed);
      };
      auto lost = oldLeader.writer->write(report("eu-1", 2, t0 + std::chrono::seconds(5)));
      REQUIRE(lost);
      CHECK(lost->kind == status::WriteOutcome::Kind::Superseded);
      CHECK(lost->attempts == 1);  // the one push the server refused
      auto held = serverRef(repo, "eu-1");
      CHECK(hasObjects(held.content, 7));
      CHECK(held.trailers.sequence == 2);
    }
  }
}

TEST_CASE("a push refused for wrong credentials loses nothing", "[refs-refused]") {
  git::Libgit2 lib;
  ServerRepo repo("status-refs-refused");
  seedBranch(repo);
  TempDir secrets, caches;
  auto good = httpsOptions(repo.httpsUrl(), secrets);
  auto t0 = status::Clock::now();
  {
    Agent a(caches.path() / "cache", good, "eu-1");
    REQUIRE(a.writer->write(report("eu-1", 1, t0)));
  }
  TempDir wrongSecrets;
  auto wrong = httpsOptions(repo.httpsUrl(), wrongSecrets, "not-the-password");
  Agent a(caches.path() / "cache", wrong, "eu-1");
  auto refused = a.writer->write(report("eu-1", 2, t0 + std::chrono::seconds(1)));
  REQUIRE_FALSE(refused);
  CHECK(refused.error().code == status::ErrorCode::Auth);
  CHECK(refused.error().message.find("not-the-password") == std::string::npos);
  CHECK(hasObjects(serverRef(repo, "eu-1").content, 1));
  // The Secret is fixed (the file rewritten, as a rotated mount): the same
  // report lands at the next write; the writer never believed it had.
  wrongSecrets.write("https/password", env("GITFED_TEST_HTTPS_PASSWORD") + "\n");
  auto landed = a.writer->write(report("eu-1", 2, t0 + std::chrono::seconds(1)));
  REQUIRE(landed);
  CHECK(landed->kind == status::WriteOutcome::Kind::Committed);
  CHECK(hasObjects(serverRef(repo, "eu-1").content, 2));
  CHECK(serverRef(repo, "eu-1").trailers.sequence == 2);
}

TEST_CASE("the people's branch, refused during a storm, catches up", "[refs-catchup]") {
  git::Libgit2 lib;
  for (int transport : {0, 1}) {
    DYNAMIC_SECTION(transportName(transport)) {
      ServerRepo repo("status-refs-catchup");
      seedBranch(repo);
      TempDir secrets, caches;
      auto o = optionsFor(transport, repo, secrets);
      // A hook refuses the branch while the marker exists (a storm, a lock).
      auto marker = caches.path() / "branch-closed";
      writeFile(marker, "");
      writeFile(repo.bare / "hooks" / "pre-receive",
                "#!/bin/sh\nwhile read old new ref; do\n  if [ \"$ref\" = refs/heads/gitfed-status ] && [ -e " +
                    shellQuote(marker.string()) + " ]; then echo closed; exit 1; fi\ndone\n");
      std::filesystem::permissions(repo.bare / "hooks" / "pre-receive", std::filesystem::perms::all);
      std::filesystem::permissions(caches.path(), std::filesystem::perms::all);
      auto t0 = status::Clock::now();
      // Two attempts, so the branch gives up quickly (the ref needs one).
      Agent a(caches.path() / "cache", o, "eu-1", nullptr, {}, 2);
      const std::string rev1(40, '1'), rev2(40, '2');
      auto w1 = a.writer->write(report("eu-1", 1, t0, rev1));
      REQUIRE(w1);
      CHECK(w1->kind == status::WriteOutcome::Kind::Committed);
      CHECK(w1->branchError);
      auto w2 = a.writer->write(report("eu-1", 2, t0 + std::chrono::seconds(1), rev2, status::Phase::Failed));
      REQUIRE(w2);
      CHECK(w2->kind == status::WriteOutcome::Kind::Committed);
      CHECK(w2->branchError);
      // Nothing lost: the ref has the latest.
      auto held = serverRef(repo, "eu-1");
      CHECK(hasObjects(held.content, 2));
      CHECK(held.content.find(rev2) != std::string::npos);
      CHECK(gitCli(repo.bare, "ls-tree --name-only gitfed-status clusters/").find("eu-1") == std::string::npos);
      // The storm is over: the next write (the same report) brings the branch up to date.
      std::filesystem::remove(marker);
      auto w3 = a.writer->write(report("eu-1", 2, t0 + std::chrono::seconds(2), rev2, status::Phase::Failed));
      REQUIRE(w3);
      CHECK(w3->kind == status::WriteOutcome::Kind::Unchanged);  // the ref already has it
      CHECK_FALSE(w3->branchError);
      CHECK(w3->branch == status::WriteOutcome::Kind::Committed);
      auto onBranch = gitCli(repo.bare, "show gitfed-status:clusters/eu-1.yaml");
      CHECK(onBranch.find(rev2) != std::string::npos);
      CHECK(onBranch.find("phase: Failed") != std::string::npos);
    }
  }
}

TEST_CASE("gitfed status reads the fleet's refs and shows a forged report", "[refs-fleetread]") {
  git::Libgit2 lib;
  ServerRepo repo("status-refs-read");
  seedBranch(repo);
  repo.commit("README", "config\n", "main");
  TempDir secrets, caches, keys;
  auto o = httpsOptions(repo.httpsUrl(), secrets);
  auto t0 = status::Clock::now();
  std::map<std::string, std::shared_ptr<const status::ReportSigner>> signers;
  for (const std::string c : {"c1", "c2", "c3"}) {
    auto s = status::ReportSigner::generate();
    REQUIRE(s);
    signers[c] = *s;
    keys.write(c + ".pub", (*s)->publicKeyPem());
  }
  auto forger = status::ReportSigner::generate();
  REQUIRE(forger);
  {
    Agent c1(caches.path() / "c1", o, "c1", signers["c1"]);
    REQUIRE(c1.writer->write(report("c1", 1, t0)));
    // c2's ref written by someone with push access and another key.
    Agent c2(caches.path() / "c2", o, "c2", *forger);
    REQUIRE(c2.writer->write(report("c2", 2, t0)));
    Agent c3(caches.path() / "c3", o, "c3");  // unsigned
    REQUIRE(c3.writer->write(report("c3", 3, t0)));
    // A newer, heartbeat-only report of c1 goes to its ref only.
    REQUIRE(c1.writer->write(report("c1", 11, t0 + std::chrono::seconds(30))));
  }
  // A report of c1 pushed as c9's ref: a warning, never a row.
  gitCli(repo.bare, "update-ref refs/gitfed/status/c9 refs/gitfed/status/c1");

  auto cmd = std::string(GITFED_BINARY) + " status " + shellQuote(o.url) + " -o json --public-keys " +
             shellQuote(keys.path().string()) + " --username-file " + shellQuote(o.credentials.usernameFile.string()) +
             " --password-file " + shellQuote(o.credentials.passwordFile.string()) + " --ca-file " +
             shellQuote(o.credentials.caFile.string()) + " --cache " + shellQuote((caches.path() / "reader").string());
  auto r = gitfed::test::run(cmd);
  INFO(cmd << "\n" << r.err);
  REQUIRE(r.status == 0);
  CHECK(r.err.find("refs/gitfed/status/c9: the report is about cluster \"c1\"") != std::string::npos);
  auto j = nlohmann::json::parse(r.out);
  CHECK(j["refs"] == 4);
  std::map<std::string, nlohmann::json> rows;
  for (const auto& c : j["clusters"]) rows[c["name"].get<std::string>()] = c;
  REQUIRE(rows.size() == 3);
  CHECK(rows["c1"]["report"]["from"] == "ref");
  CHECK(rows["c1"]["report"]["signature"] == "signed");
  CHECK(rows["c1"]["report"]["sequence"] == 2);
  CHECK(rows["c1"]["ageSeconds"].get<long long>() <= 5);
  CHECK(rows["c2"]["report"]["signature"] == "BAD SIGNATURE");
  CHECK(rows["c3"]["report"]["signature"] == "unsigned");

  // The table says the same, and counts the forgery.
  auto table = gitfed::test::run(cmd.substr(0, cmd.find(" -o json")) + cmd.substr(cmd.find(" -o json") + 8));
  REQUIRE(table.status == 0);
  CHECK(table.out.find("ref #2 signed") != std::string::npos);
  CHECK(table.out.find("BAD SIGNATURE") != std::string::npos);
  CHECK(table.out.find("1 BAD SIGNATURE") != std::string::npos);
  CHECK(table.out.find("4 per-cluster refs") != std::string::npos);
}

TEST_CASE("gitfed status verifies the refs with the registry's keys", "[refs-registry]") {
  git::Libgit2 lib;
  for (int transport : {0, 1}) {
    DYNAMIC_SECTION(transportName(transport)) {
      ServerRepo repo("status-refs-registry");
      seedBranch(repo);
      TempDir secrets, caches;
      auto o = optionsFor(transport, repo, secrets);
      auto c1Key = status::ReportSigner::generate(), c2Key = status::ReportSigner::generate();
      REQUIRE(c1Key);
      REQUIRE(c2Key);
      auto entry = [](const std::string& name, const std::string& pem) {
        std::string yaml = "apiVersion: gitfed.io/v1alpha1\nkind: Cluster\nmetadata: {name: " + name +
                           "}\nspec:\n  statusPublicKey: |\n";
        std::istringstream lines(pem);
        for (std::string line; std::getline(lines, line);) yaml += "    " + line + "\n";
        return yaml;
      };
      // The registry in one file: c1 and c2 with their keys, c3 with a private key pasted by mistake, at line 19.
      repo.commit("clusters.yaml", entry("c1", (*c1Key)->publicKeyPem()) + "---\n" + entry("c2", (*c2Key)->publicKeyPem()) +
                                       "---\n" + entry("c3", "-----BEGIN PRIVATE KEY-----\nMC4CAQAw\n-----END PRIVATE KEY-----\n"),
                  "main");
      auto t0 = status::Clock::now();
      {
        Agent c1(caches.path() / "c1", o, "c1", *c1Key);
        REQUIRE(c1.writer->write(report("c1", 1, t0)));
        // c2's report written with c1's credentials and c1's key: a forgery the registry's key exposes.
        Agent c2(caches.path() / "c2", o, "c2", *c1Key);
        REQUIRE(c2.writer->write(report("c2", 2, t0)));
        Agent c3(caches.path() / "c3", o, "c3", *c2Key);
        REQUIRE(c3.writer->write(report("c3", 3, t0)));
      }
      std::string cmd = std::string(GITFED_BINARY) + " status " + shellQuote(o.url) + " -o json --cache " +
                        shellQuote((caches.path() / "reader").string());
      if (transport == 0)
        cmd += " --username-file " + shellQuote(o.credentials.usernameFile.string()) + " --password-file " +
               shellQuote(o.credentials.passwordFile.string()) + " --ca-file " + shellQuote(o.credentials.caFile.string());
      else
        cmd += " --ssh-key " + shellQuote(o.credentials.sshKeyFile.string()) + " --known-hosts " +
               shellQuote(o.credentials.knownHostsFile.string());
      auto r = gitfed::test::run(cmd);
      INFO(cmd << "\n" << r.err);
      REQUIRE(r.status == 0);
      CHECK(r.err.find("gitfed status: warning: registry of main at ") != std::string::npos);
      CHECK(r.err.find(": clusters.yaml:19: Cluster c3: spec.statusPublicKey: a private key:") != std::string::npos);
      CHECK(r.err.find("MC4CAQAw") == std::string::npos);  // never quoted
      auto j = nlohmann::json::parse(r.out);
      CHECK(j["publicKeys"].get<std::string>().find("(2 of 2 clusters with a key)") != std::string::npos);
      std::map<std::string, std::string> sig;
      for (const auto& c : j["clusters"]) sig[c["name"].get<std::string>()] = c["report"]["signature"].get<std::string>();
      CHECK(sig == std::map<std::string, std::string>{{"c1", "signed"}, {"c2", "BAD SIGNATURE"}, {"c3", "no key"}});
      // Warm (the config commit cached), the same verdicts.
      auto again = gitfed::test::run(cmd);
      REQUIRE(again.status == 0);
      std::map<std::string, std::string> warm;
      auto warmJson = nlohmann::json::parse(again.out);
      for (const auto& c : warmJson["clusters"])
        warm[c["name"].get<std::string>()] = c["report"]["signature"].get<std::string>();
      CHECK(warm == sig);
    }
  }
}
