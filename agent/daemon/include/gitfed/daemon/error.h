#pragma once
// Error and Result<T> of gitfed::daemon: what its functions return when they
// can fail (a bad configuration, a socket that cannot be bound, a Lease the
// API server refuses). The message is for people and never holds a
// credential: the daemon only ever handles credential *file names*. Plain
// values; thread-safe to copy.

#include <expected>
#include <string>
#include <utility>

namespace gitfed::daemon {

struct Error {
  std::string message;  // begins with what was being done, e.g. "--interval: ..."
  [[nodiscard]] const std::string& format() const { return message; }
};

template <class T>
using Result = std::expected<T, Error>;

inline std::unexpected<Error> fail(std::string message) { return std::unexpected(Error{std::move(message)}); }

}  // namespace gitfed::daemon
