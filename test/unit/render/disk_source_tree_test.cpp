// The on-disk source tree against a hostile repository: links, special files,
// giant files. These use a real directory, not a fake.

#include <catch2/catch.hpp>

#include <sys/stat.h>

#include <filesystem>

#include "gitfed/render/renderer.h"
#include "support/run.h"

using gitfed::render::DiskSourceTree;
using gitfed::render::loadRepository;
using gitfed::render::renderCluster;
using gitfed::test::TempDir;

namespace {
const char* kCm = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n";
std::vector<std::string> errorsOf(const std::filesystem::path& root) {
  DiskSourceTree tree(root);
  auto r = renderCluster(loadRepository(tree), "eu");
  std::vector<std::string> out;
  for (const auto& e : r.errors) out.push_back(e.format());
  return out;
}
}  // namespace

TEST_CASE("disk: a symlinked manifest is an error and is never read", "[render][disk][hostile]") {
  TempDir d;
  d.write("ok.yaml", kCm);
  std::filesystem::create_symlink("/etc/passwd", d.path() / "passwd.yaml");
  std::filesystem::create_symlink("ok.yaml", d.path() / "apps.yml");
  std::filesystem::create_symlink("/etc", d.path() / "etc");  // a directory link without a manifest name: ignored
  std::filesystem::create_symlink("/etc/hostname", d.path() / "README");
  CHECK(errorsOf(d.path()) ==
        std::vector<std::string>{"apps.yml: symlinks are not followed", "passwd.yaml: symlinks are not followed"});
}

TEST_CASE("disk: a linked directory is not entered", "[render][disk][hostile]") {
  TempDir d;
  TempDir outside;
  outside.write("secret.yaml", "apiVersion: v1\nkind: Secret\nmetadata: {name: leaked}\n");
  d.write("ok.yaml", kCm);
  std::filesystem::create_symlink(outside.path(), d.path() / "linked");
  DiskSourceTree tree(d.path());
  auto repo = loadRepository(tree);
  CHECK(repo.errors.empty());
  CHECK(repo.files == 1);
}

TEST_CASE("disk: a FIFO named like a manifest is not read (no hang)", "[render][disk][hostile]") {
  TempDir d;
  d.write("ok.yaml", kCm);
  REQUIRE(::mkfifo((d.path() / "pipe.yaml").c_str(), 0600) == 0);
  DiskSourceTree tree(d.path());
  auto repo = loadRepository(tree);
  CHECK(repo.errors.empty());
  CHECK(repo.files == 1);
  // Reading it directly fails at once instead of blocking.
  auto r = tree.read("pipe.yaml", 1024);
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().message == "not a regular file");
}

TEST_CASE("disk: a file over 8 MiB is an error naming it, without reading it whole", "[render][disk][hostile]") {
  TempDir d;
  d.write("ok.yaml", kCm);
  d.write("apps/big.yaml", std::string((8u << 20) + 1, '#'));
  CHECK(errorsOf(d.path()) ==
        std::vector<std::string>{"apps/big.yaml: file is 8388609 bytes, over the limit of 8388608 bytes"});
  d.write("apps/big.yaml", std::string(8u << 20, '#'));  // exactly the limit is fine
  CHECK(errorsOf(d.path()).empty());
}

TEST_CASE("disk: reading refuses a path that became a symlink", "[render][disk][hostile]") {
  TempDir d;
  std::filesystem::create_symlink("/etc/passwd", d.path() / "x.yaml");
  DiskSourceTree tree(d.path());
  auto r = tree.read("x.yaml", 1 << 20);
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().message == "symlinks are not followed");
}

TEST_CASE("disk: the root may itself be a link the user chose", "[render][disk]") {
  TempDir d;
  d.write("repo/ok.yaml", kCm);
  std::filesystem::create_symlink(d.path() / "repo", d.path() / "current");
  DiskSourceTree tree(d.path() / "current");
  auto repo = loadRepository(tree);
  CHECK(repo.errors.empty());
  CHECK(repo.files == 1);
}

TEST_CASE("disk: a file is read whole, whatever its size", "[render][disk]") {
  TempDir d;
  DiskSourceTree tree(d.path());
  for (std::size_t size : {0u, 1u, 4095u, 4096u, 4097u, 100000u}) {
    std::string content(size, 'x');
    for (std::size_t i = 0; i < size; i += 7) content[i] = static_cast<char>(i % 256);  // NUL bytes too
    d.write("f.yaml", content);
    auto r = tree.read("f.yaml", 1 << 20);
    REQUIRE(r.has_value());
    CHECK(*r == content);
  }
}

TEST_CASE("disk: a file longer than its stat size (it grew) is read on, within the limit", "[render][disk]") {
  // Files under /proc say 0 bytes and read as more: the case of a file that grew after fstat.
  DiskSourceTree proc("/proc/self");
  auto maps = proc.read("maps", 1 << 20);
  REQUIRE(maps.has_value());
  CHECK(maps->size() > 100);
  CHECK(maps->back() == '\n');
  auto limited = proc.read("maps", 10);
  REQUIRE_FALSE(limited.has_value());
  CHECK(limited.error().message == "file is over the limit of 10 bytes");
}
