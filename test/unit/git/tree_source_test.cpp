// GitTreeSource: rendering straight from a commit's tree, including hostile
// trees: a symlink to /etc/passwd named x.yaml, a 100 MB blob, 20,000 files, a
// submodule with a .gitmodules pointing outside, and entries named "..", "."
// or holding a '/', which only a hand-made tree can contain.

#include <sys/resource.h>

#include <catch2/catch.hpp>

#include <thread>

#include "git_support.h"
#include "gitfed/git/libgit2.h"
#include "gitfed/git/repository.h"
#include "gitfed/git/tree_source.h"
#include "gitfed/render/renderer.h"

using namespace gitfed;
using gitfed::test::gitCli;
using gitfed::test::TempDir;

namespace {

constexpr std::uint64_t kBigBlob = 100ull << 20;
constexpr int kManyFiles = 20000;

long maxRssKiB() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return u.ru_maxrss;
}

// One repository for the whole file, built by `git fast-import` in a child
// process (this process never holds the 100 MB blob).
struct HostileRepo {
  TempDir tmp;
  std::filesystem::path dir;
  std::string commit;   // the fast-imported commit
  std::string crafted;  // a commit whose root tree holds "..", "." and "a/../../b.yaml"

  HostileRepo() {
    dir = tmp.path() / "repo.git";
    gitCli(tmp.path(), "init -q --bare repo.git");
    auto streamPath = tmp.path() / "stream";
    {
      std::ofstream s(streamPath, std::ios::binary);
      auto blob = [&](int mark, const std::string& content) {
        s << "blob\nmark :" << mark << "\ndata " << content.size() << "\n" << content << "\n";
      };
      blob(1, test::configMap("web"));
      blob(2, "[submodule \"evil\"]\n\tpath = ../../escape\n\turl = ../../../evil.git\n");
      s << "blob\nmark :3\ndata " << kBigBlob << "\n";
      std::string chunk(1 << 20, 'a');
      for (std::uint64_t i = 0; i < kBigBlob / chunk.size(); ++i) s.write(chunk.data(), static_cast<std::streamsize>(chunk.size()));
      s << "\n";
      for (int i = 0; i < kManyFiles; ++i) blob(10 + i, test::configMap("cm-" + std::to_string(i), std::to_string(i)));
      s << "commit refs/heads/main\ncommitter tester <tester@example.org> 1700000000 +0000\ndata 7\nhostile\n";
      s << "M 100644 :1 apps/web.yaml\n";
      s << "M 120000 inline x.yaml\ndata 11\n/etc/passwd\n";
      s << "M 120000 inline apps/dir-link\ndata 4\n/etc\n";
      s << "M 100644 :2 .gitmodules\n";
      s << "M 160000 1111111111111111111111111111111111111111 vendor/evil\n";
      s << "M 100644 :3 big.yaml\n";
      for (int i = 0; i < kManyFiles; ++i)
        s << "M 100644 :" << 10 + i << " many/d" << i / 1000 << "/f" << i << ".yaml\n";
      s << "\n";
    }
    gitCli(dir, "fast-import --quiet < " + test::shellQuote(streamPath.string()));
    std::filesystem::remove(streamPath);
    commit = gitCli(dir, "rev-parse refs/heads/main");

    std::string apps = gitCli(dir, "rev-parse " + commit + ":apps");
    std::string evil = test::writeBlob(dir, test::configMap("evil-escaped"), tmp);
    std::string evilTree = test::writeRawTree(dir, {{"100644", "evil.yaml", evil}}, tmp);
    std::string root = test::writeRawTree(dir,
                                          {{"40000", "..", evilTree},
                                           {"40000", ".", evilTree},
                                           {"100644", "a/../../b.yaml", evil},
                                           {"40000", "apps", apps},
                                           {"100644", "ok.yaml", test::writeBlob(dir, test::configMap("ok"), tmp)}},
                                          tmp);
    crafted = gitCli(dir, "commit-tree " + root + " -m crafted");
  }
};

