#pragma once
// FakeKubeClient: a small in-memory KubeClient for unit tests of the sync
// engine's logic (ordering, planning, prune rules, reporting). It is NOT a
// model of the API server: server-side apply is a deep merge (maps merged,
// lists replaced), there is no field ownership, and normalisation, defaulting
// and validation are whatever a test installs as hooks. Integration tests use
// the real client against the real kube-apiserver.
// Thread-safe (one mutex), like the real client. impersonating(user) gives a
// view whose requests go to the same store as `user`: the `authorize` hook
// decides what a user may do (everything when unset), and every write made
// as a user is logged (writesAs()).

#include <nlohmann/json.hpp>

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "gitfed/kube/client.h"
#include "gitfed/kube/retry.h"

namespace gitfed::test {

class FakeKubeClient final : public kube::KubeClient {
 public:
  using json = nlohmann::json;

  FakeKubeClient() {
    addResource("", "v1", "Namespace", "namespaces", false);
    addResource("", "v1", "ConfigMap", "configmaps", true);
    addResource("", "v1", "Secret", "secrets", true);
    addResource("", "v1", "Service", "services", true);
    addResource("", "v1", "ServiceAccount", "serviceaccounts", true);
    addResource("apps", "v1", "Deployment", "deployments", true);
    addResource("apps", "v1", "StatefulSet", "statefulsets", true);
    addResource("batch", "v1", "Job", "jobs", true);
    addResource("rbac.authorization.k8s.io", "v1", "ClusterRole", "clusterroles", false);
    addResource("autoscaling", "v2", "HorizontalPodAutoscaler", "horizontalpodautoscalers", true);
    addResource("apiextensions.k8s.io", "v1", "CustomResourceDefinition", "customresourcedefinitions", false);
  }

  // ---- set-up and hooks ----------------------------------------------------------------
  void addResource(std::string group, std::string version, std::string kind, std::string plural, bool namespaced) {
    std::lock_guard lock(m_);
    resources_.push_back(kube::Resource{group, version, kind, plural, namespaced, {"get", "list", "patch", "delete"}});
  }
  // Called on every apply with (existing or null, merged result); an Error rejects it.
  std::function<std::optional<kube::Error>(const json& existing, const json& merged)> validate;
  // Server-side normalisation of a stored/returned object (e.g. "1000m" -> "1").
  std::function<void(json&)> normalize;
  // A CRD becomes Established after this many GETs of it.
  int establishAfterGets = 1;
  // Namespaced objects need their Namespace to exist.
  bool requireNamespaces = true;
  // Fail LISTs of this plural with this error.
  std::map<std::string, kube::Error> failList;
  // Fail deletes of objects with this name.
  std::map<std::string, kube::Error> failDelete;
  // Whether `user` ("" = the client itself) may `verb` ("get", "list",
  // "apply", "dryrun", "delete") the object; an Error (e.g. 403) refuses.
  std::function<std::optional<kube::Error>(const std::string& user, const std::string& verb, const kube::Resource& r,
                                           const std::string& ns, const std::string& name)>
      authorize;
  // impersonating() fails with this error when set.
  std::optional<kube::Error> failImpersonation;

  // Puts an object directly into the store (as if another client made it).
  void put(json object) {
    std::lock_guard lock(m_);
    auto r = findResourceLocked(object["apiVersion"].get<std::string>(), object["kind"].get<std::string>());
    store(*r, std::move(object), false);
  }
  std::optional<json> object(const std::string& apiVersion, const std::string& kind, const std::string& ns,
                             const std::string& name) {
    std::lock_guard lock(m_);
    auto r = findResourceLocked(apiVersion, kind);
    if (!r) return std::nullopt;
    auto it = objects_.find(keyOf(*r, r->namespaced ? ns : "", name));
    if (it == objects_.end()) return std::nullopt;
    return it->second;
  }
  // Mutates a stored object as another client would (bumps resourceVersion).
  void edit(const std::string& apiVersion, const std::string& kind, const std::string& ns, const std::string& name,
            const std::function<void(json&)>& f) {
    std::lock_guard lock(m_);
    auto r = findResourceLocked(apiVersion, kind);
    auto& o = objects_.at(keyOf(*r, r->namespaced ? ns : "", name));
    f(o);
    o["metadata"]["resourceVersion"] = std::to_string(++rv_);
  }
  std::size_t count() {
    std::lock_guard lock(m_);
    return objects_.size();
  }

