// Bad input and faults against the real servers: wrong password or token, no
// credentials, TLS certificates from an untrusted CA or for another name, an
// unknown or changed ssh host key, a wrong ssh key, a redirect to another
// host, a hung server, a server that dies mid-fetch, a CA file with no
// certificate, a missing repository, servers answering 403/500/HTML, and the
// status writer's one-request fetch given a commit the server lacks, a wrong
// content type or a garbled answer. Each fails closed, with a
// clear error that holds no credential, and a Source with a last good
// revision reports stale instead.

#include <catch2/catch.hpp>

#include "git_itest.h"
#include "gitfed/git/libgit2.h"
#include "gitfed/git/repository.h"
#include "gitfed/git/source.h"
#include "tcp_proxy.h"

using namespace gitfed::git;
using namespace gitfed::git::itest;

namespace {

const std::string kWrongPassword = "wrong-Pa55word-that-must-not-leak";

void requireFailure(const Result<std::vector<RemoteRef>>& r, ErrorCode code, const std::string& text) {
  REQUIRE_FALSE(r);
  INFO(r.error().format());
  CHECK(r.error().code == code);
  CHECK(r.error().format().find(text) != std::string::npos);
  CHECK(r.error().format().find(env("GITFED_TEST_HTTPS_PASSWORD")) == std::string::npos);
  CHECK(r.error().format().find(kWrongPassword) == std::string::npos);
}

}  // namespace

TEST_CASE("https: wrong password, no credentials", "[faults][https]") {
  Libgit2 lib;
  ServerRepo repo("faults-auth");
  repo.commit("a.yaml", configMap("a"));
  TempDir secrets;
  CHECK(lsRemote(httpsOptions(repo.httpsUrl(), secrets)));  // the control: right credentials work
  requireFailure(lsRemote(httpsOptions(repo.httpsUrl(), secrets, kWrongPassword)), ErrorCode::Auth,
                 "refused the credentials");
  auto none = httpsOptions(repo.httpsUrl(), secrets);
  none.credentials.passwordFile.clear();
  requireFailure(lsRemote(none), ErrorCode::Auth, "no passwordFile or tokenFile");
  auto missing = httpsOptions(repo.httpsUrl(), secrets);
  missing.credentials.passwordFile = secrets.path() / "no-such-file";
  requireFailure(lsRemote(missing), ErrorCode::Auth, "cannot read the password file");
}

TEST_CASE("https: a wrong password with a last good revision reports stale", "[faults][https]") {
  Libgit2 lib;
  ServerRepo repo("faults-stale");
  std::string c1 = repo.commit("a.yaml", configMap("a"));
  TempDir secrets, cache;
  SourceConfig config;
  config.remote = httpsOptions(repo.httpsUrl(), secrets);
  config.cacheDir = cache.path();
  {
    auto source = Source::open(config);
    REQUIRE(source);
    REQUIRE(source->sync());
  }
  repo.commit("b.yaml", configMap("b"));
  config.remote = httpsOptions(repo.httpsUrl(), secrets, kWrongPassword);
  auto source = Source::open(config);
  REQUIRE(source);
  auto r = source->sync();
  REQUIRE(r);
  CHECK(r->stale);
  CHECK(r->commit == c1);
  REQUIRE(r->staleReason);
  CHECK(r->staleReason->code == ErrorCode::Auth);
  CHECK(r->staleReason->format().find(kWrongPassword) == std::string::npos);
}

