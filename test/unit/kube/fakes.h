#pragma once
// Small fakes for the kube client's unit tests: a clock that advances only
// when slept on, and a transport that answers from a script and records what
// it was asked.

#include "gitfed/kube/clock.h"
#include "gitfed/kube/transport.h"

#include <functional>
#include <mutex>
#include <vector>

namespace gitfed::kube::testing {

class FakeClock final : public Clock {
 public:
  std::chrono::steady_clock::time_point now() override {
    std::lock_guard lock(mutex_);
    return steady_;
  }
  std::chrono::system_clock::time_point wallNow() override {
    std::lock_guard lock(mutex_);
    return wall_;
  }
  void sleepFor(std::chrono::nanoseconds d) override {
    std::lock_guard lock(mutex_);
    sleeps_.push_back(d);
    steady_ += d;
    wall_ += std::chrono::duration_cast<std::chrono::system_clock::duration>(d);
  }
  void advance(std::chrono::nanoseconds d) {
    std::lock_guard lock(mutex_);
    steady_ += d;
    wall_ += std::chrono::duration_cast<std::chrono::system_clock::duration>(d);
  }
  std::vector<std::chrono::nanoseconds> sleeps() {
    std::lock_guard lock(mutex_);
    return sleeps_;
  }
  std::chrono::nanoseconds slept() {
    std::lock_guard lock(mutex_);
    std::chrono::nanoseconds total{0};
    for (auto s : sleeps_) total += s;
    return total;
  }

 private:
  std::mutex mutex_;
  std::chrono::steady_clock::time_point steady_{std::chrono::hours(1000)};
  std::chrono::system_clock::time_point wall_{std::chrono::seconds(1'700'000'000)};
  std::vector<std::chrono::nanoseconds> sleeps_;
};

using Reply = std::expected<HttpResponse, TransportError>;

inline HttpResponse reply(long status, std::string body, std::string retryAfter = {}) {
  HttpResponse r;
  r.status = status;
  r.body = std::move(body);
  r.contentType = "application/json";
  r.retryAfter = std::move(retryAfter);
  return r;
}

inline Reply fail(TransportFailure f, std::string message = "boom") {
  return std::unexpected(TransportError{f, std::move(message)});
}

class FakeTransport final : public Transport {
 public:
  using Handler = std::function<Reply(const HttpRequest&, int call)>;
  explicit FakeTransport(Handler handler) : handler_(std::move(handler)) {}
  Reply perform(const HttpRequest& request) override {
    int call;
    {
      std::lock_guard lock(mutex_);
      requests_.push_back(request);
      call = static_cast<int>(requests_.size());
    }
    return handler_(request, call);
  }
  std::vector<HttpRequest> requests() {
    std::lock_guard lock(mutex_);
    return requests_;
  }
  size_t count() {
    std::lock_guard lock(mutex_);
    return requests_.size();
  }

 private:
  std::mutex mutex_;
  Handler handler_;
  std::vector<HttpRequest> requests_;
};

}  // namespace gitfed::kube::testing
