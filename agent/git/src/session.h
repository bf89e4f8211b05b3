#pragma once
// RemoteSession (internal): one libgit2 remote with gitfed's callbacks:
// credentials from files (and only for the configured host), TLS certificates
// as libgit2 verified them against the configured CA file, ssh host keys
// against the configured known_hosts file, the operation's deadline checked
// in every progress callback, and per-ref push statuses collected. Lives for
// one operation, on one thread, inside an OperationDeadline.

#include <git2.h>

#include <memory>
#include <optional>
#include <shared_mutex>
#include <string>
#include <utility>
#include <vector>

#include "gitfed/git/error.h"
#include "gitfed/git/known_hosts.h"
#include "gitfed/git/remote.h"
#include "gitfed/git/url.h"
#include "handles.h"
#include "net.h"

namespace gitfed::git::detail {

// The CA bundle when a remote configures none (Debian's).
inline constexpr const char* kSystemCaBundle = "/etc/ssl/certs/ca-certificates.crt";

// A secret read from a file; wiped when it goes.
class Secret {
 public:
  Secret() = default;
  // Copies, then wipes the source (a move could leave a short string's bytes behind).
  explicit Secret(std::string&& value) : value_(value) { wipe(value); }
  std::size_t size() const { return value_.size(); }
  ~Secret() { wipe(); }
  Secret(const Secret&) = delete;
  Secret& operator=(const Secret&) = delete;
  Secret(Secret&& o) noexcept : value_(o.value_) { o.wipe(); }
  Secret& operator=(Secret&& o) noexcept {
    if (this != &o) {
      wipe();
      value_ = o.value_;
      o.wipe();
    }
    return *this;
  }
  const char* c_str() const { return value_.c_str(); }
  bool empty() const { return value_.empty(); }

 private:
  static void wipe(std::string& s) {
    volatile char* p = s.data();
    for (std::size_t i = 0; i < s.size(); ++i) p[i] = 0;
    s.clear();
  }
  void wipe() { wipe(value_); }
  std::string value_;
};

struct CallbackContext {
  // Marks a payload as RemoteSession's (the http transport finds it through
  // libgit2's connect options).
  static constexpr unsigned kTag = 0x67746664;
  unsigned tag = kTag;
  RemoteOptions options;
  RemoteUrl url;
  std::optional<KnownHosts> knownHosts;
  int secretAttempts = 0;  // ssh keys offered
  std::optional<Error> failure;  // why a callback refused (wins over libgit2's message)
  std::vector<std::pair<std::string, std::string>> pushStatus;  // refname, reason (empty: ok)
  bool expired = false;
};

// The CA file a remote's TLS trusts: the configured one, else the system's.
std::string caFileOf(const Credentials& credentials);
// What a 401 means for this remote: no credentials configured, credentials
// refused (naming the file, never its content), or credentials withheld from
// plain http.
Error unauthorizedError(const CallbackContext& ctx);

class RemoteSession {
 public:
  // Checks the URL and options (credentials in URLs, a known_hosts file for
  // ssh, a CA file for https) and creates an anonymous remote in `repo`.
  static Result<std::unique_ptr<RemoteSession>> create(git_repository* repo, const RemoteOptions& options,
                                                       std::string context);
  ~RemoteSession();

  Result<std::vector<RemoteRef>> connect(git_direction direction);
  Result<TransferStats> fetch(const std::vector<std::string>& refspecs);
  Result<PushResult> push(const std::string& refspec);
  // Sends `refspec` over the connection connect(GIT_DIRECTION_PUSH) opened:
  // the server checks the ref still holds what was advertised then.
  Result<PushResult> upload(const std::string& refspec);
  // http(s) only: fetches `want` (and what it needs beyond `haves`) into
  // `repo` in one request to git-upload-pack ("want / have / done"), where
  // libgit2's fetch takes three (the refs, a round of haves, then done).
  Result<TransferStats> fetchPack(git_repository* repo, const std::string& want, const std::vector<std::string>& haves);
  void disconnect();

  const std::string& context() const { return context_; }

 private:
  RemoteSession() = default;
  void fillCallbacks(git_remote_callbacks& callbacks);
  void setHeaders(git_strarray& headers);
  Error error(int rc);

  Result<PushResult> pushResult(int rc);

  std::string context_;
  std::unique_ptr<OperationDeadline> deadline_;
  std::unique_ptr<CallbackContext> ctx_;
  RemotePtr remote_;
  std::unique_ptr<Secret> authorization_;  // "Authorization: Basic ..." for https
  char* headerPtr_ = nullptr;
};

}  // namespace gitfed::git::detail