TEST_CASE("https: certificates from an untrusted CA or for another name are refused", "[faults][https][tls]") {
  Libgit2 lib;
  ServerRepo repo("faults-tls");
  repo.commit("a.yaml", configMap("a"));
  TempDir secrets, pki;

  SECTION("the real server without its CA (the system bundle)") {
    auto o = httpsOptions(repo.httpsUrl(), secrets);
    o.credentials.caFile.clear();
    requireFailure(lsRemote(o), ErrorCode::Certificate, "not trusted");
  }
  SECTION("the real server by IP address: its certificate lists 127.0.0.1 (the control)") {
    auto r = lsRemote(httpsOptions(env("GITFED_TEST_HTTPS_BASE") + "/" + repo.name, secrets));
    INFO((r ? std::string("ok") : r.error().format()));
    CHECK(r);
  }
  auto serve = [&](const std::pair<std::string, std::string>& cert, const std::string& host) {
    auto portFile = pki.path() / ("port-" + host + std::to_string(std::random_device{}()));
    Child server({"python3", GITFED_REDIRECT_SERVER, "sink", portFile.string(), (pki.path() / "log").string(), "--tls",
                  cert.first, cert.second});
    std::string port = waitForFile(portFile);
    return lsRemote(httpsOptions("https://" + host + ":" + port + "/x.git", secrets));
  };
  SECTION("a certificate for localhost from the trusted CA passes TLS (the control)") {
    auto r = serve(makeCert(pki, "localhost"), "localhost");
    REQUIRE_FALSE(r);
    CHECK(r.error().code != ErrorCode::Certificate);  // TLS passed; the sink refuses with 401
    CHECK(r.error().code == ErrorCode::Auth);
  }
  SECTION("a certificate for localhost from another CA") {
    requireFailure(serve(makeCert(pki, "localhost", true), "localhost"), ErrorCode::Certificate, "not trusted");
  }
  SECTION("a certificate from the trusted CA for another name") {
    requireFailure(serve(makeCert(pki, "other.example"), "localhost"), ErrorCode::Certificate, "not trusted");
  }
  SECTION("a certificate for the name localhost, reached by IP address") {
    requireFailure(serve(makeCert(pki, "localhost"), "127.0.0.1"), ErrorCode::Certificate, "not trusted");
  }
  SECTION("a certificate for 127.0.0.1, reached as localhost") {
    requireFailure(serve(makeCert(pki, "127.0.0.1"), "localhost"), ErrorCode::Certificate, "not trusted");
  }
}

TEST_CASE("ssh: unknown host, changed host key, wrong key, no known_hosts", "[faults][ssh]") {
  Libgit2 lib;
  ServerRepo repo("faults-ssh");
  repo.commit("a.yaml", configMap("a"));
  TempDir scratch;
  CHECK(lsRemote(sshOptions(repo.sshUrl())));  // the control
  // A known_hosts that lists the server's key for another port only.
  std::string line = gitfed::test::readAll(env("GITFED_TEST_SSH_KNOWN_HOSTS"));
  auto key = line.substr(line.find(' ') + 1);
  auto otherPort = scratch.write("other_port", "[127.0.0.1]:1 " + key);
  requireFailure(lsRemote(sshOptions(repo.sshUrl(), otherPort.string())), ErrorCode::HostKey, "unknown ssh host");
  requireFailure(lsRemote(sshOptions(repo.sshUrl(), scratch.write("empty", "").string())), ErrorCode::HostKey,
                 "unknown ssh host");
  requireFailure(lsRemote(sshOptions(repo.sshUrl(), env("GITFED_TEST_SSH_WRONG_KNOWN_HOSTS"))), ErrorCode::HostKey,
                 "CHANGED");
  requireFailure(
      lsRemote(sshOptions(repo.sshUrl(), env("GITFED_TEST_SSH_KNOWN_HOSTS"), env("GITFED_TEST_SSH_WRONG_KEY"))),
      ErrorCode::Auth, "refused the key");
  auto noKnownHosts = sshOptions(repo.sshUrl());
  noKnownHosts.credentials.knownHostsFile.clear();
  requireFailure(lsRemote(noKnownHosts), ErrorCode::HostKey, "known_hosts");
  // ~/.ssh/known_hosts never counts: only the configured file does (checked
  // above: the server is not in "empty" and was refused).
}

