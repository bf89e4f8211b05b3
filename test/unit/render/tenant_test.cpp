// Tenants (docs/render-spec.md section 10): expansion, ownership of paths,
// render-time checks and the containment of a tenant's errors.
#include <catch2/catch.hpp>

#include "gitfed/render/renderer.h"
#include "gitfed/render/tenant.h"
#include "support/memory_tree.h"

using gitfed::render::loadRepository;
using gitfed::render::RenderedObject;
using gitfed::render::renderCluster;
using gitfed::render::RenderResult;
using gitfed::test::MemoryTree;
using nlohmann::json;

namespace {

const char* kPlatform = R"(apiVersion: gitfed.io/v1alpha1
kind: Cluster
metadata: {name: eu, labels: {region: eu-west, environment: production}}
---
apiVersion: gitfed.io/v1alpha1
kind: Cluster
metadata: {name: us, labels: {region: us-east, environment: production}}
---
apiVersion: gitfed.io/v1alpha1
kind: Tenant
metadata: {name: shop}
spec:
  paths: [tenants/shop]
  namespaces: [shop, shop-batch]
  sharedNamespaces: [ingress]
  access:
    admins: {groups: [shop-admins]}
    viewers: {users: [auditor@example.com]}
  policy:
    allowedRegistries: [registry.example.com/shop]
---
apiVersion: gitfed.io/v1alpha1
kind: Tenant
metadata: {name: blog}
spec:
  paths: [tenants/blog/]
  placement:
    clusterSelector: {matchLabels: {region: eu-west}}
  overrides:
  - clusterName: eu
    clusterOverrides:
    - {path: /spec/quota, value: {hard: {pods: "5"}}}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: platform, namespace: kube-system}
data: {k: v}
)";

std::string deployment(const std::string& name, const std::string& ns, const std::string& image,
                       const std::string& podExtra = "", const std::string& containerExtra = "") {
  return "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: " + name + ", namespace: " + ns +
         "}\nspec:\n  selector: {matchLabels: {app: " + name + "}}\n  template:\n    metadata: {labels: {app: " + name +
         "}}\n    spec:\n" + podExtra + "      containers:\n      - name: main\n        image: " + image + "\n" +
         containerExtra;
}

MemoryTree fleet() {
  MemoryTree tree;
  tree.file("platform/fleet.yaml", kPlatform);
  tree.file("tenants/shop/web.yaml", deployment("web", "shop", "registry.example.com/shop/web:1"));
  tree.file("tenants/blog/cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: posts, namespace: blog}\ndata: {a: b}\n");
  return tree;
}

RenderResult render(const MemoryTree& tree, const std::string& cluster) {
  auto repo = loadRepository(tree);
  return renderCluster(repo, cluster);
}

const RenderedObject* find(const RenderResult& r, const std::string& kind, const std::string& ns, const std::string& name) {
  for (const auto& o : r.objects)
    if (o.kind == kind && o.ns == ns && o.name == name) return &o;
  return nullptr;
}

std::vector<std::string> errorsOf(const RenderResult& r, const std::string& tenant) {
  std::vector<std::string> out;
  for (const auto& e : r.errors)
    if (e.tenant == tenant) out.push_back(e.format());
  return out;
}

// Renders the fleet with one more file in shop's paths; returns shop's errors.
std::vector<std::string> shopErrors(const std::string& file) {
  auto tree = fleet();
  tree.file("tenants/shop/extra.yaml", file);
  auto r = render(tree, "eu");
  for (const auto& e : r.errors) UNSCOPED_INFO(e.format() + " [tenant " + e.tenant + "]");
  CHECK(r.platformOk());
  CHECK(errorsOf(r, "").empty());
  auto out = errorsOf(r, "shop");
  REQUIRE_FALSE(out.empty());
  // shop's own objects are withheld, the rest is rendered.
  CHECK(find(r, "Deployment", "shop", "web") == nullptr);
  CHECK(find(r, "ConfigMap", "kube-system", "platform") != nullptr);
  CHECK(find(r, "ConfigMap", "blog", "posts") != nullptr);
  CHECK(find(r, "Namespace", "", "shop") != nullptr);  // the platform's expansion of shop stays
  REQUIRE(r.findTenant("shop"));
  CHECK(r.findTenant("shop")->failed);
  CHECK_FALSE(r.findTenant("blog")->failed);
  return out;
}

