#include "ssh_transport.h"

#include <git2.h>
#include <git2/sys/credential.h>
#include <git2/sys/transport.h>
#include <libssh2.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <list>
#include <memory>
#include <mutex>
#include <new>
#include <string>
#include <vector>

#include "gitfed/git/url.h"
#include "net.h"

namespace gitfed::git::detail {
namespace {

using SteadyClock = std::chrono::steady_clock;

constexpr auto kIdleLimit = std::chrono::minutes(5);
constexpr std::size_t kMaxIdlePerKey = 4;
constexpr std::size_t kMaxIdle = 16;
constexpr int kProbeTimeoutMs = 5000;  // a pooled connection that does not answer a channel open in time is dead
constexpr int kCloseTimeoutMs = 2000;  // closing a channel cleanly (else the connection is dropped)
constexpr std::size_t kDrainLimit = 64 * 1024;

// ---- one owner per handle ------------------------------------------------------

class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  ~UniqueFd() {
    if (fd_ >= 0) ::close(fd_);
  }
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  int get() const { return fd_; }
  void reset(int fd) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = fd;
  }

 private:
  int fd_ = -1;
};

struct SessionDeleter {
  void operator()(LIBSSH2_SESSION* s) const noexcept {
    libssh2_session_set_timeout(s, 1000);  // a goodbye, never a long wait
    libssh2_session_disconnect(s, "gitfed: closing");
    libssh2_session_free(s);
  }
};
using SessionPtr = std::unique_ptr<LIBSSH2_SESSION, SessionDeleter>;

struct ChannelDeleter {
  void operator()(LIBSSH2_CHANNEL* c) const noexcept { libssh2_channel_free(c); }
};
using ChannelPtr = std::unique_ptr<LIBSSH2_CHANNEL, ChannelDeleter>;

struct CredentialDeleter {
  void operator()(git_credential* c) const noexcept { git_credential_free(c); }
};
using CredentialPtr = std::unique_ptr<git_credential, CredentialDeleter>;

// ---- connections and the pool ----------------------------------------------------

// One authenticated ssh connection. The session is declared after the socket:
// it is freed first.
struct Connection {
  std::string key;    // what it may be reused for: user, host, port, key file
  std::string where;  // "host:port", for messages
  UniqueFd fd;
  SessionPtr session;
  SteadyClock::time_point lastUsed;
};

class Pool {
 public:
  std::unique_ptr<Connection> take(const std::string& key) {
    std::vector<std::unique_ptr<Connection>> expired;  // closed outside the lock
    std::unique_ptr<Connection> found;
    {
      std::lock_guard lock(mu_);
      auto now = SteadyClock::now();
      for (auto it = idle_.begin(); it != idle_.end();) {
        if (now - (*it)->lastUsed > kIdleLimit) {
          expired.push_back(std::move(*it));
          it = idle_.erase(it);
        } else {
          ++it;
        }
      }
      // The most recently used first: the likeliest to be alive.
      for (auto it = idle_.rbegin(); it != idle_.rend(); ++it) {
        if ((*it)->key == key) {
          found = std::move(*it);
          idle_.erase(std::next(it).base());
          break;
        }
      }
    }
    return found;
  }

  void give(std::unique_ptr<Connection> c) {
    std::vector<std::unique_ptr<Connection>> evicted;
    {
      std::lock_guard lock(mu_);
      c->lastUsed = SteadyClock::now();
      const std::string key = c->key;
      idle_.push_back(std::move(c));
      std::size_t same = 0;
      for (const auto& i : idle_) same += i->key == key;
      for (auto it = idle_.begin(); same > kMaxIdlePerKey && it != idle_.end();) {
        if ((*it)->key == key) {
          evicted.push_back(std::move(*it));
          it = idle_.erase(it);
          --same;
        } else {
          ++it;
        }
      }
      while (idle_.size() > kMaxIdle) {
        evicted.push_back(std::move(idle_.front()));
        idle_.pop_front();
      }
    }
  }