TEST_CASE("a redirect to another host: no credentials follow it", "[faults][redirect]") {
  Libgit2 lib;
  TempDir pki, secrets;
  // The other host: "127.0.0.1" (another name for the same address), with a
  // certificate from the trusted CA for that address, so that only the
  // redirect policy and the credentials' host check stand between it and the
  // password.
  auto otherCert = makeCert(pki, "127.0.0.1");
  auto sinkPort = pki.path() / "sink-port";
  auto sinkLog = pki.path() / "sink.log";
  Child sink({"python3", GITFED_REDIRECT_SERVER, "sink", sinkPort.string(), sinkLog.string(), "--tls", otherCert.first,
              otherCert.second});
  std::string target = "https://127.0.0.1:" + waitForFile(sinkPort);
  auto cert = makeCert(pki, "localhost");
  auto redirectPort = pki.path() / "redirect-port";
  auto redirectLog = pki.path() / "redirect.log";
  Child redirect({"python3", GITFED_REDIRECT_SERVER, "redirect", redirectPort.string(), redirectLog.string(), "--tls",
                  cert.first, cert.second, "--auth", env("GITFED_TEST_HTTPS_USER") + ":" + env("GITFED_TEST_HTTPS_PASSWORD"),
                  "--target", target});
  std::string url = "https://localhost:" + waitForFile(redirectPort) + "/fleet.git";
  auto r = lsRemote(httpsOptions(url, secrets));
  REQUIRE_FALSE(r);
  INFO(r.error().format());
  CHECK(r.error().format().find("redirect") != std::string::npos);
  CHECK(r.error().format().find(env("GITFED_TEST_HTTPS_PASSWORD")) == std::string::npos);
  // The redirecting server got the credentials (it is the configured host)...
  CHECK(gitfed::test::readAll(redirectLog).find("auth=yes") != std::string::npos);
  // ...the other host was never even asked.
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  CHECK(gitfed::test::readAll(sinkLog).empty());
}

TEST_CASE("a hung server times out on every transport", "[faults][timeout]") {
  Libgit2 lib;
  auto transport = GENERATE(as<std::string>{}, "https", "ssh", "git");
  INFO("transport: " << transport);
  ServerRepo repo("faults-hung");
  int upstream = std::stoi(env(transport == "https" ? "GITFED_TEST_HTTPS_PORT"
                               : transport == "ssh" ? "GITFED_TEST_SSH_PORT"
                                                    : "GITFED_TEST_GIT_PORT"));
  TcpProxy proxy(upstream);
  proxy.set(TcpProxy::Mode::Stall);
  TempDir secrets;
  RemoteOptions o;
  if (transport == "https") {
    o = httpsOptions("https://localhost:" + std::to_string(proxy.port()) + "/" + repo.name, secrets);
  } else if (transport == "ssh") {
    // The proxy's port is another host for known_hosts: list the key there.
    std::string line = gitfed::test::readAll(env("GITFED_TEST_SSH_KNOWN_HOSTS"));
    auto kh = secrets.write("kh", "[127.0.0.1]:" + std::to_string(proxy.port()) + " " + line.substr(line.find(' ') + 1));
    o = sshOptions(env("GITFED_TEST_SSH_BASE").substr(0, env("GITFED_TEST_SSH_BASE").rfind(':')) + ":" +
                       std::to_string(proxy.port()) + "/" + repo.name,
                   kh.string());
  } else {
    o = plainOptions("git://127.0.0.1:" + std::to_string(proxy.port()) + "/" + repo.name);
  }
  o.timeouts.io = std::chrono::seconds(2);
  o.timeouts.operation = std::chrono::seconds(3);
  auto t0 = std::chrono::steady_clock::now();
  auto r = lsRemote(o);
  double took = secondsSince(t0);
  REQUIRE_FALSE(r);
  INFO(r.error().format() << " after " << took << " s");
  CHECK(r.error().code == ErrorCode::Timeout);
  CHECK(took < 6.0);
  CHECK(proxy.accepted() >= 1);
}

