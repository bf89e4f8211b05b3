#include "gitfed/render/tenant.h"

#include <algorithm>
#include <array>
#include <tuple>

namespace gitfed::render {
namespace {

using nlohmann::json;

const json* member(const json& object, std::string_view key) {
  if (!object.is_object()) return nullptr;
  auto it = object.find(key);
  return it == object.end() ? nullptr : &*it;
}

std::string join(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& s : items) {
    if (!out.empty()) out += ", ";
    out += s;
  }
  return out;
}

// RFC 1123 label, as Kubernetes requires of namespace names.
bool isDnsLabel(std::string_view s) {
  if (s.empty() || s.size() > 63) return false;
  auto alnum = [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); };
  if (!alnum(s.front()) || !alnum(s.back())) return false;
  return std::ranges::all_of(s, [&](char c) { return alnum(c) || c == '-'; });
}

// Reads a list of strings at `field`; `check` validates each item.
// `at` is the identity prefix ("Tenant a: "), `parent` the path to `spec` ("spec.").
template <class Check>
Result<std::vector<std::string>> stringList(const json& spec, std::string_view field, const std::string& at,
                                            Check check, std::string_view parent = "spec.") {
  std::vector<std::string> out;
  const json* v = member(spec, field);
  if (!v || v->is_null()) return out;
  std::string where = at + std::string(parent) + std::string(field);
  if (!v->is_array()) return fail(where + " must be a list of strings");
  for (std::size_t i = 0; i < v->size(); ++i) {
    const json& item = (*v)[i];
    std::string here = where + "[" + std::to_string(i) + "]";
    if (!item.is_string()) return fail(here + " must be a string");
    std::string s = item.get<std::string>();
    if (auto problem = check(s); !problem.empty()) return fail(here + ": " + problem);
    if (std::ranges::find(out, s) != out.end()) return fail(here + ": \"" + s + "\" is listed twice");
    out.push_back(std::move(s));
  }
  return out;
}

Result<bool> flag(const json& policy, std::string_view field, const std::string& at) {
  const json* v = member(policy, field);
  if (!v || v->is_null()) return false;
  if (!v->is_boolean()) return fail(at + "spec.policy." + std::string(field) + " must be true or false");
  return v->get<bool>();
}

Result<void> checkFields(const json& object, std::initializer_list<std::string_view> allowed, const std::string& where) {
  for (const auto& [key, v] : object.items())
    if (std::ranges::find(allowed, key) == allowed.end()) {
      std::string expected;
      for (auto a : allowed) expected += (expected.empty() ? "" : ", ") + std::string(a);
      return fail(where + ": unknown field \"" + key + "\" (expected " + expected + ")");
    }
  return {};
}

Result<TenantSubjects> subjects(const json& access, std::string_view role, const std::string& at) {
  TenantSubjects out;
  const json* v = member(access, role);
  if (!v || v->is_null()) return out;
  std::string where = at + "spec.access." + std::string(role);
  if (!v->is_object()) return fail(where + " must be a mapping with users and groups");
  if (auto r = checkFields(*v, {"users", "groups"}, where); !r) return std::unexpected(r.error());
  auto read = [&](std::string_view field) -> Result<std::vector<std::string>> {
    std::vector<std::string> list;
    const json* l = member(*v, field);
    if (!l || l->is_null()) return list;
    std::string lw = where + "." + std::string(field);
    if (!l->is_array()) return fail(lw + " must be a list of strings");
    for (std::size_t i = 0; i < l->size(); ++i) {
      if (!(*l)[i].is_string() || (*l)[i].get_ref<const std::string&>().empty())
        return fail(lw + "[" + std::to_string(i) + "] must be a non-empty string");
      list.push_back((*l)[i].get<std::string>());
    }
    return list;
  };
  auto u = read("users");
  if (!u) return std::unexpected(u.error());
  auto g = read("groups");
  if (!g) return std::unexpected(g.error());
  out.users = std::move(*u);
  out.groups = std::move(*g);
  return out;
}

json defaultQuota() {
  return {{"hard",
           {{"requests.cpu", "4"}, {"requests.memory", "8Gi"}, {"limits.cpu", "8"}, {"limits.memory", "16Gi"}, {"pods", "50"}}}};
}

json defaultLimitRange() {
  return {{"limits", json::array({{{"type", "Container"},
                                   {"default", {{"cpu", "500m"}, {"memory", "512Mi"}}},
                                   {"defaultRequest", {{"cpu", "100m"}, {"memory", "128Mi"}}}}})}};
}

