// GitStatusStore over a file:// remote: the branch created by the first
// writer, other clusters' files kept, one file per commit, linear history.

#include <catch2/catch.hpp>

#include "../git/git_support.h"
#include "gitfed/git/libgit2.h"
#include "gitfed/status/writer.h"

using namespace gitfed;
using namespace gitfed::status;
using gitfed::test::gitCli;
using gitfed::test::TempDir;

namespace {

ClusterStatus report(const std::string& cluster, int objects) {
  ClusterStatus r;
  r.name = cluster;
  r.source = {"file:///fleet.git", "main", std::string(40, 'b')};
  r.sync.phase = Phase::Synced;
  r.sync.lastAttemptAt = Clock::now();
  r.summary.objects = static_cast<std::size_t>(objects);
  return r;
}

}  // namespace

TEST_CASE("writers of two clusters share a status branch over git", "[status][git]") {
  git::Libgit2 lib;
  TempDir tmp;
  gitCli(tmp.path(), "init -q --bare -b main remote.git");
  git::RemoteOptions remote;
  remote.url = "file://" + (tmp.path() / "remote.git").string();
  auto storeA = GitStatusStore::open(tmp.path() / "cache-a", remote);
  auto storeB = GitStatusStore::open(tmp.path() / "cache-b", remote);
  REQUIRE(storeA);
  REQUIRE(storeB);
  WriterOptions oa, ob;
  oa.cluster = "a";
  ob.cluster = "b";
  StatusWriter wa(**storeA, oa), wb(**storeB, ob);
  for (int i = 1; i <= 3; ++i) {
    auto ra = wa.write(report("a", i));
    INFO((ra ? "" : ra.error().format()));
    REQUIRE(ra);
    CHECK(ra->kind == WriteOutcome::Kind::Committed);
    auto rb = wb.write(report("b", 10 * i));
    REQUIRE(rb);
    CHECK(rb->kind == WriteOutcome::Kind::Committed);
  }
  auto bare = tmp.path() / "remote.git";
  CHECK(gitCli(bare, "rev-list --count gitfed-status") == "6");
  CHECK(gitCli(bare, "rev-list --min-parents=2 --count gitfed-status") == "0");
  CHECK(gitCli(bare, "ls-tree -r --name-only gitfed-status") == "clusters/a.yaml\nclusters/b.yaml");
  CHECK(gitCli(bare, "log -1 --format=%an%n%s gitfed-status") == "gitfed b\nb: Synced bbbbbbb (30 objects)");
  // Every commit touches exactly one file, its author's.
  std::string log = gitCli(bare, "log --format=%an --name-only gitfed-status");
  std::istringstream in(log);
  std::string line, author;
  int commits = 0;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    if (line.starts_with("gitfed ")) {
      author = line.substr(7);
      ++commits;
    } else {
      CHECK(line == "clusters/" + author + ".yaml");
    }
  }
  CHECK(commits == 6);
  auto a = parseReport(gitCli(bare, "show gitfed-status:clusters/a.yaml"));
  REQUIRE(a);
  CHECK(a->summary.objects == 3);
}
