// Multi-tenancy on the real kube-apiserver of test/env (issue 8, "Tests"):
// the real renderer and sync engine; the agent is a ServiceAccount holding
// exactly the rules of manifests/components/cluster-rbac (bind admin/edit/view,
// impersonate gitfed-tenant accounts, the apply verbs), with a minted token;
// the API server runs RBAC, PodSecurity admission and
// ValidatingAdmissionPolicies. Each TEST_CASE is registered as its own ctest
// test (CMakeLists.txt) and uses tenants and an inventory of its own.

#include <fcntl.h>

#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <map>
#include <set>
#include <thread>

#include "gitfed/render/document_reader.h"
#include "gitfed/sync/inventory.h"
#include "support/run.h"
#include "sync_itest.h"

using namespace gitfed::sync;
using namespace gitfed::sync::itest;
namespace kube = gitfed::kube;
namespace render = gitfed::render;

namespace {

using Files = std::map<std::string, std::string>;

render::RenderResult renderFleet(const Files& files, bool enforceTenantPolicies = true) {
  gitfed::test::MemoryTree tree;
  for (const auto& [path, text] : files) tree.file(path, text);
  auto repo = render::loadRepository(tree);
  repo.enforceTenantPolicies = enforceTenantPolicies;
  return render::renderCluster(std::move(repo), "itest");
}

std::string describe(const render::RenderResult& r) {
  std::string s;
  for (const auto& e : r.errors) s += "[" + e.tenant + "] " + e.format() + "\n";
  for (const auto& o : r.objects)
    s += o.kind + " " + o.ns + "/" + o.name + (o.tenant.empty() ? "" : " tenant=" + o.tenant) +
         (o.asTenant ? " asTenant" : "") + "\n";
  return s;
}

std::string report(const SyncReport& r) { return toJson(r).dump(2); }

// A Tenant of the registry file; `extra` is more of its spec (indented 2).
std::string tenant(const std::string& name, const std::vector<std::string>& namespaces, const std::string& extra = "") {
  std::string list;
  for (const auto& n : namespaces) list += (list.empty() ? "" : ", ") + n;
  return "---\napiVersion: gitfed.io/v1alpha1\nkind: Tenant\nmetadata: {name: " + name + "}\nspec:\n  paths: [tenants/" +
         name + "]\n  namespaces: [" + list + "]\n  policy:\n    allowedRegistries: [registry.example.com/ok]\n" + extra;
}

std::string pod(const std::string& name, const std::string& ns, const std::string& image, bool privileged = false) {
  return "---\napiVersion: v1\nkind: Pod\nmetadata: {name: " + name + ", namespace: " + ns +
         "}\nspec:\n  containers:\n  - name: main\n    image: " + image +
         (privileged ? "\n    securityContext: {privileged: true}" : "") + "\n";
}

const ObjectReport* findObject(const SyncReport& r, const std::string& kind, const std::string& ns, const std::string& name) {
  for (const auto& o : r.objects)
    if (o.ref.kind == kind && o.ref.ns == ns && o.ref.name == name) return &o;
  return nullptr;
}
const ObjectReport& find(const SyncReport& r, const std::string& kind, const std::string& ns, const std::string& name) {
  if (auto* o = findObject(r, kind, ns, name)) return *o;
  throw std::runtime_error("no " + kind + " " + ns + "/" + name + " in the report");
}
const TenantReport& tenantReport(const SyncReport& r, const std::string& name) {
  for (const auto& t : r.tenants)
    if (t.name == name) return t;
  throw std::runtime_error("no tenant " + name + " in the report");
}

std::optional<json> live(kube::KubeClient& c, const std::string& apiVersion, const std::string& kind,
                         const std::string& ns, const std::string& name) {
  auto r = c.resourceFor(apiVersion, kind);
  if (!r) return std::nullopt;
  auto o = c.get(*r, ns, name);
  if (!o) return std::nullopt;
  return *o;
}

// Gone, or on its way out (a Namespace is Terminating until the namespace
// controller has emptied it).
bool goneOrGoing(kube::KubeClient& c, const std::string& apiVersion, const std::string& kind, const std::string& ns,
                 const std::string& name) {
  auto o = live(c, apiVersion, kind, ns, name);
  return !o || (*o)["metadata"].contains("deletionTimestamp");
}

// The agent: a ServiceAccount bound to a copy of the shipped ClusterRole
// gitfed-agent (manifests/components/cluster-rbac/cluster-rbac.yaml, read
// here, so a change to the manifests is what is tested), with a token
// minted for it. Made once per process; deleted at exit.
class Agent {
 public:
  Agent() : name_(unique("gt-agent")) {
    auto text = readFile(std::filesystem::path(GITFED_SOURCE_DIR) / "manifests/components/cluster-rbac/cluster-rbac.yaml");
    auto docs = render::readYamlStream(text);
    json rules;
    for (const auto& d : docs.documents)
      if (d.value.value("kind", "") == "ClusterRole") rules = d.value["rules"];
    if (!rules.is_array()) throw std::runtime_error("no ClusterRole in the shipped cluster RBAC");
    auto admin = adminClient();
    REQUIRE(kubectl("create namespace " + name_).status == 0);
    REQUIRE(kubectl("-n " + name_ + " create serviceaccount gitfed-agent").status == 0);
    json role = {{"apiVersion", "rbac.authorization.k8s.io/v1"}, {"kind", "ClusterRole"},
                 {"metadata", {{"name", name_}}}, {"rules", rules}};
    json binding = {{"apiVersion", "rbac.authorization.k8s.io/v1"},
                    {"kind", "ClusterRoleBinding"},
                    {"metadata", {{"name", name_}}},
                    {"roleRef", {{"apiGroup", "rbac.authorization.k8s.io"}, {"kind", "ClusterRole"}, {"name", name_}}},
                    {"subjects", json::array({{{"kind", "ServiceAccount"}, {"name", "gitfed-agent"}, {"namespace", name_}}})}};
    for (const json* o : {&role, &binding}) {
      auto r = admin->resourceFor("rbac.authorization.k8s.io/v1", (*o)["kind"].get<std::string>());
      REQUIRE(r);
      auto applied = admin->apply(*r, *o, kube::ApplyOptions{"gitfed-itest", true, false});
      INFO((applied ? std::string() : applied.error().format()));
      REQUIRE(applied);
    }
    auto token = kubectl("-n " + name_ + " create token gitfed-agent --duration=2h");
    REQUIRE(token.status == 0);
    kube::Config config;
    config.server = gitfed::testenv::require("GITFED_TEST_APISERVER");
    config.caPem = readFile(gitfed::testenv::require("GITFED_TEST_KUBE_CA"));
    config.token = token.out.substr(0, token.out.find_first_of("\r\n"));
    config.qps = 1000;
    config.burst = 2000;
    config.maxInFlight = 16;
    auto client = kube::CurlKubeClient::create(config);
    REQUIRE(client);
    client_ = std::move(*client);
  }
  ~Agent() {
    kubectl("delete clusterrolebinding " + name_ + " --wait=false");
    kubectl("delete clusterrole " + name_ + " --wait=false");
    kubectl("delete namespace " + name_ + " --wait=false");
  }
  kube::CurlKubeClient& client() { return *client_; }