json metadata(const TenantSpec& spec, std::string_view name, std::string_view ns = {}) {
  json md = {{"name", name}, {"labels", {{TenantSpec::kLabel, spec.name}}}};
  if (!ns.empty()) md["namespace"] = ns;
  return md;
}

json subjectList(const TenantSubjects& s) {
  json out = json::array();
  for (const auto& u : s.users) out.push_back({{"kind", "User"}, {"apiGroup", "rbac.authorization.k8s.io"}, {"name", u}});
  for (const auto& g : s.groups) out.push_back({{"kind", "Group"}, {"apiGroup", "rbac.authorization.k8s.io"}, {"name", g}});
  return out;
}

// Where a kind keeps its pod spec, as a path of members.
std::vector<std::string_view> podSpecPath(std::string_view kind) {
  if (kind == "Pod") return {"spec"};
  if (kind == "CronJob") return {"spec", "jobTemplate", "spec", "template", "spec"};
  if (kind == "Deployment" || kind == "StatefulSet" || kind == "DaemonSet" || kind == "ReplicaSet" ||
      kind == "ReplicationController" || kind == "Job")
    return {"spec", "template", "spec"};
  return {};
}

std::string quote(std::string_view s) { return "\"" + std::string(s) + "\""; }

}  // namespace

bool TenantSpec::ownsNamespace(std::string_view ns) const { return std::ranges::find(namespaces, ns) != namespaces.end(); }

bool isClusterScopedKind(std::string_view kind) {
  static constexpr std::array<std::string_view, 28> kinds = {
      "Namespace", "Node", "PersistentVolume", "ClusterRole", "ClusterRoleBinding", "CustomResourceDefinition",
      "StorageClass", "PriorityClass", "IngressClass", "APIService", "ValidatingWebhookConfiguration",
      "MutatingWebhookConfiguration", "ValidatingAdmissionPolicy", "ValidatingAdmissionPolicyBinding",
      "MutatingAdmissionPolicy", "MutatingAdmissionPolicyBinding", "CSIDriver", "CSINode", "VolumeAttachment",
      "RuntimeClass", "CertificateSigningRequest", "FlowSchema", "PriorityLevelConfiguration", "ComponentStatus",
      "IPAddress", "ServiceCIDR", "DeviceClass", "Tenant"};
  return std::ranges::find(kinds, kind) != kinds.end();
}

Result<std::string> normaliseTenantPath(std::string_view raw) {
  std::string p(raw);
  while (p.starts_with("./")) p.erase(0, 2);
  while (!p.empty() && p.back() == '/') p.pop_back();
  if (p.empty() || p == ".") return fail("the whole repository cannot belong to a tenant");
  if (p.starts_with("/")) return fail("\"" + std::string(raw) + "\" is absolute (paths are relative to the repository)");
  std::size_t start = 0;
  while (start <= p.size()) {
    auto slash = p.find('/', start);
    std::string_view part = std::string_view(p).substr(start, slash == std::string::npos ? std::string::npos : slash - start);
    if (part == ".." || part == "." || part.empty())
      return fail("\"" + std::string(raw) + "\" has an empty, . or .. component");
    if (slash == std::string::npos) break;
    start = slash + 1;
  }
  return p;
}

