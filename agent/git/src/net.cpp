#include "net.h"

#include <git2.h>
#include <git2/sys/stream.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <new>
#include <string>

namespace gitfed::git::detail {
namespace {

thread_local std::shared_ptr<DeadlineState> tCurrent;

// The first four members have the layout of libgit2's own git_socket_stream
// (streams/socket.h, unchanged from 1.0 to 1.8): libgit2 1.5's own ssh
// transport takes the socket of the stream it created from there to give it to
// libssh2. gitfed registers its own ssh transport (ssh_transport.h), so this
// matters only if that registration is ever dropped.
struct TimedSocket {
  git_stream parent;
  char* host;
  char* port;
  int s;
  // gitfed's own fields follow.
  std::shared_ptr<DeadlineState>* deadline;  // owned; null without an operation
};

int setError(const std::string& message) {
  git_error_set_str(GIT_ERROR_NET, message.c_str());
  return -1;
}

std::string where(const TimedSocket* st) { return std::string(st->host) + ":" + st->port; }

DeadlineState* stateOf(const TimedSocket* st) { return st->deadline ? st->deadline->get() : nullptr; }
bool expired(const TimedSocket* st) { return stateOf(st) && stateOf(st)->expired.load(); }

int ioTimeout(const TimedSocket* st) {
  return stateOf(st) ? stateOf(st)->ioTimeoutMs() : static_cast<int>(Timeouts{}.io.count());
}

int timedConnect(git_stream* stream) {
  auto* st = reinterpret_cast<TimedSocket*>(stream);
  std::string error;
  int fd = connectSocket(st->host, st->port, stateOf(st), error);
  if (fd < 0) return setError(error);
  st->s = fd;
  if (stateOf(st)) stateOf(st)->addSocket(fd);
  return 0;
}

// Waits until `fd` is ready for `events`; 0 on ready, else sets the error.
int waitReady(TimedSocket* st, short events, const char* what) {
  int timeout = ioTimeout(st);
  pollfd pfd{st->s, events, 0};
  int rc;
  do rc = ::poll(&pfd, 1, timeout);
  while (rc < 0 && errno == EINTR);
  if (rc == 0) {
    if (stateOf(st)) stateOf(st)->ioTimedOut = true;
    return setError(std::string(what) + " " + where(st) + " timed out after " + std::to_string(timeout) + " ms");
  }
  if (rc < 0) return setError(std::string(what) + " " + where(st) + ": " + std::strerror(errno));
  return 0;
}

ssize_t timedRead(git_stream* stream, void* data, size_t len) {
  auto* st = reinterpret_cast<TimedSocket*>(stream);
  while (true) {
    if (expired(st)) return setError("reading from " + where(st) + ": the operation's deadline passed");
    ssize_t n = ::recv(st->s, data, len, 0);
    if (n >= 0) return n;
    if (errno == EINTR) continue;
    if (errno != EAGAIN && errno != EWOULDBLOCK) return setError("reading from " + where(st) + ": " + std::strerror(errno));
    if (waitReady(st, POLLIN, "reading from") < 0) return -1;
  }
}

ssize_t timedWrite(git_stream* stream, const char* data, size_t len, int flags) {
  auto* st = reinterpret_cast<TimedSocket*>(stream);
  (void)flags;
  while (true) {
    if (expired(st)) return setError("writing to " + where(st) + ": the operation's deadline passed");
    ssize_t n = ::send(st->s, data, len, MSG_NOSIGNAL);
    if (n >= 0) return n;
    if (errno == EINTR) continue;
    if (errno != EAGAIN && errno != EWOULDBLOCK) return setError("writing to " + where(st) + ": " + std::strerror(errno));
    if (waitReady(st, POLLOUT, "writing to") < 0) return -1;
  }
}

int timedClose(git_stream* stream) {
  auto* st = reinterpret_cast<TimedSocket*>(stream);
  if (st->s >= 0) {
    if (stateOf(st)) stateOf(st)->removeSocket(st->s);
    ::close(st->s);
    st->s = -1;
  }
  return 0;
}

void timedFree(git_stream* stream) {
  auto* st = reinterpret_cast<TimedSocket*>(stream);
  timedClose(stream);
  delete st->deadline;
  std::free(st->host);
  std::free(st->port);
  std::free(st);
}

int timedInit(git_stream** out, const char* host, const char* port) {
  auto* st = static_cast<TimedSocket*>(std::calloc(1, sizeof(TimedSocket)));
  if (st == nullptr) {
    git_error_set_oom();
    return -1;
  }
  st->host = ::strdup(host);
  st->port = ::strdup(port ? port : "");
  if (!st->host || !st->port) {
    timedFree(&st->parent);
    git_error_set_oom();
    return -1;
  }
  st->s = -1;
  if (auto current = OperationDeadline::current()) st->deadline = new (std::nothrow) std::shared_ptr<DeadlineState>(current);
  st->parent.version = GIT_STREAM_VERSION;
  st->parent.connect = timedConnect;
  st->parent.read = timedRead;
  st->parent.write = timedWrite;
  st->parent.close = timedClose;
  st->parent.free = timedFree;
  *out = &st->parent;
  return 0;
}

}  // namespace

int connectSocket(const char* host, const char* port, DeadlineState* state, std::string& error) {
  const std::string where = std::string(host) + ":" + port;
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_family = AF_UNSPEC;
  addrinfo* info = nullptr;
  if (int rc = getaddrinfo(host, port, &hints, &info); rc != 0) {
    error = "cannot resolve " + std::string(host) + ": " + gai_strerror(rc);
    return -1;
  }
  std::string lastError = "no address";
  int fd = -1;
  for (addrinfo* p = info; p != nullptr; p = p->ai_next) {
    if (state && state->expired.load()) {
      lastError = "the operation's deadline passed";
      break;
    }
    fd = ::socket(p->ai_family, p->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, p->ai_protocol);
    if (fd < 0) {
      lastError = std::strerror(errno);
      continue;
    }
    int rc = ::connect(fd, p->ai_addr, p->ai_addrlen);
    if (rc != 0 && errno == EINPROGRESS) {
      pollfd pfd{fd, POLLOUT, 0};
      int timeout = state ? state->connectTimeoutMs() : static_cast<int>(Timeouts{}.connect.count());
      do rc = ::poll(&pfd, 1, timeout);
      while (rc < 0 && errno == EINTR);
      if (rc == 0) {
        lastError = "timed out after " + std::to_string(timeout) + " ms";
        rc = -1;
      } else if (rc > 0) {
        int soError = 0;
        socklen_t len = sizeof soError;
        ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &soError, &len);
        if (soError != 0) lastError = std::strerror(soError);
        rc = soError == 0 ? 0 : -1;
      } else {
        lastError = std::strerror(errno);
      }
    } else if (rc != 0) {
      lastError = std::strerror(errno);
    }
    if (rc == 0) break;
    ::close(fd);
    fd = -1;
  }
  freeaddrinfo(info);
  if (fd < 0) {
    error = "cannot connect to " + where + ": " + lastError;
    return -1;
  }
  // TLS and ssh write their handshakes in several small records: without
  // TCP_NODELAY, Nagle's algorithm holds the last ones until the server's
  // delayed ACK, 40 ms per handshake on Linux.
  int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  return fd;
}

