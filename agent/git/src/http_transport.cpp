#include "http_transport.h"

#include <curl/curl.h>
#include <git2.h>
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

#include "handles.h"
#include "net.h"
#include "session.h"

namespace gitfed::git::detail {
namespace {

using Clock = std::chrono::steady_clock;

constexpr std::size_t kMaxIdle = 4;  // pooled handles kept (each with its own connections)
constexpr std::chrono::milliseconds kDefaultLimit{120'000};

using EasyPtr = std::unique_ptr<CURL, Deleter<CURL, curl_easy_cleanup>>;
using MultiPtr = std::unique_ptr<CURLM, Deleter<CURLM, curl_multi_cleanup>>;
using SlistPtr = std::unique_ptr<curl_slist, Deleter<curl_slist, curl_slist_free_all>>;
using UrlPtr = std::unique_ptr<CURLU, Deleter<CURLU, curl_url_cleanup>>;

// One connection cache: libcurl keeps connections in the multi handle that
// ran the transfer, so a pooled entry is a multi handle with its easy handle.
struct Handles {
  MultiPtr multi;
  EasyPtr easy;
  ~Handles() { multi.reset(); }  // closes the connections while the easy handle still exists
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

bool startsWithNoCase(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && strncasecmp(s.data(), prefix.data(), prefix.size()) == 0;
}

std::string urlPart(const char* url, CURLUPart which) {
  UrlPtr u(curl_url());
  if (!u || curl_url_set(u.get(), CURLUPART_URL, url, 0) != CURLUE_OK) return {};
  char* part = nullptr;
  if (curl_url_get(u.get(), which, &part, 0) != CURLUE_OK) return {};
  std::string out = part;
  curl_free(part);
  return out;
}

// scheme://host[:port] of a URL, without anything that could be a credential.
std::string originOf(const char* url) {
  std::string scheme = urlPart(url, CURLUPART_SCHEME), host = urlPart(url, CURLUPART_HOST);
  if (host.empty()) return "an unparseable location";
  std::string port = urlPart(url, CURLUPART_PORT);
  return scheme + "://" + host + (port.empty() ? "" : ":" + port);
}

// What a request holds of the credentials (the Authorization header, a
// password) is overwritten before its memory is given back.
void wipe(std::string& s) {
  volatile char* p = s.data();
  for (std::size_t i = 0; i < s.size(); ++i) p[i] = 0;
  s.clear();
}
void wipeSecrets(HttpRequest& r) {
  for (auto& h : r.headers)
    if (startsWithNoCase(h, "authorization:")) wipe(h);
}

}  // namespace

// ---- HttpExchange: one request, libcurl only ------------------------------------------

struct HttpExchange::State {
  HttpRequest req;
  std::shared_ptr<DeadlineState> deadline;
  std::unique_ptr<Handles> handles;
  SlistPtr headers;
  std::string in;  // received, not yet read
  std::size_t inPos = 0;
  char curlError[CURL_ERROR_SIZE] = {};
  bool started = false, done = false, broken = false;
  bool checked = false;   // status and type looked at (first body byte, or the end)
  bool discard = false;   // the body is not passed on (an error page; the rest after the caller let go)
  long status = 0;
  std::string contentType;
  Clock::time_point deadlineAt{}, lastActivity{};
  curl_off_t lastDown = 0, lastUp = 0;

  static std::size_t onData(char* data, std::size_t size, std::size_t n, void* self);
  static int onProgress(void* self, curl_off_t, curl_off_t dlnow, curl_off_t, curl_off_t ulnow);
  bool accept();
  Result<void> start();
  Result<void> pump();
  Error failure(CURLcode result) const;
  Result<void> finish();
  std::string where() const { return originOf(req.url.c_str()); }
};

std::size_t HttpExchange::State::onData(char* data, std::size_t size, std::size_t n, void* self) {
  auto* s = static_cast<State*>(self);
  const std::size_t len = size * n;
  s->lastActivity = Clock::now();
  if (!s->checked && !s->accept()) s->discard = true;  // a 401, a 404, an error page: read, passed to nobody
  if (s->discard) return len;
  try {
    if (s->inPos == s->in.size()) {
      s->in.clear();
      s->inPos = 0;
    }
    s->in.append(data, len);
  } catch (...) {
    return 0;  // aborts the transfer (CURLE_WRITE_ERROR)
  }
  return len;
}

int HttpExchange::State::onProgress(void* self, curl_off_t, curl_off_t dlnow, curl_off_t, curl_off_t ulnow) {
  auto* s = static_cast<State*>(self);
  if (dlnow != s->lastDown || ulnow != s->lastUp) {
    s->lastDown = dlnow;
    s->lastUp = ulnow;
    s->lastActivity = Clock::now();
  }
  return 0;
}

// The status line and headers are in: only a 200 of the protocol's type is passed on.
bool HttpExchange::State::accept() {
  checked = true;
  CURL* e = handles->easy.get();
  curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status);
  char* type = nullptr;
  curl_easy_getinfo(e, CURLINFO_CONTENT_TYPE, &type);
  contentType = type ? type : "";
  return status == 200 && startsWithNoCase(contentType, req.expectType);
}

Result<void> HttpExchange::State::start() {
  deadline = OperationDeadline::current();
  deadlineAt = deadline ? deadline->deadline : Clock::now() + kDefaultLimit;
  handles = pool().take();
  if (!handles) return fail(ErrorCode::Internal, "http: cannot create a libcurl handle");
  CURL* e = handles->easy.get();
  curl_easy_reset(e);  // options only: the connection cache stays

  curl_slist* list = nullptr;
  auto add = [&](const std::string& h) {
    if (auto* next = curl_slist_append(list, h.c_str())) list = next;
  };
  for (const auto& h : req.headers) add(h);
  if (req.post) add("Content-Type: " + req.contentType);
  add("Accept: " + (req.post ? req.expectType : std::string("*/*")));
  add("Expect:");  // the body is in memory: no 100-continue round trip
  add("Pragma: no-cache");
  headers.reset(list);

  curl_easy_setopt(e, CURLOPT_URL, req.url.c_str());
  curl_easy_setopt(e, CURLOPT_HTTPHEADER, headers.get());
  curl_easy_setopt(e, CURLOPT_USERAGENT, "git/2.0 (gitfed)");
  curl_easy_setopt(e, CURLOPT_HTTP_VERSION, CURL_HTTP_VERSION_1_1);
  curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(e, CURLOPT_PROXY, "");  // never a proxy from the environment
  curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(e, CURLOPT_TCP_NODELAY, 1L);
  curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, "");  // gzip if the server offers it
  curl_easy_setopt(e, CURLOPT_ERRORBUFFER, curlError);
  curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, &State::onData);
  curl_easy_setopt(e, CURLOPT_WRITEDATA, this);
  curl_easy_setopt(e, CURLOPT_NOPROGRESS, 0L);
  curl_easy_setopt(e, CURLOPT_XFERINFOFUNCTION, &State::onProgress);
  curl_easy_setopt(e, CURLOPT_XFERINFODATA, this);
  // TLS: the configured CA file only (no CA directory besides), the URL's host only.
  curl_easy_setopt(e, CURLOPT_CAINFO, req.caFile.c_str());
  curl_easy_setopt(e, CURLOPT_CAPATH, nullptr);
  curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 1L);
  curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 2L);
  if (req.post) {
    curl_easy_setopt(e, CURLOPT_POST, 1L);
    curl_easy_setopt(e, CURLOPT_POSTFIELDS, req.body.data());
    curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(req.body.size()));
  }
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadlineAt - Clock::now()).count();
  curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, static_cast<long>(std::max<long long>(left, 1)));
  if (deadline) curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(deadline->connectTimeoutMs()));

  started = true;
  lastActivity = Clock::now();
  if (curl_multi_add_handle(handles->multi.get(), e) != CURLM_OK) {
    broken = true;
    return fail(ErrorCode::Internal, "http: cannot start the request");
  }
  return {};
}