Result<TenantSpec> parseTenant(const json& tenant, const std::string& identity, bool substituted) {
  std::string at = identity + ": ";
  TenantSpec spec;
  spec.name = tenant["metadata"]["name"].get<std::string>();
  if (!isDnsLabel(spec.name))
    return fail(at + "metadata.name must be a DNS label (lower-case letters, digits and '-', at most 63)");
  if (const json* ns = member(tenant["metadata"], "namespace"); ns && !ns->is_null())
    return fail(at + "a Tenant is cluster-wide: metadata.namespace must not be set");
  const json* specv = member(tenant, "spec");
  if (!specv || !specv->is_object()) return fail(at + "spec is missing (a mapping with at least paths)");
  const json& s = *specv;
  if (auto r = checkFields(s,
                           {"paths", "namespaces", "sharedNamespaces", "podSecurity", "access", "quota", "limitRange",
                            "policy", "placement", "overrides"},
                           identity + ": spec");
      !r)
    return std::unexpected(r.error());

  auto paths = stringList(s, "paths", at, [](const std::string& p) -> std::string {
    auto n = normaliseTenantPath(p);
    return n ? std::string() : n.error().message;
  });
  if (!paths) return std::unexpected(paths.error());
  for (const auto& p : *paths) spec.paths.push_back(*normaliseTenantPath(p));
  if (spec.paths.empty()) return fail(at + "spec.paths must list at least one repository path the tenant owns");

  // Before substitution (when loading) a name may still hold ${cluster...}.
  auto dns = [&](const std::string& n) {
    if (!substituted && n.find("${") != std::string::npos) return std::string();
    return isDnsLabel(n) ? std::string() : "\"" + n + "\" is not a valid namespace name (a DNS label)";
  };
  auto namespaces = stringList(s, "namespaces", at, dns);
  if (!namespaces) return std::unexpected(namespaces.error());
  spec.namespaces = namespaces->empty() ? std::vector<std::string>{spec.name} : std::move(*namespaces);
  auto shared = stringList(s, "sharedNamespaces", at, dns);
  if (!shared) return std::unexpected(shared.error());
  spec.sharedNamespaces = std::move(*shared);

  if (const json* access = member(s, "access"); access && !access->is_null()) {
    if (!access->is_object()) return fail(at + "spec.access must be a mapping (admins, developers, viewers)");
    if (auto r = checkFields(*access, {"admins", "developers", "viewers"}, identity + ": spec.access"); !r)
      return std::unexpected(r.error());
    auto a = subjects(*access, "admins", at);
    if (!a) return std::unexpected(a.error());
    auto d = subjects(*access, "developers", at);
    if (!d) return std::unexpected(d.error());
    auto v = subjects(*access, "viewers", at);
    if (!v) return std::unexpected(v.error());
    spec.admins = std::move(*a);
    spec.developers = std::move(*d);
    spec.viewers = std::move(*v);
  }

  spec.quota = defaultQuota();
  if (const json* q = member(s, "quota"); q && !q->is_null()) {
    const json* hard = member(*q, "hard");
    if (!q->is_object() || !hard || !hard->is_object())
      return fail(at + "spec.quota must be a ResourceQuota spec with a hard mapping (e.g. {hard: {pods: \"50\"}})");
    for (const auto& [k, v] : hard->items())
      if (!v.is_string() && !v.is_number())
        return fail(at + "spec.quota.hard." + k + " must be a quantity (e.g. \"4\" or 8Gi)");
    spec.quota = *q;
  }
  spec.limitRange = defaultLimitRange();
  if (const json* l = member(s, "limitRange"); l && !l->is_null()) {
    const json* limits = member(*l, "limits");
    if (!l->is_object() || !limits || !limits->is_array())
      return fail(at + "spec.limitRange must be a LimitRange spec with a limits list");
    spec.limitRange = *l;
  }

  spec.bindableClusterRoles = {"admin", "edit", "view"};
  if (const json* policy = member(s, "policy"); policy && !policy->is_null()) {
    if (!policy->is_object()) return fail(at + "spec.policy must be a mapping");
    if (auto r = checkFields(*policy,
                             {"allowedRegistries", "allowPrivileged", "allowHostNamespaces", "allowHostPath",
                              "bindableClusterRoles"},
                             identity + ": spec.policy");
        !r)
      return std::unexpected(r.error());
    auto registries = stringList(*policy, "allowedRegistries", at, [](const std::string& r) {
      if (r.empty()) return std::string("must not be empty");
      if (r.find_first_of(" \t'\"\\") != std::string::npos) return "\"" + r + "\" may not contain spaces, quotes or backslashes";
      if (r.find('/') == std::string::npos && r.find('.') == std::string::npos && r.find(':') == std::string::npos &&
          r != "localhost")
        return "\"" + r + "\" is not a registry (write its host, e.g. registry.example.com or registry.example.com/team/)";
      return std::string();
    }, "spec.policy.");
    if (!registries) return std::unexpected(registries.error());
    // A registry entry is a prefix of image references: "host" and "host/"
    // both mean images of that host ("host/..."), never "hostile.example/...".
    for (auto& r : *registries) spec.allowedRegistries.push_back(r.ends_with("/") ? r : r + "/");
    for (auto [field, target] : {std::pair{"allowPrivileged", &spec.allowPrivileged},
                                 std::pair{"allowHostNamespaces", &spec.allowHostNamespaces},
                                 std::pair{"allowHostPath", &spec.allowHostPath}}) {
      auto f = flag(*policy, field, at);
      if (!f) return std::unexpected(f.error());
      *target = *f;
    }
    if (member(*policy, "bindableClusterRoles")) {
      auto roles = stringList(*policy, "bindableClusterRoles", at, [](const std::string& r) {
        if (r.empty()) return std::string("must not be empty");
        if (r == "cluster-admin") return std::string("cluster-admin can never be bound by a tenant");
        return std::string();
      }, "spec.policy.");
      if (!roles) return std::unexpected(roles.error());
      spec.bindableClusterRoles = std::move(*roles);
    }
  }
  bool allowsHostAccess = spec.allowPrivileged || spec.allowHostNamespaces || spec.allowHostPath;
  spec.podSecurity = allowsHostAccess ? "privileged" : "baseline";
  if (const json* pss = member(s, "podSecurity"); pss && !pss->is_null()) {
    if (!pss->is_string()) return fail(at + "spec.podSecurity must be privileged, baseline or restricted");
    spec.podSecurity = pss->get<std::string>();
    if (spec.podSecurity != "privileged" && spec.podSecurity != "baseline" && spec.podSecurity != "restricted")
      return fail(at + "spec.podSecurity must be privileged, baseline or restricted, not \"" + spec.podSecurity + "\"");
    if (allowsHostAccess && spec.podSecurity != "privileged")
      return fail(at + "spec.podSecurity " + spec.podSecurity +
                  " forbids what spec.policy allows (privileged containers, host namespaces or hostPath): "
                  "use podSecurity: privileged, or drop the allowance");
  }
  return spec;
}

