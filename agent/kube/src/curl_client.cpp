// CurlKubeClient: requests, retries, rate limiting, discovery cache, typed
// helpers. Transport-agnostic; the libcurl part is curl_transport.cpp.

#include "gitfed/kube/curl_client.h"
#include "gitfed/kube/discovery.h"
#include "gitfed/kube/status.h"
#include "gitfed/kube/url.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <map>
#include <random>

namespace gitfed::kube {

using nlohmann::json;
using std::chrono::milliseconds;

struct CurlKubeClient::Discovery {
  std::vector<DiscoveredGroup> core;  // from /api
  std::vector<DiscoveredGroup> apis;  // from /apis
  std::map<std::string, Resource, std::less<>> byGroupVersionKind;  // "group/version/Kind"
  std::vector<Resource> preferred;
};

namespace {

double jitterUnit() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  return std::uniform_real_distribution<double>(0.0, 1.0)(rng);
}

std::string gvkKey(std::string_view group, std::string_view version, std::string_view kind) {
  std::string k;
  k.reserve(group.size() + version.size() + kind.size() + 2);
  k.append(group).append("/").append(version).append("/").append(kind);
  return k;
}

std::string objectTarget(std::string_view verb, const Resource& r, std::string_view ns, std::string_view name) {
  std::string t(verb);
  t += " " + r.apiVersion() + " " + r.kind;
  if (!name.empty() || !ns.empty()) {
    t += " ";
    if (r.namespaced && !ns.empty()) t.append(ns).append("/");
    t.append(name);
  }
  return t;
}

std::string_view failureReason(TransportFailure f) {
  switch (f) {
    case TransportFailure::Connect: return "ConnectionFailed";
    case TransportFailure::Timeout: return "Timeout";
    case TransportFailure::Io: return "ConnectionLost";
    case TransportFailure::Tls: return "TLSError";
    case TransportFailure::Other: break;
  }
  return "TransportError";
}

Error requestError(std::string target, std::string message, int status = 0, std::string reason = "BadRequest") {
  return Error{status, std::move(reason), std::move(message), std::move(target)};
}

bool success(long status) { return (status >= 200 && status < 300) || status == 304; }

TokenSource makeTokenSource(const Config& c) {
  if (c.token.empty() && !c.tokenFile.empty()) return TokenSource::fromFile(c.tokenFile);
  return TokenSource(c.token);
}

}  // namespace

Result<std::unique_ptr<CurlKubeClient>> CurlKubeClient::create(const Config& config) {
  auto transport = CurlTransport::create(config);
  if (!transport) return std::unexpected(transport.error());
  return std::make_unique<CurlKubeClient>(config, std::move(*transport), systemClock());
}

CurlKubeClient::CurlKubeClient(const Config& config, std::shared_ptr<Transport> transport,
                               std::shared_ptr<Clock> clock)
    : config_(config),
      transport_(std::move(transport)),
      clock_(std::move(clock)),
      limiter_(config.qps, config.burst),
      token_(makeTokenSource(config)) {}

CurlKubeClient::~CurlKubeClient() = default;

CurlKubeClient::Stats CurlKubeClient::stats() const {
  Stats s;
  s.attempts = attempts_.load();
  s.retries = retries_.load();
  s.discoveryRefreshes = refreshes_.load();
  s.throttled = std::chrono::nanoseconds(static_cast<std::int64_t>(throttledNs_.load()));
  return s;
}

HttpRequest CurlKubeClient::makeRequest(std::string method, std::string path, const std::string& as) const {
  HttpRequest r;
  r.method = std::move(method);
  r.path = std::move(path);
  r.impersonateUser = as;
  r.timeout = config_.requestTimeout;
  return r;
}