  void clear() {
    std::list<std::unique_ptr<Connection>> all;
    {
      std::lock_guard lock(mu_);
      all.swap(idle_);
    }
  }

 private:
  std::mutex mu_;
  std::list<std::unique_ptr<Connection>> idle_;  // oldest first
};

// Never destroyed: unregisterSshTransport() empties it while libssh2 is alive.
Pool& pool() {
  static Pool* p = new Pool;
  return *p;
}

// ---- helpers -------------------------------------------------------------------------

int setSshError(const std::string& message) {
  git_error_set_str(GIT_ERROR_SSH, message.c_str());
  return -1;
}

// "<what>: <libssh2's reason>"; a libssh2 timeout marks the operation's I/O as timed out.
int sessionError(LIBSSH2_SESSION* s, const std::string& what, DeadlineState* deadline) {
  char* msg = nullptr;
  int len = 0;
  int code = libssh2_session_last_error(s, &msg, &len, 0);
  if (code == LIBSSH2_ERROR_TIMEOUT && deadline) deadline->ioTimedOut = true;
  std::string reason = msg && len > 0 ? std::string(msg, static_cast<std::size_t>(len)) : "error " + std::to_string(code);
  return setSshError(what + ": " + reason);
}

int ioTimeoutMs(DeadlineState* deadline) {
  return deadline ? deadline->ioTimeoutMs() : static_cast<int>(Timeouts{}.io.count());
}

void setTimeout(LIBSSH2_SESSION* s, int ms) { libssh2_session_set_timeout(s, std::max(ms, 1)); }

git_cert_ssh_raw_type_t rawType(int libssh2Type) {
  switch (libssh2Type) {
    case LIBSSH2_HOSTKEY_TYPE_RSA: return GIT_CERT_SSH_RAW_TYPE_RSA;
    case LIBSSH2_HOSTKEY_TYPE_DSS: return GIT_CERT_SSH_RAW_TYPE_DSS;
    case LIBSSH2_HOSTKEY_TYPE_ECDSA_256: return GIT_CERT_SSH_RAW_TYPE_KEY_ECDSA_256;
    case LIBSSH2_HOSTKEY_TYPE_ECDSA_384: return GIT_CERT_SSH_RAW_TYPE_KEY_ECDSA_384;
    case LIBSSH2_HOSTKEY_TYPE_ECDSA_521: return GIT_CERT_SSH_RAW_TYPE_KEY_ECDSA_521;
    case LIBSSH2_HOSTKEY_TYPE_ED25519: return GIT_CERT_SSH_RAW_TYPE_KEY_ED25519;
    default: return GIT_CERT_SSH_RAW_TYPE_UNKNOWN;
  }
}

int hexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// The remote command for `url`, as libgit2's own ssh transport builds it: the
// path of an ssh:// URL ("/~user/x" relative to a home), or what follows the
// ':' of an scp-like one, percent-decoded and single-quoted for the shell.
std::string remoteCommand(const char* verb, const char* url, const RemoteUrl& parsed) {
  std::string path = parsed.path;
  if (std::strstr(url, "://") != nullptr && path.starts_with("/~")) path.erase(0, 1);
  std::string decoded;
  for (std::size_t i = 0; i < path.size(); ++i) {
    if (path[i] == '%' && i + 2 < path.size() && hexValue(path[i + 1]) >= 0 && hexValue(path[i + 2]) >= 0) {
      decoded.push_back(static_cast<char>(hexValue(path[i + 1]) * 16 + hexValue(path[i + 2])));
      i += 2;
    } else {
      decoded.push_back(path[i]);
    }
  }
  std::string command = std::string(verb) + " '";
  for (char c : decoded) {
    if (c == '\'') command += "'\\''";
    else command.push_back(c);
  }
  command += "'";
  return command;
}

