#pragma once
// KubeClient: the agent's only way to talk to a Kubernetes API server. The
// libcurl implementation (CurlKubeClient, curl_client.h) is thread-safe: many
// threads may call it at once; it bounds requests in flight, reuses
// connections, rate-limits (QPS/burst) and retries connection errors, 429
// (honouring Retry-After) and 500/503/504 with backoff. Unit tests of the sync
// engine use a small hand-written fake of this interface; integration tests use
// the real client against the real kube-apiserver of test/env.

#include <nlohmann/json.hpp>

#include <chrono>
#include <expected>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace gitfed::kube {

// An error from the API server or the transport. `status` is the HTTP status
// (0 for a transport error), `reason` the API Status reason (e.g. "NotFound",
// "Conflict", "Invalid", "Forbidden"), `message` the API Status message with
// any Secret data redacted. format() begins with the request's target, e.g.
// "apply apps/v1 Deployment shop/web: 422 Invalid: ...".
struct Error {
  int status = 0;
  std::string reason;
  std::string message;
  std::string target;  // "verb apiVersion Kind ns/name" or the URL path
  std::string format() const;
  bool notFound() const { return status == 404; }
};

template <class T>
using Result = std::expected<T, Error>;

// One resource type as discovery describes it.
struct Resource {
  std::string group;    // "" for the core group
  std::string version;
  std::string kind;
  std::string plural;   // path segment, e.g. "deployments"
  bool namespaced = true;
  std::vector<std::string> verbs;
  std::string apiVersion() const { return group.empty() ? version : group + "/" + version; }
};

// A say over a request's retries from outside the client: the sync
// engine's circuit breaker and retry budget for a round
// (agent/sync/README.md). Called from the requesting thread; must be
// thread-safe when shared.
class RetryGate {
 public:
  virtual ~RetryGate() = default;
  // Attempt `attempt` (1 = the first) failed with `error` and the client
  // would retry after `delay`: "" lets it, otherwise why not (appended to
  // the error's message in parentheses, the request fails at once).
  virtual std::string beforeRetry(const Error& error, int attempt, std::chrono::milliseconds delay) = 0;
};

struct ApplyOptions {
  std::string fieldManager = "gitfed";
  bool force = true;    // take over fields from other managers (e.g. kubectl)
  bool dryRun = false;  // server-side dry run: nothing is persisted
  RetryGate* retryGate = nullptr;  // not owned; null: the client's own policy only
};

enum class Propagation { Background, Foreground, Orphan };

class KubeClient {
 public:
  virtual ~KubeClient() = default;

  // The resource for apiVersion + kind, from cached discovery; on a miss the
  // cache is refreshed once (a CRD created a moment ago). NotFound when the
  // server does not serve it.
  virtual Result<Resource> resourceFor(std::string_view apiVersion, std::string_view kind) = 0;

  // Every resource the server serves (for listing by label, e.g. pruning).
  virtual Result<std::vector<Resource>> resources() = 0;

  // GET one object; an Error with status 404 when it does not exist.
  virtual Result<nlohmann::json> get(const Resource& r, std::string_view ns, std::string_view name) = 0;

  // LIST objects (all namespaces when `ns` is empty), following `continue`
  // pages; `labelSelector` in kubectl syntax, may be empty. Returns the items.
  virtual Result<std::vector<nlohmann::json>> list(const Resource& r, std::string_view ns,
                                                   std::string_view labelSelector) = 0;

  // Server-side apply (PATCH application/apply-patch+yaml) of a full object;
  // returns the object as the server holds it afterwards.
  virtual Result<nlohmann::json> apply(const Resource& r, const nlohmann::json& object,
                                       const ApplyOptions& options) = 0;

  // DELETE; success when it is gone or already absent is the caller's choice
  // (a 404 is returned as an Error). `preconditionUid` guards against deleting
  // a newer object of the same name.
  virtual Result<void> remove(const Resource& r, std::string_view ns, std::string_view name,
                              Propagation propagation = Propagation::Background,
                              std::optional<std::string> preconditionUid = std::nullopt) = 0;

  // Generic request for what the helpers above do not cover (e.g. the
  // TokenRequest or Lease APIs): method, path ("/api/v1/..."), JSON body.
  virtual Result<nlohmann::json> request(std::string_view method, std::string_view path,
                                         const nlohmann::json* body = nullptr,
                                         std::string_view contentType = "application/json") = 0;

  // A view of this client that makes every request (reads, applies, dry
  // runs, deletes, generic requests) as `user`, with the Impersonate-User
  // header: the API server authorizes each one as that user (the client's
  // own identity needs RBAC `impersonate` on it). For a ServiceAccount the
  // user is "system:serviceaccount:NS:NAME"; the API server adds the
  // account's groups itself. The view shares this client's connections,
  // rate limit and discovery (discovery is always the client's own), is as
  // thread-safe as this client, and must not outlive it. Clients that cannot
  // impersonate say so (NotSupported) rather than act as themselves.
  virtual Result<std::unique_ptr<KubeClient>> impersonating(const std::string& user) {
    return std::unexpected(Error{0, "NotSupported", "this client cannot impersonate users", "impersonate " + user});
  }
  // The user this client acts as: "" for its own identity.
  virtual std::string impersonatedUser() const { return {}; }
};

// Whether `user` may be sent as an Impersonate-User header: non-empty, at
// most 512 bytes, no control characters. A message or "".
std::string checkImpersonatedUser(std::string_view user);

}  // namespace gitfed::kube
