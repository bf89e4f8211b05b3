#include "gitfed/sync/circuit_breaker.h"

#include <spdlog/spdlog.h>

#include <cctype>

#include "describe.h"

namespace gitfed::sync {

std::string_view withoutRetryNote(std::string_view message) {
  if (message.empty() || message.back() != ')') return message;
  const auto open = message.rfind(" (");
  if (open == std::string_view::npos) return message;
  const std::string_view note = message.substr(open + 2);
  for (std::string_view start : {"gave up after ", "not retried: ", "not sent: "})
    if (note.starts_with(start)) return message.substr(0, open);
  return message;
}

std::string messageShape(std::string_view message) {
  message = withoutRetryNote(message);
  constexpr std::size_t kLook = 300;
  if (message.size() > kLook) message = message.substr(0, kLook);
  std::string out;
  out.reserve(message.size());
  for (std::size_t i = 0; i < message.size();) {
    const char c = message[i];
    if (c == '"' || c == '\'') {
      const auto end = message.find(c, i + 1);
      if (end == std::string_view::npos) {  // unterminated: the rest is one run
        out += c;
        out += '*';
        break;
      }
      out += c;
      out += '*';
      out += c;
      i = end + 1;
    } else if (std::isdigit(static_cast<unsigned char>(c))) {
      while (i < message.size() && std::isdigit(static_cast<unsigned char>(message[i]))) ++i;
      out += '#';
    } else {
      out += c;
      ++i;
    }
  }
  return out;
}

bool persistentCandidate(const kube::Error& e) {
  if (e.status == 500 || e.status == 502 || e.status == 504) return true;
  return e.status == 0 && e.reason == "Timeout";
}


CircuitBreaker::CircuitBreaker(BreakerOptions options) : options_(options) {
  if (options_.threshold == 0) options_.threshold = 1;
}

std::optional<kube::Error> CircuitBreaker::openFor(std::string_view type) const {
  std::lock_guard lock(mutex_);
  auto it = openByType_.find(type);
  if (it == openByType_.end()) return std::nullopt;
  const Opened& o = opened_[it->second];
  const std::size_t n = twice_.at(o.cls).size();
  return kube::Error{o.cls.status, o.cls.reason,
                     o.message + " (not sent: " + std::to_string(n) +
                         " objects of this type failed with this error this round)",
                     ""};
}

std::string CircuitBreaker::beforeRetry(const std::string& type, const std::string& object, const kube::Error& error,
                                        int attempt, std::chrono::milliseconds delay) {
  std::lock_guard lock(mutex_);
  if (persistentCandidate(error)) {
    FailureClass cls{type, error.status, error.reason, messageShape(error.message)};
    auto open = openByType_.find(type);
    if (open != openByType_.end() && opened_[open->second].cls == cls)
      return "not retried: " + std::to_string(twice_[cls].size()) +
             " objects of this type failed with this error this round";
    if (attempt >= 2) {
      auto& objects = twice_[cls];
      objects.insert(object);
      if (objects.size() >= options_.threshold) {
        if (open == openByType_.end()) {
          openByType_.emplace(type, opened_.size());
          opened_.push_back(Opened{cls, error.message});
          spdlog::warn("sync: circuit open for {}: {} objects failed twice with: {}; the round's other {} writes fail at "
                       "once without being sent",
                       type, objects.size(), describe(error), type);
        }
        return "not retried: " + std::to_string(objects.size()) + " objects of this type failed with this error this round";
      }
    }
  }
  if (granted_ + delay > options_.retryBudget) {
    if (!budgetLogged_) {
      budgetLogged_ = true;
      spdlog::warn("sync: the round's retry budget of {} is spent: failing requests are no longer retried this round",
                   seconds(options_.retryBudget));
    }
    return "not retried: the round's retry budget of " + seconds(options_.retryBudget) + " is spent";
  }
  granted_ += delay;
  return {};
}

std::vector<CircuitBreaker::Opened> CircuitBreaker::opened() const {
  std::lock_guard lock(mutex_);
  return opened_;
}

std::chrono::milliseconds CircuitBreaker::granted() const {
  std::lock_guard lock(mutex_);
  return granted_;
}

}  // namespace gitfed::sync