std::vector<json> expandTenant(const TenantSpec& spec) {
  std::vector<json> out;
  const std::string& home = spec.namespaces.front();
  std::vector<std::string> admitted = spec.namespaces;
  for (const auto& s : spec.sharedNamespaces)
    if (std::ranges::find(admitted, s) == admitted.end()) admitted.push_back(s);
  for (const auto& ns : spec.namespaces) {
    json md = metadata(spec, ns);
    for (std::string mode : {"enforce", "audit", "warn"}) md["labels"]["pod-security.kubernetes.io/" + mode] = spec.podSecurity;
    md["labels"]["pod-security.kubernetes.io/enforce-version"] = "latest";
    out.push_back({{"apiVersion", "v1"}, {"kind", "Namespace"}, {"metadata", md}});
    out.push_back({{"apiVersion", "v1"}, {"kind", "ResourceQuota"}, {"metadata", metadata(spec, "tenant-quota", ns)},
                   {"spec", spec.quota}});
    out.push_back({{"apiVersion", "v1"}, {"kind", "LimitRange"}, {"metadata", metadata(spec, "tenant-limits", ns)},
                   {"spec", spec.limitRange}});
    json from = {{{"namespaceSelector",
                   {{"matchExpressions",
                     {{{"key", "kubernetes.io/metadata.name"}, {"operator", "In"}, {"values", admitted}}}}}}}};
    out.push_back({{"apiVersion", "networking.k8s.io/v1"},
                   {"kind", "NetworkPolicy"},
                   {"metadata", metadata(spec, "tenant-default-deny", ns)},
                   {"spec", {{"podSelector", json::object()},
                             {"policyTypes", {"Ingress"}},
                             {"ingress", {{{"from", from}}}}}}});
    // The ServiceAccount the agent impersonates for the tenant's own objects.
    out.push_back({{"apiVersion", "rbac.authorization.k8s.io/v1"},
                   {"kind", "RoleBinding"},
                   {"metadata", metadata(spec, TenantSpec::kServiceAccount, ns)},
                   {"roleRef", {{"apiGroup", "rbac.authorization.k8s.io"}, {"kind", "ClusterRole"}, {"name", "admin"}}},
                   {"subjects", {{{"kind", "ServiceAccount"}, {"name", TenantSpec::kServiceAccount}, {"namespace", home}}}}});
    for (auto [role, clusterRole, subjects] : {std::tuple{"tenant-admins", "admin", &spec.admins},
                                               std::tuple{"tenant-developers", "edit", &spec.developers},
                                               std::tuple{"tenant-viewers", "view", &spec.viewers}}) {
      if (subjects->empty()) continue;
      out.push_back({{"apiVersion", "rbac.authorization.k8s.io/v1"},
                     {"kind", "RoleBinding"},
                     {"metadata", metadata(spec, role, ns)},
                     {"roleRef", {{"apiGroup", "rbac.authorization.k8s.io"}, {"kind", "ClusterRole"}, {"name", clusterRole}}},
                     {"subjects", subjectList(*subjects)}});
    }
  }
  out.push_back({{"apiVersion", "v1"},
                 {"kind", "ServiceAccount"},
                 {"metadata", metadata(spec, TenantSpec::kServiceAccount, home)},
                 {"automountServiceAccountToken", false}});

  // The pod policies, enforced by the API server too (a ValidatingAdmissionPolicy
  // over the tenant's namespaces), so that what the render-time check would
  // refuse is refused whoever writes it.
  json validations = json::array();
  if (!spec.allowedRegistries.empty()) {
    std::string list;
    for (const auto& r : spec.allowedRegistries) list += (list.empty() ? "'" : ", '") + r + "'";
    validations.push_back(
        {{"expression", "variables.containers.all(c, [" + list + "].exists(r, c.image.startsWith(r)))"},
         {"message", "tenant " + spec.name + ": images must come from " + join(spec.allowedRegistries)},
         {"reason", "Forbidden"}});
  }
  if (!spec.allowPrivileged)
    validations.push_back({{"expression",
                            "variables.containers.all(c, !has(c.securityContext) || !has(c.securityContext.privileged) "
                            "|| c.securityContext.privileged != true)"},
                           {"message", "tenant " + spec.name + ": privileged containers are not allowed"},
                           {"reason", "Forbidden"}});
  if (!spec.allowHostNamespaces)
    validations.push_back({{"expression",
                            "!(has(variables.podSpec.hostNetwork) && variables.podSpec.hostNetwork) && "
                            "!(has(variables.podSpec.hostPID) && variables.podSpec.hostPID) && "
                            "!(has(variables.podSpec.hostIPC) && variables.podSpec.hostIPC)"},
                           {"message", "tenant " + spec.name + ": host namespaces (hostNetwork, hostPID, hostIPC) are not allowed"},
                           {"reason", "Forbidden"}});
  if (!spec.allowHostPath)
    validations.push_back({{"expression", "!has(variables.podSpec.volumes) || variables.podSpec.volumes.all(v, !has(v.hostPath))"},
                           {"message", "tenant " + spec.name + ": hostPath volumes are not allowed"},
                           {"reason", "Forbidden"}});
  if (!validations.empty()) {
    std::string policy = "gitfed-tenant-" + spec.name;
    auto rule = [](std::string group, std::vector<std::string> resources) {
      return json{{"apiGroups", {group}}, {"apiVersions", {"v1"}}, {"operations", {"CREATE", "UPDATE"}}, {"resources", resources}};
    };
    out.push_back(
        {{"apiVersion", "admissionregistration.k8s.io/v1"},
         {"kind", "ValidatingAdmissionPolicy"},
         {"metadata", metadata(spec, policy)},
         {"spec",
          {{"failurePolicy", "Fail"},
           {"matchConstraints",
            {{"namespaceSelector", {{"matchLabels", {{TenantSpec::kLabel, spec.name}}}}},
             {"resourceRules", {rule("", {"pods", "replicationcontrollers"}),
                                rule("apps", {"deployments", "statefulsets", "daemonsets", "replicasets"}),
                                rule("batch", {"jobs", "cronjobs"})}}}},
           {"variables",
            {{{"name", "podSpec"},
              {"expression",
               "object.kind == 'Pod' ? object.spec : (object.kind == 'CronJob' ? "
               "object.spec.jobTemplate.spec.template.spec : object.spec.template.spec)"}},
             {{"name", "containers"},
              {"expression",
               "variables.podSpec.containers"
               " + (has(variables.podSpec.initContainers) ? variables.podSpec.initContainers : [])"
               " + (has(variables.podSpec.ephemeralContainers) ? variables.podSpec.ephemeralContainers : [])"}}}},
           {"validations", validations}}}});
    out.push_back({{"apiVersion", "admissionregistration.k8s.io/v1"},
                   {"kind", "ValidatingAdmissionPolicyBinding"},
                   {"metadata", metadata(spec, policy)},
                   {"spec", {{"policyName", policy}, {"validationActions", {"Deny"}}}}});
  }
  return out;
}

