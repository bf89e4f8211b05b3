#pragma once
// EventCorrelator: what a round's event becomes, as client-go's
// EventCorrelator decides it (agent/daemon/README.md, "Events"):
//
// - an event identical to one already written (same type, reason and
//   message) is the count update of that Event (count + 1, lastTimestamp),
//   not a new object; the last `remembered` distinct events are kept, least
//   recently seen first out;
// - at most `maxNew` new Events in any `window` (a sliding window): one over
//   that is dropped and not remembered (its next occurrence tries again).
//
// Names are client-go's: "<involved name>.<hex nanoseconds>", strictly
// increasing. Time comes from the injected Clock (steady for the window,
// wall for the timestamps). A plain object, not thread-safe: EventRecorder
// guards it.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <list>
#include <memory>
#include <optional>
#include <string>

#include "gitfed/daemon/round_events.h"
#include "gitfed/kube/clock.h"
#include "gitfed/kube/events.h"

namespace gitfed::daemon {

// Who writes the Events, and about what.
struct EventSource {
  kube::ObjectReference involved;  // the inventory ConfigMap; its namespace is the Events'
  std::string component = "gitfed-agent";
  std::string instance;            // the agent's identity
};

struct CorrelatorOptions {
  std::size_t maxNew = 10;
  std::chrono::seconds window{60};
  std::size_t remembered = 64;
};

// One write for the API server: create the Event, or update its count.
struct EventWrite {
  kube::Event event;
  bool update = false;
};

class EventCorrelator {
 public:
  EventCorrelator(EventSource source, std::shared_ptr<kube::Clock> clock, CorrelatorOptions options = {});

  // The write `e` needs now; nullopt when it is a new Event over the limit.
  std::optional<EventWrite> observe(const RoundEvent& e);

  std::size_t dropped() const { return dropped_; }  // new Events refused so far
  const EventSource& source() const { return source_; }

 private:
  std::string nextName();

  EventSource source_;
  std::shared_ptr<kube::Clock> clock_;
  CorrelatorOptions options_;
  std::list<kube::Event> seen_;  // most recently seen first
  std::deque<std::chrono::steady_clock::time_point> created_;  // within the window, oldest first
  std::int64_t lastNanos_ = 0;
  std::size_t dropped_ = 0;
};

}  // namespace gitfed::daemon