  // ---- counters ----------------------------------------------------------------------------
  std::atomic<int> gets{0}, lists{0}, applies{0}, dryRuns{0}, deletes{0}, discoveries{0};
  int writes() const { return applies.load() + deletes.load(); }
  void resetCounters() { gets = lists = applies = dryRuns = deletes = discoveries = 0; }
  std::vector<std::string> applyLog() {
    std::lock_guard lock(m_);
    return applyLog_;
  }
  // "Kind ns/name" of every object deleted, in order.
  std::vector<std::string> deleteLog() {
    std::lock_guard lock(m_);
    return deleteLog_;
  }
  // "USER apply|dryrun|delete Kind ns/name" for every write tried as a user
  // other than the client itself (refused ones included).
  std::vector<std::string> writesAs() {
    std::lock_guard lock(m_);
    return writesAs_;
  }

  // ---- impersonation ---------------------------------------------------------------------
  class View final : public kube::KubeClient {
   public:
    View(FakeKubeClient& parent, std::string user) : parent_(parent), user_(std::move(user)) {}
    kube::Result<kube::Resource> resourceFor(std::string_view v, std::string_view k) override {
      return parent_.resourceFor(v, k);
    }
    kube::Result<std::vector<kube::Resource>> resources() override { return parent_.resources(); }
    kube::Result<json> get(const kube::Resource& r, std::string_view ns, std::string_view name) override {
      if (auto e = parent_.check(user_, "get", r, ns, name)) return std::unexpected(*e);
      return parent_.get(r, ns, name);
    }
    kube::Result<std::vector<json>> list(const kube::Resource& r, std::string_view ns, std::string_view sel) override {
      if (auto e = parent_.check(user_, "list", r, ns, "")) return std::unexpected(*e);
      return parent_.list(r, ns, sel);
    }
    kube::Result<json> apply(const kube::Resource& r, const json& object, const kube::ApplyOptions& o) override {
      const std::string ns = object["metadata"].value("namespace", ""), name = object["metadata"].value("name", "");
      parent_.logAs(user_, o.dryRun ? "dryrun" : "apply", r, ns, name);
      if (auto e = parent_.check(user_, o.dryRun ? "dryrun" : "apply", r, ns, name)) {
        ++(o.dryRun ? parent_.dryRuns : parent_.applies);
        return std::unexpected(*e);
      }
      return parent_.apply(r, object, o);
    }
    kube::Result<void> remove(const kube::Resource& r, std::string_view ns, std::string_view name, kube::Propagation p,
                              std::optional<std::string> uid) override {
      parent_.logAs(user_, "delete", r, ns, name);
      if (auto e = parent_.check(user_, "delete", r, ns, name)) {
        ++parent_.deletes;
        return std::unexpected(*e);
      }
      return parent_.remove(r, ns, name, p, std::move(uid));
    }
    kube::Result<json> request(std::string_view, std::string_view path, const json*, std::string_view) override {
      return std::unexpected(kube::Error{405, "MethodNotAllowed", "fake view: no generic requests", std::string(path)});
    }
    std::string impersonatedUser() const override { return user_; }

   private:
    FakeKubeClient& parent_;
    std::string user_;
  };
  kube::Result<std::unique_ptr<kube::KubeClient>> impersonating(const std::string& user) override {
    if (failImpersonation) return std::unexpected(*failImpersonation);
    return std::unique_ptr<kube::KubeClient>(std::make_unique<View>(*this, user));
  }

