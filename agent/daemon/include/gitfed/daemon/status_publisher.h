#pragma once
// StatusSink: where the reconcile loop hands its reports. StatusPublisher is
// the real one: a thread of its own writes them to the status branch through
// status::StatusWriter, so a slow or unreachable Git server never delays a
// reconcile. Reports wait in a short queue in which consecutive reports of
// the same phase collapse into the newest, so every phase transition (Synced
// -> Stale -> Synced) reaches the branch's history in order, even when the
// server was down in between; a write that fails is retried with backoff
// (1 s doubling to 10 s). publish() and flush() are thread-safe.

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "gitfed/status/redact.h"
#include "gitfed/status/report.h"
#include "gitfed/status/store.h"
#include "gitfed/status/writer.h"

namespace gitfed::daemon {

class StatusSink {
 public:
  virtual ~StatusSink() = default;
  virtual void publish(status::ClusterStatus report, status::Redactor redactor) = 0;
  // Waits until every report published so far is written (true), or `timeout`.
  virtual bool flush(std::chrono::milliseconds timeout) = 0;
};

class StatusPublisher final : public StatusSink {
 public:
  static constexpr std::size_t kMaxQueued = 8;
  using Outcome = std::function<void(const std::string& outcome)>;  // Committed, Unchanged, Superseded, Error

  StatusPublisher(std::unique_ptr<status::StatusStore> store, status::WriterOptions options, Outcome onOutcome = {});
  ~StatusPublisher() override;  // stops the thread (after the write in progress)

  void publish(status::ClusterStatus report, status::Redactor redactor) override;
  bool flush(std::chrono::milliseconds timeout) override;

  // The queue's policy, for tests: appends `report`, collapsing it into the
  // last entry when both have the same phase, and dropping the oldest beyond
  // kMaxQueued.
  struct Item {
    std::uint64_t seq = 0;
    status::ClusterStatus report;
    status::Redactor redactor;
  };
  static void enqueue(std::deque<Item>& queue, Item item);

 private:
  void loop();

  std::unique_ptr<status::StatusStore> store_;
  status::StatusWriter writer_;
  Outcome onOutcome_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Item> queue_;
  std::uint64_t nextSeq_ = 1;
  bool stopping_ = false;
  bool writing_ = false;
  std::thread thread_;
};

}  // namespace gitfed::daemon