 private:
  std::string name_;
  std::unique_ptr<kube::CurlKubeClient> client_;
};

// What an inventory made, deleted at scope exit (namespaces, the tenants'
// admission policies, the inventory ConfigMap).
class Cleanup {
 public:
  explicit Cleanup(std::string id) : id_(std::move(id)) {}
  ~Cleanup() {
    kubectl("delete namespaces,validatingadmissionpolicies,validatingadmissionpolicybindings -l gitfed.io/inventory=" +
            id_ + " --wait=false");
    kubectl("-n gitfed-system delete configmap gitfed-inventory-" + id_ + " --ignore-not-found --wait=false");
  }

 private:
  std::string id_;
};

SyncOptions tenantOptions(const std::string& id) {
  SyncOptions o = options(id);
  o.rbacPropagationTimeout = std::chrono::seconds(20);
  return o;
}

// Until the tenant's ValidatingAdmissionPolicy is in force (the API server
// loads new policies from a watch): a server-side dry run of a Pod with a
// refused image, as the tenant, is denied by it.
bool policyInForce(kube::CurlKubeClient& agent, const std::string& tenantName, const std::string& ns) {
  auto as = agent.impersonating("system:serviceaccount:" + ns + ":gitfed-tenant");
  REQUIRE(as);
  auto pods = agent.resourceFor("v1", "Pod");
  REQUIRE(pods);
  json probe = {{"apiVersion", "v1"},
                {"kind", "Pod"},
                {"metadata", {{"name", "probe"}, {"namespace", ns}}},
                {"spec", {{"containers", json::array({{{"name", "main"}, {"image", "evil.example.com/probe:1"}}})}}}};
  return eventually(
      [&] {
        auto r = (*as)->apply(*pods, probe, kube::ApplyOptions{"gitfed-itest", true, true});
        return !r && r.error().message.find("gitfed-tenant-" + tenantName) != std::string::npos;
      },
      60s);
}

}  // namespace

