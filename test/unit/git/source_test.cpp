// Source over file:// remotes (the network transports are exercised against
// the real servers in test/integration/git): first clone, the no-change path,
// new commits, force-pushes, deleted branches, an unreachable remote, restarts,
// a damaged cache, tags and fixed commits.

#include <catch2/catch.hpp>

#include "git_support.h"
#include "gitfed/git/libgit2.h"
#include "gitfed/git/source.h"
#include "gitfed/render/renderer.h"

#include <set>

using namespace gitfed;
using gitfed::test::gitCli;
using gitfed::test::TempDir;

namespace {

struct Remote {
  TempDir tmp;
  std::filesystem::path bare, work;
  Remote() {
    bare = tmp.path() / "remote.git";
    gitCli(tmp.path(), "init -q --bare -b main remote.git");
    work = test::initRepo(tmp);
    gitCli(work, "remote add origin " + test::shellQuote(bare.string()));
  }
  std::string commit(const std::string& file, const std::string& content, const std::string& branch = "main") {
    tmp.write("work/" + file, content);
    std::string id = test::commitAll(work, "change " + file);
    gitCli(work, "push -q -f origin HEAD:refs/heads/" + branch);
    return id;
  }
  std::string url() const { return "file://" + bare.string(); }
  git::SourceConfig config(const std::filesystem::path& cache, git::Ref ref = {git::Ref::Kind::Branch, "main"}) const {
    git::SourceConfig c;
    c.remote.url = url();
    c.ref = std::move(ref);
    c.cacheDir = cache;
    return c;
  }
};

git::Source openSource(const git::SourceConfig& config) {
  auto s = git::Source::open(config);
  INFO((s ? "" : s.error().format()));
  REQUIRE(s);
  return std::move(*s);
}

git::SyncResult syncOk(git::Source& s) {
  auto r = s.sync();
  INFO((r ? "" : r.error().format()));
  REQUIRE(r);
  return *r;
}

std::set<std::string> listDir(const std::filesystem::path& dir) {
  std::set<std::string> out;
  for (const auto& e : std::filesystem::recursive_directory_iterator(dir)) out.insert(e.path().string());
  return out;
}

}  // namespace

TEST_CASE("first sync clones; an unchanged remote fetches nothing; new commits are fetched", "[git][source]") {
  git::Libgit2 lib;
  Remote remote;
  std::string c1 = remote.commit("apps/a.yaml", test::configMap("a"));
  TempDir cache;
  auto source = openSource(remote.config(cache.path()));
  CHECK_FALSE(source.lastGood());

  auto r1 = syncOk(source);
  CHECK(r1.commit == c1);
  CHECK(r1.fetched);
  CHECK(r1.changed);
  CHECK_FALSE(r1.stale);
  CHECK(r1.previous.empty());
  CHECK(r1.stats.objects > 0);

  auto r2 = syncOk(source);
  CHECK(r2.commit == c1);
  CHECK_FALSE(r2.fetched);
  CHECK_FALSE(r2.changed);

  std::string c2 = remote.commit("apps/b.yaml", test::configMap("b"));
  auto r3 = syncOk(source);
  CHECK(r3.commit == c2);
  CHECK(r3.previous == c1);
  CHECK(r3.fetched);
  CHECK(r3.changed);

  auto tree = source.tree(r3.commit);
  REQUIRE(tree);
  auto text = (*tree)->read("apps/b.yaml", 1024);
  REQUIRE(text);
  CHECK(*text == test::configMap("b"));
}

TEST_CASE("a force-push is followed", "[git][source]") {
  git::Libgit2 lib;
  Remote remote;
  remote.commit("a.yaml", test::configMap("a"));
  std::string c2 = remote.commit("b.yaml", test::configMap("b"));
  TempDir cache;
  auto source = openSource(remote.config(cache.path()));
  CHECK(syncOk(source).commit == c2);
  // Rewrite history: drop c2, commit something else.
  gitCli(remote.work, "reset -q --hard HEAD~1");
  std::string c3 = remote.commit("c.yaml", test::configMap("c"));
  auto r = syncOk(source);
  CHECK(r.commit == c3);
  CHECK(r.changed);
  CHECK(r.fetched);
}

