#pragma once
// TokenSource: the bearer token of a Config — a fixed string, or a file that
// is re-read whenever it changes (kubelet rotates projected service-account
// tokens by swapping the file; a stat per request notices). Thread-safe.

#include <filesystem>
#include <mutex>
#include <string>

namespace gitfed::kube {

class TokenSource {
 public:
  // A fixed token (may be empty: no Authorization header)...
  explicit TokenSource(std::string token) : token_(std::move(token)) {}
  // ... or the contents of `file`, whitespace-trimmed (read lazily).
  static TokenSource fromFile(std::filesystem::path file);

  TokenSource(const TokenSource&) = delete;
  TokenSource& operator=(const TokenSource&) = delete;
  TokenSource(TokenSource&& other) noexcept;

  // The current token: re-reads the file when its identity, size or mtime
  // changed since the last read. If it cannot be read, the last good token
  // stays (a rotation in progress must not break requests).
  std::string current();
  // Re-reads the file unconditionally (after a 401); true when the token changed.
  bool reload();
  bool fromFile() const { return !file_.empty(); }

 private:
  TokenSource() = default;
  bool readLocked(bool force);

  std::mutex mutex_;
  std::filesystem::path file_;
  std::string token_;
  struct Stamp {
    unsigned long long dev = 0, ino = 0, size = 0;
    long long mtimeNs = -1;
    bool operator==(const Stamp&) const = default;
  } stamp_;
};

}  // namespace gitfed::kube
