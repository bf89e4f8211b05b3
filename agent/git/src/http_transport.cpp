#include "http_transport.h"

#include <curl/curl.h>
#include <git2.h>
#include <git2/sys/credential.h>
#include <git2/sys/remote.h>
#include <git2/sys/transport.h>
#include <strings.h>

#include <algorithm>
#include <chrono>
#include <memory>
#include <mutex>
#include <new>
#include <optional>
#include <string>
#include <vector>

#include "net.h"
#include "session.h"

namespace gitfed::git::detail {
namespace {

using Clock = std::chrono::steady_clock;

constexpr const char* kSystemCaBundle = "/etc/ssl/certs/ca-certificates.crt";
constexpr std::size_t kMaxIdle = 4;  // pooled handles kept (each with its own connections)

template <class T, auto Free>
struct CurlDeleter {
  void operator()(T* p) const noexcept {
    if (p) Free(p);
  }
};
using EasyPtr = std::unique_ptr<CURL, CurlDeleter<CURL, curl_easy_cleanup>>;
using MultiPtr = std::unique_ptr<CURLM, CurlDeleter<CURLM, curl_multi_cleanup>>;
using SlistPtr = std::unique_ptr<curl_slist, CurlDeleter<curl_slist, curl_slist_free_all>>;
using UrlPtr = std::unique_ptr<CURLU, CurlDeleter<CURLU, curl_url_cleanup>>;

// One connection cache: libcurl keeps connections in the multi handle that
// ran the transfer, so a pooled entry is a multi handle with its easy handle.
struct Handles {
  MultiPtr multi;
  EasyPtr easy;
  ~Handles() {
    if (multi && easy) curl_multi_remove_handle(multi.get(), easy.get());
    multi.reset();  // closes the connections while the easy handle still exists
  }
};

class Pool {
 public:
  std::unique_ptr<Handles> take() {
    {
      std::lock_guard lock(mu_);
      if (!idle_.empty()) {
        auto h = std::move(idle_.back());
        idle_.pop_back();
        return h;
      }
    }
    auto h = std::make_unique<Handles>();
    h->multi.reset(curl_multi_init());
    h->easy.reset(curl_easy_init());
    if (!h->multi || !h->easy) return nullptr;
    return h;
  }
  void give(std::unique_ptr<Handles> h) {
    std::lock_guard lock(mu_);
    if (idle_.size() < kMaxIdle) idle_.push_back(std::move(h));
  }
  void clear() {
    std::vector<std::unique_ptr<Handles>> gone;
    std::lock_guard lock(mu_);
    gone.swap(idle_);
  }

 private:
  std::mutex mu_;
  std::vector<std::unique_ptr<Handles>> idle_;
};

Pool& pool() {
  static Pool* p = new Pool();  // never destroyed: unregisterHttpTransport() empties it
  return *p;
}

int setNetError(const std::string& message) {
  git_error_set_str(GIT_ERROR_NET, message.c_str());
  return -1;
}

// The operation's failure, with a code (RemoteSession::error reports it).
int failWith(CallbackContext* ctx, ErrorCode code, const std::string& message) {
  if (ctx && !ctx->failure) ctx->failure = Error{code, {}, message};
  return setNetError(message);
}

bool startsWithNoCase(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && strncasecmp(s.data(), prefix.data(), prefix.size()) == 0;
}

// scheme://host[:port] of a URL, without anything that could be a credential.
std::string originOf(const char* url) {
  UrlPtr u(curl_url());
  if (!u || curl_url_set(u.get(), CURLUPART_URL, url, 0) != CURLUE_OK) return "an unparseable location";
  std::string out;
  char* part = nullptr;
  if (curl_url_get(u.get(), CURLUPART_SCHEME, &part, 0) == CURLUE_OK) {
    out = std::string(part) + "://";
    curl_free(part);
  }
  if (curl_url_get(u.get(), CURLUPART_HOST, &part, 0) == CURLUE_OK) {
    out += part;
    curl_free(part);
  }
  if (curl_url_get(u.get(), CURLUPART_PORT, &part, 0) == CURLUE_OK) {
    out += std::string(":") + part;
    curl_free(part);
  }
  return out;
}

class HttpSubtransport;

struct SubtransportShell {
  git_smart_subtransport parent;
  HttpSubtransport* self;
};
struct StreamShell {
  git_smart_subtransport_stream parent;
  class HttpStream* self;
};

// What one operation (one libgit2 remote connection) needs of its remote:
// read once from the connect options when the first request starts.
struct RemoteSetup {
  CallbackContext* ctx = nullptr;  // RemoteSession's; null if the remote is not ours
  std::vector<std::string> headers;  // custom headers (the Authorization header among them)
};

class HttpSubtransport {
 public:
  explicit HttpSubtransport(git_transport* owner) : owner_(owner) {
    shell_.parent.action = [](git_smart_subtransport_stream** out, git_smart_subtransport* t, const char* url,
                              git_smart_service_t service) {
      return reinterpret_cast<SubtransportShell*>(t)->self->action(out, url, service);
    };
    shell_.parent.close = [](git_smart_subtransport*) { return 0; };
    shell_.parent.free = [](git_smart_subtransport* t) { delete reinterpret_cast<SubtransportShell*>(t)->self; };
    shell_.self = this;
  }
  ~HttpSubtransport() { wipe(password_); }
  HttpSubtransport(const HttpSubtransport&) = delete;
  HttpSubtransport& operator=(const HttpSubtransport&) = delete;