Result<HttpResponse> CurlKubeClient::execute(HttpRequest req, const std::string& target,
                                             const std::vector<std::string>* redactions, RetryGate* gate) {
  const auto deadline = clock_->now() + config_.operationTimeout;
  const int maxAttempts = std::max(1, config_.retry.maxAttempts);
  bool reloadedToken = false;
  for (int attempt = 1;; ++attempt) {
    if (auto wait = limiter_.reserve(clock_->now()); wait > std::chrono::nanoseconds::zero()) {
      throttledNs_ += static_cast<std::uint64_t>(wait.count());
      clock_->sleepFor(wait);
    }
    req.bearerToken = token_.current();
    const auto left = std::chrono::duration_cast<milliseconds>(deadline - clock_->now());
    req.timeout = std::clamp(left, milliseconds(1), std::max(milliseconds(1), config_.requestTimeout));
    ++attempts_;
    if (attempt > 1) ++retries_;
    const auto started = clock_->now();
    auto result = transport_->perform(req);
    const auto took = std::chrono::duration_cast<milliseconds>(clock_->now() - started).count();

    Error error;
    bool retry = false;
    std::optional<milliseconds> retryAfter;
    if (!result) {
      const TransportError& te = result.error();
      error = Error{0, std::string(failureReason(te.failure)), te.message, target};
      retry = te.failure == TransportFailure::Connect ||
              ((te.failure == TransportFailure::Timeout || te.failure == TransportFailure::Io) &&
               idempotentMethod(req.method));
      spdlog::debug("kube: {} {}{}{} failed after {} ms (attempt {}): {}", req.method, req.path,
                    req.impersonateUser.empty() ? "" : " as ", req.impersonateUser, took, attempt, error.reason);
    } else {
      HttpResponse& response = *result;
      spdlog::debug("kube: {} {}{}{} -> {} in {} ms (attempt {})", req.method, req.path,
                    req.impersonateUser.empty() ? "" : " as ", req.impersonateUser, response.status, took, attempt);
      if (success(response.status)) return std::move(response);
      if (response.status == 401 && !reloadedToken && token_.fromFile() && token_.reload()) {
        // The token file was rotated since we read it: once more, at once.
        reloadedToken = true;
        --attempt;
        continue;
      }
      error = errorFromResponse(response.status, response.body, target);
      retry = retryableStatus(response.status, req.method);
      if (retry) retryAfter = parseRetryAfter(response.retryAfter, clock_->wallNow());
    }
    if (redactions != nullptr && !redactions->empty()) error.message = redact(std::move(error.message), *redactions);
    if (!retry) return std::unexpected(std::move(error));
    if (attempt >= maxAttempts) {
      error.message += " (gave up after " + std::to_string(attempt) + " attempts)";
      return std::unexpected(std::move(error));
    }
    milliseconds delay = backoffDelay(config_.retry, attempt, jitterUnit());
    if (retryAfter) delay = std::max(delay, std::min(*retryAfter, config_.retry.maxRetryAfter));
    if (clock_->now() + delay >= deadline) {
      error.message += " (gave up after " + std::to_string(attempt) + " attempts: the operation deadline is near)";
      return std::unexpected(std::move(error));
    }
    if (gate != nullptr)
      if (std::string why = gate->beforeRetry(error, attempt, delay); !why.empty()) {
        error.message += " (" + why + ")";
        return std::unexpected(std::move(error));
      }
    spdlog::info("kube: {} {}: {}; retry {} in {} ms", req.method, req.path,
                 error.status ? std::to_string(error.status) + " " + error.reason : error.reason, attempt,
                 delay.count());
    clock_->sleepFor(delay);
  }
}

Result<json> CurlKubeClient::executeJson(HttpRequest request, const std::string& target,
                                         const std::vector<std::string>* redactions, RetryGate* gate) {
  auto response = execute(std::move(request), target, redactions, gate);
  if (!response) return std::unexpected(std::move(response.error()));
  if (response->body.empty()) return json();
  json doc = json::parse(response->body, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded())
    return std::unexpected(Error{static_cast<int>(response->status), "InvalidResponse",
                                 "the response is not JSON (Content-Type " + response->contentType + ")", target});
  return doc;
}

