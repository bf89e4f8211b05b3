// The fleet's history from the status branch (docs/status-spec.md, "History
// and convergence"): reports read per commit within a window, and each
// revision's convergence (reached, skipped, pending).

#include <catch2/catch.hpp>

#include "gitfed/git/libgit2.h"
#include "gitfed/git/repository.h"
#include "gitfed/status/history.h"
#include "support/run.h"

using namespace gitfed;
using namespace gitfed::status;
using namespace std::chrono_literals;

namespace {

const Clock::time_point kT0 = Clock::from_time_t(1'800'000'000);

// A status branch built commit by commit, each with its own time.
struct Branch {
  test::TempDir tmp;
  git::Libgit2 lib;
  std::filesystem::path path = tmp.path() / "status.git";
  git::Repository repo = std::move(*git::Repository::openOrCreateBare(path));
  std::optional<std::string> tip;

  void report(const std::string& cluster, Clock::time_point at, Phase phase, const std::string& revision,
              const std::string& applied, bool withTime = true) {
    ClusterStatus r;
    r.name = cluster;
    r.source = {"https://git.example/fleet.git", "main", revision};
    r.sync.phase = phase;
    r.sync.appliedRevision = applied;
    if (withTime) r.sync.lastAttemptAt = at;
    raw("clusters/" + cluster + ".yaml", toYamlText(r), at);
  }
  void raw(const std::string& file, const std::string& text, Clock::time_point at) {
    git::Signature who{"gitfed", "gitfed@example", at};
    auto c = repo.commitFile(tip, file, text, who, "report");
    REQUIRE(c);
    tip = *c;
  }
  FleetHistory read(Clock::time_point since, std::size_t maxCommits = 100000) {
    auto h = readHistory(path, *tip, HistoryOptions{since, maxCommits});
    INFO((h ? "" : h.error().format()));
    REQUIRE(h);
    return *h;
  }
};

const std::string kA(40, 'a'), kB(40, 'b'), kC(40, 'c');

}  // namespace

TEST_CASE("history: every report in the window, oldest first, plus the one in force at its start") {
  Branch b;
  b.report("eu", kT0, Phase::Synced, kA, kA);
  b.report("eu", kT0 + 1h, Phase::Progressing, kB, kA);
  b.report("us", kT0 + 90min, Phase::Synced, kA, kA);
  b.report("eu", kT0 + 2h, Phase::Synced, kB, kB);
  b.report("eu", kT0 + 3h, Phase::Failed, kC, kB);

  auto h = b.read(kT0 + 100min);
  REQUIRE(h.clusters.size() == 2);
  const auto& eu = h.clusters.at("eu");
  // In force at the window's start (kT0+1h), then the two inside it.
  REQUIRE(eu.size() == 3);
  CHECK(eu[0].at == kT0 + 1h);
  CHECK(eu[0].phase == Phase::Progressing);
  CHECK(eu[1].phase == Phase::Synced);
  CHECK(eu[2].phase == Phase::Failed);
  CHECK(eu[2].revision == kC);
  CHECK(eu[2].appliedRevision == kB);
  REQUIRE(h.clusters.at("us").size() == 1);
  // The walk stopped at the first commit older than the window (the 3rd of
  // 5), whose tree gave us's and eu's reports in force at the window's start.
  CHECK(h.commits == 2);
  CHECK_FALSE(h.truncated);

  auto all = b.read(kT0 - 1h);
  CHECK(all.clusters.at("eu").size() == 4);
  CHECK(all.commits == 5);
}

TEST_CASE("history: the commit's time stands in for a report without lastAttemptAt; bad files are warnings") {
  Branch b;
  b.report("eu", kT0, Phase::Synced, kA, kA, /*withTime=*/false);
  b.raw("clusters/us.yaml", "apiVersion: [not a report", kT0 + 1min);
  b.raw("clusters/ap.yaml", toYamlText([] {
          ClusterStatus r;
          r.name = "somebody-else";
          return r;
        }()),
        kT0 + 2min);
  b.raw("README.md", "not a report", kT0 + 3min);
  auto h = b.read(kT0 - 1h);
  REQUIRE(h.clusters.size() == 1);
  CHECK(h.clusters.at("eu").front().at == kT0);
  REQUIRE(h.warnings.size() == 2);
  CHECK(h.warnings[0].find("clusters/ap.yaml") != std::string::npos);
  CHECK(h.warnings[0].find("somebody-else") != std::string::npos);
  CHECK(h.warnings[1].find("clusters/us.yaml") != std::string::npos);
}

TEST_CASE("history: a cluster that did not report within the window has its report in force") {
  Branch b;
  b.report("quiet", kT0, Phase::Synced, kA, kA);
  b.report("busy", kT0 + 1h, Phase::Synced, kA, kA);
  b.report("busy", kT0 + 5h, Phase::Drifted, kA, kA);
  auto h = b.read(kT0 + 4h);
  REQUIRE(h.clusters.at("quiet").size() == 1);
  CHECK(h.clusters.at("quiet")[0].at == kT0);
  REQUIRE(h.clusters.at("busy").size() == 2);
  CHECK(h.clusters.at("busy")[1].phase == Phase::Drifted);
}

TEST_CASE("history: maxCommits bounds the walk and says so") {
  Branch b;
  for (int i = 0; i < 10; ++i) b.report("eu", kT0 + i * 1min, Phase::Synced, kA, kA);
  auto h = b.read(kT0 - 1h, 4);
  CHECK(h.commits == 4);
  CHECK(h.truncated);
  CHECK(h.clusters.at("eu").size() == 5);  // 4 read, and the one in force at the cut
}

TEST_CASE("convergence: reached, skipped and pending revisions, newest first") {
  Branch b;
  // kA everywhere, then kB rolls out to eu (10 min) and us (25 min); ap skips
  // kB (goes from kA straight to kC); kC is pending on eu.
  b.report("eu", kT0, Phase::Synced, kA, kA);
  b.report("us", kT0, Phase::Synced, kA, kA);
  b.report("ap", kT0, Phase::Synced, kA, kA);
  b.report("eu", kT0 + 1h, Phase::Progressing, kB, kA);
  b.report("eu", kT0 + 1h + 10min, Phase::Synced, kB, kB);
  b.report("us", kT0 + 1h + 25min, Phase::Synced, kB, kB);
  b.report("ap", kT0 + 2h, Phase::Synced, kC, kC);
  b.report("us", kT0 + 2h + 5min, Phase::Synced, kC, kC);
  b.report("eu", kT0 + 2h + 6min, Phase::Failed, kC, kB);

  auto revisions = convergence(b.read(kT0 - 1h));
  REQUIRE(revisions.size() == 3);
  CHECK(revisions[0].revision == kC);
  CHECK(revisions[0].firstSeen == kT0 + 2h);
  CHECK(revisions[0].fleet == 3);
  CHECK(revisions[0].reached == 2);
  CHECK_FALSE(revisions[0].converged());
  CHECK_FALSE(revisions[0].duration());

  CHECK(revisions[1].revision == kB);
  CHECK(revisions[1].reached == 2);
  CHECK(revisions[1].skipped == 1);
  CHECK(revisions[1].converged());
  REQUIRE(revisions[1].duration());
  CHECK(*revisions[1].duration() == 25min);

  CHECK(revisions[2].revision == kA);
  CHECK(revisions[2].converged());
  CHECK(*revisions[2].duration() == 0s);

  CHECK(convergence(b.read(kT0 - 1h), {}, 1).size() == 1);
}

TEST_CASE("convergence: a revision every cluster went past is skipped by all, without a duration") {
  Branch b;
  b.report("eu", kT0, Phase::Synced, kA, kA);
  b.report("eu", kT0 + 1h, Phase::Failed, kB, kA);  // kB broken: never applied
  b.report("eu", kT0 + 2h, Phase::Synced, kC, kC);  // its fix
  auto h = b.read(kT0 - 24h);
  CHECK(h.since == kT0);  // the branch is younger than the window
  auto revisions = convergence(h);
  REQUIRE(revisions.size() == 3);
  CHECK(revisions[1].revision == kB);
  CHECK(revisions[1].reached == 0);
  CHECK(revisions[1].skipped == 1);
  CHECK(revisions[1].converged());
  CHECK_FALSE(revisions[1].duration());
  CHECK(*revisions[0].duration() == 0s);
}
