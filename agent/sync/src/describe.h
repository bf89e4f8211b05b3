#pragma once
// How the sync engine words a kube::Error and a duration in its messages
// (shared by the engine and the circuit breaker, which must word an error
// the same way).

#include <chrono>
#include <string>

#include "gitfed/kube/client.h"

namespace gitfed::sync {

// "422 Invalid: message", "connection error ConnectionFailed: message".
inline std::string describe(const kube::Error& e) {
  std::string s = e.status ? std::to_string(e.status) : std::string("connection error");
  if (!e.reason.empty()) s += " " + e.reason;
  if (!e.message.empty()) s += ": " + e.message;
  return s;
}

// "10s", "250ms".
inline std::string seconds(std::chrono::milliseconds d) {
  auto ms = d.count();
  if (ms % 1000 == 0) return std::to_string(ms / 1000) + "s";
  return std::to_string(ms) + "ms";
}

}  // namespace gitfed::sync