// ---- discovery ----------------------------------------------------------------

void CurlKubeClient::invalidateDiscovery() {
  std::lock_guard refresh(refreshMutex_);
  std::lock_guard lock(discoveryMutex_);
  discovery_.reset();
  apiEtag_.clear();
  apisEtag_.clear();
}

Result<std::shared_ptr<const CurlKubeClient::Discovery>> CurlKubeClient::discovery() {
  std::shared_ptr<const Discovery> current;
  {
    std::lock_guard lock(discoveryMutex_);
    current = discovery_;
  }
  if (current) return current;
  if (auto r = refreshDiscovery(0); !r) return std::unexpected(r.error());
  std::lock_guard lock(discoveryMutex_);
  return discovery_;
}

Result<void> CurlKubeClient::refreshDiscovery(std::uint64_t seenGeneration) {
  std::lock_guard refresh(refreshMutex_);
  std::shared_ptr<const Discovery> old;
  {
    std::lock_guard lock(discoveryMutex_);
    old = discovery_;
  }
  // Another thread refreshed while this one waited: its result is as fresh.
  if (old && refreshes_.load() != seenGeneration) return {};
  ++refreshes_;

  // One document, /api or /apis: aggregated when the server has it (one
  // request), else the legacy documents (one request per group-version).
  auto fetch = [&](const std::string& root, std::string& etag,
                   const std::vector<DiscoveredGroup>* previous) -> Result<std::vector<DiscoveredGroup>> {
    HttpRequest req = makeRequest("GET", root);
    req.accept = kAggregatedDiscoveryAccept;
    if (previous != nullptr) req.ifNoneMatch = etag;
    auto response = execute(std::move(req), "discovery GET " + root);
    if (!response) return std::unexpected(response.error());
    if (response->status == 304 && previous != nullptr) return *previous;
    json doc = json::parse(response->body, nullptr, false);
    if (doc.is_discarded())
      return std::unexpected(Error{0, "InvalidResponse", root + " did not return JSON", "discovery"});
    if (isAggregatedDiscovery(response->contentType)) {
      auto groups = parseAggregatedDiscovery(doc);
      if (groups) etag = response->etag;
      return groups;
    }
    etag.clear();  // legacy documents are not cached by ETag
    std::vector<DiscoveredGroup> groups;
    if (root == "/api") {
      auto versions = parseApiVersions(doc);
      if (!versions) return std::unexpected(versions.error());
      groups.push_back(DiscoveredGroup{"", *versions, {}});
    } else {
      auto parsed = parseApiGroupList(doc);
      if (!parsed) return std::unexpected(parsed.error());
      groups = std::move(*parsed);
    }
    for (auto& g : groups) {
      for (const auto& version : g.versions) {
        const std::string path = groupVersionPath(g.name, version);
        auto list = executeJson(makeRequest("GET", path), "discovery GET " + path);
        if (!list) {  // an unavailable aggregated API must not hide the others
          spdlog::warn("kube: discovery of {} failed: {}", path, list.error().format());
          continue;
        }
        auto resources = parseApiResourceList(*list, g.name, version);
        if (!resources) return std::unexpected(resources.error());
        for (auto& r : *resources) g.resources.push_back(std::move(r));
      }
    }
    return groups;
  };

  auto core = fetch("/api", apiEtag_, old ? &old->core : nullptr);
  if (!core) return std::unexpected(core.error());
  auto apis = fetch("/apis", apisEtag_, old ? &old->apis : nullptr);
  if (!apis) return std::unexpected(apis.error());

  auto next = std::make_shared<Discovery>();
  next->core = std::move(*core);
  next->apis = std::move(*apis);
  for (const auto* groups : {&next->core, &next->apis})
    for (const auto& g : *groups)
      for (const auto& r : g.resources) next->byGroupVersionKind.emplace(gvkKey(r.group, r.version, r.kind), r);
  next->preferred = preferredResources(next->core);
  auto more = preferredResources(next->apis);
  next->preferred.insert(next->preferred.end(), more.begin(), more.end());
  spdlog::debug("kube: discovery: {} resource types", next->byGroupVersionKind.size());
  std::lock_guard lock(discoveryMutex_);
  discovery_ = std::move(next);
  return {};
}