  git_smart_subtransport* handle() { return &shell_.parent; }
  git_transport* owner() const { return owner_; }
  Result<const RemoteSetup*> setup();

  // Credentials given by the credentials callback after a 401 (they replace
  // any Authorization header for the rest of the operation).
  bool hasCredentials() const { return !user_.empty(); }
  const std::string& user() const { return user_; }
  const std::string& password() const { return password_; }
  // Asks the credentials callback; < 0: refused (the context says why).
  int askCredentials();

 private:
  static void wipe(std::string& s) {
    volatile char* p = s.data();
    for (std::size_t i = 0; i < s.size(); ++i) p[i] = 0;
    s.clear();
  }
  int action(git_smart_subtransport_stream** out, const char* url, git_smart_service_t service);

  SubtransportShell shell_{};
  git_transport* owner_;
  std::optional<RemoteSetup> setup_;
  std::string user_, password_;
};

class HttpStream {
 public:
  HttpStream(HttpSubtransport* owner, std::string url, std::string service, bool post)
      : owner_(owner), url_(std::move(url)), service_(std::move(service)), post_(post) {
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
  ~HttpStream();
  HttpStream(const HttpStream&) = delete;
  HttpStream& operator=(const HttpStream&) = delete;

  git_smart_subtransport_stream* handle() { return &shell_.parent; }

 private:
  int read(char* buffer, std::size_t size, std::size_t* bytesRead);
  int write(const char* buffer, std::size_t len);
  int start();
  int pump();
  int finish();
  int requestFailed(CURLcode result);
  static std::size_t onData(char* data, std::size_t size, std::size_t n, void* self);
  static int onProgress(void* self, curl_off_t, curl_off_t dlnow, curl_off_t, curl_off_t ulnow);
  bool acceptResponse();
  std::string expectedType() const {
    return "application/x-git-" + service_ + (post_ ? "-result" : "-advertisement");
  }

  StreamShell shell_{};
  HttpSubtransport* owner_;
  std::string url_;
  std::string service_;  // "upload-pack" or "receive-pack"
  bool post_;
  const RemoteSetup* setup_ = nullptr;
  std::shared_ptr<DeadlineState> deadline_;

  std::unique_ptr<Handles> handles_;
  SlistPtr headers_;
  std::string body_;   // the request (libgit2 writes it whole before reading)
  std::string in_;     // received, not yet read by libgit2
  std::size_t inPos_ = 0;
  char curlError_[CURL_ERROR_SIZE] = {};

  bool started_ = false;
  bool done_ = false;
  bool broken_ = false;   // not to be reused
  bool checked_ = false;  // status and type looked at (first body byte, or the end)
  bool refusedBody_ = false;  // the body of a non-200 answer: not passed on
  long status_ = 0;
  std::string contentType_;
  int authRounds_ = 0;
  Clock::time_point lastActivity_{};
  curl_off_t lastDown_ = 0, lastUp_ = 0;
};

Result<const RemoteSetup*> HttpSubtransport::setup() {
  if (setup_) return &*setup_;
  git_remote_connect_options opts;
  if (git_remote_connect_options_init(&opts, GIT_REMOTE_CONNECT_OPTIONS_VERSION) < 0 ||
      git_transport_remote_connect_options(&opts, owner_) < 0)
    return fail(ErrorCode::Internal, "http: cannot read the remote's connect options");
  RemoteSetup s;
  if (opts.callbacks.credentials != nullptr) s.ctx = static_cast<CallbackContext*>(opts.callbacks.payload);
  for (std::size_t i = 0; i < opts.custom_headers.count; ++i) s.headers.emplace_back(opts.custom_headers.strings[i]);
  git_remote_connect_options_dispose(&opts);
  // Only RemoteSession's remotes (its callbacks, its options) use this transport.
  if (s.ctx == nullptr || s.ctx->tag != CallbackContext::kTag)
    return fail(ErrorCode::Internal, "http: a remote without gitfed's callbacks");
  setup_ = std::move(s);
  return &*setup_;
}

int HttpSubtransport::askCredentials() {
  git_credential* cred = nullptr;
  int rc = git_transport_smart_credentials(&cred, owner_, nullptr, GIT_CREDENTIAL_USERPASS_PLAINTEXT);
  if (rc < 0) return rc;
  if (rc == GIT_PASSTHROUGH || cred == nullptr || cred->credtype != GIT_CREDENTIAL_USERPASS_PLAINTEXT) {
    if (cred) git_credential_free(cred);
    return failWith(setup_ ? setup_->ctx : nullptr, ErrorCode::Auth,
                    "the server requires authentication (HTTP 401) and no credentials were given");
  }
  auto* plain = reinterpret_cast<git_credential_userpass_plaintext*>(cred);
  wipe(password_);
  user_ = plain->username ? plain->username : "";
  password_ = plain->password ? plain->password : "";
  git_credential_free(cred);  // libgit2 wipes the password it held
  return 0;
}

int HttpSubtransport::action(git_smart_subtransport_stream** out, const char* url, git_smart_service_t service) {
  *out = nullptr;
  try {
    std::string base = url ? url : "";
    while (!base.empty() && base.back() == '/') base.pop_back();
    HttpStream* stream = nullptr;
    switch (service) {
      case GIT_SERVICE_UPLOADPACK_LS:
        stream = new HttpStream(this, base + "/info/refs?service=git-upload-pack", "upload-pack", false);
        break;
      case GIT_SERVICE_UPLOADPACK:
        stream = new HttpStream(this, base + "/git-upload-pack", "upload-pack", true);
        break;
      case GIT_SERVICE_RECEIVEPACK_LS:
        stream = new HttpStream(this, base + "/info/refs?service=git-receive-pack", "receive-pack", false);
        break;
      case GIT_SERVICE_RECEIVEPACK:
        stream = new HttpStream(this, base + "/git-receive-pack", "receive-pack", true);
        break;
    }
    if (stream == nullptr) return setNetError("http: unknown service");
    *out = stream->handle();
    return 0;
  } catch (const std::bad_alloc&) {
    git_error_set_oom();
    return -1;
  } catch (...) {
    return setNetError("http: internal error");
  }
}

HttpStream::~HttpStream() {
  if (!handles_) return;
  // libgit2 lets go of a stream once it has what it needs (the refs up to
  // their flush, the report of a push): the end of the response may still be
  // on its way. A little of it is read, so that the connection can be reused.
  if (started_ && !done_ && !broken_) {
    const auto until = Clock::now() + std::chrono::milliseconds(200);
    refusedBody_ = true;  // discarded from here on
    in_.clear();
    inPos_ = 0;
    while (!done_ && !broken_ && Clock::now() < until && lastDown_ < (1 << 20)) {
      if (pump() < 0) break;
    }
    git_error_clear();
  }
  curl_multi_remove_handle(handles_->multi.get(), handles_->easy.get());
  // A request that ended cleanly leaves its connection for the next one.
  if (done_ && !broken_) pool().give(std::move(handles_));
}

int HttpStream::write(const char* buffer, std::size_t len) {
  if (!post_ || started_) return setNetError("http: the request was already sent");
  try {
    body_.append(buffer, len);
  } catch (const std::bad_alloc&) {
    git_error_set_oom();
    return -1;
  }
  return 0;
}

std::size_t HttpStream::onData(char* data, std::size_t size, std::size_t n, void* self) {
  auto* s = static_cast<HttpStream*>(self);
  const std::size_t len = size * n;
  s->lastActivity_ = Clock::now();
  if (!s->checked_ && !s->acceptResponse()) {
    s->refusedBody_ = true;  // a 401, 404 or error page: read to the end, passed on to nobody
    return len;
  }
  if (s->refusedBody_) return len;
  try {
    if (s->inPos_ == s->in_.size()) {
      s->in_.clear();
      s->inPos_ = 0;
    }
    s->in_.append(data, len);
  } catch (...) {
    return 0;  // aborts the transfer (CURLE_WRITE_ERROR)
  }
  return len;
}

int HttpStream::onProgress(void* self, curl_off_t, curl_off_t dlnow, curl_off_t, curl_off_t ulnow) {
  auto* s = static_cast<HttpStream*>(self);
  if (dlnow != s->lastDown_ || ulnow != s->lastUp_) {
    s->lastDown_ = dlnow;
    s->lastUp_ = ulnow;
    s->lastActivity_ = Clock::now();
  }
  return 0;
}

// The status line and headers are in: a 200 of the smart protocol's type is
// passed on; anything else is judged when the request ends.
bool HttpStream::acceptResponse() {
  checked_ = true;
  CURL* e = handles_->easy.get();
  curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status_);
  char* type = nullptr;
  curl_easy_getinfo(e, CURLINFO_CONTENT_TYPE, &type);
  contentType_ = type ? type : "";
  return status_ == 200 && startsWithNoCase(contentType_, expectedType());
}

int HttpStream::start() {
  auto setup = owner_->setup();
  if (!setup) return setNetError(setup.error().message);
  setup_ = *setup;
  deadline_ = OperationDeadline::current();
  if (!handles_) {
    handles_ = pool().take();
    if (!handles_) return setNetError("http: cannot create a libcurl handle");
  }
  CURL* e = handles_->easy.get();
  curl_easy_reset(e);  // options only: the connection cache stays
  const Credentials& creds = setup_->ctx->options.credentials;

  curl_slist* list = nullptr;
  auto add = [&](const std::string& h) {
    if (auto* next = curl_slist_append(list, h.c_str())) list = next;
  };
  for (const auto& h : setup_->headers)
    if (!(owner_->hasCredentials() && startsWithNoCase(h, "authorization:"))) add(h);
  if (post_) {
    add("Content-Type: application/x-git-" + service_ + "-request");
    add("Accept: application/x-git-" + service_ + "-result");
  } else {
    add("Accept: */*");
  }
  add("Expect:");  // the body is small and in memory: no 100-continue round trip
  add("Pragma: no-cache");
  headers_.reset(list);

  curl_easy_setopt(e, CURLOPT_URL, url_.c_str());
  curl_easy_setopt(e, CURLOPT_HTTPHEADER, headers_.get());
  curl_easy_setopt(e, CURLOPT_USERAGENT, "git/2.0 (gitfed)");
  curl_easy_setopt(e, CURLOPT_HTTP_VERSION, CURL_HTTP_VERSION_1_1);
  curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(e, CURLOPT_PROXY, "");  // never a proxy from the environment
  curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(e, CURLOPT_TCP_NODELAY, 1L);
  curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, "");  // gzip if the server offers it
  curl_easy_setopt(e, CURLOPT_ERRORBUFFER, curlError_);
  curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, &HttpStream::onData);
  curl_easy_setopt(e, CURLOPT_WRITEDATA, this);
  curl_easy_setopt(e, CURLOPT_NOPROGRESS, 0L);
  curl_easy_setopt(e, CURLOPT_XFERINFOFUNCTION, &HttpStream::onProgress);
  curl_easy_setopt(e, CURLOPT_XFERINFODATA, this);
  // TLS: the configured CA file only, the URL's host only.
  std::string ca = creds.caFile.empty() ? std::string(kSystemCaBundle) : creds.caFile.string();
  curl_easy_setopt(e, CURLOPT_CAINFO, ca.c_str());
  curl_easy_setopt(e, CURLOPT_CAPATH, nullptr);
  curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 1L);
  curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 2L);
  if (owner_->hasCredentials()) {
    curl_easy_setopt(e, CURLOPT_HTTPAUTH, CURLAUTH_BASIC);
    curl_easy_setopt(e, CURLOPT_USERNAME, owner_->user().c_str());
    curl_easy_setopt(e, CURLOPT_PASSWORD, owner_->password().c_str());
  }
  if (post_) {
    curl_easy_setopt(e, CURLOPT_POST, 1L);
    curl_easy_setopt(e, CURLOPT_POSTFIELDS, body_.data());
    curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body_.size()));
  }
  if (deadline_) {
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(deadline_->connectTimeoutMs()));
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline_->deadline - Clock::now()).count();
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, static_cast<long>(std::max<long long>(left, 1)));
  }

  started_ = true;
  done_ = false;
  checked_ = false;
  refusedBody_ = false;
  status_ = 0;
  lastDown_ = lastUp_ = 0;
  lastActivity_ = Clock::now();
  curlError_[0] = '\0';
  if (curl_multi_add_handle(handles_->multi.get(), e) != CURLM_OK) {
    broken_ = true;
    return setNetError("http: cannot start the request");
  }
  return 0;
}