// A printable one-line version of what the server wrote on stderr.
std::string serverMessage(const char* data, std::size_t len) {
  std::string out;
  for (std::size_t i = 0; i < len; ++i) {
    unsigned char c = static_cast<unsigned char>(data[i]);
    out.push_back(c == '\n' || c == '\r' || c == '\t' ? ' ' : (c < 0x20 || c == 0x7f ? '?' : static_cast<char>(c)));
  }
  while (!out.empty() && out.back() == ' ') out.pop_back();
  return out;
}

// ---- the subtransport and its stream ---------------------------------------------------

class SshSubtransport;
class SshStream;

// C-layout shells that libgit2 sees; `self` leads back to the C++ object.
struct SubtransportShell {
  git_smart_subtransport parent;
  SshSubtransport* self;
};
struct StreamShell {
  git_smart_subtransport_stream parent;
  SshStream* self;
};

class SshStream {
 public:
  SshStream(SshSubtransport* owner, std::unique_ptr<Connection> connection, ChannelPtr channel,
            std::shared_ptr<DeadlineState> deadline);
  ~SshStream();
  SshStream(const SshStream&) = delete;
  SshStream& operator=(const SshStream&) = delete;

  int read(char* buffer, std::size_t size, std::size_t* bytesRead);
  int write(const char* buffer, std::size_t len);
  git_smart_subtransport_stream* handle() { return &shell_.parent; }

 private:
  bool closeCleanly();

  StreamShell shell_{};
  SshSubtransport* owner_;
  std::unique_ptr<Connection> connection_;
  ChannelPtr channel_;
  std::shared_ptr<DeadlineState> deadline_;
  bool broken_ = false;  // an error mid-stream: the connection is not reused
};

class SshSubtransport {
 public:
  explicit SshSubtransport(git_transport* owner) : owner_(owner) {
    shell_.parent.action = [](git_smart_subtransport_stream** out, git_smart_subtransport* t, const char* url,
                              git_smart_service_t service) {
      return reinterpret_cast<SubtransportShell*>(t)->self->action(out, url, service);
    };
    shell_.parent.close = [](git_smart_subtransport*) { return 0; };
    shell_.parent.free = [](git_smart_subtransport* t) { delete reinterpret_cast<SubtransportShell*>(t)->self; };
    shell_.self = this;
  }
  SshSubtransport(const SshSubtransport&) = delete;
  SshSubtransport& operator=(const SshSubtransport&) = delete;

  git_smart_subtransport* handle() { return &shell_.parent; }
  void forget(SshStream* stream) {
    if (current_ == stream) current_ = nullptr;
  }

 private:
  int action(git_smart_subtransport_stream** out, const char* url, git_smart_service_t service);
  int open(git_smart_subtransport_stream** out, const char* url, const char* verb);
  int checkHostKey(Connection& c, const std::string& host);
  int authenticate(Connection& c, CredentialPtr& credential, DeadlineState* deadline);
  std::unique_ptr<Connection> connectNew(const RemoteUrl& url, const std::string& key, CredentialPtr& credential,
                                         DeadlineState* deadline, int& rc);
  ChannelPtr startChannel(Connection& c, const std::string& command, DeadlineState* deadline, int timeoutMs);

  SubtransportShell shell_{};
  git_transport* owner_;
  SshStream* current_ = nullptr;  // owned by the smart transport
};

SshStream::SshStream(SshSubtransport* owner, std::unique_ptr<Connection> connection, ChannelPtr channel,
                     std::shared_ptr<DeadlineState> deadline)
    : owner_(owner), connection_(std::move(connection)), channel_(std::move(channel)), deadline_(std::move(deadline)) {
  shell_.parent.subtransport = owner->handle();
  shell_.parent.read = [](git_smart_subtransport_stream* s, char* buffer, size_t size, size_t* bytesRead) {
    return reinterpret_cast<StreamShell*>(s)->self->read(buffer, size, bytesRead);
  };
  shell_.parent.write = [](git_smart_subtransport_stream* s, const char* buffer, size_t len) {
    return reinterpret_cast<StreamShell*>(s)->self->write(buffer, len);
  };
  shell_.parent.free = [](git_smart_subtransport_stream* s) { delete reinterpret_cast<StreamShell*>(s)->self; };
  shell_.self = this;
}

