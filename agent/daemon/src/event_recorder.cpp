// EventRecorder: the thread that writes the agent's Events (event_recorder.h).

#include "gitfed/daemon/event_recorder.h"

#include <algorithm>

#include "gitfed/daemon/logging.h"

namespace gitfed::daemon {

EventRecorder::EventRecorder(kube::KubeClient& client, EventCorrelator correlator, std::size_t maxQueued)
    : client_(client), maxQueued_(std::max<std::size_t>(1, maxQueued)), correlator_(std::move(correlator)),
      thread_([this] { run(); }) {}

EventRecorder::~EventRecorder() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

void EventRecorder::record(const RoundEvent& e) {
  {
    std::lock_guard lock(mu_);
    auto w = correlator_.observe(e);
    if (!w) {
      ++stats_.dropped;
      logEvent(spdlog::level::debug, "event dropped: too many new events",
               {{"reason", e.reason}, {"message", e.message}});
      return;
    }
    bool merged = false;
    for (auto& q : queue_)
      if (q.event.name == w->event.name) {
        q.event = std::move(w->event);  // the newer count; a queued create stays a create
        merged = true;
        break;
      }
    if (!merged) {
      if (queue_.size() >= maxQueued_) {
        queue_.pop_front();
        ++stats_.dropped;
      }
      queue_.push_back(std::move(*w));
    }
  }
  cv_.notify_all();
}

bool EventRecorder::flush(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mu_);
  return cv_.wait_for(lock, timeout, [&] { return queue_.empty() && !busy_; });
}

EventRecorder::Stats EventRecorder::stats() const {
  std::lock_guard lock(mu_);
  return stats_;
}

kube::Result<void> EventRecorder::write(EventWrite w) {
  if (w.update) {
    auto r = kube::updateEventCount(client_, w.event);
    if (r || !r.error().notFound()) return r;
  }
  w.event.involved.uid = kube::lookUpUid(client_, w.event.involved);
  auto r = kube::createEvent(client_, w.event);
  if (!r && r.error().status == 409 && !w.update) return kube::updateEventCount(client_, w.event);
  return r;
}

void EventRecorder::run() {
  std::unique_lock lock(mu_);
  for (;;) {
    cv_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
    if (stopping_) return;
    EventWrite w = std::move(queue_.front());
    queue_.pop_front();
    busy_ = true;
    lock.unlock();
    kube::Result<void> r;
    try {
      r = write(w);
    } catch (const std::exception& e) {
      r = std::unexpected(kube::Error{0, "InternalError", e.what(), "event " + w.event.name});
    }
    lock.lock();
    busy_ = false;
    if (r) {
      ++stats_.written;
      failing_ = false;
    } else {
      ++stats_.failed;
      logEvent(failing_ ? spdlog::level::debug : spdlog::level::warn, "event not written",
               {{"reason", w.event.reason}, {"count", w.event.count}, {"error", r.error().format()}});
      failing_ = true;
    }
    cv_.notify_all();
  }
}

}  // namespace gitfed::daemon