bool contains(const std::vector<std::string>& list, const std::string& text) {
  for (const auto& s : list)
    if (s.find(text) != std::string::npos) return true;
  return false;
}

}  // namespace

TEST_CASE("a Tenant expands into namespaces, quota, limits, network policy, RBAC and an admission policy",
          "[render][tenant]") {
  auto r = render(fleet(), "eu");
  for (const auto& e : r.errors) UNSCOPED_INFO(e.format());
  REQUIRE(r.ok());
  for (std::string ns : {"shop", "shop-batch"}) {
    const auto* n = find(r, "Namespace", "", ns);
    REQUIRE(n);
    CHECK(n->tenant == "shop");
    CHECK_FALSE(n->asTenant);
    CHECK(n->value["metadata"]["labels"]["gitfed.io/tenant"] == "shop");
    CHECK(n->value["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "baseline");
    const auto* q = find(r, "ResourceQuota", ns, "tenant-quota");
    REQUIRE(q);
    CHECK(q->value["spec"]["hard"]["pods"] == "50");
    REQUIRE(find(r, "LimitRange", ns, "tenant-limits"));
    const auto* np = find(r, "NetworkPolicy", ns, "tenant-default-deny");
    REQUIRE(np);
    CHECK(np->value["spec"]["podSelector"] == json::object());
    CHECK(np->value["spec"]["policyTypes"] == json::array({"Ingress"}));
    CHECK(np->value["spec"]["ingress"][0]["from"][0]["namespaceSelector"]["matchExpressions"][0]["values"] ==
          json::array({"shop", "shop-batch", "ingress"}));
    const auto* sa = find(r, "RoleBinding", ns, "gitfed-tenant");
    REQUIRE(sa);
    CHECK(sa->value["roleRef"]["name"] == "admin");
    CHECK(sa->value["subjects"][0] == json({{"kind", "ServiceAccount"}, {"name", "gitfed-tenant"}, {"namespace", "shop"}}));
    const auto* admins = find(r, "RoleBinding", ns, "tenant-admins");
    REQUIRE(admins);
    CHECK(admins->value["subjects"][0]["kind"] == "Group");
    CHECK(admins->value["subjects"][0]["name"] == "shop-admins");
    REQUIRE(find(r, "RoleBinding", ns, "tenant-viewers"));
    CHECK(find(r, "RoleBinding", ns, "tenant-developers") == nullptr);  // no developers listed
  }
  // One ServiceAccount, in the first namespace.
  REQUIRE(find(r, "ServiceAccount", "shop", "gitfed-tenant"));
  CHECK(find(r, "ServiceAccount", "shop-batch", "gitfed-tenant") == nullptr);
  const auto* vap = find(r, "ValidatingAdmissionPolicy", "", "gitfed-tenant-shop");
  REQUIRE(vap);
  CHECK(vap->value["spec"]["matchConstraints"]["namespaceSelector"]["matchLabels"]["gitfed.io/tenant"] == "shop");
  CHECK(vap->value["spec"]["validations"][0]["expression"].get<std::string>().find("'registry.example.com/shop/'") !=
        std::string::npos);
  REQUIRE(find(r, "ValidatingAdmissionPolicyBinding", "", "gitfed-tenant-shop"));
  // The tenant's own object is marked to be applied as the tenant.
  const auto* web = find(r, "Deployment", "shop", "web");
  REQUIRE(web);
  CHECK(web->tenant == "shop");
  CHECK(web->asTenant);
  const auto* platform = find(r, "ConfigMap", "kube-system", "platform");
  REQUIRE(platform);
  CHECK(platform->tenant.empty());
  CHECK_FALSE(platform->asTenant);
  REQUIRE(r.findTenant("shop"));
  CHECK(r.findTenant("shop")->user() == "system:serviceaccount:shop:gitfed-tenant");
  CHECK(r.findTenant("shop")->namespaces == std::vector<std::string>{"shop", "shop-batch"});
  // Namespaces come first, the admission policy is among "every other kind".
  CHECK(r.objects.front().kind == "Namespace");
}

TEST_CASE("placement and overrides work on a Tenant as on a federated object", "[render][tenant]") {
  auto eu = render(fleet(), "eu");
  REQUIRE(eu.ok());
  REQUIRE(find(eu, "Namespace", "", "blog"));
  CHECK(find(eu, "ResourceQuota", "blog", "tenant-quota")->value["spec"] == json({{"hard", {{"pods", "5"}}}}));
  REQUIRE(find(eu, "ConfigMap", "blog", "posts"));
  // blog is placed on eu-west only: on us neither its namespace nor its files' objects.
  auto us = render(fleet(), "us");
  REQUIRE(us.ok());
  CHECK(find(us, "Namespace", "", "blog") == nullptr);
  CHECK(find(us, "ConfigMap", "blog", "posts") == nullptr);
  CHECK(us.findTenant("blog") == nullptr);
  REQUIRE(us.findTenant("shop"));
  // Without spec.placement a Tenant is everywhere; the annotations of a plain object work too.
  auto tree = fleet();
  tree.file("platform/more.yaml", R"(apiVersion: gitfed.io/v1alpha1
kind: Tenant
metadata:
  name: labs
  annotations: {gitfed.io/cluster-names: us}
spec: {paths: [tenants/labs], namespaces: ["labs-${cluster.name}"]}
)");
  auto labsUs = render(tree, "us");
  REQUIRE(labsUs.ok());
  REQUIRE(find(labsUs, "Namespace", "", "labs-us"));
  CHECK(render(tree, "eu").findTenant("labs") == nullptr);
}

TEST_CASE("a tenant's objects are refused outside its namespaces and beyond its rights", "[render][tenant]") {
  SECTION("another tenant's namespace") {
    auto e = shopErrors("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x, namespace: blog}\n");
    CHECK(contains(e, "tenants/shop/extra.yaml:1: ConfigMap blog/x: metadata.namespace: blog is not one of tenant shop's "
                      "namespaces (shop, shop-batch)"));
  }
  SECTION("kube-system") {
    auto e = shopErrors("apiVersion: v1\nkind: Secret\nmetadata: {name: x, namespace: kube-system}\n");
    CHECK(contains(e, "Secret kube-system/x: metadata.namespace: kube-system is not one of tenant shop's namespaces"));
  }
  SECTION("a ClusterRole") {
    auto e = shopErrors("apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {name: x}\nrules: []\n");
    CHECK(contains(e, "ClusterRole x: ClusterRole is cluster-scoped: tenant shop may only write namespaced objects"));
  }
  SECTION("a cluster-scoped federated target") {
    auto e = shopErrors("apiVersion: types.kubefed.io/v1beta1\nkind: FederatedClusterRole\nmetadata: {name: x}\n"
                        "spec: {placement: {clusterSelector: {}}}\n");
    CHECK(contains(e, "FederatedClusterRole x: ClusterRole is cluster-scoped"));
  }
  SECTION("a Namespace") {
    auto e = shopErrors("apiVersion: v1\nkind: Namespace\nmetadata: {name: shop-extra}\n");
    CHECK(contains(e, "Namespace is cluster-scoped"));
  }
  SECTION("a RoleBinding to cluster-admin") {
    auto e = shopErrors(R"(apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: root, namespace: shop}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: cluster-admin}
subjects: [{kind: Group, name: everyone, apiGroup: rbac.authorization.k8s.io}]
)");
    CHECK(contains(e, "RoleBinding shop/root: roleRef.name: ClusterRole \"cluster-admin\" may not be bound by tenant shop "
                      "(bindable: admin, edit, view)"));
  }
  SECTION("an object without a namespace") {
    auto e = shopErrors("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: nowhere}\n");
    CHECK(contains(e, "ConfigMap nowhere: metadata.namespace is missing: the object would be applied in the agent's "
                      "default namespace"));
  }
  SECTION("a privileged container") {
    auto e = shopErrors(deployment("priv", "shop", "registry.example.com/shop/x:1", "",
                                   "        securityContext: {privileged: true}\n"));
    CHECK(contains(e, "Deployment shop/priv: spec.template.spec.containers[0].securityContext.privileged: privileged "
                      "containers are not allowed for tenant shop"));
  }
  SECTION("host namespaces and hostPath") {
    auto e = shopErrors(deployment("host", "shop", "registry.example.com/shop/x:1",
                                   "      hostNetwork: true\n      volumes: [{name: root, hostPath: {path: /}}]\n"));
    CHECK(contains(e, "spec.template.spec.hostNetwork: host namespaces are not allowed for tenant shop"));
    CHECK(contains(e, "spec.template.spec.volumes[0].hostPath: hostPath volumes are not allowed for tenant shop"));
  }
  SECTION("an image from a registry not allowed") {
    auto e = shopErrors(deployment("pub", "shop", "docker.io/library/nginx:1.27"));
    CHECK(contains(e, "Deployment shop/pub: spec.template.spec.containers[0].image: \"docker.io/library/nginx:1.27\" is "
                      "not from a registry tenant shop may use (registry.example.com/shop/"));
    // A registry is a prefix up to a '/': a look-alike host is not it.
    CHECK_FALSE(shopErrors(deployment("alike", "shop", "registry.example.com/shopping/x:1")).empty());
    CHECK_FALSE(shopErrors(deployment("short", "shop", "nginx")).empty());
  }
  SECTION("a CronJob's pod and a Pod's init containers") {
    auto e = shopErrors(R"(apiVersion: batch/v1
kind: CronJob
metadata: {name: c, namespace: shop-batch}
spec:
  schedule: "* * * * *"
  jobTemplate:
    spec:
      template:
        spec:
          containers: [{name: m, image: quay.io/x:1}]
---
apiVersion: v1
kind: Pod
metadata: {name: p, namespace: shop}
spec:
  initContainers: [{name: i, image: registry.example.com/shop/i, securityContext: {privileged: true}}]
  containers: [{name: m, image: registry.example.com/shop/m}]
)");
    CHECK(contains(e, "CronJob shop-batch/c: spec.jobTemplate.spec.template.spec.containers[0].image"));
    CHECK(contains(e, "Pod shop/p: spec.initContainers[0].securityContext.privileged"));
  }
  SECTION("registering a cluster or declaring a tenant or a federated type") {
    auto e = shopErrors(R"(apiVersion: gitfed.io/v1alpha1
kind: Cluster
metadata: {name: rogue}
---
apiVersion: gitfed.io/v1alpha1
kind: Tenant
metadata: {name: rogue}
spec: {paths: [elsewhere], namespaces: [kube-system]}
---
apiVersion: core.kubefed.io/v1beta1
kind: FederatedTypeConfig
metadata: {name: x}
spec:
  federatedType: {kind: FederatedThing}
  targetType: {version: v1, kind: Thing, scope: Namespaced}
)");
    CHECK(contains(e, "only the platform may register clusters, not a file of tenant shop"));
    CHECK(contains(e, "Tenant rogue: only the platform may declare tenants"));
    CHECK(contains(e, "only the platform may declare federated types"));
  }
  SECTION("malformed YAML in a tenant's file") {
    auto e = shopErrors("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: [\n");
    CHECK(contains(e, "tenants/shop/extra.yaml:"));
  }
  SECTION("a duplicate of a platform object") {
    auto e = shopErrors("apiVersion: v1\nkind: ResourceQuota\nmetadata: {name: tenant-quota, namespace: shop}\n"
                        "spec: {hard: {pods: \"1000\"}}\n");
    CHECK(contains(e, "tenants/shop/extra.yaml:1: duplicate object ResourceQuota shop/tenant-quota"));
  }
}

TEST_CASE("the tenant's own objects pass when they keep to the rules", "[render][tenant]") {
  auto tree = fleet();
  tree.file("tenants/shop/ok.yaml", deployment("api", "shop-batch", "registry.example.com/shop/api:2") + R"(---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: devs, namespace: shop}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: edit}
subjects: [{kind: Group, name: shop-devs, apiGroup: rbac.authorization.k8s.io}]
)");
  auto r = render(tree, "eu");
  for (const auto& e : r.errors) UNSCOPED_INFO(e.format());
  REQUIRE(r.ok());
  REQUIRE(find(r, "Deployment", "shop-batch", "api"));
  REQUIRE(find(r, "RoleBinding", "shop", "devs"));
}

TEST_CASE("a platform error still stops everything; the checks can be left to the API server", "[render][tenant]") {
  auto tree = fleet();
  tree.file("platform/broken.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: [\n");
  auto r = render(tree, "eu");
  CHECK_FALSE(r.platformOk());
  CHECK(r.objects.empty());

  auto bypass = fleet();
  bypass.file("tenants/shop/extra.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x, namespace: kube-system}\n");
  auto repo = loadRepository(bypass);
  repo.enforceTenantPolicies = false;
  auto b = renderCluster(repo, "eu");
  REQUIRE(b.ok());
  const auto* x = find(b, "ConfigMap", "kube-system", "x");
  REQUIRE(x);
  CHECK(x->asTenant);  // applied as the tenant: the API server's RBAC refuses it
}

TEST_CASE("a Tenant itself is checked: bad specs are the platform's errors", "[render][tenant]") {
  auto bad = [](const std::string& tenantYaml) {
    MemoryTree tree;
    tree.file("platform/t.yaml", tenantYaml);
    auto r = render(tree, "eu");
    std::vector<std::string> out;
    for (const auto& e : r.errors) {
      CHECK(e.tenant.empty());
      out.push_back(e.format());
    }
    CHECK_FALSE(r.platformOk());
    return out;
  };
  CHECK(contains(bad("apiVersion: gitfed.io/v1alpha1\nkind: Tenant\nmetadata: {name: a}\nspec: {namespaces: [a]}\n"),
                 "platform/t.yaml:1: Tenant a: spec.paths must list at least one repository path"));
  CHECK(contains(bad("apiVersion: gitfed.io/v1alpha1\nkind: Tenant\nmetadata: {name: a}\nspec: {paths: [../x]}\n"),
                 "Tenant a: spec.paths[0]: \"../x\" has an empty, . or .. component"));
  CHECK(contains(bad("apiVersion: gitfed.io/v1alpha1\nkind: Tenant\nmetadata: {name: a}\nspec: {paths: [a], quotas: {}}\n"),
                 "Tenant a: spec: unknown field \"quotas\""));
  CHECK(contains(bad("apiVersion: gitfed.io/v1alpha1\nkind: Tenant\nmetadata: {name: a}\n"
                     "spec: {paths: [a], podSecurity: restricted, policy: {allowHostPath: true}}\n"),
                 "spec.podSecurity restricted forbids what spec.policy allows"));
  CHECK(contains(bad("apiVersion: gitfed.io/v1alpha1\nkind: Tenant\nmetadata: {name: a}\n"
                     "spec: {paths: [a], policy: {bindableClusterRoles: [cluster-admin]}}\n"),
                 "Tenant a: spec.policy.bindableClusterRoles[0]: cluster-admin can never be bound by a tenant"));
  CHECK(contains(bad("apiVersion: gitfed.io/v1alpha1\nkind: Tenant\nmetadata: {name: a}\nspec: {paths: [x/y]}\n---\n"
                     "apiVersion: gitfed.io/v1alpha1\nkind: Tenant\nmetadata: {name: b}\nspec: {paths: [x]}\n"),
                 "Tenant b: path x overlaps path x/y of Tenant a"));
  CHECK(contains(bad("apiVersion: gitfed.io/v1alpha1\nkind: Tenant\nmetadata: {name: a}\nspec: {paths: [a], namespaces: [common]}\n---\n"
                     "apiVersion: gitfed.io/v1alpha1\nkind: Tenant\nmetadata: {name: b}\nspec: {paths: [b], namespaces: [common]}\n"),
                 "Tenant b: namespace common already belongs to tenant a"));
  CHECK(contains(bad("apiVersion: gitfed.io/v1alpha1\nkind: Tenant\nmetadata: {name: a}\nspec:\n  paths: [a]\n  overrides:\n"
                     "  - clusterName: eu\n    clusterOverrides: [{path: /spec/paths, value: [b]}]\n"),
                 "path /spec/paths may not be overridden"));
  auto spec = [&](const std::string& body) {
    return bad("apiVersion: gitfed.io/v1alpha1\nkind: Tenant\nmetadata: {name: a}\nspec:\n  paths: [a]\n" + body);
  };
  CHECK(contains(spec("  sharedNamespaces: [Ingress]\n"),
                 "platform/t.yaml:1: Tenant a: spec.sharedNamespaces[0]: \"Ingress\" is not a valid namespace name"));
  CHECK(contains(spec("  namespaces: [x, x]\n"), "Tenant a: spec.namespaces[1]: \"x\" is listed twice"));
  CHECK(contains(spec("  access: {admins: {users: [\"\"]}}\n"),
                 "Tenant a: spec.access.admins.users[0] must be a non-empty string"));
  CHECK(contains(spec("  access: {owners: {users: [bob]}}\n"), "Tenant a: spec.access: unknown field \"owners\""));
  CHECK(contains(spec("  quota: {pods: \"5\"}\n"), "Tenant a: spec.quota must be a ResourceQuota spec with a hard mapping"));
  CHECK(contains(spec("  quota: {hard: {pods: [5]}}\n"), "Tenant a: spec.quota.hard.pods must be a quantity"));
  CHECK(contains(spec("  limitRange: {default: {}}\n"), "Tenant a: spec.limitRange must be a LimitRange spec with a limits list"));
  CHECK(contains(spec("  policy: {allowedRegistries: [nginx]}\n"),
                 "Tenant a: spec.policy.allowedRegistries[0]: \"nginx\" is not a registry"));
  CHECK(contains(spec("  policy: {allowPrivileged: \"yes\"}\n"), "Tenant a: spec.policy.allowPrivileged must be true or false"));
  CHECK(contains(spec("  podSecurity: strict\n"), "Tenant a: spec.podSecurity must be privileged, baseline or restricted, not \"strict\""));
  CHECK(contains(spec("  placement: {clusterz: []}\n"), "Tenant a: spec.placement: unknown field \"clusterz\""));
  CHECK(contains(bad("apiVersion: gitfed.io/v1alpha1\nkind: Tenant\nmetadata: {name: a, namespace: x}\nspec: {paths: [a]}\n"),
                 "Tenant x/a: a Tenant is cluster-wide: metadata.namespace must not be set"));
  CHECK(contains(bad("apiVersion: gitfed.io/v1alpha1\nkind: Tenant\nmetadata: {name: A_b}\nspec: {paths: [a]}\n"),
                 "metadata.name must be a DNS label"));
  CHECK(contains(bad("apiVersion: gitfed.io/v1alpha1\nkind: Tenant\nmetadata: {name: a}\nspec: {paths: [/etc]}\n"),
                 "spec.paths[0]: \"/etc\" is absolute"));
  CHECK(contains(bad("apiVersion: gitfed.io/v1alpha1\nkind: Tenant\nmetadata: {name: a}\nspec: {paths: [a]}\n---\n"
                     "apiVersion: gitfed.io/v1alpha1\nkind: Tenant\nmetadata: {name: a}\nspec: {paths: [b]}\n"),
                 "platform/t.yaml:6: Tenant a: a tenant of this name is already declared (platform/t.yaml:1)"));
  CHECK(contains(bad("apiVersion: gitfed.io/v1alpha1\nkind: Tenant\nmetadata: {name: a}\nspec:\n  paths: [a]\n  overrides:\n"
                     "  - clusterName: eu\n    clusterOverrides: [{path: /spec/namespaces, value: [Bad_Name]}]\n"),
                 "Tenant a: spec.namespaces[0]: \"Bad_Name\" is not a valid namespace name"));
}
