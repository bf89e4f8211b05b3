#pragma once
// The round's say over retries (agent/sync/README.md, "Persistent errors and
// bounded rounds"): failure classes, a circuit breaker per class and a retry
// budget. Pure logic over kube::Error (no clock: the delays it is asked about
// are the client's); thread-safe: the round's workers share one breaker.

#include <chrono>
#include <cstddef>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "gitfed/kube/client.h"

namespace gitfed::sync {

// The message without a retry note the client or the breaker appended at its
// end (" (gave up after ...)", " (not retried: ...)", " (not sent: ...)").
std::string_view withoutRetryNote(std::string_view message);

// The message, without its retry note, with every quoted run ("...", '...') replaced by "*" and every
// run of digits by '#': errors about different objects of the same cause
// have the same shape. At most 300 bytes of the message are looked at.
std::string messageShape(std::string_view message);

// Whether an error the client would retry says something persistent may be
// wrong: 500, 502, 504 and request timeouts. 429, 503 and connection
// failures are transient (never open a circuit).
bool persistentCandidate(const kube::Error& e);

struct FailureClass {
  std::string type;  // "group/plural"
  int status = 0;
  std::string reason;
  std::string shape;
  auto operator<=>(const FailureClass&) const = default;
};

struct BreakerOptions {
  std::size_t threshold = 3;                     // objects that failed twice with a class
  std::chrono::milliseconds retryBudget{60'000};  // summed backoff waits of the round
};

class CircuitBreaker {
 public:
  explicit CircuitBreaker(BreakerOptions options = {});

  // The gate of one object's writes: `type` its resource type
  // ("group/plural"), `object` its identity.
  class Gate final : public kube::RetryGate {
   public:
    Gate(CircuitBreaker& breaker, std::string type, std::string object)
        : breaker_(breaker), type_(std::move(type)), object_(std::move(object)) {}
    std::string beforeRetry(const kube::Error& error, int attempt, std::chrono::milliseconds delay) override {
      return breaker_.beforeRetry(type_, object_, error, attempt, delay);
    }

   private:
    CircuitBreaker& breaker_;
    std::string type_, object_;
  };
  Gate gate(std::string type, std::string object) { return Gate(*this, std::move(type), std::move(object)); }

  // When a class of `type` is open: the error to fail a write of that type
  // with, without sending it: the status, reason and message of the error
  // that opened it, then " (not sent: N objects of this type failed with
  // this error this round)". nullopt while every class of the type is closed.
  std::optional<kube::Error> openFor(std::string_view type) const;

  // What beforeRetry decides (Gate calls it): "" = retry.
  std::string beforeRetry(const std::string& type, const std::string& object, const kube::Error& error, int attempt,
                          std::chrono::milliseconds delay);

  struct Opened {
    FailureClass cls;
    std::string message;  // the message of the error that opened it
  };
  std::vector<Opened> opened() const;  // in the order they opened
  std::chrono::milliseconds granted() const;  // backoff waits allowed so far

 private:
  BreakerOptions options_;
  mutable std::mutex mutex_;
  std::map<FailureClass, std::set<std::string>> twice_;  // objects that failed twice with the class
  std::map<std::string, std::size_t, std::less<>> openByType_;  // type -> index in opened_
  std::vector<Opened> opened_;
  std::chrono::milliseconds granted_{0};
  bool budgetLogged_ = false;
};

}  // namespace gitfed::sync