int SshStream::read(char* buffer, std::size_t size, std::size_t* bytesRead) {
  *bytesRead = 0;
  LIBSSH2_SESSION* s = connection_->session.get();
  setTimeout(s, ioTimeoutMs(deadline_.get()));
  ssize_t n = libssh2_channel_read(channel_.get(), buffer, size);
  if (n < 0) {
    broken_ = true;
    return sessionError(s, "reading from " + connection_->where, deadline_.get());
  }
  if (n == 0) {
    // The command ended: what it wrote on stderr is the reason (e.g. "does
    // not appear to be a git repository").
    char err[1024];
    ssize_t e = libssh2_channel_read_stderr(channel_.get(), err, sizeof err);
    if (e > 0) {
      broken_ = true;
      setSshError(serverMessage(err, static_cast<std::size_t>(e)));
      return GIT_EEOF;
    }
  }
  *bytesRead = static_cast<std::size_t>(n);
  return 0;
}

int SshStream::write(const char* buffer, std::size_t len) {
  LIBSSH2_SESSION* s = connection_->session.get();
  setTimeout(s, ioTimeoutMs(deadline_.get()));
  std::size_t off = 0;
  while (off < len) {
    ssize_t n = libssh2_channel_write(channel_.get(), buffer + off, len - off);
    if (n < 0) {
      broken_ = true;
      return sessionError(s, "writing to " + connection_->where, deadline_.get());
    }
    off += static_cast<std::size_t>(n);
  }
  return 0;
}

// EOF, the rest of the command's output (a little: a flush, an exit status),
// both sides' CLOSE: the connection is then as good as new.
bool SshStream::closeCleanly() {
  if (broken_ || (deadline_ && deadline_->expired.load())) return false;
  LIBSSH2_SESSION* s = connection_->session.get();
  setTimeout(s, std::min(ioTimeoutMs(deadline_.get()), kCloseTimeoutMs));
  LIBSSH2_CHANNEL* c = channel_.get();
  if (libssh2_channel_send_eof(c) < 0) return false;
  char buf[4096];
  std::size_t drained = 0;
  while (!libssh2_channel_eof(c)) {
    ssize_t n = libssh2_channel_read(c, buf, sizeof buf);
    if (n < 0) return false;
    if (n == 0) break;
    drained += static_cast<std::size_t>(n);
    if (drained > kDrainLimit) return false;
  }
  if (libssh2_channel_close(c) < 0) return false;
  if (libssh2_channel_wait_closed(c) < 0) return false;
  return true;
}

SshStream::~SshStream() {
  owner_->forget(this);
  bool reusable = closeCleanly();
  channel_.reset();
  if (deadline_) deadline_->removeSocket(connection_->fd.get());
  if (!reusable || connection_->key.empty() || (deadline_ && deadline_->expired.load())) return;
  try {
    pool().give(std::move(connection_));
  } catch (...) {
    // Out of memory: the connection is simply closed.
  }
}

int SshSubtransport::action(git_smart_subtransport_stream** out, const char* url, git_smart_service_t service) {
  *out = nullptr;
  try {
    switch (service) {
      case GIT_SERVICE_UPLOADPACK_LS: return open(out, url, "git-upload-pack");
      case GIT_SERVICE_RECEIVEPACK_LS: return open(out, url, "git-receive-pack");
      case GIT_SERVICE_UPLOADPACK:
      case GIT_SERVICE_RECEIVEPACK:
        // Stateful: the negotiation continues on the stream that listed the refs.
        if (current_ == nullptr) return setSshError("ssh: no open channel (the refs were not listed first)");
        *out = current_->handle();
        return 0;
    }
    return setSshError("ssh: unknown service");
  } catch (const std::bad_alloc&) {
    git_error_set_oom();
    return -1;
  } catch (...) {
    return setSshError("ssh: internal error");
  }
}

