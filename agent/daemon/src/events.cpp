// EventCorrelator: aggregation and rate limit of the agent's Events (events.h).

#include "gitfed/daemon/events.h"

#include <algorithm>
#include <cstdio>

namespace gitfed::daemon {

EventCorrelator::EventCorrelator(EventSource source, std::shared_ptr<kube::Clock> clock, CorrelatorOptions options)
    : source_(std::move(source)), clock_(std::move(clock)), options_(options) {}

std::string EventCorrelator::nextName() {
  const std::int64_t nanos =
      std::chrono::duration_cast<std::chrono::nanoseconds>(clock_->wallNow().time_since_epoch()).count();
  lastNanos_ = std::max(nanos, lastNanos_ + 1);
  char hex[24];
  std::snprintf(hex, sizeof hex, "%llx", static_cast<unsigned long long>(lastNanos_));
  return source_.involved.name + "." + hex;
}

std::optional<EventWrite> EventCorrelator::observe(const RoundEvent& e) {
  const auto wall = clock_->wallNow();
  const std::string type(toString(e.type));
  for (auto it = seen_.begin(); it != seen_.end(); ++it) {
    if (it->type != type || it->reason != e.reason || it->message != e.message) continue;
    ++it->count;
    it->lastSeen = wall;
    seen_.splice(seen_.begin(), seen_, it);
    return EventWrite{seen_.front(), true};
  }

  const auto now = clock_->now();
  while (!created_.empty() && now - created_.front() >= options_.window) created_.pop_front();
  if (created_.size() >= options_.maxNew) {
    ++dropped_;
    return std::nullopt;
  }
  created_.push_back(now);

  kube::Event ev;
  ev.ns = source_.involved.ns;
  ev.name = nextName();
  ev.involved = source_.involved;
  ev.type = type;
  ev.reason = e.reason;
  ev.message = e.message;
  ev.component = source_.component;
  ev.instance = source_.instance;
  ev.count = 1;
  ev.firstSeen = ev.lastSeen = wall;
  seen_.push_front(ev);
  if (seen_.size() > options_.remembered) seen_.pop_back();
  return EventWrite{std::move(ev), false};
}

}  // namespace gitfed::daemon