// Moves the transfer on until there is data for libgit2 or it ends.
int HttpStream::pump() {
  CURLM* m = handles_->multi.get();
  int running = 0;
  if (curl_multi_perform(m, &running) != CURLM_OK) {
    broken_ = true;
    return setNetError("http: libcurl failed");
  }
  int queued = 0;
  while (CURLMsg* msg = curl_multi_info_read(m, &queued)) {
    if (msg->msg != CURLMSG_DONE) continue;
    done_ = true;
    if (msg->data.result != CURLE_OK) return requestFailed(msg->data.result);
  }
  if (done_ || inPos_ < in_.size()) return 0;

  const auto now = Clock::now();
  if (deadline_) {
    if (deadline_->expired.load() || now >= deadline_->deadline) {
      deadline_->expired = true;
      broken_ = true;
      return setNetError("timed out");
    }
    if (now - lastActivity_ > deadline_->timeouts.io) {
      deadline_->ioTimedOut = true;
      broken_ = true;
      return setNetError("no data from " + originOf(url_.c_str()));
    }
  }
  if (curl_multi_poll(m, nullptr, 0, 100, nullptr) != CURLM_OK) {
    broken_ = true;
    return setNetError("http: libcurl failed");
  }
  return 0;
}

int HttpStream::requestFailed(CURLcode result) {
  broken_ = true;
  CallbackContext* ctx = setup_->ctx;
  std::string detail = curlError_[0] ? curlError_ : curl_easy_strerror(result);
  const std::string where = originOf(url_.c_str());
  switch (result) {
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH: {
      // The remote's certificate callback words the refusal (and decides,
      // were libcurl's verdict ever to be overruled).
      git_cert_x509 cert{};
      cert.parent.cert_type = GIT_CERT_X509;
      std::string host = ctx->url.host;
      int rc = git_transport_smart_certificate_check(owner_->owner(), &cert.parent, 0, host.c_str());
      if (rc == 0) return failWith(ctx, ErrorCode::Certificate, "TLS with " + where + " failed: " + detail);
      if (ctx->failure) ctx->failure->message += " (" + detail + ")";
      return rc < 0 ? rc : setNetError(detail);
    }
    case CURLE_OPERATION_TIMEDOUT:
      if (deadline_ && Clock::now() >= deadline_->deadline) deadline_->expired = true;
      return failWith(ctx, ErrorCode::Timeout, "timed out talking to " + where + ": " + detail);
    case CURLE_ABORTED_BY_CALLBACK:
    case CURLE_WRITE_ERROR:
      return setNetError("http: the transfer from " + where + " was aborted");
    default:
      return failWith(ctx, ErrorCode::Network, "http: " + where + ": " + detail);
  }
}