HostileRepo& hostile() {
  static HostileRepo repo;
  return repo;
}

std::unique_ptr<git::GitTreeSource> treeOf(const std::filesystem::path& dir, const std::string& commit) {
  auto repo = git::Repository::open(dir);
  REQUIRE(repo);
  auto tree = repo->tree(commit);
  REQUIRE(tree);
  return std::move(*tree);
}

bool hasError(const std::vector<render::Diagnostic>& errors, const std::string& path, const std::string& text) {
  for (const auto& e : errors)
    if (e.path == path && e.message.find(text) != std::string::npos) return true;
  return false;
}

}  // namespace

TEST_CASE("a commit's tree renders exactly like its checkout", "[git][tree]") {
  git::Libgit2 lib;
  TempDir tmp;
  auto work = test::initRepo(tmp);
  std::filesystem::copy(std::filesystem::path(GITFED_SOURCE_DIR) / "examples/fleet", work,
                        std::filesystem::copy_options::recursive);
  std::string commit = test::commitAll(work, "fleet");

  render::DiskSourceTree disk(work);
  auto fromDisk = render::loadRepository(disk, {});
  auto tree = treeOf(work, commit);
  render::LoadOptions twoThreads;
  twoThreads.threads = 2;
  auto fromGit = render::loadRepository(*tree, twoThreads);
  REQUIRE(fromDisk.errors.empty());
  REQUIRE(fromGit.errors.empty());
  REQUIRE(fromDisk.files == fromGit.files);
  REQUIRE_FALSE(fromGit.clusters.empty());
  for (const auto& cluster : fromGit.clusters) {
    INFO(cluster.name);
    auto a = render::renderCluster(fromDisk, cluster.name);
    auto b = render::renderCluster(fromGit, cluster.name);
    REQUIRE(a.ok());
    REQUIRE(b.ok());
    REQUIRE(a.objects.size() == b.objects.size());
    for (std::size_t i = 0; i < a.objects.size(); ++i) {
      CHECK(a.objects[i].value == b.objects[i].value);
      CHECK(a.objects[i].source.path == b.objects[i].source.path);
      CHECK(a.objects[i].source.line == b.objects[i].source.line);
    }
    CHECK_FALSE(b.objects.empty());
  }
  CHECK(tree->warnings().empty());
}

TEST_CASE("symlinks are reported, never followed", "[git][tree]") {
  git::Libgit2 lib;
  auto tree = treeOf(hostile().dir, hostile().commit);
  auto st = tree->stat("x.yaml");
  REQUIRE(st);
  CHECK(st->type == render::SourceTree::EntryType::Symlink);
  auto read = tree->read("x.yaml", 1 << 20);
  REQUIRE_FALSE(read);
  CHECK(read.error().message == "symlinks are not followed");
  // A symlinked directory is not a directory.
  auto dirLink = tree->stat("apps/dir-link");
  REQUIRE(dirLink);
  CHECK(dirLink->type == render::SourceTree::EntryType::Symlink);
  CHECK_FALSE(tree->list("apps/dir-link"));
  CHECK_FALSE(tree->read("apps/dir-link/passwd", 1 << 20));
}

TEST_CASE("a 100 MB blob is sized from its header and never loaded", "[git][tree]") {
  git::Libgit2 lib;
  auto tree = treeOf(hostile().dir, hostile().commit);
  long before = maxRssKiB();
  auto st = tree->stat("big.yaml");
  REQUIRE(st);
  CHECK(st->type == render::SourceTree::EntryType::File);
  CHECK(st->size == kBigBlob);
  auto entries = tree->list("");
  REQUIRE(entries);
  bool seen = false;
  for (const auto& e : *entries)
    if (e.name == "big.yaml") seen = e.size == kBigBlob;
  CHECK(seen);
  auto read = tree->read("big.yaml", 8u << 20);
  REQUIRE_FALSE(read);
  CHECK(read.error().message == "file is 104857600 bytes, over the limit of 8388608 bytes");
  long grown = maxRssKiB() - before;
  INFO("peak RSS grew by " << grown << " KiB");
  CHECK(grown < 50 * 1024);
}

