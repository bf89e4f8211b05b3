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

// The process-wide CA setting of libgit2 (GIT_OPT_SET_SSL_CERT_LOCATIONS is
// global): held shared for the duration of a TLS operation, changed only
// when no operation uses it.
class CaScope {
 public:
  static Result<CaScope> acquire(const std::filesystem::path& caFile);
  // libgit2 was (re)initialised: its CA setting is back to the default.
  static void forget();
  CaScope(CaScope&&) = default;

 private:
  explicit CaScope(std::shared_lock<std::shared_mutex> lock) : lock_(std::move(lock)) {}
  std::shared_lock<std::shared_mutex> lock_;
};

struct CallbackContext {
  RemoteOptions options;
  RemoteUrl url;
  std::optional<KnownHosts> knownHosts;
  int secretAttempts = 0;
  std::optional<Error> failure;  // why a callback refused (wins over libgit2's message)
  std::vector<std::pair<std::string, std::string>> pushStatus;  // refname, reason (empty: ok)
  bool expired = false;
};

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
  void disconnect();

  const std::string& context() const { return context_; }

 private:
  RemoteSession() = default;
  void fillCallbacks(git_remote_callbacks& callbacks);
  Error error(int rc);

  std::string context_;
  std::unique_ptr<CallbackContext> ctx_;
  RemotePtr remote_;
  std::optional<CaScope> ca_;
};

}  // namespace gitfed::git::detail