// Each refused object, alone in a tenant's files, is an error of that tenant
// naming the file; the other tenant and the platform render; nothing of the
// broken tenant's own files is in the output.
TEST_CASE("render-refusals", "[tenant]") {
  const std::string a = unique("ta"), b = unique("tb");
  const std::string registry = tenant(a, {a}) + tenant(b, {b});
  struct Case {
    std::string what, yaml, needle;
  };
  const std::vector<Case> cases = {
      {"another tenant's namespace", cm("x", b), b},
      {"kube-system", cm("x", "kube-system"), "kube-system"},
      {"a ClusterRole", "---\napiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {name: x}\nrules: []\n",
       "ClusterRole"},
      {"a RoleBinding to cluster-admin",
       "---\napiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata: {name: x, namespace: " + a +
           "}\nroleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: cluster-admin}\n"
           "subjects: [{kind: User, name: mallory}]\n",
       "cluster-admin"},
      {"a privileged Pod", pod("x", a, "registry.example.com/ok/app:1", true), "privileged"},
      {"an image from a registry not allowed", pod("x", a, "evil.example.com/app:1"), "evil.example.com"},
      {"an object without a namespace", "---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\ndata: {k: v}\n",
       "namespace"},
  };
  for (const auto& c : cases) {
    INFO(c.what);
    auto r = renderFleet({{"platform/tenants.yaml", registry + cm("p", "default")},
                          {"tenants/" + a + "/good.yaml", cm("good", a)},
                          {"tenants/" + a + "/bad.yaml", c.yaml},
                          {"tenants/" + b + "/app.yaml", cm("app", b)}});
    INFO(describe(r));
    CHECK_FALSE(r.ok());
    CHECK(r.platformOk());
    REQUIRE_FALSE(r.errors.empty());
    for (const auto& e : r.errors) {
      CHECK(e.tenant == a);
      CHECK(e.path == "tenants/" + a + "/bad.yaml");
      CHECK(e.message.find(c.needle) != std::string::npos);
    }
    REQUIRE(r.findTenant(a));
    CHECK(r.findTenant(a)->failed);
    CHECK_FALSE(r.findTenant(b)->failed);
    bool goodOfA = false, appOfB = false, platform = false, namespaceOfA = false;
    for (const auto& o : r.objects) {
      goodOfA |= o.name == "good";
      appOfB |= o.name == "app" && o.tenant == b && o.asTenant;
      platform |= o.name == "p" && o.tenant.empty();
      namespaceOfA |= o.kind == "Namespace" && o.name == a && o.tenant == a && !o.asTenant;
    }
    CHECK_FALSE(goodOfA);  // withheld with the rest of the tenant's own files
    CHECK(appOfB);
    CHECK(platform);
    CHECK(namespaceOfA);  // what the Tenant expands to is the platform's
  }
}

