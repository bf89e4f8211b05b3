#pragma once
// Time limits for libgit2's network I/O (internal). libgit2 1.5 has no
// timeouts of its own, so gitfed registers its own socket stream
// (git_stream_register(GIT_STREAM_STANDARD)): connect with a deadline,
// poll-before-read/write with an idle limit (libgit2's git:// transport uses
// it); gitfed's ssh transport (ssh_transport.h) connects with
// connectSocket() and gives the socket to libssh2, with libssh2's own timeout
// per blocking call. For those, and for any operation running past its
// overall deadline, a watchdog shuts the sockets down, which wakes every
// blocked read. gitfed's http(s) transport (http_transport.h, libcurl) reads
// the same limits from the current DeadlineState and enforces them itself.
//
// An OperationDeadline (owned by a RemoteSession) starts the clock; a
// DeadlineScope makes it the calling thread's current deadline around each
// libgit2 network call, and streams opened there register with it.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>

#include "gitfed/git/remote.h"

namespace gitfed::git::detail {

// What a stream needs of its operation's deadline; shared, because a stream
// may outlive the scope that opened it.
struct DeadlineState {
  Timeouts timeouts;
  std::chrono::steady_clock::time_point deadline;
  std::atomic<bool> expired{false};
  std::atomic<bool> ioTimedOut{false};  // a read or write waited longer than timeouts.io
  std::mutex mu;
  std::set<int> sockets;

  // Milliseconds for one connect / one read or write: the configured limit,
  // capped by what is left of the operation (at least 1).
  int connectTimeoutMs() const;
  int ioTimeoutMs() const;
  void addSocket(int fd);
  void removeSocket(int fd);
};

class OperationDeadline {
 public:
  explicit OperationDeadline(const Timeouts& timeouts);
  ~OperationDeadline();
  OperationDeadline(const OperationDeadline&) = delete;
  OperationDeadline& operator=(const OperationDeadline&) = delete;

  // The deadline of the current thread's operation (see DeadlineScope), or null.
  static std::shared_ptr<DeadlineState> current();

  bool expired() const { return state_->expired.load(); }
  const std::shared_ptr<DeadlineState>& state() const { return state_; }

 private:
  void watch();

  std::shared_ptr<DeadlineState> state_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool done_ = false;
  std::thread watchdog_;
};

// Makes `deadline` the calling thread's current one until the scope ends.
class DeadlineScope {
 public:
  explicit DeadlineScope(const OperationDeadline& deadline);
  ~DeadlineScope();
  DeadlineScope(const DeadlineScope&) = delete;
  DeadlineScope& operator=(const DeadlineScope&) = delete;

 private:
  std::shared_ptr<DeadlineState> previous_;
};

// Connects a non-blocking TCP socket (TCP_NODELAY, close-on-exec) to
// host:port within `state`'s connect limit (the default one without a
// state). Returns the fd, or -1 with `error` set ("cannot connect to ...").
int connectSocket(const char* host, const char* port, DeadlineState* state, std::string& error);

// Registers the timed socket stream with libgit2 (after git_libgit2_init).
int registerTimedSocketStream();

}  // namespace gitfed::git::detail
