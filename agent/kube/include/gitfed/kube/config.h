#pragma once
// Config: everything needed to reach one API server (address, trust,
// credentials) and how hard to use it (rate limit, parallelism, timeouts,
// retries). A plain value: copy it freely. Built from a kubeconfig file
// (loadKubeconfig / parseKubeconfig) or from the in-cluster service-account
// files (inClusterConfig); files a kubeconfig names (CA, client certificate
// and key) are read when it is loaded, except the bearer token file, which
// the client re-reads whenever it changes (token rotation).

#include "gitfed/kube/client.h"

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

namespace gitfed::kube {

// Retries of one request: connection errors, 429 and 500/502/503/504.
// Delays grow exponentially from baseDelay up to maxDelay, with jitter
// ("equal jitter": a random point in the upper half of the exponential
// delay); a Retry-After from the server is honoured (never retried sooner),
// capped at maxRetryAfter.
struct RetryPolicy {
  int maxAttempts = 6;  // attempts in all, the first included; 1 = never retry
  std::chrono::milliseconds baseDelay{200};
  std::chrono::milliseconds maxDelay{5000};
  std::chrono::milliseconds maxRetryAfter{30000};
};

struct Config {
  // Where: "https://host:port" (https only: TLS is always verified).
  std::string server;
  // Verify the server's certificate for this name instead of the server's
  // host (kubeconfig tls-server-name); the connection still goes to `server`.
  std::string tlsServerName;
  // Trust: PEM of the CA certificate(s) that signed the serving certificate.
  // Required: the system trust store is never used for an API server.
  std::string caPem;

  // Credentials (any combination the server accepts):
  std::string clientCertPem;  // client certificate (PEM) ...
  std::string clientKeyPem;   // ... and its private key (PEM)
  std::string token;          // a static bearer token, or
  std::string tokenFile;      // a file holding it, re-read when it changes

  // The namespace of the context (or of the pod, in cluster); may be empty.
  std::string defaultNamespace;
  // Where it came from, for messages: "kubeconfig PATH context NAME" or "in-cluster".
  std::string source;

  // How hard to use it.
  std::string userAgent = "gitfed";
  // Client-side rate limit (token bucket), requests per second; <= 0:
  // unlimited. A guard against a runaway loop rather than a throttle (the
  // apiserver's priority and fairness protects it): one apiserver on two
  // cores serves ~600-1300 applies/s, kubectl ~400/s; client-go's 5/10 would
  // make a 10,000-object sync take half an hour.
  double qps = 1000;
  int burst = 2000;      // token bucket size
  int maxInFlight = 16;  // concurrent requests (and pooled connections)
  std::chrono::milliseconds connectTimeout{10000};  // TCP + TLS handshake
  std::chrono::milliseconds requestTimeout{60000};  // one attempt, end to end
  // One call (all its attempts and the waits between them) gives up once it
  // would run past this.
  std::chrono::milliseconds operationTimeout{120000};
  RetryPolicy retry;
  int listPageSize = 500;  // `limit` of each LIST page
};

// Parses kubeconfig text. `baseDir` resolves relative file names (the
// kubeconfig's directory); `context` empty = current-context. Supports
// token, tokenFile, client-certificate(-data), client-key(-data),
// certificate-authority(-data), tls-server-name, namespace. Refuses
// insecure-skip-tls-verify, exec and auth-provider plugins, basic auth and
// proxy-url, and a cluster without a CA (errors name the field).
Result<Config> parseKubeconfig(std::string_view text, const std::filesystem::path& baseDir,
                               std::string_view context = {});
// Reads and parses the kubeconfig at `path`.
Result<Config> loadKubeconfig(const std::filesystem::path& path, std::string_view context = {});

// The service-account files of a pod and the address of the API server.
// Defaults are the standard paths and the KUBERNETES_SERVICE_HOST/PORT
// environment; tests point them elsewhere.
struct InClusterPaths {
  std::filesystem::path tokenFile = "/var/run/secrets/kubernetes.io/serviceaccount/token";
  std::filesystem::path caFile = "/var/run/secrets/kubernetes.io/serviceaccount/ca.crt";
  std::filesystem::path namespaceFile = "/var/run/secrets/kubernetes.io/serviceaccount/namespace";
  std::optional<std::string> host;  // default: $KUBERNETES_SERVICE_HOST
  std::optional<std::string> port;  // default: $KUBERNETES_SERVICE_PORT
};
Result<Config> inClusterConfig(const InClusterPaths& paths = {});

// What a command line without --kubeconfig means: `kubeconfig` when given;
// else in cluster when KUBERNETES_SERVICE_HOST is set; else the first file of
// $KUBECONFIG; else ~/.kube/config.
Result<Config> defaultConfig(const std::optional<std::filesystem::path>& kubeconfig = std::nullopt,
                             std::string_view context = {});

}  // namespace gitfed::kube