// The same objects with the render-time checks off: the API server refuses
// each one, because it is written as the tenant (RBAC), in a namespace whose
// Pod Security level forbids it (PodSecurity admission), or against the
// tenant's ValidatingAdmissionPolicy; the tenant's good object, the other
// tenant and the platform converge.
TEST_CASE("api-refusals", "[tenant]") {
  static Agent agent;
  const std::string id = unique("gt-api");
  Cleanup cleanup(id);
  const std::string a = unique("ta"), b = unique("tb");
  Files files = {{"platform/tenants.yaml", tenant(a, {a}) + tenant(b, {b}) + ns(id) + cm("p", id)},
                 {"tenants/" + a + "/good.yaml", cm("good", a)},
                 {"tenants/" + b + "/app.yaml", cm("app", b)}};
  Engine engine(agent.client(), tenantOptions(id));
  // Round 1: the tenants are created, and their objects applied as them in
  // the same round (the RBAC just written must be honoured).
  auto first = engine.sync(renderFleet(files));
  INFO(report(first));
  REQUIRE(first.phase == Phase::Synced);
  CHECK(find(first, "ConfigMap", a, "good").action == Action::Created);
  CHECK(find(first, "ConfigMap", a, "good").asTenant);
  REQUIRE(policyInForce(agent.client(), a, a));

  files["tenants/" + a + "/bad.yaml"] =
      cm("x", b) + cm("x", "kube-system") +
      "---\napiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {name: " + a + "-x}\nrules: []\n" +
      "---\napiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata: {name: x, namespace: " + a +
      "}\nroleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: cluster-admin}\n"
      "subjects: [{kind: User, name: mallory}]\n" +
      pod("privileged", a, "registry.example.com/ok/app:1", true) + pod("elsewhere", a, "evil.example.com/app:1") +
      "---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: " + a + "-nons}\ndata: {k: v}\n";
  files["tenants/" + b + "/more.yaml"] = cm("more", b);
  files["platform/tenants.yaml"] += cm("q", id);
  REQUIRE(renderFleet(files).findTenant(a)->failed);  // the renderer would have refused them all
  auto rendered = renderFleet(files, /*enforceTenantPolicies=*/false);
  INFO(describe(rendered));
  REQUIRE(rendered.ok());
  auto r = engine.sync(std::move(rendered));
  INFO(report(r));
  CHECK(r.phase == Phase::Failed);

  auto refused = [&](const std::string& kind, const std::string& ns, const std::string& name) {
    const auto& o = find(r, kind, ns, name);
    INFO(o.error);
    CHECK(o.state == State::Failed);
    CHECK(o.tenant == a);
    CHECK(o.asTenant);
    CHECK(o.error.find(": apply failed: 403 Forbidden") != std::string::npos);
    return o.error;
  };
  const std::string user = "system:serviceaccount:" + a + ":gitfed-tenant";
  // RBAC: another tenant's namespace, kube-system, cluster-scoped, and the
  // default namespace an object without one lands in.
  CHECK(refused("ConfigMap", b, "x").find("User \"" + user + "\" cannot patch resource \"configmaps\"") != std::string::npos);
  CHECK(refused("ConfigMap", "kube-system", "x").find("User \"" + user + "\" cannot") != std::string::npos);
  CHECK(refused("ClusterRole", "", a + "-x").find("User \"" + user + "\" cannot") != std::string::npos);
  CHECK(refused("ConfigMap", "default", a + "-nons").find("User \"" + user + "\" cannot") != std::string::npos);
  // RBAC's escalation check: the tenant holds admin, not cluster-admin.
  CHECK(refused("RoleBinding", a, "x").find("attempting to grant RBAC permissions not currently held") != std::string::npos);
  // PodSecurity admission (the namespace's enforce label).
  CHECK(refused("Pod", a, "privileged").find("violates PodSecurity") != std::string::npos);
  // The tenant's ValidatingAdmissionPolicy.
  auto image = refused("Pod", a, "elsewhere");
  CHECK(image.find("ValidatingAdmissionPolicy") != std::string::npos);
  CHECK(image.find("images must come from registry.example.com/ok") != std::string::npos);

  auto admin = adminClient();
  CHECK_FALSE(live(*admin, "v1", "ConfigMap", b, "x"));
  CHECK_FALSE(live(*admin, "v1", "ConfigMap", "kube-system", "x"));
  CHECK_FALSE(live(*admin, "rbac.authorization.k8s.io/v1", "ClusterRole", "", a + "-x"));
  CHECK_FALSE(live(*admin, "rbac.authorization.k8s.io/v1", "RoleBinding", a, "x"));
  CHECK_FALSE(live(*admin, "v1", "Pod", a, "privileged"));
  CHECK_FALSE(live(*admin, "v1", "Pod", a, "elsewhere"));
  CHECK_FALSE(live(*admin, "v1", "ConfigMap", "default", a + "-nons"));
  // Everything else converged.
  CHECK(find(r, "ConfigMap", a, "good").state == State::Synced);
  CHECK(find(r, "ConfigMap", b, "more").action == Action::Created);
  CHECK(find(r, "ConfigMap", id, "q").action == Action::Created);
  CHECK(tenantReport(r, a).failed == 7);
  CHECK(tenantReport(r, b).failed == 0);
  CHECK(r.summary.failed == 7);
  CHECK(r.message.find("tenant " + a + ": 7 objects failed") == 0);
  auto more = live(*admin, "v1", "ConfigMap", b, "more");
  REQUIRE(more);
  CHECK((*more)["metadata"]["labels"]["gitfed.io/tenant"] == b);
  CHECK((*more)["metadata"]["labels"]["gitfed.io/applied-as"] == "tenant");
}

