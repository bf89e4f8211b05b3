#pragma once
// parallelFor: runs f(0..n-1) on up to `workers` threads (bounded
// parallelism: each task is one blocking API request). Returns when all are
// done. The first exception a task throws is rethrown after every thread has
// joined.

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

namespace gitfed::sync {

template <class F>
void parallelFor(std::size_t n, unsigned workers, F&& f) {
  if (n == 0) return;
  std::size_t w = std::min<std::size_t>(workers == 0 ? 1 : workers, n);
  if (w == 1) {
    for (std::size_t i = 0; i < n; ++i) f(i);
    return;
  }
  std::atomic<std::size_t> next{0};
  std::exception_ptr first;
  std::mutex m;
  {
    std::vector<std::jthread> threads;
    threads.reserve(w);
    for (std::size_t t = 0; t < w; ++t)
      threads.emplace_back([&] {
        for (;;) {
          std::size_t i = next.fetch_add(1);
          if (i >= n) return;
          try {
            f(i);
          } catch (...) {
            std::lock_guard lock(m);
            if (!first) first = std::current_exception();
          }
        }
      });
  }
  if (first) std::rethrow_exception(first);
}

}  // namespace gitfed::sync
