#pragma once
// Small fakes for the daemon's unit tests: a clock, the Lease endpoints of an
// API server, an in-memory source, a recording status sink, and a raw HTTP
// client for the agent's endpoints. Not models of the real things: the e2e
// suite (test/e2e/) runs the agent against real servers.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "gitfed/daemon/source_stage.h"
#include "gitfed/daemon/status_publisher.h"
#include "gitfed/kube/client.h"
#include "gitfed/kube/clock.h"
#include "support/memory_tree.h"

namespace gitfed::test {

using nlohmann::json;
using namespace std::chrono_literals;
using daemon::Result;
using daemon::SourcePoll;

class FakeClock final : public kube::Clock {
 public:
  std::chrono::steady_clock::time_point now() override { return t_; }
  std::chrono::system_clock::time_point wallNow() override { return std::chrono::system_clock::time_point{} + (t_ - start_) + 1000h; }
  void sleepFor(std::chrono::nanoseconds d) override { t_ += std::chrono::duration_cast<std::chrono::steady_clock::duration>(d); }
  void advance(std::chrono::milliseconds d) { t_ += d; }

 private:
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::time_point{} + 5000h;
  std::chrono::steady_clock::time_point t_ = start_;
};

// The Lease endpoints of an API server: GET, POST (409 when it exists), PUT
// (409 when the resourceVersion is not the stored one). `down` fails all.
class FakeLeaseApi final : public kube::KubeClient {
 public:
  bool down = false;
  std::optional<json> lease;
  int writes = 0;
  std::function<void()> afterGet;  // runs after a GET has read the Lease (a racing candidate)

  kube::Result<kube::Resource> resourceFor(std::string_view, std::string_view) override {
    return std::unexpected(kube::Error{501, "", "", ""});
  }
  kube::Result<std::vector<kube::Resource>> resources() override { return std::unexpected(kube::Error{501, "", "", ""}); }
  kube::Result<json> get(const kube::Resource&, std::string_view, std::string_view) override { return unsupported(); }
  kube::Result<std::vector<json>> list(const kube::Resource&, std::string_view, std::string_view) override {
    return std::unexpected(kube::Error{501, "", "", ""});
  }
  kube::Result<json> apply(const kube::Resource&, const json&, const kube::ApplyOptions&) override { return unsupported(); }
  kube::Result<void> remove(const kube::Resource&, std::string_view, std::string_view, kube::Propagation,
                            std::optional<std::string>) override {
    return std::unexpected(kube::Error{501, "", "", ""});
  }
  kube::Result<json> request(std::string_view method, std::string_view path, const json* body,
                             std::string_view) override {
    std::unique_lock lock(mu_);
    if (down) return std::unexpected(kube::Error{0, "", "connection refused", std::string(path)});
    const bool item = path.ends_with("/leases/gitfed-c1");
    REQUIRE(path.starts_with("/apis/coordination.k8s.io/v1/namespaces/gitfed-system/leases"));
    if (method == "GET") {
      if (!lease) return std::unexpected(kube::Error{404, "NotFound", "not found", std::string(path)});
      json copy = *lease;
      if (afterGet) {
        auto once = std::move(afterGet);  // runs once
        afterGet = nullptr;
        lock.unlock();
        once();
        lock.lock();
      }
      return copy;
    }
    REQUIRE(body);
    if (method == "POST" && !item) {
      if (lease) return std::unexpected(kube::Error{409, "AlreadyExists", "exists", std::string(path)});
      lease = *body;
      (*lease)["metadata"]["resourceVersion"] = std::to_string(++rv_);
      ++writes;
      return *lease;
    }
    if (method == "PUT" && item) {
      if (!lease) return std::unexpected(kube::Error{404, "NotFound", "not found", std::string(path)});
      if ((*body)["metadata"].value("resourceVersion", "") != (*lease)["metadata"]["resourceVersion"])
        return std::unexpected(kube::Error{409, "Conflict", "the object has been modified", std::string(path)});
      lease = *body;
      (*lease)["metadata"]["resourceVersion"] = std::to_string(++rv_);
      ++writes;
      return *lease;
    }
    return std::unexpected(kube::Error{405, "MethodNotAllowed", "", std::string(path)});
  }
  std::string holder() const { return lease ? (*lease)["spec"].value("holderIdentity", "") : ""; }

 private:
  static kube::Result<json> unsupported() { return std::unexpected(kube::Error{501, "", "not in this fake", ""}); }
  std::mutex mu_;
  int rv_ = 0;
};

class MemorySource final : public daemon::SourceStage {
 public:
  std::map<std::string, test::MemoryTree> revisions;
  std::string current;
  bool stale = false;
  int polls = 0;

  Result<SourcePoll> poll() override {
    ++polls;
    if (current.empty()) return daemon::fail("fetch https://h/f.git: connection refused");
    SourcePoll p;
    p.revision = current;
    p.stale = stale;
    if (stale) p.staleReason = "fetch https://h/f.git: connection refused";
    return p;
  }
  Result<std::unique_ptr<render::SourceTree>> tree(const std::string& revision) override {
    auto it = revisions.find(revision);
    if (it == revisions.end()) return daemon::fail("no commit " + revision);
    return std::unique_ptr<render::SourceTree>(std::make_unique<test::MemoryTree>(it->second));
  }
  std::string url() const override { return "https://h/f.git"; }
  std::string ref() const override { return "main"; }
};

class RecordingSink final : public daemon::StatusSink {
 public:
  std::vector<status::ClusterStatus> reports;
  void publish(status::ClusterStatus report, status::Redactor) override { reports.push_back(std::move(report)); }
  bool flush(std::chrono::milliseconds) override { return true; }
};


// Sends `raw` to 127.0.0.1:port; everything the server answers.
inline std::string httpExchange(int port, const std::string& raw) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(static_cast<std::uint16_t>(port));
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0) {
    ::close(fd);
    return {};
  }
  ::send(fd, raw.data(), raw.size(), MSG_NOSIGNAL);
  ::shutdown(fd, SHUT_WR);
  std::string out;
  char buf[4096];
  ssize_t n;
  while ((n = ::recv(fd, buf, sizeof buf, 0)) > 0) out.append(buf, static_cast<std::size_t>(n));
  ::close(fd);
  return out;
}

}  // namespace gitfed::test