Result<Resource> CurlKubeClient::resourceFor(std::string_view apiVersion, std::string_view kind) {
  const auto slash = apiVersion.find('/');
  const std::string_view group = slash == std::string_view::npos ? std::string_view() : apiVersion.substr(0, slash);
  const std::string_view version = slash == std::string_view::npos ? apiVersion : apiVersion.substr(slash + 1);
  const std::string key = gvkKey(group, version, kind);
  const std::string target = "discovery " + std::string(apiVersion) + " " + std::string(kind);
  if (version.empty() || kind.empty())
    return std::unexpected(requestError(target, "apiVersion and kind are required"));
  for (int pass = 0; pass < 2; ++pass) {
    const std::uint64_t generation = refreshes_.load();
    auto d = discovery();
    if (!d) return std::unexpected(d.error());
    if (auto it = (*d)->byGroupVersionKind.find(key); it != (*d)->byGroupVersionKind.end()) return it->second;
    if (pass == 0) {
      // A miss: perhaps a CRD created a moment ago. Refresh once.
      if (auto r = refreshDiscovery(generation); !r) return std::unexpected(r.error());
    }
  }
  return std::unexpected(
      Error{404, "NotFound", "the server does not serve " + std::string(kind) + " in " + std::string(apiVersion), target});
}

Result<std::vector<Resource>> CurlKubeClient::resources() {
  auto d = discovery();
  if (!d) return std::unexpected(d.error());
  return (*d)->preferred;
}

// ---- objects ------------------------------------------------------------------

Result<json> CurlKubeClient::get(const Resource& r, std::string_view ns, std::string_view name) {
  return getAs({}, r, ns, name);
}
Result<std::vector<json>> CurlKubeClient::list(const Resource& r, std::string_view ns, std::string_view labelSelector) {
  return listAs({}, r, ns, labelSelector);
}
Result<json> CurlKubeClient::apply(const Resource& r, const json& object, const ApplyOptions& options) {
  return applyAs({}, r, object, options);
}
Result<void> CurlKubeClient::remove(const Resource& r, std::string_view ns, std::string_view name,
                                    Propagation propagation, std::optional<std::string> preconditionUid) {
  return removeAs({}, r, ns, name, propagation, std::move(preconditionUid));
}
Result<json> CurlKubeClient::request(std::string_view method, std::string_view path, const json* body,
                                     std::string_view contentType) {
  return requestAs({}, method, path, body, contentType);
}

Result<json> CurlKubeClient::getAs(const std::string& as, const Resource& r, std::string_view ns, std::string_view name) {
  const std::string target = objectTarget("get", r, ns, name);
  if (name.empty()) return std::unexpected(requestError(target, "no name"));
  if (r.namespaced && ns.empty()) return std::unexpected(requestError(target, "no namespace for a namespaced kind"));
  return executeJson(makeRequest("GET", resourcePath(r, ns, name), as), target);
}