int SshSubtransport::checkHostKey(Connection& c, const std::string& host) {
  LIBSSH2_SESSION* s = c.session.get();
  std::size_t len = 0;
  int type = 0;
  const char* key = libssh2_session_hostkey(s, &len, &type);
  if (key == nullptr || len == 0) return setSshError("ssh: the host key of " + c.where + " is not available");
  git_cert_hostkey cert{};
  cert.parent.cert_type = GIT_CERT_HOSTKEY_LIBSSH2;
  cert.type = GIT_CERT_SSH_RAW;
  cert.raw_type = rawType(type);
  cert.hostkey = key;
  cert.hostkey_len = len;
  if (const char* h = libssh2_hostkey_hash(s, LIBSSH2_HOSTKEY_HASH_MD5)) {
    std::memcpy(cert.hash_md5, h, sizeof cert.hash_md5);
    cert.type = static_cast<git_cert_ssh_t>(cert.type | GIT_CERT_SSH_MD5);
  }
  if (const char* h = libssh2_hostkey_hash(s, LIBSSH2_HOSTKEY_HASH_SHA1)) {
    std::memcpy(cert.hash_sha1, h, sizeof cert.hash_sha1);
    cert.type = static_cast<git_cert_ssh_t>(cert.type | GIT_CERT_SSH_SHA1);
  }
  if (const char* h = libssh2_hostkey_hash(s, LIBSSH2_HOSTKEY_HASH_SHA256)) {
    std::memcpy(cert.hash_sha256, h, sizeof cert.hash_sha256);
    cert.type = static_cast<git_cert_ssh_t>(cert.type | GIT_CERT_SSH_SHA256);
  }
  int rc = git_transport_smart_certificate_check(owner_, &cert.parent, 0, host.c_str());
  if (rc == GIT_PASSTHROUGH) {
    // No callback to ask: nothing vouches for this server.
    git_error_set_str(GIT_ERROR_SSH, ("ssh: nothing verifies the host key of " + c.where).c_str());
    return GIT_ECERTIFICATE;
  }
  if (rc < 0 && git_error_last() == nullptr)
    git_error_set_str(GIT_ERROR_SSH, ("ssh: the host key of " + c.where + " was refused").c_str());
  return rc < 0 ? rc : 0;
}

int SshSubtransport::authenticate(Connection& c, CredentialPtr& credential, DeadlineState* deadline) {
  LIBSSH2_SESSION* s = c.session.get();
  while (true) {
    auto* key = reinterpret_cast<git_credential_ssh_key*>(credential.get());
    const std::string user = key->username ? key->username : "";
    const char* methods = libssh2_userauth_list(s, user.c_str(), static_cast<unsigned>(user.size()));
    if (methods == nullptr) {
      if (libssh2_userauth_authenticated(s)) return 0;  // "none" was enough
      return sessionError(s, "ssh: authenticating to " + c.where, deadline);
    }
    if (std::strstr(methods, "publickey") == nullptr) {
      // The callback says why in its words (no usable method offered).
      git_credential* none = nullptr;
      int rc = git_transport_smart_credentials(&none, owner_, user.c_str(), 0);
      if (none) git_credential_free(none);
      if (rc < 0) return rc;
      git_error_set_str(GIT_ERROR_SSH, ("ssh: " + c.where + " does not accept public-key authentication").c_str());
      return GIT_EAUTH;
    }
    int rc = libssh2_userauth_publickey_fromfile_ex(s, user.c_str(), static_cast<unsigned>(user.size()), key->publickey,
                                                    key->privatekey, key->passphrase);
    if (rc == 0) return 0;
    if (rc != LIBSSH2_ERROR_AUTHENTICATION_FAILED && rc != LIBSSH2_ERROR_PUBLICKEY_UNVERIFIED) {
      if (rc == LIBSSH2_ERROR_FILE) {
        git_error_set_str(GIT_ERROR_SSH,
                          ("ssh: cannot use the key file " + std::string(key->privatekey ? key->privatekey : "") +
                           " (unreadable, not a private key, or a wrong passphrase)")
                              .c_str());
        return GIT_EAUTH;
      }
      return sessionError(s, "ssh: authenticating to " + c.where, deadline);
    }
    // Refused: the callback decides whether to try again (gitfed's refuses a
    // second attempt, naming the key and the user).
    git_credential* next = nullptr;
    rc = git_transport_smart_credentials(&next, owner_, user.c_str(), GIT_CREDENTIAL_SSH_KEY);
    CredentialPtr again(next);
    if (rc < 0 && rc != GIT_PASSTHROUGH) return rc;
    if (rc == GIT_PASSTHROUGH || !again) {
      git_error_set_str(GIT_ERROR_SSH, ("ssh: " + c.where + " refused the key for user " + user).c_str());
      return GIT_EAUTH;
    }
    credential = std::move(again);
    if (credential->credtype != GIT_CREDENTIAL_SSH_KEY) {
      git_error_set_str(GIT_ERROR_SSH, "ssh: only key authentication is supported");
      return GIT_EAUTH;
    }
  }
}

