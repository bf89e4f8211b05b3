#pragma once
// ProgressTicker: while it lives, a thread logs `line()` at info level every
// `interval` (the first after one interval): a long round says how far it is
// (agent/sync/README.md, "Progress"). The destructor stops and joins it at
// once. `line` is called from the ticker's thread: it must read only
// thread-safe state (atomics).

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

namespace gitfed::sync {

class ProgressTicker {
 public:
  ProgressTicker(std::chrono::milliseconds interval, std::function<std::string()> line);
  ~ProgressTicker();
  ProgressTicker(const ProgressTicker&) = delete;
  ProgressTicker& operator=(const ProgressTicker&) = delete;
  int ticks() const;  // lines logged so far

 private:
  std::function<std::string()> line_;
  mutable std::mutex mutex_;
  std::condition_variable_any cv_;
  int ticks_ = 0;
  std::jthread thread_;  // last: started once the rest is constructed
};

}  // namespace gitfed::sync