TEST_CASE("the server dies mid-fetch: stale, then recovered", "[faults][midfetch]") {
  Libgit2 lib;
  ServerRepo repo("faults-midfetch");
  std::string c1 = repo.commit("a.yaml", configMap("a"));
  TcpProxy proxy(std::stoi(env("GITFED_TEST_HTTPS_PORT")));
  TempDir secrets, cache;
  SourceConfig config;
  config.remote = httpsOptions("https://localhost:" + std::to_string(proxy.port()) + "/" + repo.name, secrets);
  config.cacheDir = cache.path();
  auto source = Source::open(config);
  REQUIRE(source);
  REQUIRE(source->sync());
  // A commit with ~4 MB of incompressible data, then a server that dies after 64 KiB.
  std::string noise = sh("head -c 3000000 /dev/urandom | base64 -w 76");
  std::string c2 = repo.commit("big/noise.txt", noise);
  proxy.set(TcpProxy::Mode::CutAfter, 64 * 1024);
  auto cut = source->sync();
  REQUIRE(cut);
  CHECK(cut->stale);
  CHECK(cut->commit == c1);
  REQUIRE(cut->staleReason);
  INFO(cut->staleReason->format());
  CHECK((cut->staleReason->code == ErrorCode::Network || cut->staleReason->code == ErrorCode::Timeout));
  proxy.set(TcpProxy::Mode::Pass);
  auto back = source->sync();
  REQUIRE(back);
  CHECK_FALSE(back->stale);
  CHECK(back->commit == c2);
  auto tree = source->tree(back->commit);
  REQUIRE(tree);
  bool same = (*tree)->read("big/noise.txt", 8u << 20).value_or("") == noise;
  CHECK(same);
}

TEST_CASE("https: a CA file that holds no certificate is refused, naming the file", "[faults][https][tls]") {
  Libgit2 lib;
  ServerRepo repo("faults-cafile");
  repo.commit("a.yaml", configMap("a"));
  TempDir secrets;
  auto o = httpsOptions(repo.httpsUrl(), secrets);
  o.credentials.caFile = secrets.write("not-a-ca.pem", "this is not a PEM certificate\n");
  auto r = lsRemote(o);
  REQUIRE_FALSE(r);
  INFO(r.error().format());
  CHECK(r.error().code == ErrorCode::Certificate);
  CHECK(r.error().message.find(o.credentials.caFile.string()) != std::string::npos);
}

TEST_CASE("https: a server that is not a Git server, or fails, is reported with what it answered",
          "[faults][https]") {
  Libgit2 lib;
  TempDir pki, secrets;
  SECTION("the real server, a repository it does not have") {
    std::string url = "https://localhost:" + env("GITFED_TEST_HTTPS_PORT") + "/no-such-repository.git";
    auto r = lsRemote(httpsOptions(url, secrets));
    REQUIRE_FALSE(r);
    INFO(r.error().format());
    CHECK(r.error().code == ErrorCode::NotFound);
    CHECK(r.error().message.find("no Git repository at " + url) != std::string::npos);
  }
  auto cert = makeCert(pki, "localhost");
  struct Case {
    std::string status, type;
    ErrorCode code;
    std::string text;
  };
  for (const auto& c : std::vector<Case>{
           {"500", "text/plain", ErrorCode::Network, "the server answered HTTP 500"},
           {"403", "text/plain", ErrorCode::Auth, "refused access (HTTP 403)"},
           {"200", "text/html", ErrorCode::Network, "not a Git smart-HTTP server"},
       }) {
    INFO("HTTP " << c.status << " " << c.type);
    auto portFile = pki.path() / ("port-" + c.status + "-" + std::to_string(std::random_device{}()));
    Child server({"python3", GITFED_REDIRECT_SERVER, "answer", portFile.string(), (pki.path() / "log").string(), "--tls",
                  cert.first, cert.second, "--status", c.status, "--type", c.type});
    std::string url = "https://localhost:" + waitForFile(portFile) + "/fleet.git";
    auto r = lsRemote(httpsOptions(url, secrets));
    REQUIRE_FALSE(r);
    INFO(r.error().format());
    CHECK(r.error().code == c.code);
    CHECK(r.error().message.find(c.text) != std::string::npos);
    CHECK(r.error().format().find(env("GITFED_TEST_HTTPS_PASSWORD")) == std::string::npos);
  }
}

