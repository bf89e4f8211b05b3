#pragma once
// EventRecorder: writes the agent's Events off the reconcile thread. A
// round hands its event to record(), which asks the EventCorrelator what it
// becomes (a new Event, the count update of one already written, or
// nothing over the rate limit) and queues that write; a thread of its own
// writes the queue over `client` (kube/events.h): a create reads the
// involved object's uid first (best effort); a create that finds the name
// taken becomes an update, an update whose Event is gone (404: the API
// server's --event-ttl) a create, with its count.
//
// The queue holds one write per Event (a newer count replaces a queued
// one) and at most `maxQueued` (the oldest goes). A failed write is logged
// at warn the first time, at debug until a write succeeds again, and is not
// retried: it never fails, delays or repeats a round. record(), flush() and
// stats() are thread-safe; no exception leaves the thread. The destructor
// stops the thread after the request in flight (bounded by the client's
// timeout); what is still queued is dropped: flush() first.

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <mutex>
#include <thread>

#include "gitfed/daemon/events.h"
#include "gitfed/kube/client.h"

namespace gitfed::daemon {

class EventRecorder {
 public:
  EventRecorder(kube::KubeClient& client, EventCorrelator correlator, std::size_t maxQueued = 64);
  ~EventRecorder();
  EventRecorder(const EventRecorder&) = delete;
  EventRecorder& operator=(const EventRecorder&) = delete;

  // Never waits for the API server.
  void record(const RoundEvent& e);

  // Waits up to `timeout` for the queue to be written; true when it was.
  bool flush(std::chrono::milliseconds timeout);

  struct Stats {
    std::size_t written = 0;   // writes the API server accepted
    std::size_t failed = 0;    // writes it refused or did not answer
    std::size_t dropped = 0;   // new Events over the rate limit, and writes pushed out of a full queue
  };
  Stats stats() const;

 private:
  void run();
  kube::Result<void> write(EventWrite w);

  kube::KubeClient& client_;
  const std::size_t maxQueued_;
  mutable std::mutex mu_;  // guards everything below
  std::condition_variable cv_;
  EventCorrelator correlator_;
  std::deque<EventWrite> queue_;
  bool busy_ = false;      // a write is in flight
  bool stopping_ = false;
  bool failing_ = false;   // the last write failed (the next failure logs at debug)
  Stats stats_;
  std::thread thread_;     // last: starts once the members above exist
};

}  // namespace gitfed::daemon