// The request ended: anything but a 200 of the expected type is an error
// (after a 401, the credentials callback may give credentials to retry with).
int HttpStream::finish() {
  if (!checked_) acceptResponse();
  CallbackContext* ctx = setup_->ctx;
  const std::string where = originOf(url_.c_str());
  if (status_ == 200 && !refusedBody_) return 0;
  broken_ = true;
  if (status_ == 401) {
    if (++authRounds_ > 2) return failWith(ctx, ErrorCode::Auth, "the server keeps asking for credentials (HTTP 401)");
    if (int rc = owner_->askCredentials(); rc < 0) return rc;
    // Again, with the credentials, on the same handle.
    curl_multi_remove_handle(handles_->multi.get(), handles_->easy.get());
    broken_ = false;
    in_.clear();
    inPos_ = 0;
    return start();
  }
  if (status_ >= 300 && status_ < 400) {
    char* location = nullptr;
    curl_easy_getinfo(handles_->easy.get(), CURLINFO_REDIRECT_URL, &location);
    return failWith(ctx, ErrorCode::Network,
                    "the server redirected (HTTP " + std::to_string(status_) + ") to " +
                        (location ? originOf(location) : std::string("nowhere")) +
                        "; redirects are not followed: configure the repository's final URL (the credentials are "
                        "only for " + ctx->url.host + ")");
  }
  if (status_ == 403) return failWith(ctx, ErrorCode::Auth, "the server refused access (HTTP 403) to " + url_);
  if (status_ == 404) return failWith(ctx, ErrorCode::NotFound, "no Git repository at " + url_ + " (HTTP 404)");
  if (status_ == 200)
    return failWith(ctx, ErrorCode::Network,
                    where + " answered with Content-Type \"" + contentType_ + "\", not " + expectedType() +
                        ": not a Git smart-HTTP server (the dumb protocol is not supported)");
  return failWith(ctx, ErrorCode::Network, "the server answered HTTP " + std::to_string(status_) + " to " + url_);
}