  // ---- KubeClient ----------------------------------------------------------------------------
  kube::Result<kube::Resource> resourceFor(std::string_view apiVersion, std::string_view kind) override {
    ++discoveries;
    std::lock_guard lock(m_);
    if (auto r = findResourceLocked(std::string(apiVersion), std::string(kind))) return *r;
    return std::unexpected(kube::Error{404, "NotFound", "no " + std::string(kind), "discovery"});
  }
  kube::Result<std::vector<kube::Resource>> resources() override {
    std::lock_guard lock(m_);
    return resources_;
  }
  kube::Result<json> get(const kube::Resource& r, std::string_view ns, std::string_view name) override {
    if (auto e = check("", "get", r, ns, name)) return std::unexpected(*e);
    ++gets;
    std::lock_guard lock(m_);
    auto it = objects_.find(keyOf(r, std::string(ns), std::string(name)));
    if (it == objects_.end()) return std::unexpected(kube::Error{404, "NotFound", "not found", "get"});
    if (r.kind == "CustomResourceDefinition") {
      int& n = crdGets_[std::string(name)];
      if (++n >= establishAfterGets) establish(it->second);
    }
    return it->second;
  }
  kube::Result<std::vector<json>> list(const kube::Resource& r, std::string_view ns,
                                       std::string_view selector) override {
    ++lists;
    std::lock_guard lock(m_);
    return listLocked(r, std::string(ns), std::string(selector));
  }
  // Retries as the real client does when > 1: an error the real client
  // would retry (kube::retryableStatus for PATCH) is tried again up to
  // maxAttempts in all, asking the request's RetryGate first (with
  // `retryDelay`, never waited: the fake has no clock).
  int maxAttempts = 1;
  std::chrono::milliseconds retryDelay{200};
  kube::Result<json> apply(const kube::Resource& r, const json& object, const kube::ApplyOptions& o) override {
    for (int attempt = 1;; ++attempt) {
      auto result = applyOnce(r, object, o);
      if (result || attempt >= maxAttempts || !kube::retryableStatus(result.error().status, "PATCH")) return result;
      if (o.retryGate != nullptr)
        if (auto why = o.retryGate->beforeRetry(result.error(), attempt, retryDelay); !why.empty()) {
          result.error().message += " (" + why + ")";
          return result;
        }
    }
  }
  kube::Result<json> applyOnce(const kube::Resource& r, const json& object, const kube::ApplyOptions& o) {
    if (o.dryRun)
      ++dryRuns;
    else
      ++applies;
    if (auto e = check("", o.dryRun ? "dryrun" : "apply", r, object["metadata"].value("namespace", ""),
                       object["metadata"].value("name", "")))
      return std::unexpected(*e);
    std::lock_guard lock(m_);
    std::string ns = object["metadata"].value("namespace", "");
    std::string name = object["metadata"]["name"];
    if (r.namespaced && ns.empty()) return std::unexpected(kube::Error{400, "BadRequest", "no namespace", "apply"});
    if (r.namespaced && requireNamespaces && !objects_.contains("/namespaces//" + ns))
      return std::unexpected(kube::Error{404, "NotFound", "namespaces \"" + ns + "\" not found", "apply"});
    auto key = keyOf(r, ns, name);
    auto it = objects_.find(key);
    json merged = it == objects_.end() ? json::object() : it->second;
    mergeInto(merged, object);
    if (normalize) normalize(merged);
    if (validate)
      if (auto e = validate(it == objects_.end() ? json() : it->second, merged)) return std::unexpected(*e);
    if (o.dryRun) return merged;
    applyLog_.push_back(r.kind + " " + ns + "/" + name);
    return store(r, std::move(merged), true);
  }
  kube::Result<void> remove(const kube::Resource& r, std::string_view ns, std::string_view name, kube::Propagation,
                            std::optional<std::string> uid) override {
    ++deletes;
    if (auto e = check("", "delete", r, ns, name)) return std::unexpected(*e);
    std::lock_guard lock(m_);
    if (auto f = failDelete.find(std::string(name)); f != failDelete.end()) return std::unexpected(f->second);
    auto it = objects_.find(keyOf(r, std::string(ns), std::string(name)));
    if (it == objects_.end()) return std::unexpected(kube::Error{404, "NotFound", "not found", "delete"});
    if (uid && it->second["metadata"].value("uid", "") != *uid)
      return std::unexpected(kube::Error{409, "Conflict", "uid precondition failed", "delete"});
    deleteLog_.push_back(r.kind + " " + std::string(ns) + "/" + std::string(name));
    objects_.erase(it);
    return {};
  }
  // Only what the engine uses: paged LISTs, "GET /api[s]/.../plural?limit=&labelSelector=&continue=".
  kube::Result<json> request(std::string_view method, std::string_view path, const json*, std::string_view) override {
    ++lists;
    std::lock_guard lock(m_);
    if (method != "GET") return std::unexpected(kube::Error{405, "MethodNotAllowed", "fake", std::string(path)});
    std::string p(path), query;
    if (auto q = p.find('?'); q != std::string::npos) query = p.substr(q + 1), p = p.substr(0, q);
    std::map<std::string, std::string> params;
    for (std::size_t i = 0; i < query.size();) {
      auto amp = query.find('&', i);
      std::string kv = query.substr(i, amp == std::string::npos ? std::string::npos : amp - i);
      auto eq = kv.find('=');
      params[kv.substr(0, eq)] = decode(kv.substr(eq + 1));
      if (amp == std::string::npos) break;
      i = amp + 1;
    }
    std::vector<std::string> parts;
    for (std::size_t i = 1; i <= p.size();) {
      auto s = p.find('/', i);
      parts.push_back(p.substr(i, s == std::string::npos ? std::string::npos : s - i));
      if (s == std::string::npos) break;
      i = s + 1;
    }
    std::string group, ns;
    std::size_t at = 0;
    if (parts[0] == "api") {
      at = 2;
    } else {
      group = parts[1];
      at = 3;
    }
    if (parts.size() > at + 1 && parts[at] == "namespaces") ns = parts[at + 1], at += 2;
    const std::string plural = parts[at];
    if (auto f = failList.find(plural); f != failList.end()) return std::unexpected(f->second);
    const kube::Resource* res = nullptr;
    for (const auto& r : resources_)
      if (r.group == group && r.plural == plural) res = &r;
    if (!res) return std::unexpected(kube::Error{404, "NotFound", "no such resource", std::string(path)});
    auto all = listLocked(*res, ns, params["labelSelector"]);
    if (!all) return std::unexpected(all.error());
    std::size_t limit = params.contains("limit") ? std::stoul(params["limit"]) : all->size();
    std::size_t start = params.contains("continue") ? std::stoul(params["continue"]) : 0;
    json page = {{"items", json::array()}, {"metadata", json::object()}};
    for (std::size_t i = start; i < all->size() && i < start + limit; ++i) {
      json item = (*all)[i];
      item.erase("apiVersion");  // as the server does in lists
      item.erase("kind");
      page["items"].push_back(std::move(item));
    }
    if (start + limit < all->size()) page["metadata"]["continue"] = std::to_string(start + limit);
    return page;
  }