TEST_CASE("a deleted branch or an unreachable remote keeps the last good revision, as stale", "[git][source]") {
  git::Libgit2 lib;
  Remote remote;
  std::string c1 = remote.commit("a.yaml", test::configMap("a"));
  remote.commit("x.yaml", test::configMap("x"), "other");
  TempDir cache;
  auto source = openSource(remote.config(cache.path()));
  CHECK(syncOk(source).commit == c1);

  gitCli(remote.bare, "update-ref -d refs/heads/main");
  auto deleted = syncOk(source);
  CHECK(deleted.stale);
  CHECK(deleted.commit == c1);
  REQUIRE(deleted.staleReason);
  CHECK(deleted.staleReason->code == git::ErrorCode::NotFound);
  CHECK(deleted.staleReason->format().find("branch main") != std::string::npos);

  gitCli(remote.work, "push -q origin " + c1 + ":refs/heads/main");
  std::filesystem::rename(remote.bare, remote.tmp.path() / "moved.git");
  auto down = syncOk(source);
  CHECK(down.stale);
  CHECK(down.commit == c1);
  REQUIRE(down.staleReason);

  std::filesystem::rename(remote.tmp.path() / "moved.git", remote.bare);
  auto back = syncOk(source);
  CHECK_FALSE(back.stale);
  CHECK(back.commit == c1);
}

TEST_CASE("without a last good revision, a failure is an error", "[git][source]") {
  git::Libgit2 lib;
  Remote remote;
  TempDir cache;
  auto config = remote.config(cache.path());
  config.remote.url = "file://" + (remote.tmp.path() / "missing.git").string();
  auto source = openSource(config);
  auto r = source.sync();
  REQUIRE_FALSE(r);
  CHECK(r.error().format().find("missing.git") != std::string::npos);
  // An empty remote has no branch main.
  auto empty = openSource(remote.config(cache.path() / "2"));
  auto e = empty.sync();
  REQUIRE_FALSE(e);
  CHECK(e.error().code == git::ErrorCode::NotFound);
}

TEST_CASE("the cache survives a restart and is locked while in use", "[git][source]") {
  git::Libgit2 lib;
  Remote remote;
  std::string c1 = remote.commit("a.yaml", test::configMap("a"));
  TempDir cache;
  {
    auto source = openSource(remote.config(cache.path()));
    syncOk(source);
    auto second = git::Source::open(remote.config(cache.path()));
    REQUIRE_FALSE(second);
    CHECK(second.error().message.find("in use") != std::string::npos);
  }
  auto again = openSource(remote.config(cache.path()));
  REQUIRE(again.lastGood());
  CHECK(*again.lastGood() == c1);
  auto r = syncOk(again);
  CHECK_FALSE(r.fetched);
  CHECK_FALSE(r.changed);
  CHECK(r.commit == c1);
}

TEST_CASE("another URL or ref in the same cache forgets the old revision", "[git][source]") {
  git::Libgit2 lib;
  Remote remote;
  remote.commit("a.yaml", test::configMap("a"));
  std::string other = remote.commit("b.yaml", test::configMap("b"), "other");
  TempDir cache;
  {
    auto source = openSource(remote.config(cache.path()));
    syncOk(source);
  }
  auto source = openSource(remote.config(cache.path(), git::Ref{git::Ref::Kind::Branch, "other"}));
  CHECK_FALSE(source.lastGood());
  CHECK(syncOk(source).commit == other);
}

TEST_CASE("a damaged cache is detected and fetched again", "[git][source]") {
  git::Libgit2 lib;
  Remote remote;
  remote.commit("a.yaml", test::configMap("a"));
  std::string c2 = remote.commit("b.yaml", test::configMap("b"));
  auto damage = GENERATE(as<std::string>{}, "objects", "pack", "config", "ref");
  INFO("damage: " << damage);
  TempDir cache;
  auto repoDir = cache.path() / "repo.git";
  {
    auto source = openSource(remote.config(cache.path()));
    CHECK(syncOk(source).commit == c2);
  }
  if (damage == "objects") {
    for (const auto& e : std::filesystem::recursive_directory_iterator(repoDir / "objects"))
      if (e.is_regular_file()) std::filesystem::remove(e.path());
  } else if (damage == "pack") {
    for (const auto& e : std::filesystem::recursive_directory_iterator(repoDir / "objects"))
      if (e.is_regular_file() && e.path().extension() == ".pack") std::filesystem::resize_file(e.path(), 40);
  } else if (damage == "config") {
    std::ofstream(repoDir / "config") << "[core\n garbage";
    std::ofstream(repoDir / "HEAD") << "garbage";
  } else {
    std::ofstream(repoDir / "refs/gitfed/good") << "not an id\n";
  }
  auto source = openSource(remote.config(cache.path()));
  auto r = syncOk(source);
  CHECK(r.commit == c2);
  CHECK(r.recloned);
  CHECK(r.fetched);
  auto tree = source.tree(r.commit);
  REQUIRE(tree);
  CHECK((*tree)->read("b.yaml", 1024));
}

