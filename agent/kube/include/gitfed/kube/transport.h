#pragma once
// Transport: one HTTP exchange with the API server, nothing more (no retries,
// rate limiting, auth decisions or JSON). CurlKubeClient layers all of that on
// top; the libcurl implementation is CurlTransport (curl_client.h), and unit
// tests substitute a scripted fake. Implementations must be thread-safe.

#include <chrono>
#include <expected>
#include <string>

namespace gitfed::kube {

struct HttpRequest {
  std::string method;       // "GET", "PATCH", ...
  std::string path;         // "/api/v1/namespaces/x/configmaps?limit=500", already escaped
  std::string body;         // sent when non-empty (or when the method is not GET/DELETE)
  std::string contentType;  // of the body
  std::string accept = "application/json";
  std::string ifNoneMatch;  // an ETag, for conditional discovery requests
  std::string bearerToken;  // "Authorization: Bearer ..." when non-empty; never logged
  std::string impersonateUser;  // "Impersonate-User: ..." when non-empty (checked: no control characters)
  std::chrono::milliseconds timeout{60000};
};

struct HttpResponse {
  long status = 0;
  std::string body;
  std::string contentType;
  std::string retryAfter;  // the Retry-After header, verbatim
  std::string etag;
};

// Why no response arrived. Only Connect is known not to have reached the
// server (safe to retry any method); Timeout and Io may have.
enum class TransportFailure { Connect, Timeout, Io, Tls, Other };

struct TransportError {
  TransportFailure failure = TransportFailure::Other;
  std::string message;
};

class Transport {
 public:
  virtual ~Transport() = default;
  virtual std::expected<HttpResponse, TransportError> perform(const HttpRequest& request) = 0;
};

}  // namespace gitfed::kube
