#pragma once
// ObjectKey and ObjectRef: how the sync engine names a Kubernetes object.
// Plain values; thread-safe to copy. Also the label and annotation keys gitfed
// reads and writes on the objects it manages.

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>

namespace gitfed::sync {

// Labels gitfed puts on every object it applies; the LIST selector of the
// no-op path and the ownership test of pruning.
inline constexpr std::string_view kManagedByLabel = "gitfed.io/managed-by";
inline constexpr std::string_view kManagedByValue = "gitfed";
inline constexpr std::string_view kInventoryLabel = "gitfed.io/inventory";
// Multi-tenancy: every object of a tenant (its own and what the Tenant
// expands to) carries gitfed.io/tenant=<name>; its own objects, written as the
// tenant, also carry gitfed.io/applied-as=tenant, so that pruning them
// impersonates the tenant too. Set by the engine on a tenant's objects (Git's
// values are replaced there).
inline constexpr std::string_view kTenantLabel = "gitfed.io/tenant";
inline constexpr std::string_view kAppliedAsLabel = "gitfed.io/applied-as";
inline constexpr std::string_view kAppliedAsTenant = "tenant";
// The hash of the desired object as last applied (detects changes in Git,
// including removed fields, without a request per object).
inline constexpr std::string_view kAppliedHashAnnotation = "gitfed.io/applied-hash";
// Opt-outs and per-object switches a user sets in Git (or on the live object).
inline constexpr std::string_view kPruneAnnotation = "gitfed.io/prune";              // "disabled"
inline constexpr std::string_view kReconcileAnnotation = "gitfed.io/reconcile";      // "disabled": suspended
inline constexpr std::string_view kForceAnnotation = "gitfed.io/force";              // "true": recreate on immutable change
inline constexpr std::string_view kIgnoreFieldsAnnotation = "gitfed.io/ignore-fields";  // "/spec/replicas,/data/x"
inline constexpr std::string_view kWarnFieldsAnnotation = "gitfed.io/warn-fields";      // compared and reported, never healed

// The API server's identity of an object: API group (not version), kind,
// namespace ("" when cluster-scoped) and name.
struct ObjectKey {
  std::string group;
  std::string kind;
  std::string ns;
  std::string name;
  bool operator==(const ObjectKey&) const = default;
  auto operator<=>(const ObjectKey&) const = default;
};

struct ObjectKeyHash {
  std::size_t operator()(const ObjectKey& k) const noexcept {
    std::hash<std::string> h;
    std::size_t v = h(k.group);
    for (const std::string* s : {&k.kind, &k.ns, &k.name}) v = v * 1000003u ^ h(*s);
    return v;
  }
};

// An object as reported: its apiVersion as written, kind, namespace, name.
struct ObjectRef {
  std::string apiVersion;
  std::string kind;
  std::string ns;
  std::string name;

  ObjectKey key() const { return ObjectKey{groupOf(apiVersion), kind, ns, name}; }
  // "Deployment shop/web" or "Namespace shop": the start of every message
  // about the object.
  std::string identity() const { return ns.empty() ? kind + " " + name : kind + " " + ns + "/" + name; }
  // "apps/v1/Deployment/shop/web" (status spec's object id).
  std::string id() const {
    std::string s = apiVersion + "/" + kind + "/";
    if (!ns.empty()) s += ns + "/";
    return s + name;
  }
  bool operator==(const ObjectRef&) const = default;

  static std::string groupOf(std::string_view apiVersion) {
    auto slash = apiVersion.find('/');
    return slash == std::string_view::npos ? std::string() : std::string(apiVersion.substr(0, slash));
  }
};

}  // namespace gitfed::sync
