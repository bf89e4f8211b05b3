#pragma once
// The libcurl implementation of KubeClient.
//
//   gitfed::kube::CurlGlobal curl;                       // once, in main
//   auto config = gitfed::kube::loadKubeconfig(path);    // or inClusterConfig()
//   auto client = gitfed::kube::CurlKubeClient::create(*config);
//   auto cm = (*client)->get(*(*client)->resourceFor("v1", "ConfigMap"), "ns", "name");
//
// CurlKubeClient is thread-safe: any number of threads may call it. At most
// Config::maxInFlight requests are in flight (each on its own pooled, reused
// TLS connection; further callers wait for a free one), every attempt takes a
// token from a QPS/burst bucket, and failed attempts are retried per
// Config::retry. Discovery is cached and refreshed on a miss.

#include "gitfed/kube/client.h"
#include "gitfed/kube/clock.h"
#include "gitfed/kube/config.h"
#include "gitfed/kube/retry.h"
#include "gitfed/kube/token_source.h"
#include "gitfed/kube/transport.h"

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace gitfed::kube {

// Owns libcurl's process-wide state: curl_global_init in the constructor,
// curl_global_cleanup in the destructor. Create exactly one, in main, before
// any thread starts and before any client exists; not thread-safe.
class CurlGlobal {
 public:
  CurlGlobal();
  ~CurlGlobal();
  CurlGlobal(const CurlGlobal&) = delete;
  CurlGlobal& operator=(const CurlGlobal&) = delete;
};

// The libcurl Transport: a pool of Config::maxInFlight easy handles (each
// keeps its own connection alive between requests) sharing a DNS and TLS
// session cache; TLS always verified against Config::caPem only, https only,
// no proxies from the environment, no redirects. Thread-safe.
class CurlTransport final : public Transport {
 public:
  static Result<std::shared_ptr<CurlTransport>> create(const Config& config);
  ~CurlTransport() override;
  std::expected<HttpResponse, TransportError> perform(const HttpRequest& request) override;

  struct Impl;

 private:
  explicit CurlTransport(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

class CurlKubeClient final : public KubeClient {
 public:
  // A client for `config` over libcurl. Fails when the config is unusable
  // (no https server, no CA, unreadable credentials).
  static Result<std::unique_ptr<CurlKubeClient>> create(const Config& config);
  // The same client over another transport and clock (unit tests).
  CurlKubeClient(const Config& config, std::shared_ptr<Transport> transport, std::shared_ptr<Clock> clock);
  ~CurlKubeClient() override;

  Result<Resource> resourceFor(std::string_view apiVersion, std::string_view kind) override;
  // Each resource type once (no subresources), in the most preferred version
  // of its group that serves it — what listing by label should walk.
  Result<std::vector<Resource>> resources() override;
  Result<nlohmann::json> get(const Resource& r, std::string_view ns, std::string_view name) override;
  // Items carry apiVersion and kind (the server omits them in lists).
  Result<std::vector<nlohmann::json>> list(const Resource& r, std::string_view ns,
                                           std::string_view labelSelector) override;
  Result<nlohmann::json> apply(const Resource& r, const nlohmann::json& object,
                               const ApplyOptions& options) override;
  Result<void> remove(const Resource& r, std::string_view ns, std::string_view name,
                      Propagation propagation = Propagation::Background,
                      std::optional<std::string> preconditionUid = std::nullopt) override;
  Result<nlohmann::json> request(std::string_view method, std::string_view path,
                                 const nlohmann::json* body = nullptr,
                                 std::string_view contentType = "application/json") override;
  // A view whose requests carry Impersonate-User: `user` (checked by
  // checkImpersonatedUser). It shares everything with this client.
  Result<std::unique_ptr<KubeClient>> impersonating(const std::string& user) override;

  const Config& config() const { return config_; }
  // Forgets cached discovery; the next lookup fetches it again.
  void invalidateDiscovery();

  // Counters since construction (for tests, benchmarks and metrics).
  struct Stats {
    std::uint64_t attempts = 0;          // HTTP attempts sent to the transport
    std::uint64_t retries = 0;           // attempts that were retries
    std::uint64_t discoveryRefreshes = 0;
    std::chrono::nanoseconds throttled{0};  // time spent waiting for the rate limiter
  };
  Stats stats() const;

 private:
  struct Discovery;
  class View;
  // The object requests, as the client itself (`as` empty) or as a user.
  Result<nlohmann::json> getAs(const std::string& as, const Resource& r, std::string_view ns, std::string_view name);
  Result<std::vector<nlohmann::json>> listAs(const std::string& as, const Resource& r, std::string_view ns,
                                             std::string_view labelSelector);
  Result<nlohmann::json> applyAs(const std::string& as, const Resource& r, const nlohmann::json& object,
                                 const ApplyOptions& options);
  Result<void> removeAs(const std::string& as, const Resource& r, std::string_view ns, std::string_view name,
                        Propagation propagation, std::optional<std::string> preconditionUid);
  Result<nlohmann::json> requestAs(const std::string& as, std::string_view method, std::string_view path,
                                   const nlohmann::json* body, std::string_view contentType);
  Result<HttpResponse> execute(HttpRequest request, const std::string& target,
                               const std::vector<std::string>* redactions = nullptr, RetryGate* gate = nullptr);
  Result<nlohmann::json> executeJson(HttpRequest request, const std::string& target,
                                     const std::vector<std::string>* redactions = nullptr,
                                     RetryGate* gate = nullptr);
  HttpRequest makeRequest(std::string method, std::string path, const std::string& as = {}) const;
  Result<void> refreshDiscovery(std::uint64_t seenGeneration);
  Result<std::shared_ptr<const Discovery>> discovery();

  Config config_;
  std::shared_ptr<Transport> transport_;
  std::shared_ptr<Clock> clock_;
  TokenBucket limiter_;
  TokenSource token_;

  std::mutex discoveryMutex_;     // guards discovery_ (the pointer)
  std::mutex refreshMutex_;       // one refresh at a time
  std::shared_ptr<const Discovery> discovery_;
  std::string apiEtag_, apisEtag_;  // under refreshMutex_

  std::atomic<std::uint64_t> attempts_{0}, retries_{0}, refreshes_{0}, throttledNs_{0};
};

}  // namespace gitfed::kube