std::unique_ptr<Connection> SshSubtransport::connectNew(const RemoteUrl& url, const std::string& key,
                                                        CredentialPtr& credential, DeadlineState* deadline, int& rc) {
  auto c = std::make_unique<Connection>();
  c->key = key;
  const std::string port = std::to_string(url.effectivePort());
  c->where = url.host + ":" + port;
  std::string error;
  int fd = connectSocket(url.host.c_str(), port.c_str(), deadline, error);
  if (fd < 0) {
    rc = setSshError(error);
    return nullptr;
  }
  c->fd.reset(fd);
  if (deadline) deadline->addSocket(fd);
  auto fail = [&](int code) {
    if (deadline) deadline->removeSocket(fd);
    rc = code;
    return nullptr;
  };
  c->session.reset(libssh2_session_init());
  if (!c->session) return fail(setSshError("ssh: cannot create a session"));
  LIBSSH2_SESSION* s = c->session.get();
  libssh2_session_set_blocking(s, 1);
  setTimeout(s, ioTimeoutMs(deadline));
  if (libssh2_session_handshake(s, fd) != 0)
    return fail(sessionError(s, "ssh: handshake with " + c->where + " failed", deadline));
  if (int r = checkHostKey(*c, url.host); r < 0) return fail(r);
  if (int r = authenticate(*c, credential, deadline); r < 0) return fail(r);
  return c;
}

ChannelPtr SshSubtransport::startChannel(Connection& c, const std::string& command, DeadlineState* deadline,
                                         int timeoutMs) {
  LIBSSH2_SESSION* s = c.session.get();
  setTimeout(s, timeoutMs);
  ChannelPtr channel(libssh2_channel_open_session(s));
  if (!channel) {
    sessionError(s, "ssh: cannot open a channel to " + c.where, deadline);
    return nullptr;
  }
  setTimeout(s, ioTimeoutMs(deadline));
  if (libssh2_channel_process_startup(channel.get(), "exec", 4, command.data(),
                                      static_cast<unsigned>(command.size())) != 0) {
    sessionError(s, "ssh: " + c.where + " did not start " + command.substr(0, command.find(' ')), deadline);
    return nullptr;
  }
  return channel;
}