Result<std::vector<json>> CurlKubeClient::listAs(const std::string& as, const Resource& r, std::string_view ns,
                                                 std::string_view labelSelector) {
  std::string target = "list " + r.apiVersion() + " " + r.kind;
  if (r.namespaced && !ns.empty()) target += " in " + std::string(ns);
  if (!labelSelector.empty()) target += " -l " + std::string(labelSelector);
  std::vector<json> items;
  std::string continueToken;
  bool restarted = false;
  const std::string apiVersion = r.apiVersion();
  for (;;) {
    const std::string path = resourcePath(r, ns) + queryString({{"limit", std::to_string(std::max(1, config_.listPageSize))},
                                                                 {"continue", continueToken},
                                                                 {"labelSelector", std::string(labelSelector)}});
    auto page = executeJson(makeRequest("GET", path, as), target);
    if (!page) {
      // The continue token expired (410): start over once, from a fresh snapshot.
      if (page.error().status == 410 && !continueToken.empty() && !restarted) {
        spdlog::info("kube: {}: continue token expired; listing again", target);
        restarted = true;
        items.clear();
        continueToken.clear();
        continue;
      }
      return std::unexpected(std::move(page.error()));
    }
    auto it = page->find("items");
    if (it == page->end() || !(it->is_array() || it->is_null()))
      return std::unexpected(Error{200, "InvalidResponse", "the list has no items", target});
    if (it->is_array()) {
      items.reserve(items.size() + it->size());
      for (auto& item : *it) {
        if (item.is_object()) {
          if (!item.contains("apiVersion")) item["apiVersion"] = apiVersion;
          if (!item.contains("kind")) item["kind"] = r.kind;
        }
        items.push_back(std::move(item));
      }
    }
    continueToken.clear();
    if (auto md = page->find("metadata"); md != page->end() && md->is_object())
      if (auto c = md->find("continue"); c != md->end() && c->is_string()) continueToken = c->get<std::string>();
    if (continueToken.empty()) return items;
  }
}

Result<json> CurlKubeClient::applyAs(const std::string& as, const Resource& r, const json& object,
                                     const ApplyOptions& options) {
  std::string name, ns;
  if (object.is_object())
    if (auto md = object.find("metadata"); md != object.end() && md->is_object()) {
      name = md->value("name", "");
      ns = md->value("namespace", "");
    }
  const std::string target = objectTarget("apply", r, ns, name.empty() ? "<unnamed>" : name);
  if (!object.is_object()) return std::unexpected(requestError(target, "the object is not a JSON object"));
  if (name.empty()) return std::unexpected(requestError(target, "the object has no metadata.name"));
  if (r.namespaced && ns.empty()) return std::unexpected(requestError(target, "a namespaced object without metadata.namespace"));
  if (!r.namespaced && !ns.empty())
    return std::unexpected(requestError(target, "a cluster-scoped object with metadata.namespace"));
  if (options.fieldManager.empty()) return std::unexpected(requestError(target, "no field manager"));

  HttpRequest req = makeRequest(
      "PATCH", resourcePath(r, ns, name) + queryString({{"fieldManager", options.fieldManager},
                                                         {"force", options.force ? "true" : ""},
                                                         {"dryRun", options.dryRun ? "All" : ""}}),
      as);
  req.contentType = "application/apply-patch+yaml";  // JSON is YAML
  try {
    if (object.contains("apiVersion") && object.contains("kind")) {
      req.body = object.dump();
    } else {
      json copy = object;
      if (!copy.contains("apiVersion")) copy["apiVersion"] = r.apiVersion();
      if (!copy.contains("kind")) copy["kind"] = r.kind;
      req.body = copy.dump();
    }
  } catch (const json::exception& e) {
    return std::unexpected(requestError(target, std::string("cannot serialise the object: ") + e.what()));
  }
  const std::vector<std::string> secrets = secretValues(object);
  return executeJson(std::move(req), target, &secrets, options.retryGate);
}

