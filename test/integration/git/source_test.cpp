// Source against the real servers of test/env: https (basic auth with a
// password or a token, per-run CA), ssh (key, known_hosts plain and hashed),
// git daemon and file://: clone, the one-round-trip no-change check, new
// commits, force-pushes and a deleted branch.

#include <catch2/catch.hpp>

#include "git_itest.h"
#include "gitfed/git/libgit2.h"
#include "gitfed/git/source.h"

using namespace gitfed::git;
using namespace gitfed::git::itest;

namespace {

RemoteOptions optionsFor(const std::string& transport, const ServerRepo& repo, const TempDir& secrets) {
  if (transport == "https") return httpsOptions(repo.httpsUrl(), secrets);
  if (transport == "https-token") {
    RemoteOptions o = httpsOptions(repo.httpsUrl(), secrets);
    o.credentials.usernameFile.clear();
    o.credentials.passwordFile.clear();
    o.credentials.username = env("GITFED_TEST_HTTPS_USER");
    o.credentials.tokenFile = secrets.write("token", env("GITFED_TEST_HTTPS_PASSWORD"));
    return o;
  }
  if (transport == "ssh") return sshOptions(repo.sshUrl());
  if (transport == "ssh-hashed") {
    // The same known_hosts, hashed as `ssh-keygen -H` writes it.
    auto hashed = secrets.write("known_hosts", gitfed::test::readAll(env("GITFED_TEST_SSH_KNOWN_HOSTS")));
    sh("ssh-keygen -q -H -f " + shellQuote(hashed.string()));
    REQUIRE(gitfed::test::readAll(hashed).starts_with("|1|"));
    return sshOptions(repo.sshUrl(), hashed.string());
  }
  if (transport == "git") return plainOptions(repo.gitUrl());
  return plainOptions(repo.fileUrl());
}

}  // namespace

TEST_CASE("clone, no-change check, new commits and force-pushes over every transport", "[source]") {
  Libgit2 lib;
  auto transport = GENERATE(as<std::string>{}, "https", "https-token", "ssh", "ssh-hashed", "git", "file");
  INFO("transport: " << transport);
  ServerRepo repo("source-" + transport);
  std::string c1 = repo.commit("apps/a.yaml", configMap("a"));
  TempDir secrets, cache;
  SourceConfig config;
  config.remote = optionsFor(transport, repo, secrets);
  config.cacheDir = cache.path();
  auto source = Source::open(config);
  REQUIRE(source);

  auto first = source->sync();
  INFO((first ? "" : first.error().format()));
  REQUIRE(first);
  CHECK(first->commit == c1);
  CHECK(first->fetched);
  CHECK_FALSE(first->stale);

  auto t0 = std::chrono::steady_clock::now();
  auto same = source->sync();
  double noChange = secondsSince(t0);
  REQUIRE(same);
  CHECK_FALSE(same->fetched);
  CHECK_FALSE(same->changed);
  CHECK(same->commit == c1);
  INFO("no-change check took " << noChange << " s");
  CHECK(noChange < 2.0);

  std::string c2 = repo.commit("apps/b.yaml", configMap("b"));
  auto next = source->sync();
  REQUIRE(next);
  CHECK(next->commit == c2);
  CHECK(next->fetched);
  auto tree = source->tree(next->commit);
  REQUIRE(tree);
  CHECK((*tree)->read("apps/b.yaml", 1 << 20).value_or("") == configMap("b"));

  gitCli(repo.work, "reset -q --hard HEAD~1");
  std::string c3 = repo.commit("apps/c.yaml", configMap("c"));
  auto forced = source->sync();
  REQUIRE(forced);
  CHECK(forced->commit == c3);

  gitCli(repo.bare, "update-ref -d refs/heads/main");
  auto deleted = source->sync();
  REQUIRE(deleted);
  CHECK(deleted->stale);
  CHECK(deleted->commit == c3);
  REQUIRE(deleted->staleReason);
  CHECK(deleted->staleReason->code == ErrorCode::NotFound);
}

TEST_CASE("a 10,000-file repository: one new commit fetches only what changed", "[source]") {
  Libgit2 lib;
  ServerRepo repo("source-big");
  for (int i = 0; i < 10000; ++i)
    writeFile(repo.work / ("apps/d" + std::to_string(i / 500)) / ("f" + std::to_string(i) + ".yaml"),
              configMap("cm-" + std::to_string(i)));
  std::string c1 = repo.commit("README", "fleet\n");
  TempDir secrets, cache;
  SourceConfig config;
  config.remote = httpsOptions(repo.httpsUrl(), secrets);
  config.cacheDir = cache.path();
  auto source = Source::open(config);
  REQUIRE(source);
  auto first = source->sync();
  REQUIRE(first);
  CHECK(first->stats.objects > 10000);
  repo.commit("apps/d0/f0.yaml", configMap("cm-0", "changed"));
  auto next = source->sync();
  REQUIRE(next);
  CHECK(next->fetched);
  CHECK(next->stats.objects < 10);
}
