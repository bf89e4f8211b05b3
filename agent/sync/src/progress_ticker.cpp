#include "progress_ticker.h"

#include <spdlog/spdlog.h>

namespace gitfed::sync {

ProgressTicker::ProgressTicker(std::chrono::milliseconds interval, std::function<std::string()> line)
    : line_(std::move(line)) {
  if (interval <= std::chrono::milliseconds::zero()) return;
  thread_ = std::jthread([this, interval](std::stop_token stop) {
    std::unique_lock lock(mutex_);
    for (;;) {
      if (cv_.wait_for(lock, stop, interval, [] { return false; }) || stop.stop_requested()) return;
      lock.unlock();
      try {
        spdlog::info("{}", line_());
      } catch (...) {  // a log line is never worth a thread's exception
      }
      lock.lock();
      ++ticks_;
    }
  });
}

ProgressTicker::~ProgressTicker() {
  if (thread_.joinable()) {
    thread_.request_stop();
    thread_.join();
  }
}

int ProgressTicker::ticks() const {
  std::lock_guard lock(mutex_);
  return ticks_;
}

}  // namespace gitfed::sync