// Two tenants synced in one round, one of them broken (its files fail to
// render): the other tenant and the platform converge — created, changed and
// pruned — and the broken tenant's objects stay as they were.
TEST_CASE("two-tenants-one-broken", "[tenant]") {
  static Agent agent;
  const std::string id = unique("gt-two");
  Cleanup cleanup(id);
  const std::string a = unique("ta"), b = unique("tb");
  Files files = {{"platform/tenants.yaml", tenant(a, {a}) + tenant(b, {b}) + ns(id) + cm("p", id) + cm("old", id)},
                 {"tenants/" + a + "/app.yaml", cm("app", a) + cm("old", a)},
                 {"tenants/" + b + "/app.yaml", cm("app", b) + cm("old", b)}};
  Engine engine(agent.client(), tenantOptions(id));
  auto first = engine.sync(renderFleet(files));
  INFO(report(first));
  REQUIRE(first.phase == Phase::Synced);

  // a breaks (an image from a registry it may not use) and drops "old"; b
  // changes "app" and drops "old"; so does the platform.
  files["tenants/" + a + "/app.yaml"] = cm("app", a, "k: changed") + pod("web", a, "evil.example.com/web:1");
  files["tenants/" + b + "/app.yaml"] = cm("app", b, "k: changed");
  files["platform/tenants.yaml"] = tenant(a, {a}) + tenant(b, {b}) + ns(id) + cm("p", id, "k: changed");
  auto rendered = renderFleet(files);
  INFO(describe(rendered));
  REQUIRE(rendered.platformOk());
  REQUIRE(rendered.findTenant(a)->failed);
  auto r = engine.sync(std::move(rendered));
  INFO(report(r));
  CHECK(r.phase == Phase::Failed);  // never Synced while a tenant's files are broken
  REQUIRE_FALSE(r.renderErrors.empty());
  for (const auto& e : r.renderErrors) {
    CHECK(e.tenant == a);
    CHECK(e.path == "tenants/" + a + "/app.yaml");
  }
  CHECK(tenantReport(r, a).renderFailed);
  CHECK_FALSE(tenantReport(r, b).renderFailed);
  CHECK(r.summary.failed == 0);
  auto admin = adminClient();
  // b and the platform converged.
  CHECK(find(r, "ConfigMap", b, "app").action == Action::Updated);
  CHECK(find(r, "ConfigMap", b, "old").action == Action::Pruned);
  CHECK(find(r, "ConfigMap", b, "old").asTenant);  // pruned as b
  CHECK(find(r, "ConfigMap", id, "p").action == Action::Updated);
  CHECK(find(r, "ConfigMap", id, "old").action == Action::Pruned);
  CHECK((*live(*admin, "v1", "ConfigMap", b, "app"))["data"]["k"] == "changed");
  CHECK_FALSE(live(*admin, "v1", "ConfigMap", b, "old"));
  CHECK_FALSE(live(*admin, "v1", "ConfigMap", id, "old"));
  // a's objects: neither changed nor pruned; still in the inventory.
  CHECK((*live(*admin, "v1", "ConfigMap", a, "app"))["data"]["k"] == "v");
  CHECK(live(*admin, "v1", "ConfigMap", a, "old"));
  CHECK_FALSE(live(*admin, "v1", "Pod", a, "web"));
  CHECK(findObject(r, "ConfigMap", a, "old") == nullptr);
  auto inv = Inventory::decode(inventoryText(*admin, id));
  REQUIRE(inv);
  CHECK(inv->contains(ObjectKey{"", "ConfigMap", a, "old"}));
  CHECK_FALSE(inv->contains(ObjectKey{"", "ConfigMap", b, "old"}));

  // Fixed: a converges too, and its removed object goes now.
  files["tenants/" + a + "/app.yaml"] = cm("app", a, "k: changed");
  auto fixed = engine.sync(renderFleet(files));
  INFO(report(fixed));
  CHECK(fixed.phase == Phase::Synced);
  CHECK(find(fixed, "ConfigMap", a, "old").action == Action::Pruned);
  CHECK((*live(*admin, "v1", "ConfigMap", a, "app"))["data"]["k"] == "changed");
}

