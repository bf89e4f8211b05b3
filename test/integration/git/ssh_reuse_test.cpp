// gitfed's ssh transport keeps the connection between operations (see
// agent/git/src/ssh_transport.h). Against test/env's sshd, through a TCP
// proxy that counts connections and can cut them: checks, fetches and pushes
// share one connection; the host key is checked against known_hosts as it is
// at every operation; another key never rides on an open connection; a cut
// connection is replaced transparently, and the replacement's host key is
// verified (a server with another key is refused).

#include <netinet/in.h>
#include <sys/socket.h>

#include <catch2/catch.hpp>

#include <memory>
#include <sstream>
#include <thread>

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

// The server's key, listed for 127.0.0.1 on `port` (the proxy's).
std::filesystem::path knownHostsFor(const TempDir& dir, int port, const char* source = "GITFED_TEST_SSH_KNOWN_HOSTS") {
  std::string line = gitfed::test::readAll(env(source));
  return dir.write("known_hosts", "[127.0.0.1]:" + std::to_string(port) + " " + line.substr(line.find(' ') + 1));
}

std::string sshUrlVia(const TcpProxy& proxy, const ServerRepo& repo) {
  return "ssh://" + env("GITFED_TEST_SSH_USER") + "@127.0.0.1:" + std::to_string(proxy.port()) + "/" + repo.name;
}

int freePort() {
  int s = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::bind(s, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
  socklen_t len = sizeof a;
  ::getsockname(s, reinterpret_cast<sockaddr*>(&a), &len);
  ::close(s);
  return ntohs(a.sin_port);
}

bool accepts(int port) {
  int s = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(static_cast<std::uint16_t>(port));
  bool ok = ::connect(s, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  ::close(s);
  return ok;
}

// A second sshd like test/env's (its configuration: the same user, key and
// forced command, the same repositories) on a port of its own, with a host
// key of its own: what a re-installed server, or an impostor, looks like.
class OtherSshd {
 public:
  explicit OtherSshd(const TempDir& dir) : port_(freePort()) {
    auto d = dir.path();
    sh("ssh-keygen -q -t ed25519 -N '' -f " + shellQuote((d / "host_ed25519").string()));
    std::istringstream in(
        gitfed::test::readAll(std::filesystem::path(env("GITFED_TEST_GIT_DIR")) / "ssh" / "sshd_config"));
    std::string config, line;
    while (std::getline(in, line)) {
      if (line.starts_with("Port ")) line = "Port " + std::to_string(port_);
      else if (line.starts_with("HostKey ")) line = "HostKey " + (d / "host_ed25519").string();
      config += line + "\n";
    }
    auto file = dir.write("sshd_config", config);
    child_ = std::make_unique<Child>(std::vector<std::string>{"/usr/sbin/sshd", "-D", "-f", file.string(), "-E",
                                                              (d / "sshd.log").string()});
    auto t0 = std::chrono::steady_clock::now();
    while (!accepts(port_)) {
      REQUIRE(secondsSince(t0) < 10);
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }
  int port() const { return port_; }

 private:
  int port_;
  std::unique_ptr<Child> child_;
};

}  // namespace

TEST_CASE("ssh: checks, fetches and pushes share one connection; known_hosts is read at every operation",
          "[sshreuse]") {
  Libgit2 lib;
  ServerRepo repo("ssh-reuse");
  std::string c1 = repo.commit("apps/a.yaml", configMap("a"));
  TcpProxy proxy(std::stoi(env("GITFED_TEST_SSH_PORT")));
  TempDir secrets, cache, statusCache;
  auto knownHosts = knownHostsFor(secrets, proxy.port());
  SourceConfig config;
  config.remote = sshOptions(sshUrlVia(proxy, repo), knownHosts.string());
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

  // A push (the status writer: read the tip, push on it) over the same one.
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

  // Another key never rides on the open connection: a new one, refused.
  auto wrongKey = sshOptions(config.remote.url, knownHosts.string(), env("GITFED_TEST_SSH_WRONG_KEY"));
  auto refused = lsRemote(wrongKey);
  REQUIRE_FALSE(refused);
  INFO(refused.error().format());
  CHECK(refused.error().code == ErrorCode::Auth);
  CHECK(refused.error().message.find("refused the key") != std::string::npos);
  CHECK(proxy.accepted() == 2);

  // known_hosts now lists another key for the server: the open connection's
  // key is checked against it and refused, with nothing sent.
  writeFile(knownHosts, "[127.0.0.1]:" + std::to_string(proxy.port()) + " " +
                            [] {
                              std::string l = gitfed::test::readAll(env("GITFED_TEST_SSH_WRONG_KNOWN_HOSTS"));
                              return l.substr(l.find(' ') + 1);
                            }());
  auto changed = source->sync();
  REQUIRE(changed);
  CHECK(changed->stale);
  REQUIRE(changed->staleReason);
  INFO(changed->staleReason->format());
  CHECK(changed->staleReason->code == ErrorCode::HostKey);
  CHECK(changed->staleReason->message.find("CHANGED") != std::string::npos);
  CHECK(proxy.accepted() == 2);

  // The right known_hosts again: a new connection (the refused one is gone).
  knownHostsFor(secrets, proxy.port());
  auto back = source->sync();
  REQUIRE(back);
  CHECK_FALSE(back->stale);
  CHECK(back->commit == c2);
  CHECK(proxy.accepted() == 3);
}

TEST_CASE("ssh: a cut connection is replaced at the next operation, and the new server's host key is verified",
          "[sshreuse]") {
  Libgit2 lib;
  ServerRepo repo("ssh-reconnect");
  std::string c1 = repo.commit("apps/a.yaml", configMap("a"));
  TcpProxy proxy(std::stoi(env("GITFED_TEST_SSH_PORT")));
  TempDir secrets, cache, sshd;
  SourceConfig config;
  config.remote = sshOptions(sshUrlVia(proxy, repo), knownHostsFor(secrets, proxy.port()).string());
  config.cacheDir = cache.path();
  auto source = Source::open(config);
  REQUIRE(source);
  auto first = source->sync();
  INFO((first ? "" : first.error().format()));
  REQUIRE(first);
  REQUIRE(proxy.accepted() == 1);

  // The server goes away between two checks (a restart, a network cut): the
  // idle connection is dead; the next check connects again, no error.
  proxy.dropAll();
  std::string c2 = repo.commit("apps/b.yaml", configMap("b"));
  auto again = source->sync();
  INFO((again ? "" : again.error().format()));
  REQUIRE(again);
  CHECK_FALSE(again->stale);
  CHECK(again->commit == c2);
  CHECK(proxy.accepted() == 2);

  // Cut again, and the address now leads to a server with another host key:
  // the new connection is refused at its key exchange, the last good
  // revision stays.
  OtherSshd other(sshd);
  proxy.setUpstream(other.port());
  proxy.dropAll();
  auto impostor = source->sync();
  REQUIRE(impostor);
  CHECK(impostor->stale);
  CHECK(impostor->commit == c2);
  REQUIRE(impostor->staleReason);
  INFO(impostor->staleReason->format());
  CHECK(impostor->staleReason->code == ErrorCode::HostKey);
  CHECK(impostor->staleReason->message.find("CHANGED") != std::string::npos);
  CHECK(proxy.accepted() == 3);

  // The real server back: recovered.
  proxy.setUpstream(std::stoi(env("GITFED_TEST_SSH_PORT")));
  auto recovered = source->sync();
  REQUIRE(recovered);
  CHECK_FALSE(recovered->stale);
  CHECK(recovered->commit == c2);
  CHECK(proxy.accepted() == 4);
}
