#include "gitfed/kube/retry.h"

#include <catch2/catch.hpp>

using namespace gitfed::kube;
using namespace std::chrono_literals;
using std::chrono::milliseconds;
using std::chrono::nanoseconds;

TEST_CASE("token bucket: a full burst passes at once, then one token per 1/qps", "[kube][ratelimit]") {
  TokenBucket bucket(10, 3);  // 10 qps, burst 3
  const auto t0 = std::chrono::steady_clock::time_point(1h);
  CHECK(bucket.reserve(t0) == 0ns);
  CHECK(bucket.reserve(t0) == 0ns);
  CHECK(bucket.reserve(t0) == 0ns);
  // The bucket is empty: the 4th waits 100 ms, the 5th (queued behind it) 200 ms.
  CHECK(bucket.reserve(t0) == 100ms);
  CHECK(bucket.reserve(t0) == 200ms);
  // 200 ms later both debts are paid; the next waits one interval again.
  CHECK(bucket.reserve(t0 + 200ms) == 100ms);
}

TEST_CASE("token bucket: refills at qps up to burst, never beyond", "[kube][ratelimit]") {
  TokenBucket bucket(2, 4);
  const auto t0 = std::chrono::steady_clock::time_point(1h);
  for (int i = 0; i < 4; ++i) REQUIRE(bucket.reserve(t0) == 0ns);
  // An hour idle refills only 4 tokens (the burst).
  const auto t1 = t0 + 1h;
  for (int i = 0; i < 4; ++i) CHECK(bucket.reserve(t1) == 0ns);
  CHECK(bucket.reserve(t1) == 500ms);
  // 1.5 s later: 3 tokens refilled, one owed -> 2 free, then waits.
  const auto t2 = t1 + 1500ms;
  CHECK(bucket.reserve(t2) == 0ns);
  CHECK(bucket.reserve(t2) == 0ns);
  CHECK(bucket.reserve(t2) == 500ms);
}

TEST_CASE("token bucket: sustained rate equals qps", "[kube][ratelimit]") {
  TokenBucket bucket(50, 100);
  auto now = std::chrono::steady_clock::time_point(1h);
  nanoseconds waited{0};
  for (int i = 0; i < 1100; ++i) {
    auto w = bucket.reserve(now);
    now += w;  // the caller sleeps, then sends
    waited += w;
  }
  // 100 free, then 1000 at 50/s = 20 s of sending; sum of waits is the
  // triangle of the queue, but the last request goes out at 20 s.
  CHECK(std::chrono::duration_cast<milliseconds>(now - std::chrono::steady_clock::time_point(1h)) == 20000ms);
}

TEST_CASE("token bucket: qps <= 0 means unlimited", "[kube][ratelimit]") {
  TokenBucket bucket(0, 1);
  const auto t0 = std::chrono::steady_clock::time_point(1h);
  for (int i = 0; i < 1000; ++i) REQUIRE(bucket.reserve(t0) == 0ns);
}

TEST_CASE("backoff: exponential, capped, with equal jitter", "[kube][backoff]") {
  RetryPolicy p;
  p.baseDelay = 100ms;
  p.maxDelay = 1000ms;
  // unit 0: the lower half-point; unit ~1: the full exponential delay.
  CHECK(backoffDelay(p, 1, 0.0) == 50ms);
  CHECK(backoffDelay(p, 1, 0.999999) == 99ms);
  CHECK(backoffDelay(p, 2, 0.0) == 100ms);
  CHECK(backoffDelay(p, 3, 0.5) == 300ms);  // d = 400: 200 + 0.5 * 200
  CHECK(backoffDelay(p, 4, 0.0) == 400ms);  // d = 800
  CHECK(backoffDelay(p, 5, 0.0) == 500ms);  // d = 1600 -> capped 1000
  CHECK(backoffDelay(p, 5, 1.0) == 1000ms);
  CHECK(backoffDelay(p, 200, 1.0) == 1000ms);  // no overflow
  CHECK(backoffDelay(p, 0, 0.0) == 50ms);       // treated as the first retry
}

TEST_CASE("Retry-After: seconds and HTTP dates", "[kube][backoff]") {
  const auto now = std::chrono::system_clock::time_point(std::chrono::seconds(784111777));  // Sun, 06 Nov 1994 08:49:37 GMT
  CHECK(parseRetryAfter("0", now) == 0ms);
  CHECK(parseRetryAfter("1", now) == 1000ms);
  CHECK(parseRetryAfter(" 120 ", now) == 120000ms);
  CHECK(parseRetryAfter("Sun, 06 Nov 1994 08:49:47 GMT", now) == 10000ms);
  CHECK(parseRetryAfter("Sunday, 06-Nov-94 08:50:37 GMT", now) == 60000ms);
  CHECK(parseRetryAfter("Sun Nov  6 08:49:39 1994", now) == 2000ms);
  CHECK(parseRetryAfter("Sun, 06 Nov 1994 08:00:00 GMT", now) == 0ms);  // in the past
  CHECK(parseRetryAfter("99999999999999999999999", now) == std::chrono::seconds(1'000'000'000));
  CHECK_FALSE(parseRetryAfter("", now));
  CHECK_FALSE(parseRetryAfter("-1", now));
  CHECK_FALSE(parseRetryAfter("1.5", now));
  CHECK_FALSE(parseRetryAfter("soon", now));
  CHECK_FALSE(parseRetryAfter("Sun, 06 Nov 1994 08:49:47 CET", now));
  CHECK_FALSE(parseRetryAfter("Sun, 06 Foo 1994 08:49:47 GMT", now));
}

TEST_CASE("what is retried: 429 and 503 always, 500/502/504 unless POST, other 4xx never", "[kube][backoff]") {
  for (const char* m : {"GET", "PATCH", "DELETE", "PUT", "POST"}) {
    CHECK(retryableStatus(429, m));
    CHECK(retryableStatus(503, m));
    for (long s : {400L, 401L, 403L, 404L, 409L, 410L, 422L, 200L}) CHECK_FALSE(retryableStatus(s, m));
  }
  for (long s : {500L, 502L, 504L}) {
    CHECK(retryableStatus(s, "GET"));
    CHECK(retryableStatus(s, "PATCH"));
    CHECK_FALSE(retryableStatus(s, "POST"));
  }
  CHECK_FALSE(retryableStatus(501, "GET"));
  CHECK(idempotentMethod("PATCH"));
  CHECK_FALSE(idempotentMethod("POST"));
}
