#pragma once
// Clock: the time source of the client's rate limiter, backoff and token
// cache, so unit tests can run them on a fake clock without sleeping.
// systemClock() is the real one (thread-safe, stateless).

#include <chrono>
#include <memory>

namespace gitfed::kube {

class Clock {
 public:
  virtual ~Clock() = default;
  // Monotonic time, for delays and deadlines.
  virtual std::chrono::steady_clock::time_point now() = 0;
  // Wall-clock time, for HTTP dates (Retry-After).
  virtual std::chrono::system_clock::time_point wallNow() = 0;
  // Blocks the calling thread for `d` (a fake clock advances instead).
  virtual void sleepFor(std::chrono::nanoseconds d) = 0;
};

// The process's real clocks.
std::shared_ptr<Clock> systemClock();

}  // namespace gitfed::kube
