#pragma once
// Error and Result<T>: what every function of gitfed::git returns when it can
// fail. An Error carries a code a caller can branch on, the operation's context
// ("fetch https://git.example.com/fleet.git main") and a message. No error
// ever holds a credential: URLs with credentials are refused before any use,
// and secrets read from files never enter a message. Plain values; thread-safe
// to copy.

#include <expected>
#include <string>
#include <utility>

namespace gitfed::git {

enum class ErrorCode {
  InvalidArgument,  // a bad URL, ref, path or option: fix the configuration
  NotFound,         // a ref, object, file or repository that does not exist
  Auth,             // the server refused the credentials (or none were configured)
  Certificate,      // the TLS certificate is not trusted or not for this host
  HostKey,          // the ssh host key is unknown or has changed
  Network,          // connecting, reading or writing failed
  Timeout,          // an operation's deadline passed
  Rejected,         // a push was refused (non-fast-forward, hook, lock)
  Corrupt,          // the local cache is damaged
  Io,               // a local file could not be read or written
  Internal,         // anything else libgit2 reports
};

const char* toString(ErrorCode code);

struct Error {
  ErrorCode code = ErrorCode::Internal;
  std::string context;  // what was being done, e.g. "fetch https://h/fleet.git main"
  std::string message;  // why it failed

  // "context: message", or the message alone.
  [[nodiscard]] std::string format() const { return context.empty() ? message : context + ": " + message; }
};

template <class T>
using Result = std::expected<T, Error>;

inline std::unexpected<Error> fail(ErrorCode code, std::string message, std::string context = {}) {
  return std::unexpected(Error{code, std::move(context), std::move(message)});
}

// Adds context to an error on its way up: "fetch URL: " + the lower message.
inline Error withContext(Error e, const std::string& context) {
  if (context.empty()) return e;
  e.context = e.context.empty() ? context : context + ": " + e.context;
  return e;
}

}  // namespace gitfed::git