int HttpStream::read(char* buffer, std::size_t size, std::size_t* bytesRead) {
  *bytesRead = 0;
  try {
    if (!started_) {
      if (int rc = start(); rc < 0) return rc;
    }
    while (inPos_ == in_.size()) {
      if (done_) {
        if (int rc = finish(); rc < 0) return rc;
        if (done_) return 0;  // the end of the response
        continue;             // a retry with credentials started
      }
      if (int rc = pump(); rc < 0) return rc;
    }
    std::size_t n = std::min(size, in_.size() - inPos_);
    std::copy_n(in_.data() + inPos_, n, buffer);
    inPos_ += n;
    *bytesRead = n;
    return 0;
  } catch (const std::bad_alloc&) {
    broken_ = true;
    git_error_set_oom();
    return -1;
  } catch (...) {
    broken_ = true;
    return setNetError("http: internal error");
  }
}

int createSubtransport(git_smart_subtransport** out, git_transport* owner, void*) {
  auto* t = new (std::nothrow) HttpSubtransport(owner);
  if (t == nullptr) {
    git_error_set_oom();
    return -1;
  }
  *out = t->handle();
  return 0;
}

int createTransport(git_transport** out, git_remote* owner, void*) {
  static git_smart_subtransport_definition definition = {createSubtransport, 1 /* stateless RPC */, nullptr};
  return git_transport_smart(out, owner, &definition);
}

constexpr const char* kSchemes[] = {"http", "https"};

}  // namespace

int registerHttpTransport() {
  if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) return setNetError("libcurl initialisation failed");
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

void unregisterHttpTransport() {
  pool().clear();
  for (const char* scheme : kSchemes) git_transport_unregister(scheme);
  git_error_clear();
  curl_global_cleanup();
}

}  // namespace gitfed::git::detail
