#include "session.h"

#include <sys/stat.h>

#include <algorithm>
#include <cctype>
#include <fstream>
#include <mbedtls/base64.h>
#include <mbedtls/sha256.h>
#include <sstream>

#include "check.h"
#include "gitfed/git/pkt_line.h"
#include "http_transport.h"

namespace gitfed::git::detail {
namespace {

// Reads a credential file: one value, trailing newlines dropped. Errors name
// the file, never its content.
Result<Secret> readSecretFile(const std::filesystem::path& file, const char* what) {
  std::ifstream in(file, std::ios::binary);
  if (!in) return fail(ErrorCode::Auth, std::string("cannot read the ") + what + " file " + file.string());
  std::string value;
  char buf[4096];
  while (in.read(buf, sizeof buf) || in.gcount() > 0) {
    value.append(buf, static_cast<std::size_t>(in.gcount()));
    if (value.size() > 65536) {
      Secret wipe(std::move(value));
      return fail(ErrorCode::Auth, std::string("the ") + what + " file " + file.string() + " is over 64 KiB");
    }
  }
  for (volatile char& c : buf) c = 0;
  while (!value.empty() && (value.back() == '\n' || value.back() == '\r')) value.pop_back();
  if (value.empty()) return fail(ErrorCode::Auth, std::string("the ") + what + " file " + file.string() + " is empty");
  if (value.find('\0') != std::string::npos || value.find('\n') != std::string::npos) {
    Secret wipe(std::move(value));
    return fail(ErrorCode::Auth, std::string("the ") + what + " file " + file.string() + " holds more than one line");
  }
  return Secret(std::move(value));
}

// The https user name: usernameFile, else username, else "git" with a token.
Result<std::string> httpsUser(const Credentials& c) {
  std::string user = c.username;
  if (!c.usernameFile.empty()) {
    auto u = readSecretFile(c.usernameFile, "username");
    if (!u) return std::unexpected(u.error());
    user = u->c_str();
  }
  if (user.empty()) {
    if (c.tokenFile.empty()) return fail(ErrorCode::Auth, "a passwordFile needs a username or usernameFile");
    user = "git";
  }
  return user;
}

Result<Secret> httpsSecret(const Credentials& c) {
  return c.tokenFile.empty() ? readSecretFile(c.passwordFile, "password") : readSecretFile(c.tokenFile, "token");
}

bool deadlinePassed() {
  auto state = OperationDeadline::current();
  return state && state->expired.load();
}

std::string keyTypeName(git_cert_ssh_raw_type_t type) {
  switch (type) {
    case GIT_CERT_SSH_RAW_TYPE_RSA: return "ssh-rsa";
    case GIT_CERT_SSH_RAW_TYPE_DSS: return "ssh-dss";
    case GIT_CERT_SSH_RAW_TYPE_KEY_ECDSA_256: return "ecdsa-sha2-nistp256";
    case GIT_CERT_SSH_RAW_TYPE_KEY_ECDSA_384: return "ecdsa-sha2-nistp384";
    case GIT_CERT_SSH_RAW_TYPE_KEY_ECDSA_521: return "ecdsa-sha2-nistp521";
    case GIT_CERT_SSH_RAW_TYPE_KEY_ED25519: return "ssh-ed25519";
    default: return "";
  }
}

// "SHA256:base64" as ssh-keygen -l prints it.
std::string fingerprint(std::string_view blob) {
  unsigned char digest[32];
  mbedtls_sha256_ret(reinterpret_cast<const unsigned char*>(blob.data()), blob.size(), digest, 0);
  unsigned char out[64];
  std::size_t len = 0;
  mbedtls_base64_encode(out, sizeof out, &len, digest, sizeof digest);
  std::string s(reinterpret_cast<char*>(out), len);
  while (!s.empty() && s.back() == '=') s.pop_back();
  return "SHA256:" + s;
}

int refuse(CallbackContext* ctx, ErrorCode code, std::string message, int rc) {
  if (!ctx->failure) ctx->failure = Error{code, {}, std::move(message)};
  git_error_set_str(GIT_ERROR_CALLBACK, ctx->failure->message.c_str());
  return rc;
}

int onCredentials(git_credential** out, const char* /*url*/, const char* userFromUrl, unsigned int allowed, void* payload) {
  auto* ctx = static_cast<CallbackContext*>(payload);
  const RemoteUrl& ours = ctx->url;
  const Credentials& c = ctx->options.credentials;
  if (ours.scheme == RemoteUrl::Scheme::Ssh) {
    std::string user = userFromUrl && *userFromUrl ? userFromUrl : (!ours.user.empty() ? ours.user : (c.sshUser.empty() ? "git" : c.sshUser));
    if ((allowed & GIT_CREDENTIAL_USERNAME) && !(allowed & GIT_CREDENTIAL_SSH_KEY))
      return git_credential_username_new(out, user.c_str());
    if (!(allowed & GIT_CREDENTIAL_SSH_KEY))
      return refuse(ctx, ErrorCode::Auth, "the ssh server does not accept public-key authentication", GIT_EAUTH);
    if (c.sshKeyFile.empty())
      return refuse(ctx, ErrorCode::Auth, "the ssh server requires a key and no sshKeyFile is configured", GIT_EAUTH);
    if (++ctx->secretAttempts > 1)
      return refuse(ctx, ErrorCode::Auth,
                    "the ssh server refused the key " + c.sshKeyFile.string() + " for user " + user, GIT_EAUTH);
    Secret passphrase;
    if (!c.sshPassphraseFile.empty()) {
      auto p = readSecretFile(c.sshPassphraseFile, "ssh passphrase");
      if (!p) return refuse(ctx, p.error().code, p.error().message, GIT_EAUTH);
      passphrase = std::move(*p);
    }
    std::error_code ec;
    if (!std::filesystem::is_regular_file(c.sshKeyFile, ec))
      return refuse(ctx, ErrorCode::Auth, "cannot read the ssh key file " + c.sshKeyFile.string(), GIT_EAUTH);
    std::string pub = c.sshPublicKeyFile.string();
    return git_credential_ssh_key_new(out, user.c_str(), pub.empty() ? nullptr : pub.c_str(), c.sshKeyFile.c_str(),
                                      passphrase.empty() ? nullptr : passphrase.c_str());
  }
  // https: the http transport sends the credentials with every request and
  // never asks for them; a 401 is answered with unauthorizedError() there.
  Error e = unauthorizedError(*ctx);
  return refuse(ctx, e.code, e.message, GIT_EAUTH);
}

int onCertificate(git_cert* cert, int /*valid*/, const char* host, void* payload) {
  auto* ctx = static_cast<CallbackContext*>(payload);
  std::string h = host ? host : "";
  if (cert->cert_type == GIT_CERT_HOSTKEY_LIBSSH2) {
    // libgit2's `valid` reflects ~/.ssh/known_hosts, which is not ours to
    // trust: only the configured known_hosts file decides.
    auto* key = reinterpret_cast<git_cert_hostkey*>(cert);
    if (!ctx->knownHosts)
      return refuse(ctx, ErrorCode::HostKey, "no known_hosts file is configured; ssh servers are verified against one",
                    GIT_ECERTIFICATE);
    if (!(key->type & GIT_CERT_SSH_RAW) || key->hostkey == nullptr)
      return refuse(ctx, ErrorCode::HostKey, "the ssh server's host key is not available for checking", GIT_ECERTIFICATE);
    std::string type = keyTypeName(key->raw_type);
    std::string_view blob(key->hostkey, key->hostkey_len);
    int port = ctx->url.effectivePort();
    std::string name = KnownHosts::lookupName(h, port);
    std::string file = ctx->options.credentials.knownHostsFile.string();
    switch (ctx->knownHosts->check(h, port, type, blob)) {
      case KnownHosts::Verdict::Match:
        return 0;
      case KnownHosts::Verdict::Unknown:
        return refuse(ctx, ErrorCode::HostKey,
                      "unknown ssh host " + name + ": " + file + " has no entry for it (" + type + " key " +
                          fingerprint(blob) + ")",
                      GIT_ECERTIFICATE);
      case KnownHosts::Verdict::Changed:
        return refuse(ctx, ErrorCode::HostKey,
                      "the ssh host key of " + name + " has CHANGED: it presents " + type + " " + fingerprint(blob) +
                          ", which is not the key in " + file + " (a man-in-the-middle, or a re-installed server)",
                      GIT_ECERTIFICATE);
      case KnownHosts::Verdict::TypeNotListed: {
        std::string listed;
        for (const auto& t : ctx->knownHosts->typesFor(h, port)) listed += (listed.empty() ? "" : ", ") + t;
        return refuse(ctx, ErrorCode::HostKey,
                      "the ssh server " + name + " presents a " + type + " key (" + fingerprint(blob) + "), but " +
                          file + " lists only " + listed + " keys for it: add its " + type + " key",
                      GIT_ECERTIFICATE);
      }
      case KnownHosts::Verdict::Revoked:
        return refuse(ctx, ErrorCode::HostKey, "the ssh host key of " + name + " is marked @revoked in " + file,
                      GIT_ECERTIFICATE);
    }
  }
  return refuse(ctx, ErrorCode::Certificate, "unsupported certificate type", GIT_ECERTIFICATE);
}

int checkDeadline(CallbackContext* ctx) {
  if (!deadlinePassed()) return 0;
  ctx->expired = true;
  return refuse(ctx, ErrorCode::Timeout, "timed out", -1);
}

int onTransferProgress(const git_indexer_progress*, void* payload) {
  return checkDeadline(static_cast<CallbackContext*>(payload));
}
int onSideband(const char*, int, void* payload) { return checkDeadline(static_cast<CallbackContext*>(payload)); }
int onPushTransfer(unsigned int, unsigned int, size_t, void* payload) {
  return checkDeadline(static_cast<CallbackContext*>(payload));
}
int onPackProgress(int, uint32_t, uint32_t, void* payload) { return checkDeadline(static_cast<CallbackContext*>(payload)); }

int onPushUpdateReference(const char* refname, const char* status, void* payload) {
  auto* ctx = static_cast<CallbackContext*>(payload);
  ctx->pushStatus.emplace_back(refname ? refname : "", status ? status : "");
  return 0;
}

}  // namespace

std::string caFileOf(const Credentials& c) { return c.caFile.empty() ? std::string(kSystemCaBundle) : c.caFile.string(); }

Error unauthorizedError(const CallbackContext& ctx) {
  const Credentials& c = ctx.options.credentials;
  if (ctx.url.scheme != RemoteUrl::Scheme::Https)
    return Error{ErrorCode::Auth, {}, "the server asks for credentials; they are only sent over https"};
  if (c.passwordFile.empty() && c.tokenFile.empty())
    return Error{ErrorCode::Auth, {},
                 "the server requires authentication (HTTP 401) and no passwordFile or tokenFile is configured"};
  return Error{ErrorCode::Auth, {},
               "the server refused the credentials (HTTP 401) from " +
                   (c.tokenFile.empty() ? c.passwordFile.string() : c.tokenFile.string())};
}

Result<std::unique_ptr<RemoteSession>> RemoteSession::create(git_repository* repo, const RemoteOptions& options,
                                                             std::string context) {
  auto url = parseRemoteUrl(options.url);
  if (!url) return std::unexpected(withContext(url.error(), context));
  std::unique_ptr<RemoteSession> s(new RemoteSession());
  s->context_ = std::move(context);
  s->deadline_ = std::make_unique<OperationDeadline>(options.timeouts);
  s->ctx_ = std::make_unique<CallbackContext>();
  s->ctx_->options = options;
  s->ctx_->url = *url;
  if (url->scheme == RemoteUrl::Scheme::Ssh) {
    if (options.credentials.knownHostsFile.empty())
      return fail(ErrorCode::HostKey, "ssh needs a known_hosts file (knownHostsFile): host keys are always checked",
                  s->context_);
    auto hosts = KnownHosts::load(options.credentials.knownHostsFile);
    if (!hosts) return std::unexpected(withContext(hosts.error(), s->context_));
    s->ctx_->knownHosts = std::move(*hosts);
  }
  if (url->scheme == RemoteUrl::Scheme::Https) {
    // The CA file is read by the http transport (libcurl) at each new connection.
    std::string ca = caFileOf(options.credentials);
    std::error_code ec;
    if (!std::filesystem::is_regular_file(ca, ec))
      return fail(ErrorCode::Certificate, "the CA file " + ca + " does not exist", s->context_);
    // Basic credentials go with every request (over TLS, verified for the
    // configured host before a byte is sent; redirects are never followed),
    // which saves a 401 round trip per request.
    const Credentials& c = options.credentials;
    if (!c.passwordFile.empty() || !c.tokenFile.empty()) {
      auto user = httpsUser(c);
      if (!user) return std::unexpected(withContext(user.error(), s->context_));
      auto secret = httpsSecret(c);
      if (!secret) return std::unexpected(withContext(secret.error(), s->context_));
      std::string joined;
      joined.reserve(user->size() + 1 + secret->size());
      joined.append(*user).append(":").append(secret->c_str());
      Secret pair(std::move(joined));
      std::string encoded(4 * ((pair.size() + 2) / 3) + 1, '\0');
      std::size_t len = 0;
      mbedtls_base64_encode(reinterpret_cast<unsigned char*>(encoded.data()), encoded.size(), &len,
                            reinterpret_cast<const unsigned char*>(pair.c_str()), pair.size());
      encoded.resize(len);
      std::string header;
      header.reserve(21 + encoded.size());
      header.append("Authorization: Basic ").append(encoded);
      s->authorization_ = std::make_unique<Secret>(std::move(header));
      Secret wipe(std::move(encoded));
    }
  }
  // An anonymous remote; url.<base>.insteadOf from any Git configuration
  // (the user's ~/.gitconfig included) must not rewrite where we connect.
  git_remote_create_options create;
  git_remote_create_options_init(&create, GIT_REMOTE_CREATE_OPTIONS_VERSION);
  create.repository = repo;
  create.flags = GIT_REMOTE_CREATE_SKIP_INSTEADOF | GIT_REMOTE_CREATE_SKIP_DEFAULT_FETCHSPEC;
  git_remote* raw = nullptr;
  if (int rc = git_remote_create_with_opts(&raw, url->text.c_str(), &create); rc < 0)
    return std::unexpected(libgit2Error(rc, s->context_));
  s->remote_.reset(raw);
  return s;
}

RemoteSession::~RemoteSession() { disconnect(); }

void RemoteSession::disconnect() {
  DeadlineScope scope(*deadline_);
  if (remote_ && git_remote_connected(remote_.get())) git_remote_disconnect(remote_.get());
}

void RemoteSession::setHeaders(git_strarray& headers) {
  if (!authorization_) return;
  headerPtr_ = const_cast<char*>(authorization_->c_str());
  headers.strings = &headerPtr_;
  headers.count = 1;
}

void RemoteSession::fillCallbacks(git_remote_callbacks& cb) {
  cb.credentials = onCredentials;
  cb.certificate_check = onCertificate;
  cb.transfer_progress = onTransferProgress;
  cb.sideband_progress = onSideband;
  cb.push_transfer_progress = onPushTransfer;
  cb.pack_progress = onPackProgress;
  cb.push_update_reference = onPushUpdateReference;
  cb.payload = ctx_.get();
}

Error RemoteSession::error(int rc) {
  Error lib = libgit2Error(rc, context_);
  if (ctx_->failure) return Error{ctx_->failure->code, context_, ctx_->failure->message};
  if (ctx_->expired || deadlinePassed())
    return Error{ErrorCode::Timeout, context_,
                 "timed out after " + std::to_string(ctx_->options.timeouts.operation.count()) + " ms (" + lib.message + ")"};
  // libssh2 replaces our stream's message with its own.
  if (auto state = OperationDeadline::current(); state && state->ioTimedOut)
    return Error{ErrorCode::Timeout, context_,
                 "no data for " + std::to_string(ctx_->options.timeouts.io.count()) + " ms (" + lib.message + ")"};
  if (lib.message.find("timed out") != std::string::npos) lib.code = ErrorCode::Timeout;
  return lib;
}

Result<std::vector<RemoteRef>> RemoteSession::connect(git_direction direction) {
  DeadlineScope scope(*deadline_);
  git_remote_connect_options opts;
  git_remote_connect_options_init(&opts, GIT_REMOTE_CONNECT_OPTIONS_VERSION);
  fillCallbacks(opts.callbacks);
  opts.follow_redirects = GIT_REMOTE_REDIRECT_NONE;
  opts.proxy_opts.type = GIT_PROXY_NONE;
  setHeaders(opts.custom_headers);
  if (int rc = git_remote_connect_ext(remote_.get(), direction, &opts); rc < 0) return std::unexpected(error(rc));
  const git_remote_head** heads = nullptr;
  std::size_t n = 0;
  if (int rc = git_remote_ls(&heads, &n, remote_.get()); rc < 0) return std::unexpected(error(rc));
  std::vector<RemoteRef> refs;
  for (std::size_t i = 0; i < n; ++i) {
    std::string name = heads[i]->name;
    std::string oid = oidHex(heads[i]->oid);
    if (name.ends_with("^{}")) {
      name.resize(name.size() - 3);
      auto it = std::find_if(refs.begin(), refs.end(), [&](const RemoteRef& r) { return r.name == name; });
      if (it != refs.end()) it->peeled = oid;
      continue;
    }
    refs.push_back(RemoteRef{std::move(name), std::move(oid), {}});
  }
  return refs;
}

Result<TransferStats> RemoteSession::fetch(const std::vector<std::string>& refspecs) {
  DeadlineScope scope(*deadline_);
  std::vector<char*> specs;
  for (const auto& s : refspecs) specs.push_back(const_cast<char*>(s.c_str()));
  git_strarray array{specs.data(), specs.size()};
  git_fetch_options opts;
  git_fetch_options_init(&opts, GIT_FETCH_OPTIONS_VERSION);
  fillCallbacks(opts.callbacks);
  opts.prune = GIT_FETCH_NO_PRUNE;
  opts.update_fetchhead = 0;
  opts.download_tags = GIT_REMOTE_DOWNLOAD_TAGS_NONE;
  opts.follow_redirects = GIT_REMOTE_REDIRECT_NONE;
  opts.proxy_opts.type = GIT_PROXY_NONE;
  setHeaders(opts.custom_headers);
  if (int rc = git_remote_fetch(remote_.get(), &array, &opts, nullptr); rc < 0) return std::unexpected(error(rc));
  const git_indexer_progress* stats = git_remote_stats(remote_.get());
  return TransferStats{stats ? stats->received_objects : 0u, stats ? stats->received_bytes : 0u};
}

Result<PushResult> RemoteSession::pushResult(int rc) {
  if (rc == GIT_ENONFASTFORWARD) {
    // libgit2 saw, before sending, that the remote ref moved past our parent.
    Error e = libgit2Error(rc, context_);
    return PushResult{false, "non-fast-forward (" + e.message + ")"};
  }
  if (rc < 0) return std::unexpected(error(rc));
  for (const auto& [ref, status] : ctx_->pushStatus)
    if (!status.empty()) return PushResult{false, status};
  return PushResult{true, {}};
}

Result<PushResult> RemoteSession::push(const std::string& refspec) {
  DeadlineScope scope(*deadline_);
  char* spec = const_cast<char*>(refspec.c_str());
  git_strarray array{&spec, 1};
  git_push_options opts;
  git_push_options_init(&opts, GIT_PUSH_OPTIONS_VERSION);
  fillCallbacks(opts.callbacks);
  opts.follow_redirects = GIT_REMOTE_REDIRECT_NONE;
  opts.proxy_opts.type = GIT_PROXY_NONE;
  setHeaders(opts.custom_headers);
  ctx_->pushStatus.clear();
  return pushResult(git_remote_push(remote_.get(), &array, &opts));
}

Result<PushResult> RemoteSession::upload(const std::string& refspec) {
  DeadlineScope scope(*deadline_);
  char* spec = const_cast<char*>(refspec.c_str());
  git_strarray array{&spec, 1};
  git_push_options opts;
  git_push_options_init(&opts, GIT_PUSH_OPTIONS_VERSION);
  fillCallbacks(opts.callbacks);
  opts.follow_redirects = GIT_REMOTE_REDIRECT_NONE;
  opts.proxy_opts.type = GIT_PROXY_NONE;
  setHeaders(opts.custom_headers);
  ctx_->pushStatus.clear();
  return pushResult(git_remote_upload(remote_.get(), &array, &opts));
}

Result<TransferStats> RemoteSession::fetchPack(git_repository* repo, const std::string& want,
                                               const std::vector<std::string>& haves) {
  DeadlineScope scope(*deadline_);
  const RemoteUrl& url = ctx_->url;
  if (url.scheme != RemoteUrl::Scheme::Https && url.scheme != RemoteUrl::Scheme::Http)
    return fail(ErrorCode::Internal, "fetchPack is for http(s) remotes", context_);
  std::string base = url.text;
  while (!base.empty() && base.back() == '/') base.pop_back();
  HttpRequest r;
  r.url = base + "/git-upload-pack";
  r.post = true;
  r.contentType = "application/x-git-upload-pack-request";
  r.expectType = "application/x-git-upload-pack-result";
  if (authorization_) r.headers.emplace_back(authorization_->c_str());
  r.caFile = caFileOf(ctx_->options.credentials);
  r.body = pktLine("want " + want + " side-band-64k ofs-delta no-progress agent=git/2.0-gitfed\n");
  r.body += kFlushPkt;
  for (const auto& h : haves) r.body += pktLine("have " + h + "\n");
  r.body += pktLine("done\n");

  git_odb* rawOdb = nullptr;
  if (int rc = git_repository_odb(&rawOdb, repo); rc < 0) return std::unexpected(libgit2Error(rc, context_));
  OdbPtr odb(rawOdb);
  git_odb_writepack* rawPack = nullptr;
  if (int rc = git_odb_write_pack(&rawPack, odb.get(), nullptr, nullptr); rc < 0)
    return std::unexpected(libgit2Error(rc, context_));
  auto freePack = [](git_odb_writepack* w) { w->free(w); };
  std::unique_ptr<git_odb_writepack, decltype(freePack)> pack(rawPack, freePack);
  git_indexer_progress stats{};
  UploadPackResponse response([&](std::string_view data) -> Result<void> {
    if (int rc = pack->append(pack.get(), data.data(), data.size(), &stats); rc < 0) {
      Error e = libgit2Error(rc, context_);
      return fail(ErrorCode::Network, "the pack from the server does not index: " + e.message, context_);
    }
    return {};
  });

  HttpExchange exchange(std::move(r));
  std::vector<char> buffer(64 * 1024);
  while (true) {
    auto n = exchange.read(buffer.data(), buffer.size());
    if (!n) {
      return std::unexpected(withContext(exchange.unauthorized() ? unauthorizedError(*ctx_) : n.error(), context_));
    }
    if (*n == 0) break;
    if (auto fed = response.feed(std::string_view(buffer.data(), *n)); !fed)
      return std::unexpected(withContext(fed.error(), context_));
  }
  if (auto end = response.finish(); !end) return std::unexpected(withContext(end.error(), context_));
  if (int rc = pack->commit(pack.get(), &stats); rc < 0) {
    Error e = libgit2Error(rc, context_);
    return fail(ErrorCode::Network, "the pack from the server does not index: " + e.message, context_);
  }
  return TransferStats{stats.received_objects, stats.received_bytes};
}

}  // namespace gitfed::git::detail