// Moves the transfer on until there is data to read or it ends.
Result<void> HttpExchange::State::pump() {
  CURLM* m = handles->multi.get();
  int running = 0;
  if (curl_multi_perform(m, &running) != CURLM_OK) {
    broken = true;
    return fail(ErrorCode::Internal, "http: libcurl failed");
  }
  int queued = 0;
  while (CURLMsg* msg = curl_multi_info_read(m, &queued)) {
    if (msg->msg != CURLMSG_DONE) continue;
    done = true;
    if (msg->data.result != CURLE_OK) {
      broken = true;
      return std::unexpected(failure(msg->data.result));
    }
  }
  if (done || inPos < in.size()) return {};

  const auto now = Clock::now();
  if ((deadline && deadline->expired.load()) || now >= deadlineAt) {
    if (deadline) deadline->expired = true;
    broken = true;
    return fail(ErrorCode::Timeout, "timed out talking to " + where());
  }
  if (deadline && now - lastActivity > deadline->timeouts.io) {
    deadline->ioTimedOut = true;
    broken = true;
    return fail(ErrorCode::Timeout,
                "no data from " + where() + " for " + std::to_string(deadline->timeouts.io.count()) + " ms");
  }
  if (curl_multi_poll(m, nullptr, 0, 100, nullptr) != CURLM_OK) {
    broken = true;
    return fail(ErrorCode::Internal, "http: libcurl failed");
  }
  return {};
}

