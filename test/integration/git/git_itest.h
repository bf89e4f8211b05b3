#pragma once
// Shared helpers of the Git integration tests (test/env's real servers):
// fresh repositories on the servers, RemoteOptions for each transport with
// the credentials written to files (as a mounted Secret would be), commits
// pushed behind the agent's back, and shell commands.
//
// https URLs use the name `localhost`; the server's certificate holds
// IP:127.0.0.1 and DNS:localhost (both are checked in faults_test.cpp).

#include <unistd.h>

#include <catch2/catch.hpp>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>

#include "gitfed/git/remote.h"
#include "gitfed/git/repository.h"
#include "support/run.h"
#include "testenv.h"

namespace gitfed::git::itest {

using gitfed::test::shellQuote;
using gitfed::test::TempDir;

inline std::string env(const char* key) { return gitfed::testenv::require(key); }

inline std::string gitEnv() {
  return "env -u GIT_DIR -u GIT_WORK_TREE -u GIT_SSL_CAINFO -u CURL_CA_BUNDLE -u http_proxy -u https_proxy "
         "GIT_CONFIG_NOSYSTEM=1 GIT_CONFIG_GLOBAL=/dev/null GIT_AUTHOR_NAME=tester GIT_AUTHOR_EMAIL=t@example.org "
         "GIT_COMMITTER_NAME=tester GIT_COMMITTER_EMAIL=t@example.org ";
}

inline std::string sh(const std::string& command) {
  auto r = gitfed::test::run(command);
  INFO(command << "\n" << r.err);
  REQUIRE(r.status == 0);
  std::string out = r.out;
  while (!out.empty() && out.back() == '\n') out.pop_back();
  return out;
}

inline std::string gitCli(const std::filesystem::path& dir, const std::string& args) {
  return sh(gitEnv() + "git -C " + shellQuote(dir.string()) + " " + args);
}

inline std::string uniqueName(const std::string& prefix) {
  static std::mt19937_64 rng(std::random_device{}() ^ static_cast<std::uint64_t>(::getpid()));
  return prefix + "-" + std::to_string(::getpid()) + "-" + std::to_string(rng() % 1000000000);
}

inline void writeFile(const std::filesystem::path& p, const std::string& content) {
  std::filesystem::create_directories(p.parent_path());
  std::ofstream(p, std::ios::binary | std::ios::trunc) << content;
}

inline std::string configMap(const std::string& name, const std::string& value = "v") {
  return "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: " + name + "\n  namespace: default\ndata:\n  k: " + value + "\n";
}

// A fresh bare repository NAME.git on every server, and a work clone of it
// (reached through the file system) to change it behind the agent's back.
struct ServerRepo {
  TempDir tmp;
  std::string name;  // "NAME.git"
  std::filesystem::path bare, work;

  explicit ServerRepo(const std::string& prefix) {
    name = uniqueName(prefix) + ".git";
    bare = std::filesystem::path(env("GITFED_TEST_GIT_ROOT")) / name;
    sh(gitEnv() + "git init -q --bare -b main " + shellQuote(bare.string()));
    work = tmp.path() / "work";
    std::filesystem::create_directories(work);
    gitCli(work, "init -q -b main");
    gitCli(work, "remote add origin " + shellQuote(bare.string()));
  }
  ~ServerRepo() {
    std::error_code ec;
    std::filesystem::remove_all(bare, ec);
  }
  // Writes `file`, commits, pushes to `branch` (forced); returns the commit.
  std::string commit(const std::string& file, const std::string& content, const std::string& branch = "main") {
    writeFile(work / file, content);
    gitCli(work, "add -A");
    gitCli(work, "commit -q --allow-empty -m " + shellQuote("change " + file));
    gitCli(work, "push -q -f origin HEAD:refs/heads/" + branch);
    return gitCli(work, "rev-parse HEAD");
  }