OperationDeadline::OperationDeadline(const Timeouts& timeouts) : state_(std::make_shared<DeadlineState>()) {
  state_->timeouts = timeouts;
  state_->deadline = std::chrono::steady_clock::now() + timeouts.operation;
  watchdog_ = std::thread([this] { watch(); });
}

OperationDeadline::~OperationDeadline() {
  {
    std::lock_guard lock(mu_);
    done_ = true;
  }
  cv_.notify_all();
  watchdog_.join();
}

DeadlineScope::DeadlineScope(const OperationDeadline& deadline) : previous_(tCurrent) { tCurrent = deadline.state(); }
DeadlineScope::~DeadlineScope() { tCurrent = previous_; }

std::shared_ptr<DeadlineState> OperationDeadline::current() { return tCurrent; }

void OperationDeadline::watch() {
  std::unique_lock lock(mu_);
  if (cv_.wait_until(lock, state_->deadline, [this] { return done_; })) return;
  std::lock_guard sockets(state_->mu);
  state_->expired = true;
  // Wakes every blocked read or write on these sockets (ours and
  // libssh2's alike); the fds stay open until their stream closes them.
  for (int fd : state_->sockets) ::shutdown(fd, SHUT_RDWR);
}

namespace {
int capped(const DeadlineState& s, std::chrono::milliseconds limit) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(s.deadline - std::chrono::steady_clock::now());
  auto ms = std::min(limit, left).count();
  return static_cast<int>(std::max<long long>(ms, 1));
}
}  // namespace

int DeadlineState::connectTimeoutMs() const { return capped(*this, timeouts.connect); }
int DeadlineState::ioTimeoutMs() const { return capped(*this, timeouts.io); }

void DeadlineState::addSocket(int fd) {
  std::lock_guard lock(mu);
  sockets.insert(fd);
  if (expired) ::shutdown(fd, SHUT_RDWR);
}

void DeadlineState::removeSocket(int fd) {
  std::lock_guard lock(mu);
  sockets.erase(fd);
}

int registerTimedSocketStream() {
  git_stream_registration registration{};
  registration.version = GIT_STREAM_VERSION;
  registration.init = timedInit;
  registration.wrap = nullptr;
  return git_stream_register(GIT_STREAM_STANDARD, &registration);
}

}  // namespace gitfed::git::detail