// What a Tenant expands to is on the cluster, as specified.
TEST_CASE("quota-networkpolicy", "[tenant]") {
  static Agent agent;
  const std::string id = unique("gt-quota");
  Cleanup cleanup(id);
  const std::string a = unique("ta");
  const std::string a2 = a + "-batch";
  const std::string spec =
      "  sharedNamespaces: [" + id + "]\n"
      "  podSecurity: restricted\n"
      "  quota: {hard: {requests.cpu: \"2\", requests.memory: 4Gi, pods: \"20\"}}\n"
      "  access:\n    viewers: {users: [auditor@example.com]}\n";
  Files files = {{"platform/tenants.yaml", tenant(a, {a, a2}, spec) + ns(id)},
                 {"tenants/" + a + "/app.yaml", cm("app", a) + cm("app", a2)}};
  Engine engine(agent.client(), tenantOptions(id));
  auto r = engine.sync(renderFleet(files));
  INFO(report(r));
  REQUIRE(r.phase == Phase::Synced);
  auto admin = adminClient();
  for (const auto& n : {a, a2}) {
    INFO(n);
    auto nsLive = live(*admin, "v1", "Namespace", "", n);
    REQUIRE(nsLive);
    CHECK((*nsLive)["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "restricted");
    CHECK((*nsLive)["metadata"]["labels"]["gitfed.io/tenant"] == a);
    auto quota = live(*admin, "v1", "ResourceQuota", n, "tenant-quota");
    REQUIRE(quota);
    CHECK((*quota)["spec"]["hard"] == json({{"requests.cpu", "2"}, {"requests.memory", "4Gi"}, {"pods", "20"}}));
    // The quota controller takes it up asynchronously: wait for its status
    // (a liveness bound, not a timing check).
    for (int i = 0; i < 300 && !(quota && (*quota)["status"].contains("hard")); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
      quota = live(*admin, "v1", "ResourceQuota", n, "tenant-quota");
    }
    REQUIRE(quota);
    CHECK((*quota)["status"]["hard"]["pods"] == "20");  // the quota controller took it up
    auto limits = live(*admin, "v1", "LimitRange", n, "tenant-limits");
    REQUIRE(limits);
    CHECK((*limits)["spec"]["limits"][0]["type"] == "Container");
    auto policy = live(*admin, "networking.k8s.io/v1", "NetworkPolicy", n, "tenant-default-deny");
    REQUIRE(policy);
    CHECK((*policy)["spec"]["podSelector"] == json::object());
    CHECK((*policy)["spec"]["policyTypes"] == json::array({"Ingress"}));
    std::set<std::string> admitted;
    for (const auto& rule : (*policy)["spec"]["ingress"])
      for (const auto& from : rule["from"]) {
        const json& sel = from["namespaceSelector"];
        if (sel.contains("matchExpressions"))
          for (const auto& e : sel["matchExpressions"])
            for (const auto& v : e["values"]) admitted.insert(v.get<std::string>());
        if (sel.contains("matchLabels")) admitted.insert(sel["matchLabels"].value("kubernetes.io/metadata.name", ""));
      }
    CHECK(admitted == std::set<std::string>{a, a2, id});
    auto binding = live(*admin, "rbac.authorization.k8s.io/v1", "RoleBinding", n, "gitfed-tenant");
    REQUIRE(binding);
    CHECK((*binding)["roleRef"]["name"] == "admin");
    CHECK((*binding)["subjects"][0]["name"] == "gitfed-tenant");
    CHECK((*binding)["subjects"][0]["namespace"] == a);
    auto viewers = live(*admin, "rbac.authorization.k8s.io/v1", "RoleBinding", n, "tenant-viewers");
    REQUIRE(viewers);
    CHECK((*viewers)["roleRef"]["name"] == "view");
    auto app = live(*admin, "v1", "ConfigMap", n, "app");
    REQUIRE(app);
    CHECK((*app)["metadata"]["managedFields"][0]["manager"] == "gitfed");
  }
  auto account = live(*admin, "v1", "ServiceAccount", a, "gitfed-tenant");
  REQUIRE(account);
  CHECK(account->value("automountServiceAccountToken", true) == false);
  CHECK(live(*admin, "admissionregistration.k8s.io/v1", "ValidatingAdmissionPolicy", "", "gitfed-tenant-" + a));
  // Drift on what the Tenant expands to is healed like anything else.
  REQUIRE(kubectl("-n " + a + " delete networkpolicy tenant-default-deny").status == 0);
  auto healed = engine.sync(renderFleet(files));
  INFO(report(healed));
  CHECK(find(healed, "NetworkPolicy", a, "tenant-default-deny").action == Action::Created);
  CHECK(live(*admin, "networking.k8s.io/v1", "NetworkPolicy", a, "tenant-default-deny"));
  // ... and on the tenant's own objects, as the tenant.
  REQUIRE(kubectl("-n " + a2 + " patch configmap app --type merge -p '{\"data\":{\"k\":\"edited\"}}'").status == 0);
  auto again = engine.sync(renderFleet(files));
  INFO(report(again));
  const auto& app = find(again, "ConfigMap", a2, "app");
  CHECK(app.action == Action::Healed);
  CHECK(app.asTenant);
  CHECK(app.tenant == a);
  CHECK((*live(*admin, "v1", "ConfigMap", a2, "app"))["data"]["k"] == "v");
  auto managers = (*live(*admin, "v1", "ConfigMap", a2, "app"))["metadata"]["managedFields"];
  bool gitfedOwnsData = false;
  for (const auto& m : managers)
    if (m.value("manager", "") == "gitfed" && m["fieldsV1"].contains("f:data")) gitfedOwnsData = true;
  CHECK(gitfedOwnsData);
}

// Pruning per tenant: an object removed from a healthy tenant's files is
// deleted as the tenant; a tenant removed from Git is removed by the agent,
// its namespaces with it.
TEST_CASE("prune-per-tenant", "[tenant]") {
  static Agent agent;
  const std::string id = unique("gt-prune");
  Cleanup cleanup(id);
  const std::string a = unique("ta"), b = unique("tb");
  Files files = {{"platform/tenants.yaml", tenant(a, {a}) + tenant(b, {b, b + "-2"}) + ns(id) + cm("p", id)},
                 {"tenants/" + a + "/app.yaml", cm("app", a) + cm("gone", a)},
                 {"tenants/" + b + "/app.yaml", cm("app", b) + cm("app", b + "-2")}};
  auto o = tenantOptions(id);
  o.prune = true;
  Engine engine(agent.client(), o);
  REQUIRE(engine.sync(renderFleet(files)).phase == Phase::Synced);
  auto admin = adminClient();

  files["tenants/" + a + "/app.yaml"] = cm("app", a);
  files["platform/tenants.yaml"] = tenant(a, {a}) + ns(id) + cm("p", id);
  files.erase("tenants/" + b + "/app.yaml");
  auto r = engine.sync(renderFleet(files));
  INFO(report(r));
  CHECK(r.phase == Phase::Synced);
  const auto& gone = find(r, "ConfigMap", a, "gone");
  CHECK(gone.action == Action::Pruned);
  CHECK(gone.asTenant);  // as a: it is a's, and a is healthy
  CHECK_FALSE(live(*admin, "v1", "ConfigMap", a, "gone"));
  // b is gone from Git: everything of it is pruned by the agent.
  for (const auto& n : {b, b + "-2"}) {
    CHECK(find(r, "Namespace", "", n).action == Action::Pruned);
    CHECK_FALSE(find(r, "ConfigMap", n, "app").asTenant);
    CHECK(goneOrGoing(*admin, "v1", "Namespace", "", n));
  }
  CHECK(find(r, "ValidatingAdmissionPolicy", "", "gitfed-tenant-" + b).action == Action::Pruned);
  CHECK_FALSE(live(*admin, "admissionregistration.k8s.io/v1", "ValidatingAdmissionPolicy", "", "gitfed-tenant-" + b));
  CHECK(live(*admin, "v1", "ConfigMap", a, "app"));
  CHECK(live(*admin, "v1", "ConfigMap", id, "p"));
  REQUIRE(r.tenants.size() == 1);
  CHECK(r.tenants[0].name == a);
}

// `gitfed apply` on a repository with a broken tenant: the rest is applied,
// the tenant's errors are printed with its name, exit status 1.
TEST_CASE("cli-apply", "[tenant]") {
  const std::string id = unique("gt-cli");
  Cleanup cleanup(id);
  const std::string a = unique("ta"), b = unique("tb");
  gitfed::test::TempDir dir;
  dir.write("platform/tenants.yaml", tenant(a, {a}) + tenant(b, {b}) + ns(id) + cm("p", id));
  dir.write("tenants/" + a + "/app.yaml", cm("app", a) + pod("web", a, "evil.example.com/web:1"));
  dir.write("tenants/" + b + "/app.yaml", cm("app", b));
  auto out = sh(quote(gitfedBinary()) + " apply --cluster itest --kubeconfig " + quote(kubeconfig()) +
                " --inventory-id " + id + " --prune " + quote(dir.path().string()));
  INFO(out.out);
  CHECK(out.status == 1);
  CHECK(out.out.find("[tenant " + a + "] tenants/" + a + "/app.yaml") != std::string::npos);
  CHECK(out.out.find("tenant " + a + ": render failed") != std::string::npos);
  CHECK(out.out.find("v1 ConfigMap " + b + "/app [tenant " + b + "]") != std::string::npos);
  auto admin = adminClient();
  CHECK(live(*admin, "v1", "ConfigMap", b, "app"));
  CHECK(live(*admin, "v1", "ConfigMap", id, "p"));
  CHECK(live(*admin, "v1", "Namespace", "", a));  // what the Tenant expands to is the platform's
  CHECK_FALSE(live(*admin, "v1", "ConfigMap", a, "app"));
}
