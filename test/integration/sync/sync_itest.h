#pragma once
// Helpers of the sync engine's integration tests (real kube-apiserver of
// test/env, real CurlKubeClient, the real `gitfed` binary): a counting
// decorator over the real client, rendering YAML, kubectl, fresh namespaces,
// polling with a deadline, and child processes to kill.

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "gitfed/kube/config.h"
#include "gitfed/kube/curl_client.h"
#include "gitfed/render/renderer.h"
#include "gitfed/sync/engine.h"
#include "support/memory_tree.h"
#include "testenv.h"

extern char** environ;

namespace gitfed::sync::itest {

using nlohmann::json;
using namespace std::chrono_literals;

// Counts what the engine asks of the real client (writes above all).
class CountingClient final : public kube::KubeClient {
 public:
  explicit CountingClient(kube::KubeClient& inner) : inner_(inner) {}
  std::atomic<int> gets{0}, lists{0}, requests{0}, applies{0}, dryRuns{0}, deletes{0};
  int writes() const { return applies + deletes; }
  void reset() { gets = lists = requests = applies = dryRuns = deletes = 0; }

  kube::Result<kube::Resource> resourceFor(std::string_view v, std::string_view k) override { return inner_.resourceFor(v, k); }
  kube::Result<std::vector<kube::Resource>> resources() override { return inner_.resources(); }
  kube::Result<json> get(const kube::Resource& r, std::string_view ns, std::string_view n) override {
    ++gets;
    return inner_.get(r, ns, n);
  }
  kube::Result<std::vector<json>> list(const kube::Resource& r, std::string_view ns, std::string_view s) override {
    ++lists;
    return inner_.list(r, ns, s);
  }
  kube::Result<json> apply(const kube::Resource& r, const json& o, const kube::ApplyOptions& opt) override {
    ++(opt.dryRun ? dryRuns : applies);
    return inner_.apply(r, o, opt);
  }
  kube::Result<void> remove(const kube::Resource& r, std::string_view ns, std::string_view n, kube::Propagation p,
                            std::optional<std::string> uid) override {
    ++deletes;
    return inner_.remove(r, ns, n, p, uid);
  }
  kube::Result<json> request(std::string_view m, std::string_view p, const json* b, std::string_view c) override {
    ++requests;
    return inner_.request(m, p, b, c);
  }

 private:
  kube::KubeClient& inner_;
};

inline std::string kubeconfig() { return testenv::require("GITFED_TEST_KUBECONFIG"); }

inline std::unique_ptr<kube::CurlKubeClient> adminClient() {
  auto config = kube::loadKubeconfig(kubeconfig());
  if (!config) throw std::runtime_error(config.error().format());
  config->qps = 1000;
  config->burst = 2000;
  config->maxInFlight = 16;
  auto client = kube::CurlKubeClient::create(*config);
  if (!client) throw std::runtime_error(client.error().format());
  return std::move(*client);
}

inline render::RenderResult renderYaml(const std::string& yaml) {
  test::MemoryTree tree;
  tree.file("fleet.yaml", yaml);
  auto repo = render::loadRepository(tree);
  return render::renderCluster(repo, "itest");
}

inline std::string quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

struct Shell {
  int status = -1;
  std::string out;  // stdout and stderr
};
inline Shell sh(const std::string& command) {
  Shell r;
  FILE* p = ::popen((command + " 2>&1").c_str(), "r");
  if (!p) return r;
  char buf[4096];
  std::size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) r.out.append(buf, n);
  int rc = ::pclose(p);
  r.status = WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
  return r;
}
inline Shell kubectl(const std::string& args) {
  return sh("timeout 60 kubectl --kubeconfig " + quote(kubeconfig()) + " " + args);
}

// A name unique to this run: tests may run again against the same cluster.
inline std::string unique(const std::string& prefix) {
  static std::atomic<int> n{0};
  std::mt19937 rng(std::random_device{}());
  return prefix + "-" + std::to_string(::getpid() % 100000) + "-" + std::to_string(rng() % 10000) + "-" +
         std::to_string(n++);
}

inline bool eventually(const std::function<bool()>& f, std::chrono::milliseconds timeout = 30s) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    if (f()) return true;
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(100ms);
  }
}

inline SyncOptions options(const std::string& inventoryId) {
  SyncOptions o;
  o.inventoryId = inventoryId;
  o.parallelism = 8;
  o.pollInterval = 100ms;
  return o;
}

inline std::string ns(const std::string& name) { return "---\napiVersion: v1\nkind: Namespace\nmetadata: {name: " + name + "}\n"; }
inline std::string cm(const std::string& name, const std::string& ns, const std::string& data = "k: v",
                      const std::string& metadataExtra = "") {
  return "---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: " + name + ", namespace: " + ns + metadataExtra +
         "}\ndata: {" + data + "}\n";
}

// A fresh namespace (made directly, not by gitfed), deleted at scope exit.
class Namespace {
 public:
  explicit Namespace(const std::string& prefix, bool create = true) : name_(unique(prefix)) {
    if (create) kubectl("create namespace " + name_);
  }
  ~Namespace() { kubectl("delete namespace " + name_ + " --wait=false"); }
  const std::string& name() const { return name_; }

 private:
  std::string name_;
};

// The objects of `resource` carrying our inventory label, by "ns/name".
inline std::vector<json> owned(kube::KubeClient& client, const std::string& apiVersion, const std::string& kind,
                               const std::string& inventoryId) {
  auto r = client.resourceFor(apiVersion, kind);
  if (!r) return {};
  auto items = client.list(*r, "", "gitfed.io/inventory=" + inventoryId);
  return items ? *items : std::vector<json>{};
}

inline std::string inventoryText(kube::KubeClient& client, const std::string& id, const std::string& ns = "gitfed-system") {
  auto r = client.resourceFor("v1", "ConfigMap");
  auto cm = client.get(*r, ns, "gitfed-inventory-" + id);
  if (!cm) return {};
  return (*cm)["data"].value("objects", "");
}

// A child process (the gitfed binary) that can be killed.
class Child {
 public:
  explicit Child(const std::vector<std::string>& argv, const std::filesystem::path& log) {
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 1, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_adddup2(&actions, 1, 2);
    if (posix_spawn(&pid_, args[0], &actions, nullptr, args.data(), environ) != 0) pid_ = -1;
    posix_spawn_file_actions_destroy(&actions);
  }
  ~Child() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      wait();
    }
  }
  bool alive() {
    if (pid_ <= 0) return false;
    int status = 0;
    pid_t r = ::waitpid(pid_, &status, WNOHANG);
    if (r == pid_) {
      exit_ = WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status);
      pid_ = -1;
      return false;
    }
    return true;
  }
  void kill9() {
    if (pid_ > 0) ::kill(pid_, SIGKILL);
    wait();
  }
  int wait() {
    if (pid_ > 0) {
      int status = 0;
      ::waitpid(pid_, &status, 0);
      exit_ = WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status);
      pid_ = -1;
    }
    return exit_;
  }

 private:
  pid_t pid_ = -1;
  int exit_ = -1;
};

inline std::string gitfedBinary() { return GITFED_BINARY; }

inline std::string readFile(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace gitfed::sync::itest