TEST_CASE("a hostile repository renders: 20,000 files, symlink, big blob, submodule", "[git][tree]") {
  git::Libgit2 lib;
  auto tree = treeOf(hostile().dir, hostile().commit);
  render::LoadOptions options;
  options.threads = 2;
  auto repo = render::loadRepository(*tree, options);
  CHECK(repo.files == static_cast<std::size_t>(kManyFiles) + 2);  // many/, apps/web.yaml, big.yaml
  CHECK(hasError(repo.errors, "x.yaml", "symlinks are not followed"));
  CHECK(hasError(repo.errors, "big.yaml", "over the limit"));
  CHECK(repo.documents.size() == static_cast<std::size_t>(kManyFiles) + 1);
  CHECK(repo.errors.size() == 2);
  auto warnings = tree->warnings();
  REQUIRE(warnings.size() == 1);
  CHECK(warnings[0] == "vendor/evil: submodule skipped (submodules are not supported)");
  auto sub = tree->stat("vendor/evil");
  REQUIRE(sub);
  CHECK(sub->type == render::SourceTree::EntryType::Other);
  CHECK_FALSE(tree->read("vendor/evil", 1024));
}

TEST_CASE("entries named '..', '.' or holding '/' are skipped; '..' paths are refused", "[git][tree]") {
  git::Libgit2 lib;
  auto tree = treeOf(hostile().dir, hostile().crafted);
  auto entries = tree->list("");
  REQUIRE(entries);
  std::vector<std::string> names;
  for (const auto& e : *entries) names.push_back(e.name);
  CHECK(names == std::vector<std::string>{"apps", "ok.yaml"});
  auto warnings = tree->warnings();
  CHECK(warnings.size() == 3);
  for (const char* path : {"..", ".", "../evil.yaml", "./evil.yaml", "a/../../b.yaml", "apps/../ok.yaml", "/ok.yaml",
                           "apps//web.yaml", "ok.yaml/"}) {
    INFO(path);
    CHECK_FALSE(tree->stat(path));
    CHECK_FALSE(tree->read(path, 1 << 20));
  }
  render::LoadOptions options;
  auto repo = render::loadRepository(*tree, options);
  CHECK(repo.errors.empty());
  auto result = render::renderCluster(repo, "any");
  REQUIRE(result.ok());
  std::vector<std::string> rendered;
  for (const auto& o : result.objects) rendered.push_back(o.name);
  CHECK(rendered == std::vector<std::string>{"ok", "web"});
  // Roots that try to leave the tree are refused by the renderer, and by the tree.
  render::LoadOptions escape;
  escape.roots = {"../"};
  CHECK_FALSE(render::loadRepository(*tree, escape).errors.empty());
}

TEST_CASE("reads from several threads at once", "[git][tree]") {
  git::Libgit2 lib;
  auto tree = treeOf(hostile().dir, hostile().commit);
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = t; i < 2000; i += 4) {
        std::string path = "many/d" + std::to_string(i / 1000) + "/f" + std::to_string(i) + ".yaml";
        auto text = tree->read(path, 1 << 20);
        if (!text || text->find("cm-" + std::to_string(i) + "\n") == std::string::npos) ++failures;
      }
    });
  }
  for (auto& t : threads) t.join();
  CHECK(failures == 0);
}

TEST_CASE("GitTreeSource::open reads a repository by path", "[git][tree]") {
  git::Libgit2 lib;
  auto tree = git::GitTreeSource::open(hostile().dir.string(), hostile().commit);
  REQUIRE(tree);
  auto text = (*tree)->read("apps/web.yaml", 1024);
  REQUIRE(text);
  CHECK(*text == test::configMap("web"));
  CHECK_FALSE(git::GitTreeSource::open(hostile().dir.string(), std::string(40, '0')));
  CHECK_FALSE(git::GitTreeSource::open("/nonexistent", hostile().commit));
}