int SshSubtransport::open(git_smart_subtransport_stream** out, const char* url, const char* verb) {
  auto parsed = parseRemoteUrl(url);
  if (!parsed) return setSshError("ssh: " + parsed.error().message);
  if (parsed->scheme != RemoteUrl::Scheme::Ssh) return setSshError("ssh: not an ssh URL");
  const std::string command = remoteCommand(verb, url, *parsed);
  std::shared_ptr<DeadlineState> deadline = OperationDeadline::current();

  // The key and user this operation would authenticate with (from files, by
  // the remote's credentials callback); the connection must match them.
  git_credential* raw = nullptr;
  const std::string urlUser = parsed->user;
  int rc = git_transport_smart_credentials(&raw, owner_, urlUser.empty() ? nullptr : urlUser.c_str(),
                                           GIT_CREDENTIAL_SSH_KEY);
  CredentialPtr credential(raw);
  if (rc == GIT_PASSTHROUGH || (rc >= 0 && !credential)) {
    git_error_set_str(GIT_ERROR_SSH, "ssh: no credentials are configured");
    return GIT_EAUTH;
  }
  if (rc < 0) return rc;
  if (credential->credtype != GIT_CREDENTIAL_SSH_KEY) {
    git_error_set_str(GIT_ERROR_SSH, "ssh: only key authentication is supported");
    return GIT_EAUTH;
  }
  auto* keyCred = reinterpret_cast<git_credential_ssh_key*>(credential.get());
  std::string key;
  {
    struct stat st {};
    bool identified = keyCred->privatekey && ::stat(keyCred->privatekey, &st) == 0;
    key = std::string(keyCred->username ? keyCred->username : "") + '\n' + parsed->host + '\n' +
          std::to_string(parsed->effectivePort()) + '\n' + (keyCred->privatekey ? keyCred->privatekey : "") + '\n' +
          (keyCred->publickey ? keyCred->publickey : "") + '\n' + std::to_string(st.st_dev) + ':' +
          std::to_string(st.st_ino) + ':' + std::to_string(st.st_size) + ':' + std::to_string(st.st_mtim.tv_sec) +
          '.' + std::to_string(st.st_mtim.tv_nsec);
    if (!identified) key.clear();  // no reuse without knowing the key file
  }

  std::unique_ptr<Connection> connection;
  ChannelPtr channel;
  if (!key.empty()) {
    if (auto pooled = pool().take(key)) {
      if (deadline) deadline->addSocket(pooled->fd.get());
      // The host key is what it was at the handshake: it is checked against
      // the known_hosts file as it is now. A refusal is final.
      if (int r = checkHostKey(*pooled, parsed->host); r < 0) {
        if (deadline) deadline->removeSocket(pooled->fd.get());
        return r;
      }
      channel = startChannel(*pooled, command, deadline.get(), std::min(ioTimeoutMs(deadline.get()), kProbeTimeoutMs));
      if (channel) {
        connection = std::move(pooled);
      } else {
        // Dead (the server went away while it was idle): connect again.
        if (deadline) {
          deadline->removeSocket(pooled->fd.get());
          deadline->ioTimedOut = false;
        }
        git_error_clear();
      }
    }
  }
  if (!connection) {
    int r = 0;
    connection = connectNew(*parsed, key, credential, deadline.get(), r);
    if (!connection) return r < 0 ? r : -1;
    channel = startChannel(*connection, command, deadline.get(), ioTimeoutMs(deadline.get()));
    if (!channel) {
      if (deadline) deadline->removeSocket(connection->fd.get());
      return -1;
    }
  }
  auto* stream = new SshStream(this, std::move(connection), std::move(channel), deadline);
  current_ = stream;
  *out = stream->handle();
  return 0;
}

int createSubtransport(git_smart_subtransport** out, git_transport* owner, void*) {
  auto* t = new (std::nothrow) SshSubtransport(owner);
  if (t == nullptr) {
    git_error_set_oom();
    return -1;
  }
  *out = t->handle();
  return 0;
}

int createTransport(git_transport** out, git_remote* owner, void*) {
  static git_smart_subtransport_definition definition = {createSubtransport, 0 /* stateful */, nullptr};
  return git_transport_smart(out, owner, &definition);
}

constexpr const char* kSchemes[] = {"ssh", "ssh+git", "git+ssh"};

}  // namespace

int registerSshTransport() {
  for (const char* scheme : kSchemes) {
    int rc = git_transport_register(scheme, createTransport, nullptr);
    if (rc == GIT_EEXISTS) {
      git_error_clear();
      continue;
    }
    if (rc < 0) return rc;
  }
  return 0;
}

void unregisterSshTransport() {
  pool().clear();
  for (const char* scheme : kSchemes) git_transport_unregister(scheme);
  git_error_clear();
}

}  // namespace gitfed::git::detail
