#pragma once
// Diagnostic: one error found in a repository, located by file and line, and
// Result<T>, the renderer's expected-like return type. Plain values; thread-safe
// to copy.

#include <expected>
#include <string>
#include <utility>

namespace gitfed::render {

struct Diagnostic {
  Diagnostic() = default;
  Diagnostic(std::string path_, int line_, std::string message_, std::string tenant_ = {})
      : path(std::move(path_)), line(line_), message(std::move(message_)), tenant(std::move(tenant_)) {}

  std::string path;     // relative to the source tree's root; empty when unknown
  int line = 0;         // 1-based; 0 when unknown
  std::string message;  // begins with the object's identity when there is one
  std::string tenant;   // the tenant whose files hold the error; "" for the platform's own

  // "PATH:LINE: message", "PATH: message" or "message".
  [[nodiscard]] std::string format() const {
    if (path.empty()) return message;
    if (line > 0) return path + ":" + std::to_string(line) + ": " + message;
    return path + ": " + message;
  }
};

template <class T>
using Result = std::expected<T, Diagnostic>;

inline std::unexpected<Diagnostic> fail(std::string message, std::string path = {}, int line = 0) {
  return std::unexpected(Diagnostic{std::move(path), line, std::move(message)});
}

}  // namespace gitfed::render
