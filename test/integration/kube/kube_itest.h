#pragma once
// Shared helpers of the kube client's integration tests: clients for the
// test cluster (admin by client certificate, or any bearer token), fresh
// namespaces, kubectl, polling, and the fault-injecting proxy
// (fault_proxy.py) driven over its control port.

#include "gitfed/kube/config.h"
#include "gitfed/kube/curl_client.h"
#include "testenv.h"

#include <curl/curl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <random>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>

namespace gitfed::kube::itest {

using nlohmann::json;
using namespace std::chrono_literals;

inline std::string readFile(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

inline void writeFile(const std::filesystem::path& p, const std::string& content) {
  std::ofstream(p, std::ios::binary | std::ios::trunc) << content;
}

// Runs a shell command; stdout and stderr together.
struct Shell {
  int status = -1;
  std::string out;
};
inline Shell sh(const std::string& command) {
  Shell r;
  FILE* p = ::popen((command + " 2>&1").c_str(), "r");
  if (!p) return r;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) r.out.append(buf, n);
  const int rc = ::pclose(p);
  r.status = WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
  return r;
}

inline std::string quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

inline std::string kubectlPrefix() {
  return "timeout 60 kubectl --kubeconfig " + quote(testenv::require("GITFED_TEST_KUBECONFIG")) + " ";
}
inline Shell kubectl(const std::string& args) { return sh(kubectlPrefix() + args); }
inline Shell kubectlApply(const std::string& yamlOrJson, const std::string& args = "") {
  const std::string file = "/tmp/gitfed-kube-itest-" + std::to_string(::getpid()) + "-" +
                           std::to_string(std::random_device{}()) + ".json";
  writeFile(file, yamlOrJson);
  Shell r = kubectl("apply " + args + " -f " + quote(file));
  std::filesystem::remove(file);
  return r;
}

// A name nobody else uses in the shared cluster.
inline std::string uniqueName(const std::string& prefix) {
  static std::atomic<int> counter{0};
  static const unsigned salt = std::random_device{}() % 100000;
  return prefix + "-" + std::to_string(::getpid() % 100000) + "-" + std::to_string(salt) + "-" +
         std::to_string(counter++);
}

// The admin of the test cluster, by client certificate (its kubeconfig).
inline Config adminConfig() {
  auto c = loadKubeconfig(testenv::require("GITFED_TEST_KUBECONFIG"));
  if (!c) throw std::runtime_error(c.error().format());
  return *c;
}

// A config for `server` with the cluster CA and a bearer token.
inline Config tokenConfig(const std::string& token, std::string server = "") {
  Config c;
  c.server = server.empty() ? testenv::require("GITFED_TEST_APISERVER") : server;
  c.caPem = readFile(testenv::require("GITFED_TEST_KUBE_CA"));
  c.token = token;
  return c;
}

inline std::unique_ptr<CurlKubeClient> makeClient(const Config& c) {
  auto client = CurlKubeClient::create(c);
  if (!client) throw std::runtime_error(client.error().format());
  return std::move(*client);
}

inline Resource resource(KubeClient& client, std::string_view apiVersion, std::string_view kind) {
  auto r = client.resourceFor(apiVersion, kind);
  if (!r) throw std::runtime_error(r.error().format());
  return *r;
}

// A fresh namespace for one test, deleted (without waiting) at the end.
class TestNamespace {
 public:
  explicit TestNamespace(KubeClient& client, const std::string& prefix = "gitfed-kube",
                         json labels = json::object())
      : client_(client), name_(uniqueName(prefix)) {
    json ns = {{"apiVersion", "v1"}, {"kind", "Namespace"}, {"metadata", {{"name", name_}, {"labels", labels}}}};
    auto r = client_.apply(resource(client_, "v1", "Namespace"), ns, ApplyOptions{});
    if (!r) throw std::runtime_error(r.error().format());
  }
  ~TestNamespace() { (void)client_.remove(resource(client_, "v1", "Namespace"), "", name_); }
  TestNamespace(const TestNamespace&) = delete;
  TestNamespace& operator=(const TestNamespace&) = delete;
  const std::string& name() const { return name_; }

 private:
  KubeClient& client_;
  std::string name_;
};

// Polls `f` until it returns true or `timeout` passes.
template <class F>
bool eventually(F f, std::chrono::milliseconds timeout = 30s, std::chrono::milliseconds every = 100ms) {
  const auto end = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    if (f()) return true;
    if (std::chrono::steady_clock::now() >= end) return false;
    std::this_thread::sleep_for(every);
  }
}