TEST_CASE("the status writer's one-request fetch: a commit the server lacks, a wrong or garbled answer",
          "[faults][https]") {
  Libgit2 lib;
  ServerRepo repo("faults-fetchcommit");
  std::string c1 = repo.commit("clusters/a.yaml", configMap("a"));
  TempDir pki, secrets, cache;
  auto local = Repository::openOrCreateBare(cache.path() / "c.git");
  REQUIRE(local);
  auto fetch = [&](const RemoteOptions& o, const std::string& commit) {
    return local->fetchCommit(o, commit, "refs/heads/main", "refs/gitfed/test");
  };
  auto refused = [&](const Result<void>& r, ErrorCode code, const std::string& text) {
    REQUIRE_FALSE(r);
    INFO(r.error().format());
    CHECK(r.error().code == code);
    CHECK(r.error().message.find(text) != std::string::npos);
    CHECK(r.error().format().find(env("GITFED_TEST_HTTPS_PASSWORD")) == std::string::npos);
  };
  // The control: the real server's commit, in one request.
  REQUIRE(fetch(httpsOptions(repo.httpsUrl(), secrets), c1));
  CHECK(local->hasObject(c1));
  CHECK(local->resolveRef("refs/gitfed/test").value_or(std::nullopt) == c1);
  // A commit the real server does not have: its own error, quoted; nothing changes here.
  const std::string missing(40, 'e');
  refused(fetch(httpsOptions(repo.httpsUrl(), secrets), missing), ErrorCode::Network, "the server said:");
  CHECK_FALSE(local->hasObject(missing));
  CHECK(local->resolveRef("refs/gitfed/test").value_or(std::nullopt) == c1);
  // Servers that answer something else.
  auto cert = makeCert(pki, "localhost");
  auto serve = [&](std::vector<std::string> mode) {
    auto portFile = pki.path() / ("port-" + std::to_string(std::random_device{}()));
    std::vector<std::string> argv{"python3", GITFED_REDIRECT_SERVER};
    argv.push_back(mode.front());
    argv.push_back(portFile.string());
    argv.push_back((pki.path() / "log").string());
    argv.insert(argv.end(), {"--tls", cert.first, cert.second});
    argv.insert(argv.end(), mode.begin() + 1, mode.end());
    auto child = std::make_unique<Child>(argv);
    return std::make_pair(std::move(child), "https://localhost:" + waitForFile(portFile) + "/fleet.git");
  };
  const std::string c2 = repo.commit("clusters/b.yaml", configMap("b"));
  {
    auto [server, url] = serve({"answer", "--status", "200", "--type", "text/html"});
    refused(fetch(httpsOptions(url, secrets), c2), ErrorCode::Network, "not a Git smart-HTTP server");
  }
  {
    auto [server, url] = serve({"answer", "--status", "200", "--type", "application/x-git-upload-pack-result"});
    refused(fetch(httpsOptions(url, secrets), c2), ErrorCode::Network, "git-upload-pack answered something unexpected");
  }
  {
    auto [server, url] = serve({"sink"});
    refused(fetch(httpsOptions(url, secrets, "wrong-Pa55word"), c2), ErrorCode::Auth, "refused the credentials");
  }
  CHECK_FALSE(local->hasObject(c2));
  CHECK(local->resolveRef("refs/gitfed/test").value_or(std::nullopt) == c1);
}