Error HttpExchange::State::failure(CURLcode result) const {
  std::string detail = curlError[0] ? curlError : curl_easy_strerror(result);
  switch (result) {
    case CURLE_SSL_CACERT_BADFILE:
      return Error{ErrorCode::Certificate, {}, "cannot use the CA file " + req.caFile + " (" + detail + ")"};
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_ISSUER_ERROR: {
      std::string host = urlPart(req.url.c_str(), CURLUPART_HOST);
      return Error{ErrorCode::Certificate, {},
                   "the TLS certificate of " + host + " is not trusted: it is not signed by a CA in " + req.caFile +
                       ", has expired, or is not issued for " + host + " (" + detail + ")"};
    }
    case CURLE_OPERATION_TIMEDOUT:
      if (deadline && Clock::now() >= deadlineAt) deadline->expired = true;
      return Error{ErrorCode::Timeout, {}, "timed out talking to " + where() + ": " + detail};
    default:
      return Error{ErrorCode::Network, {}, where() + ": " + detail};
  }
}

// The request ended: anything but a 200 of the expected type is an error.
Result<void> HttpExchange::State::finish() {
  if (!checked) accept();
  if (status == 200 && !discard) return {};
  broken = true;
  if (status == 401) return fail(ErrorCode::Auth, "the server asks for credentials (HTTP 401)");
  if (status >= 300 && status < 400) {
    char* location = nullptr;
    curl_easy_getinfo(handles->easy.get(), CURLINFO_REDIRECT_URL, &location);
    return fail(ErrorCode::Network, "the server redirected (HTTP " + std::to_string(status) + ") to " +
                                        (location ? originOf(location) : std::string("nowhere")) +
                                        "; redirects are not followed: configure the repository's final URL (the "
                                        "credentials are only for " + where() + ")");
  }
  if (status == 403) return fail(ErrorCode::Auth, "the server refused access (HTTP 403) to " + req.url);
  if (status == 404) return fail(ErrorCode::NotFound, "no Git repository at " + req.url + " (HTTP 404)");
  if (status == 200)
    return fail(ErrorCode::Network, where() + " answered with Content-Type \"" + contentType + "\", not " +
                                        req.expectType + ": not a Git smart-HTTP server (the dumb protocol is not "
                                        "supported)");
  return fail(ErrorCode::Network, "the server answered HTTP " + std::to_string(status) + " to " + req.url);
}

HttpExchange::HttpExchange(HttpRequest request) : s_(std::make_unique<State>()) { s_->req = std::move(request); }

HttpExchange::~HttpExchange() {
  State& s = *s_;
  if (!s.handles) {
    wipeSecrets(s.req);
    return;
  }
  // libgit2 lets go of a stream once it has what it needs (the refs up to
  // their flush, the report of a push): the end of the response may still be
  // on its way. A little of it is read, so that the connection can be reused.
  if (s.started && !s.done && !s.broken) {
    const auto until = Clock::now() + std::chrono::milliseconds(200);
    s.discard = true;
    s.in.clear();
    s.inPos = 0;
    while (!s.done && !s.broken && Clock::now() < until && s.lastDown < (1 << 20))
      if (!s.pump()) break;
  }
  curl_multi_remove_handle(s.handles->multi.get(), s.handles->easy.get());
  if (s.done && !s.broken) pool().give(std::move(s.handles));
  wipeSecrets(s.req);
}

bool HttpExchange::unauthorized() const { return s_->status == 401; }

Result<std::size_t> HttpExchange::read(char* buffer, std::size_t size) {
  State& s = *s_;
  if (!s.started) {
    if (auto r = s.start(); !r) return std::unexpected(r.error());
  }
  while (s.inPos == s.in.size()) {
    if (s.done) {
      if (auto r = s.finish(); !r) return std::unexpected(r.error());
      return std::size_t{0};
    }
    if (auto r = s.pump(); !r) return std::unexpected(r.error());
  }
  std::size_t n = std::min(size, s.in.size() - s.inPos);
  std::copy_n(s.in.data() + s.inPos, n, buffer);
  s.inPos += n;
  return n;
}

// ---- the libgit2 subtransport ------------------------------------------------------------

namespace {

class HttpSubtransport;

struct SubtransportShell {
  git_smart_subtransport parent;
  HttpSubtransport* self;
};
struct StreamShell {
  git_smart_subtransport_stream parent;
  class HttpStream* self;
};

int setNetError(const std::string& message) {
  git_error_set_str(GIT_ERROR_NET, message.c_str());
  return -1;
}

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
  ~HttpSubtransport() {
    for (auto& h : headers_) wipe(h);
  }
  HttpSubtransport(const HttpSubtransport&) = delete;
  HttpSubtransport& operator=(const HttpSubtransport&) = delete;