inline json configMap(const std::string& ns, const std::string& name, json data, json labels = json::object()) {
  return {{"apiVersion", "v1"},
          {"kind", "ConfigMap"},
          {"metadata", {{"name", name}, {"namespace", ns}, {"labels", labels}}},
          {"data", std::move(data)}};
}

// A scratch directory, removed at the end.
class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "gitfed-kube-itest-XXXXXX").string();
    if (!::mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp failed");
    path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

// fault_proxy.py in front of the test cluster's apiserver: TLS with a
// certificate from the cluster CA (so clients verify it as they verify the
// apiserver), faults set over a plain-HTTP control port on loopback.
class FaultProxy {
 public:
  FaultProxy() {
    const std::string ready = (dir_.path() / "ready").string();
    const std::string upstream = testenv::require("GITFED_TEST_APISERVER");
    const std::string ca = testenv::require("GITFED_TEST_KUBE_CA");
    const std::string caKey = (std::filesystem::path(testenv::require("GITFED_TEST_KUBE_DIR")) / "pki" / "ca.key").string();
    const std::string work = dir_.path().string();
    pid_ = ::fork();
    if (pid_ == 0) {
      ::execlp("python3", "python3", GITFED_FAULT_PROXY, "--upstream", upstream.c_str(), "--ca", ca.c_str(),
               "--ca-key", caKey.c_str(), "--workdir", work.c_str(), "--ready-file", ready.c_str(),
               static_cast<char*>(nullptr));
      std::_Exit(127);
    }
    if (pid_ < 0) throw std::runtime_error("fork failed");
    if (!eventually([&] { return std::filesystem::exists(ready); }, 30s, 50ms))
      throw std::runtime_error("the fault proxy did not start");
    auto ports = json::parse(readFile(ready));
    port_ = ports["port"].get<int>();
    control_ = ports["control"].get<int>();
  }
  ~FaultProxy() {
    if (pid_ > 0) {
      ::kill(pid_, SIGTERM);
      int status = 0;
      ::waitpid(pid_, &status, 0);
    }
  }
  FaultProxy(const FaultProxy&) = delete;
  FaultProxy& operator=(const FaultProxy&) = delete;

  std::string url() const { return "https://127.0.0.1:" + std::to_string(port_); }
  void setFaults(const json& rules) { controlRequest("POST", "/faults", rules.dump()); }
  void reset() { controlRequest("POST", "/reset", ""); }
  // {"requests": [{"t", "method", "path", "injected"}...], "peakInFlight": N}
  json log() { return json::parse(controlRequest("GET", "/log", "")); }

 private:
  static size_t collect(char* data, size_t size, size_t count, void* user) {
    static_cast<std::string*>(user)->append(data, size * count);
    return size * count;
  }
  // Plain HTTP on loopback to the proxy's control port (test code: libcurl directly).
  std::string controlRequest(const char* method, const std::string& path, const std::string& body) {
    std::unique_ptr<CURL, decltype(&curl_easy_cleanup)> h(curl_easy_init(), &curl_easy_cleanup);
    std::string out;
    const std::string url = "http://127.0.0.1:" + std::to_string(control_) + path;
    curl_easy_setopt(h.get(), CURLOPT_URL, url.c_str());
    curl_easy_setopt(h.get(), CURLOPT_PROXY, "");
    curl_easy_setopt(h.get(), CURLOPT_CUSTOMREQUEST, method);
    if (std::string_view(method) == "POST") {
      curl_easy_setopt(h.get(), CURLOPT_POSTFIELDS, body.c_str());
      curl_easy_setopt(h.get(), CURLOPT_POSTFIELDSIZE, static_cast<long>(body.size()));
    }
    curl_easy_setopt(h.get(), CURLOPT_WRITEFUNCTION, &collect);
    curl_easy_setopt(h.get(), CURLOPT_WRITEDATA, &out);
    curl_easy_setopt(h.get(), CURLOPT_TIMEOUT, 10L);
    if (curl_easy_perform(h.get()) != CURLE_OK) throw std::runtime_error("fault proxy control request failed");
    return out;
  }

  TempDir dir_;
  pid_t pid_ = -1;
  int port_ = 0;
  int control_ = 0;
};

}  // namespace gitfed::kube::itest
