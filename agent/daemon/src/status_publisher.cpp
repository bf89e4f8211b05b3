#include "gitfed/daemon/status_publisher.h"

#include <algorithm>

#include "gitfed/daemon/logging.h"

namespace gitfed::daemon {

StatusPublisher::StatusPublisher(std::unique_ptr<status::StatusStore> store, status::WriterOptions options,
                                 Outcome onOutcome)
    : store_(std::move(store)),
      // The writer's retry pauses end early when stopping: its remaining
      // attempts then fail fast, and the thread can be joined.
      writer_(*store_, std::move(options), {},
              [this](std::chrono::milliseconds d) {
                std::unique_lock lock(mu_);
                cv_.wait_for(lock, d, [&] { return stopping_; });
              }),
      onOutcome_(std::move(onOutcome)) {
  thread_ = std::thread([this] { loop(); });
}

StatusPublisher::~StatusPublisher() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void StatusPublisher::enqueue(std::deque<Item>& queue, Item item) {
  if (!queue.empty() && queue.back().report.sync.phase == item.report.sync.phase) {
    queue.back() = std::move(item);
  } else {
    queue.push_back(std::move(item));
  }
  while (queue.size() > kMaxQueued) queue.pop_front();
}

void StatusPublisher::publish(status::ClusterStatus report, status::Redactor redactor) {
  {
    std::lock_guard lock(mu_);
    enqueue(queue_, Item{nextSeq_++, std::move(report), std::move(redactor)});
  }
  cv_.notify_all();
}

bool StatusPublisher::flush(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mu_);
  return cv_.wait_for(lock, timeout, [&] { return queue_.empty() && !writing_; });
}

void StatusPublisher::loop() {
  int failures = 0;
  std::unique_lock lock(mu_);
  for (;;) {
    cv_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
    if (stopping_) return;
    Item item = queue_.front();
    writing_ = true;
    lock.unlock();
    std::string outcome;
    std::string error;
    try {
      auto r = writer_.write(item.report, item.redactor);
      if (r) outcome = status::toString(r->kind);
      else error = r.error().format();
      if (r && r->kind == status::WriteOutcome::Kind::Committed)
        logEvent(spdlog::level::info, "status written",
                 {{"phase", status::toString(item.report.sync.phase)}, {"commit", r->commit}, {"pushes", r->attempts},
                  {"ms", r->elapsed.count()}});
      // The per-cluster ref has the report; the people's branch lags until a later write.
      if (r && r->branchError)
        logEvent(spdlog::level::warn, "status branch not written; the cluster's ref has the report",
                 {{"error", item.redactor.scrub(r->branchError->format())}});
    } catch (const std::exception& e) {  // no exception leaves this thread
      error = e.what();
    }
    if (onOutcome_) onOutcome_(error.empty() ? outcome : "Error");
    lock.lock();
    writing_ = false;
    if (error.empty()) {
      failures = 0;
      if (!queue_.empty() && queue_.front().seq == item.seq) queue_.pop_front();
      cv_.notify_all();
      continue;
    }
    ++failures;
    auto wait = std::chrono::milliseconds(std::min<long long>(10'000, 1000LL << std::min(failures - 1, 4)));
    lock.unlock();
    logEvent(spdlog::level::warn, "status not written; will retry",
             {{"error", item.redactor.scrub(error)}, {"retryInMs", wait.count()}, {"failures", failures}});
    lock.lock();
    cv_.notify_all();
    cv_.wait_for(lock, wait, [&] { return stopping_; });
    if (stopping_) return;
  }
}

}  // namespace gitfed::daemon