  git_smart_subtransport* handle() { return &shell_.parent; }
  // RemoteSession's context and the request's fixed parts, read once from
  // the remote's connect options.
  int prepare(HttpRequest& request);
  // An error for libgit2, and for RemoteSession (with its code).
  int report(const Error& e) {
    if (ctx_ && !ctx_->failure) ctx_->failure = e;
    return setNetError(e.message);
  }

 private:
  int action(git_smart_subtransport_stream** out, const char* url, git_smart_service_t service);

  SubtransportShell shell_{};
  git_transport* owner_;
  CallbackContext* ctx_ = nullptr;
  std::vector<std::string> headers_;  // the connect options' (RemoteSession's Authorization header)
  friend class HttpStream;
};

class HttpStream {
 public:
  HttpStream(HttpSubtransport* owner, HttpRequest request) : owner_(owner), request_(std::move(request)) {
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
  ~HttpStream() {
    exchange_.reset();
    wipeSecrets(request_);
  }
  HttpStream(const HttpStream&) = delete;
  HttpStream& operator=(const HttpStream&) = delete;

  git_smart_subtransport_stream* handle() { return &shell_.parent; }

 private:
  int read(char* buffer, std::size_t size, std::size_t* bytesRead);
  int write(const char* buffer, std::size_t len);

  StreamShell shell_{};
  HttpSubtransport* owner_;
  HttpRequest request_;  // the body grows with write() until the first read()
  std::unique_ptr<HttpExchange> exchange_;
};

int HttpSubtransport::prepare(HttpRequest& request) {
  if (ctx_ == nullptr) {
    git_remote_connect_options opts;
    if (git_remote_connect_options_init(&opts, GIT_REMOTE_CONNECT_OPTIONS_VERSION) < 0 ||
        git_transport_remote_connect_options(&opts, owner_) < 0)
      return setNetError("http: cannot read the remote's connect options");
    auto* ctx = opts.callbacks.credentials ? static_cast<CallbackContext*>(opts.callbacks.payload) : nullptr;
    for (std::size_t i = 0; i < opts.custom_headers.count; ++i) headers_.emplace_back(opts.custom_headers.strings[i]);
    git_remote_connect_options_dispose(&opts);
    // Only RemoteSession's remotes (its callbacks, its options) use this transport.
    if (ctx == nullptr || ctx->tag != CallbackContext::kTag)
      return setNetError("http: a remote without gitfed's callbacks");
    ctx_ = ctx;
  }
  request.headers = headers_;
  request.caFile = caFileOf(ctx_->options.credentials);
  return 0;
}

int HttpSubtransport::action(git_smart_subtransport_stream** out, const char* url, git_smart_service_t service) {
  *out = nullptr;
  try {
    std::string base = url ? url : "";
    while (!base.empty() && base.back() == '/') base.pop_back();
    HttpRequest r;
    std::string name;
    switch (service) {
      case GIT_SERVICE_UPLOADPACK_LS: name = "upload-pack"; break;
      case GIT_SERVICE_UPLOADPACK: name = "upload-pack"; r.post = true; break;
      case GIT_SERVICE_RECEIVEPACK_LS: name = "receive-pack"; break;
      case GIT_SERVICE_RECEIVEPACK: name = "receive-pack"; r.post = true; break;
      default: return setNetError("http: unknown service");
    }
    r.url = r.post ? base + "/git-" + name : base + "/info/refs?service=git-" + name;
    r.contentType = "application/x-git-" + name + "-request";
    r.expectType = "application/x-git-" + name + (r.post ? "-result" : "-advertisement");
    *out = (new HttpStream(this, std::move(r)))->handle();
    return 0;
  } catch (const std::bad_alloc&) {
    git_error_set_oom();
    return -1;
  } catch (...) {
    return setNetError("http: internal error");
  }
}

int HttpStream::write(const char* buffer, std::size_t len) {
  if (!request_.post || exchange_) return setNetError("http: the request was already sent");
  try {
    request_.body.append(buffer, len);
  } catch (const std::bad_alloc&) {
    git_error_set_oom();
    return -1;
  }
  return 0;
}

int HttpStream::read(char* buffer, std::size_t size, std::size_t* bytesRead) {
  *bytesRead = 0;
  try {
    if (!exchange_) {
      if (int rc = owner_->prepare(request_); rc < 0) return rc;
      exchange_ = std::make_unique<HttpExchange>(request_);
    }
    auto n = exchange_->read(buffer, size);
    if (!n) return owner_->report(exchange_->unauthorized() ? unauthorizedError(*owner_->ctx_) : n.error());
    *bytesRead = *n;
    return 0;
  } catch (const std::bad_alloc&) {
    git_error_set_oom();
    return -1;
  } catch (...) {
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
