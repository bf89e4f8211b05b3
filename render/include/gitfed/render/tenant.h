#pragma once
// Tenants (docs/render-spec.md section 10): a `gitfed.io/v1alpha1 Tenant`
// read into a TenantSpec, the objects it expands to on a cluster, and the
// render-time checks of the objects written in the tenant's own paths.
// Pure functions over plain values.

#include <nlohmann/json.hpp>

#include <string>
#include <string_view>
#include <vector>

#include "gitfed/render/diagnostic.h"

namespace gitfed::render {

struct TenantSubjects {
  std::vector<std::string> users;
  std::vector<std::string> groups;
  bool empty() const { return users.empty() && groups.empty(); }
};

// A Tenant's spec as it applies on one cluster (after that cluster's
// overrides and substitution), defaults filled in.
struct TenantSpec {
  std::string name;
  std::vector<std::string> paths;             // normalised repository paths
  std::vector<std::string> namespaces;        // default: [metadata.name]
  std::vector<std::string> sharedNamespaces;  // also admitted by the NetworkPolicy
  std::string podSecurity;                    // privileged | baseline | restricted
  TenantSubjects admins, developers, viewers;  // bound to ClusterRoles admin, edit, view
  nlohmann::json quota;                       // a ResourceQuota spec
  nlohmann::json limitRange;                  // a LimitRange spec
  std::vector<std::string> allowedRegistries;  // image prefixes; empty: any image
  bool allowPrivileged = false;
  bool allowHostNamespaces = false;
  bool allowHostPath = false;
  std::vector<std::string> bindableClusterRoles;  // default: admin, edit, view

  static constexpr std::string_view kServiceAccount = "gitfed-tenant";
  static constexpr std::string_view kLabel = "gitfed.io/tenant";
  bool ownsNamespace(std::string_view ns) const;
};

// Reads and checks a whole Tenant document; messages begin with `identity`
// ("Tenant team-a: spec.namespaces[1]: ..."). `substituted`: the cluster's
// values are in (when rendering); before (when loading) a namespace holding
// ${cluster...} is not judged yet.
Result<TenantSpec> parseTenant(const nlohmann::json& tenant, const std::string& identity, bool substituted = true);

// A repository path as Tenants and roots write it ("./a/b/" -> "a/b"); an
// error for empty, absolute or `..` paths.
Result<std::string> normaliseTenantPath(std::string_view path);

// The objects the tenant expands to on a cluster, namespaces first.
std::vector<nlohmann::json> expandTenant(const TenantSpec& spec);

// Every reason why `object`, written in the tenant's paths, may not be
// applied as the tenant. `clusterScoped`: the object's type is known to be
// cluster-scoped (a federated target's scope, or a built-in kind).
std::vector<std::string> checkTenantObject(const TenantSpec& spec, const nlohmann::json& object, bool clusterScoped);

// Built-in kinds that are cluster-scoped (Namespace, ClusterRole, ...).
bool isClusterScopedKind(std::string_view kind);

}  // namespace gitfed::render