  std::string httpsUrl() const { return "https://localhost:" + env("GITFED_TEST_HTTPS_PORT") + "/" + name; }
  std::string sshUrl() const { return env("GITFED_TEST_SSH_BASE") + "/" + name; }
  std::string gitUrl() const { return env("GITFED_TEST_GIT_BASE") + "/" + name; }
  std::string fileUrl() const { return env("GITFED_TEST_FILE_BASE") + "/" + name; }
};

inline Timeouts shortTimeouts() {
  Timeouts t;
  t.connect = std::chrono::seconds(5);
  t.io = std::chrono::seconds(10);
  t.operation = std::chrono::seconds(30);
  return t;
}

// https with basic auth: user and password in files under `secrets`.
inline RemoteOptions httpsOptions(const std::string& url, const TempDir& secrets,
                                  const std::string& password = env("GITFED_TEST_HTTPS_PASSWORD")) {
  RemoteOptions o;
  o.url = url;
  o.credentials.usernameFile = secrets.write("https/username", env("GITFED_TEST_HTTPS_USER") + "\n");
  o.credentials.passwordFile = secrets.write("https/password", password + "\n");
  o.credentials.caFile = env("GITFED_TEST_HTTPS_CA");
  o.timeouts = shortTimeouts();
  return o;
}

inline RemoteOptions sshOptions(const std::string& url,
                                const std::string& knownHosts = env("GITFED_TEST_SSH_KNOWN_HOSTS"),
                                const std::string& key = env("GITFED_TEST_SSH_KEY")) {
  RemoteOptions o;
  o.url = url;
  o.credentials.sshKeyFile = key;
  o.credentials.knownHostsFile = knownHosts;
  o.timeouts = shortTimeouts();
  return o;
}

inline RemoteOptions plainOptions(const std::string& url) {
  RemoteOptions o;
  o.url = url;
  o.timeouts = shortTimeouts();
  return o;
}

// git ls-remote through a throwaway repository.
inline Result<std::vector<RemoteRef>> lsRemote(const RemoteOptions& options) {
  TempDir scratch;
  auto repo = Repository::openOrCreateBare(scratch.path() / "r.git");
  REQUIRE(repo);
  return repo->listRemote(options);
}

inline double secondsSince(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace gitfed::git::itest

#include <signal.h>
#include <sys/wait.h>

#include <thread>
#include <vector>

namespace gitfed::git::itest {

// A child process (a helper server), stopped when the object goes.
class Child {
 public:
  explicit Child(const std::vector<std::string>& argv) {
    pid_ = ::fork();
    REQUIRE(pid_ >= 0);
    if (pid_ == 0) {
      std::vector<char*> args;
      for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
      args.push_back(nullptr);
      ::execvp(args[0], args.data());
      ::_exit(127);
    }
  }
  ~Child() {
    ::kill(pid_, SIGTERM);
    int status = 0;
    ::waitpid(pid_, &status, 0);
  }
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;

 private:
  pid_t pid_ = -1;
};

inline std::string waitForFile(const std::filesystem::path& p, double seconds = 10) {
  auto t0 = std::chrono::steady_clock::now();
  while (!std::filesystem::exists(p)) {
    REQUIRE(secondsSince(t0) < seconds);
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return gitfed::test::readAll(p);
}

// A server certificate for `name` (a DNS name), signed by the CA `caCrt`
// (whose key is next to it as ca.key) or, with rogue == true, by a fresh CA
// nobody trusts. Returns {cert, key}.
inline std::pair<std::string, std::string> makeCert(const TempDir& dir, const std::string& name, bool rogue = false) {
  auto d = dir.path();
  std::string ca = env("GITFED_TEST_HTTPS_CA");
  std::string caKey = (std::filesystem::path(ca).parent_path() / "ca.key").string();
  auto q = [](const std::filesystem::path& p) { return shellQuote(p.string()); };
  if (rogue) {
    sh("openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 -subj /CN=rogue-ca"
       " -keyout " + q(d / "rogue.key") + " -out " + q(d / "rogue.crt"));
    ca = (d / "rogue.crt").string();
    caKey = (d / "rogue.key").string();
  }
  const bool ip = !name.empty() && name.find_first_not_of("0123456789.") == std::string::npos;
  writeFile(d / (name + ".ext"), std::string("subjectAltName=") + (ip ? "IP:" : "DNS:") + name +
                                      "\nextendedKeyUsage=serverAuth\n");
  sh("openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj /CN=" + name + " -keyout " +
     q(d / (name + ".key")) + " -out " + q(d / (name + ".csr")));
  sh("openssl x509 -req -days 2 -set_serial " + std::to_string(::getpid()) + std::to_string(std::random_device{}() % 100000) +
     " -in " + q(d / (name + ".csr")) + " -CA " + shellQuote(ca) + " -CAkey " + shellQuote(caKey) + " -extfile " +
     q(d / (name + ".ext")) + " -out " + q(d / (name + ".crt")));
  return {(d / (name + ".crt")).string(), (d / (name + ".key")).string()};
}

}  // namespace gitfed::git::itest
