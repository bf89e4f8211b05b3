#pragma once
// The arithmetic of politeness, free of I/O so it is unit-tested exactly:
// a token-bucket rate limiter (QPS/burst), exponential backoff with jitter,
// Retry-After parsing and which responses are worth retrying.

#include "gitfed/kube/config.h"

#include <chrono>
#include <mutex>
#include <optional>
#include <string_view>

namespace gitfed::kube {

// TokenBucket: `burst` tokens, refilled at `qps` per second; each request
// takes one. reserve() takes a token now (the balance may go negative: later
// callers queue behind earlier ones) and says how long the caller must wait
// before sending. Thread-safe. qps <= 0 disables limiting.
class TokenBucket {
 public:
  TokenBucket(double qps, int burst);
  std::chrono::nanoseconds reserve(std::chrono::steady_clock::time_point now);

 private:
  std::mutex mutex_;
  double qps_;
  double burst_;
  double tokens_;
  std::optional<std::chrono::steady_clock::time_point> last_;
};

// The delay before retry number `retry` (1 = the first retry):
// d = min(maxDelay, baseDelay * 2^(retry-1)), then d/2 + unit*d/2 with `unit`
// a random number in [0, 1) (the jitter).
std::chrono::milliseconds backoffDelay(const RetryPolicy& policy, int retry, double unit);

// Retry-After: delta-seconds ("120") or an HTTP-date ("Wed, 21 Oct 2015
// 07:28:00 GMT", also the obsolete RFC 850 and asctime forms); a date in the
// past is zero. nullopt when absent or unparseable.
std::optional<std::chrono::milliseconds> parseRetryAfter(std::string_view value,
                                                         std::chrono::system_clock::time_point now);

// Whether a response with this HTTP status is retried for this method: 429
// always (the server did not process it); 503 always; 500/502/504 only for
// idempotent methods (everything but POST). Never other 4xx.
bool retryableStatus(long status, std::string_view method);

// Whether a method may be re-sent after a failure that may have reached the
// server (GET, HEAD, PUT, DELETE, PATCH — server-side apply is idempotent).
bool idempotentMethod(std::string_view method);

}  // namespace gitfed::kube