std::vector<std::string> checkTenantObject(const TenantSpec& spec, const json& object, bool clusterScoped) {
  std::vector<std::string> problems;
  const std::string& kind = object["kind"].get_ref<const std::string&>();
  const json& md = object["metadata"];
  const json* nsv = member(md, "namespace");
  std::string ns = nsv && nsv->is_string() ? nsv->get<std::string>() : "";
  std::string owned = "tenant " + spec.name + "'s namespaces (" + join(spec.namespaces) + ")";
  if (clusterScoped) {
    problems.push_back(kind + " is cluster-scoped: tenant " + spec.name + " may only write namespaced objects in " + owned);
    return problems;
  }
  if (ns.empty()) {
    problems.push_back("metadata.namespace is missing: the object would be applied in the agent's default namespace; "
                       "a tenant's objects must name one of " + owned);
    return problems;
  }
  if (!spec.ownsNamespace(ns)) {
    problems.push_back("metadata.namespace: " + ns + " is not one of " + owned);
    return problems;
  }

  std::string group;
  if (const json* av = member(object, "apiVersion"); av && av->is_string()) {
    const std::string& s = av->get_ref<const std::string&>();
    if (auto slash = s.find('/'); slash != std::string::npos) group = s.substr(0, slash);
  }
  if (group == "rbac.authorization.k8s.io" && kind == "RoleBinding") {
    const json* ref = member(object, "roleRef");
    const json* refKind = ref ? member(*ref, "kind") : nullptr;
    const json* refName = ref ? member(*ref, "name") : nullptr;
    if (refKind && refKind->is_string() && refKind->get_ref<const std::string&>() == "ClusterRole") {
      std::string name = refName && refName->is_string() ? refName->get<std::string>() : "";
      if (std::ranges::find(spec.bindableClusterRoles, name) == spec.bindableClusterRoles.end())
        problems.push_back("roleRef.name: ClusterRole " + quote(name) + " may not be bound by tenant " + spec.name +
                           " (bindable: " + join(spec.bindableClusterRoles) + ")");
    }
  }

  auto path = podSpecPath(kind);
  if (path.empty()) return problems;
  const json* pod = &object;
  std::string where;
  for (auto p : path) {
    pod = member(*pod, p);
    if (!pod) return problems;
    where += (where.empty() ? "" : ".") + std::string(p);
  }
  if (!pod->is_object()) return problems;
  if (!spec.allowHostNamespaces)
    for (std::string_view f : {"hostNetwork", "hostPID", "hostIPC"})
      if (const json* v = member(*pod, f); v && v->is_boolean() && v->get<bool>())
        problems.push_back(where + "." + std::string(f) + ": host namespaces are not allowed for tenant " + spec.name);
  if (!spec.allowHostPath)
    if (const json* volumes = member(*pod, "volumes"); volumes && volumes->is_array())
      for (std::size_t i = 0; i < volumes->size(); ++i)
        if (member((*volumes)[i], "hostPath"))
          problems.push_back(where + ".volumes[" + std::to_string(i) + "].hostPath: hostPath volumes are not allowed for tenant " +
                             spec.name);
  for (std::string_view list : {"initContainers", "containers", "ephemeralContainers"}) {
    const json* containers = member(*pod, list);
    if (!containers || !containers->is_array()) continue;
    for (std::size_t i = 0; i < containers->size(); ++i) {
      const json& c = (*containers)[i];
      std::string at = where + "." + std::string(list) + "[" + std::to_string(i) + "]";
      if (!spec.allowPrivileged)
        if (const json* sc = member(c, "securityContext"))
          if (const json* p = member(*sc, "privileged"); p && p->is_boolean() && p->get<bool>())
            problems.push_back(at + ".securityContext.privileged: privileged containers are not allowed for tenant " +
                               spec.name);
      if (spec.allowedRegistries.empty()) continue;
      const json* image = member(c, "image");
      std::string img = image && image->is_string() ? image->get<std::string>() : "";
      bool allowed = std::ranges::any_of(spec.allowedRegistries, [&](const std::string& r) { return img.starts_with(r); });
      if (!allowed)
        problems.push_back(at + ".image: " + quote(img) + " is not from a registry tenant " + spec.name +
                           " may use (" + join(spec.allowedRegistries) + "; write the registry in full: a short name " +
                           "like nginx is pulled from docker.io)");
    }
  }
  return problems;
}

}  // namespace gitfed::render