Result<void> CurlKubeClient::removeAs(const std::string& as, const Resource& r, std::string_view ns,
                                      std::string_view name, Propagation propagation,
                                      std::optional<std::string> preconditionUid) {
  const std::string target = objectTarget("delete", r, ns, name);
  if (name.empty()) return std::unexpected(requestError(target, "no name"));
  if (r.namespaced && ns.empty()) return std::unexpected(requestError(target, "no namespace for a namespaced kind"));
  json options = {{"apiVersion", "v1"}, {"kind", "DeleteOptions"}};
  switch (propagation) {
    case Propagation::Background: options["propagationPolicy"] = "Background"; break;
    case Propagation::Foreground: options["propagationPolicy"] = "Foreground"; break;
    case Propagation::Orphan: options["propagationPolicy"] = "Orphan"; break;
  }
  if (preconditionUid) options["preconditions"] = {{"uid", *preconditionUid}};
  HttpRequest req = makeRequest("DELETE", resourcePath(r, ns, name), as);
  req.contentType = "application/json";
  req.body = options.dump();
  auto response = execute(std::move(req), target);
  if (!response) return std::unexpected(std::move(response.error()));
  return {};
}

Result<json> CurlKubeClient::requestAs(const std::string& as, std::string_view method, std::string_view path,
                                       const json* body, std::string_view contentType) {
  const std::string target = std::string(method) + " " + std::string(path.substr(0, path.find('?')));
  if (method.empty() || !path.starts_with('/')) return std::unexpected(requestError(target, "a method and an absolute path are required"));
  HttpRequest req = makeRequest(std::string(method), std::string(path), as);
  std::vector<std::string> secrets;
  if (body != nullptr) {
    try {
      req.body = body->dump();
    } catch (const json::exception& e) {
      return std::unexpected(requestError(target, std::string("cannot serialise the body: ") + e.what()));
    }
    req.contentType = std::string(contentType);
    secrets = secretValues(*body);
  }
  return executeJson(std::move(req), target, &secrets);
}

// ---- impersonation --------------------------------------------------------------

std::string checkImpersonatedUser(std::string_view user) {
  if (user.empty()) return "no user to impersonate";
  if (user.size() > 512) return "the user to impersonate is longer than 512 bytes";
  for (char ch : user)
    if (const auto c = static_cast<unsigned char>(ch); c < 0x20 || c == 0x7f) return "the user to impersonate contains a control character";
  return {};
}

// The client as `user_`: discovery is the parent's own (it is not about
// the user); everything else carries Impersonate-User.
class CurlKubeClient::View final : public KubeClient {
 public:
  View(CurlKubeClient& parent, std::string user) : parent_(parent), user_(std::move(user)) {}
  Result<Resource> resourceFor(std::string_view apiVersion, std::string_view kind) override {
    return parent_.resourceFor(apiVersion, kind);
  }
  Result<std::vector<Resource>> resources() override { return parent_.resources(); }
  Result<json> get(const Resource& r, std::string_view ns, std::string_view name) override {
    return parent_.getAs(user_, r, ns, name);
  }
  Result<std::vector<json>> list(const Resource& r, std::string_view ns, std::string_view labelSelector) override {
    return parent_.listAs(user_, r, ns, labelSelector);
  }
  Result<json> apply(const Resource& r, const json& object, const ApplyOptions& options) override {
    return parent_.applyAs(user_, r, object, options);
  }
  Result<void> remove(const Resource& r, std::string_view ns, std::string_view name, Propagation propagation,
                      std::optional<std::string> preconditionUid) override {
    return parent_.removeAs(user_, r, ns, name, propagation, std::move(preconditionUid));
  }
  Result<json> request(std::string_view method, std::string_view path, const json* body,
                       std::string_view contentType) override {
    return parent_.requestAs(user_, method, path, body, contentType);
  }
  Result<std::unique_ptr<KubeClient>> impersonating(const std::string& user) override {
    return parent_.impersonating(user);  // the parent's identity impersonates, never this user
  }
  std::string impersonatedUser() const override { return user_; }

 private:
  CurlKubeClient& parent_;
  std::string user_;
};

Result<std::unique_ptr<KubeClient>> CurlKubeClient::impersonating(const std::string& user) {
  if (auto bad = checkImpersonatedUser(user); !bad.empty())
    return std::unexpected(requestError("impersonate " + user, bad));
  return std::unique_ptr<KubeClient>(std::make_unique<View>(*this, user));
}

}  // namespace gitfed::kube