 private:
  std::optional<kube::Error> check(const std::string& user, const std::string& verb, const kube::Resource& r,
                                   std::string_view ns, std::string_view name) {
    if (!authorize) return std::nullopt;
    return authorize(user, verb, r, std::string(ns), std::string(name));
  }
  void logAs(const std::string& user, const std::string& verb, const kube::Resource& r, std::string_view ns,
             std::string_view name) {
    std::lock_guard lock(m_);
    writesAs_.push_back(user + " " + verb + " " + r.kind + " " + std::string(ns) + "/" + std::string(name));
  }
  static std::string decode(const std::string& s) {
    std::string out;
    for (std::size_t i = 0; i < s.size(); ++i) {
      if (s[i] == '%' && i + 2 < s.size()) {
        out += static_cast<char>(std::stoi(s.substr(i + 1, 2), nullptr, 16));
        i += 2;
      } else {
        out += s[i];
      }
    }
    return out;
  }
  static std::string keyOf(const kube::Resource& r, const std::string& ns, const std::string& name) {
    return r.group + "/" + r.plural + "/" + ns + "/" + name;
  }
  const kube::Resource* findResourceLocked(const std::string& apiVersion, const std::string& kind) const {
    auto slash = apiVersion.find('/');
    std::string group = slash == std::string::npos ? "" : apiVersion.substr(0, slash);
    std::string version = slash == std::string::npos ? apiVersion : apiVersion.substr(slash + 1);
    for (const auto& r : resources_)
      if (r.group == group && r.version == version && r.kind == kind) return &r;
    return nullptr;
  }
  static void mergeInto(json& target, const json& patch) {
    for (auto it = patch.begin(); it != patch.end(); ++it) {
      if (it.value().is_null()) {
        target.erase(it.key());
      } else if (it.value().is_object() && target.contains(it.key()) && target[it.key()].is_object()) {
        mergeInto(target[it.key()], it.value());
      } else {
        target[it.key()] = it.value();
      }
    }
  }
  void establish(json& crd) {
    auto& conditions = crd["status"]["conditions"];
    if (conditions.is_array() && !conditions.empty()) return;
    conditions = json::array({{{"type", "Established"}, {"status", "True"}}});
    const json& spec = crd["spec"];
    std::string group = spec["group"];
    for (const auto& v : spec["versions"])
      resources_.push_back(kube::Resource{group, v["name"], spec["names"]["kind"], spec["names"]["plural"],
                                          spec.value("scope", "Namespaced") == "Namespaced", {}});
  }
  json store(const kube::Resource& r, json merged, bool bump) {
    auto& meta = merged["metadata"];
    std::string ns = r.namespaced ? meta.value("namespace", "") : "";
    auto key = keyOf(r, ns, meta["name"]);
    auto it = objects_.find(key);
    if (it == objects_.end()) {
      meta["uid"] = "uid-" + std::to_string(++uid_);
      meta["resourceVersion"] = std::to_string(++rv_);
      meta["generation"] = 1;
      if (r.kind == "Namespace") merged["status"]["phase"] = "Active";
    } else {
      json before = it->second;
      json after = merged;
      before["metadata"].erase("resourceVersion");
      after["metadata"].erase("resourceVersion");
      if (before != after && bump) meta["resourceVersion"] = std::to_string(++rv_);
    }
    if (!merged.contains("apiVersion")) merged["apiVersion"] = r.apiVersion();
    if (!merged.contains("kind")) merged["kind"] = r.kind;
    objects_[key] = merged;
    return merged;
  }
  kube::Result<std::vector<json>> listLocked(const kube::Resource& r, const std::string& ns,
                                             const std::string& selector) {
    std::map<std::string, std::string> want;
    for (std::size_t i = 0; i < selector.size();) {
      auto comma = selector.find(',', i);
      std::string kv = selector.substr(i, comma == std::string::npos ? std::string::npos : comma - i);
      auto eq = kv.find('=');
      want[kv.substr(0, eq)] = kv.substr(eq + 1);
      if (comma == std::string::npos) break;
      i = comma + 1;
    }
    std::vector<json> out;
    const std::string prefix = r.group + "/" + r.plural + "/";
    for (const auto& [key, o] : objects_) {
      if (!key.starts_with(prefix)) continue;
      if (!ns.empty() && o["metadata"].value("namespace", "") != ns) continue;
      bool match = true;
      for (const auto& [k, v] : want) {
        const json& labels = o["metadata"].contains("labels") ? o["metadata"]["labels"] : json::object();
        if (!labels.contains(k) || labels[k] != v) match = false;
      }
      if (match) out.push_back(o);
    }
    return out;
  }

  std::mutex m_;
  std::vector<kube::Resource> resources_;
  std::map<std::string, json> objects_;
  std::map<std::string, int> crdGets_;
  std::vector<std::string> applyLog_;
  std::vector<std::string> deleteLog_;
  std::vector<std::string> writesAs_;
  int rv_ = 100;
  int uid_ = 0;
};

}  // namespace gitfed::test
