// gitfed's http(s) transport keeps connections between operations (see
// agent/git/src/http_transport.h). Against test/env's https server (apache +
// git http-backend), through a TCP proxy that counts connections and can cut
// them: checks, fetches and pushes share one connection; credentials are
// checked at every request, so a wrong password is refused on an open
// connection too; a connection verified against one CA file is never used for
// a remote configured with another; a cut connection is replaced
// transparently.

#include <catch2/catch.hpp>

#include "git_itest.h"
#include "gitfed/git/libgit2.h"
#include "gitfed/git/repository.h"
#include "gitfed/git/source.h"
#include "gitfed/status/writer.h"
#include "tcp_proxy.h"

using namespace gitfed;
using namespace gitfed::git;
using namespace gitfed::git::itest;

namespace {

std::string httpsUrlVia(const TcpProxy& proxy, const ServerRepo& repo) {
  return "https://localhost:" + std::to_string(proxy.port()) + "/" + repo.name;
}

}  // namespace

TEST_CASE("https: checks, fetches and pushes share one connection; credentials are checked at every request",
          "[httpreuse]") {
  Libgit2 lib;
  ServerRepo repo("http-reuse");
  std::string c1 = repo.commit("apps/a.yaml", configMap("a"));
  TcpProxy proxy(std::stoi(env("GITFED_TEST_HTTPS_PORT")));
  TempDir secrets, cache, statusCache;
  SourceConfig config;
  config.remote = httpsOptions(httpsUrlVia(proxy, repo), secrets);
  config.cacheDir = cache.path();
  auto source = Source::open(config);
  REQUIRE(source);

  auto first = source->sync();
  INFO((first ? "" : first.error().format()));
  REQUIRE(first);
  CHECK(first->commit == c1);
  CHECK(proxy.accepted() == 1);
  for (int i = 0; i < 3; ++i) {
    auto same = source->sync();
    REQUIRE(same);
    CHECK_FALSE(same->stale);
    CHECK_FALSE(same->changed);
    CHECK_FALSE(same->fetched);
  }
  std::string c2 = repo.commit("apps/b.yaml", configMap("b"));
  auto next = source->sync();
  REQUIRE(next);
  CHECK(next->commit == c2);
  CHECK(next->fetched);
  CHECK(proxy.accepted() == 1);  // the checks and the fetch: one connection

  // A status write (read the tip, push on it) over the same one.
  auto store = status::GitStatusStore::open(statusCache.path(), config.remote);
  REQUIRE(store);
  status::WriterOptions wo;
  wo.cluster = "c1";
  status::StatusWriter writer(**store, wo);
  status::ClusterStatus report;
  report.name = "c1";
  report.source = {config.remote.url, "main", c2};
  report.sync.phase = status::Phase::Synced;
  report.sync.lastAttemptAt = status::Clock::now();
  auto written = writer.write(report);
  INFO((written ? "" : written.error().format()));
  REQUIRE(written);
  CHECK(written->kind == status::WriteOutcome::Kind::Committed);
  CHECK(gitCli(repo.bare, "rev-parse gitfed-status") == written->commit);
  CHECK(proxy.accepted() == 1);

  // A wrong password is refused on the open connection (basic authentication
  // is per request), and names no secret.
  const std::string wrong = "wrong-Pa55word-on-a-kept-connection";
  auto refused = lsRemote(httpsOptions(config.remote.url, secrets, wrong));
  REQUIRE_FALSE(refused);
  INFO(refused.error().format());
  CHECK(refused.error().code == ErrorCode::Auth);
  CHECK(refused.error().message.find("refused the credentials") != std::string::npos);
  CHECK(refused.error().format().find(wrong) == std::string::npos);
  CHECK(refused.error().format().find(env("GITFED_TEST_HTTPS_PASSWORD")) == std::string::npos);

  // No credentials at all: refused too, even though a connection that carried
  // the right ones is open.
  auto anonymous = httpsOptions(config.remote.url, secrets);
  anonymous.credentials.passwordFile.clear();
  auto noCreds = lsRemote(anonymous);
  REQUIRE_FALSE(noCreds);
  CHECK(noCreds.error().code == ErrorCode::Auth);

  // A remote configured with another CA file (the system's, which does not
  // know the test CA) never rides on the connection verified with the test
  // CA: a new connection, refused at the certificate.
  const int before = proxy.accepted();
  auto systemCa = httpsOptions(config.remote.url, secrets);
  systemCa.credentials.caFile.clear();
  auto untrusted = lsRemote(systemCa);
  REQUIRE_FALSE(untrusted);
  INFO(untrusted.error().format());
  CHECK(untrusted.error().code == ErrorCode::Certificate);
  CHECK(proxy.accepted() == before + 1);

  // The right options still work afterwards.
  auto again = source->sync();
  REQUIRE(again);
  CHECK_FALSE(again->stale);
  CHECK(again->commit == c2);
}

TEST_CASE("https: a cut connection is replaced at the next operation", "[httpreuse]") {
  Libgit2 lib;
  ServerRepo repo("http-reconnect");
  std::string c1 = repo.commit("apps/a.yaml", configMap("a"));
  TcpProxy proxy(std::stoi(env("GITFED_TEST_HTTPS_PORT")));
  TempDir secrets, cache;
  SourceConfig config;
  config.remote = httpsOptions(httpsUrlVia(proxy, repo), secrets);
  config.cacheDir = cache.path();
  auto source = Source::open(config);
  REQUIRE(source);
  REQUIRE(source->sync());
  CHECK(proxy.accepted() == 1);

  // The server restarts, or the network cuts: the kept connection is dead.
  proxy.dropAll();
  std::string c2 = repo.commit("apps/b.yaml", configMap("b"));
  auto after = source->sync();
  INFO((after ? "" : after.error().format()));
  REQUIRE(after);
  CHECK_FALSE(after->stale);
  CHECK(after->commit == c2);
  CHECK(proxy.accepted() == 2);
  auto quiet = source->sync();
  REQUIRE(quiet);
  CHECK_FALSE(quiet->stale);
  CHECK(proxy.accepted() == 2);
}