TEST_CASE("tags, lightweight and annotated, moved tags included", "[git][source]") {
  git::Libgit2 lib;
  Remote remote;
  std::string c1 = remote.commit("a.yaml", test::configMap("a"));
  gitCli(remote.work, "tag light");
  gitCli(remote.work, "tag -a -m annotated v1");
  gitCli(remote.work, "push -q origin light v1");
  std::string c2 = remote.commit("b.yaml", test::configMap("b"));
  TempDir cache;
  {
    auto source = openSource(remote.config(cache.path() / "light", git::Ref{git::Ref::Kind::Tag, "light"}));
    CHECK(syncOk(source).commit == c1);
  }
  auto source = openSource(remote.config(cache.path() / "v1", git::Ref{git::Ref::Kind::Tag, "v1"}));
  CHECK(syncOk(source).commit == c1);
  CHECK_FALSE(syncOk(source).fetched);
  gitCli(remote.work, "tag -f -a -m moved v1");
  gitCli(remote.work, "push -q -f origin v1");
  auto moved = syncOk(source);
  CHECK(moved.commit == c2);
  CHECK(moved.changed);
}

TEST_CASE("a fixed commit costs nothing once cached", "[git][source]") {
  git::Libgit2 lib;
  Remote remote;
  std::string c1 = remote.commit("a.yaml", test::configMap("a"));
  remote.commit("b.yaml", test::configMap("b"));
  TempDir cache;
  auto source = openSource(remote.config(cache.path(), *git::Ref::commit(c1)));
  auto r = syncOk(source);
  CHECK(r.commit == c1);
  CHECK(r.fetched);
  std::filesystem::rename(remote.bare, remote.tmp.path() / "gone.git");  // no network from now on
  auto again = syncOk(source);
  CHECK(again.commit == c1);
  CHECK_FALSE(again.fetched);
  CHECK_FALSE(again.stale);
  std::filesystem::rename(remote.tmp.path() / "gone.git", remote.bare);

  auto missing = openSource(remote.config(cache.path() / "missing", *git::Ref::commit(std::string(40, 'a'))));
  auto m = missing.sync();
  REQUIRE_FALSE(m);
  CHECK(m.error().code == git::ErrorCode::NotFound);
}

TEST_CASE("a .gitmodules with ../ paths and a gitlink: nothing is written outside the cache", "[git][source]") {
  git::Libgit2 lib;
  Remote remote;
  remote.tmp.write("work/.gitmodules", "[submodule \"x\"]\n\tpath = ../../../escape\n\turl = ../../evil.git\n");
  remote.tmp.write("work/a.yaml", test::configMap("a"));
  gitCli(remote.work, "add -A");
  gitCli(remote.work, "update-index --add --cacheinfo 160000,1111111111111111111111111111111111111111,sub");
  gitCli(remote.work, "commit -q -m submodule");
  gitCli(remote.work, "push -q origin HEAD:refs/heads/main");
  TempDir outer;
  auto cacheDir = outer.path() / "cache";
  auto before = listDir(outer.path());
  auto source = openSource(remote.config(cacheDir));
  auto r = syncOk(source);
  auto tree = source.tree(r.commit);
  REQUIRE(tree);
  auto repo = render::loadRepository(**tree, {});
  CHECK(repo.errors.empty());
  CHECK(repo.documents.size() == 1);
  CHECK((*tree)->warnings() == std::vector<std::string>{"sub: submodule skipped (submodules are not supported)"});
  for (const auto& p : listDir(outer.path()))
    if (!before.contains(p)) CHECK(p.starts_with(cacheDir.string()));
  CHECK_FALSE(std::filesystem::exists(outer.path() / "escape"));
  CHECK_FALSE(std::filesystem::exists(cacheDir / "sub"));
}

TEST_CASE("configuration errors: bad URLs and missing cache directory", "[git][source]") {
  git::Libgit2 lib;
  git::SourceConfig c;
  c.remote.url = "https://user:pw@example.org/x.git";
  c.cacheDir = "/tmp";
  auto s = git::Source::open(c);
  REQUIRE_FALSE(s);
  CHECK(s.error().format().find("pw") == std::string::npos);
  c.remote.url = "https://example.org/x.git";
  c.cacheDir.clear();
  CHECK_FALSE(git::Source::open(c));
}
