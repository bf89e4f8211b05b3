// Tenant-aware sync rounds (issue 8, agent side) against the fake client:
// the platform's objects (with what Tenants expand to) first, then each
// tenant's own objects written as the tenant; a tenant's failures (render
// errors, refusals) confined to it; pruning per tenant; RBAC propagation lag.
// The RenderResults are built by hand here (what the renderer gives: tenant
// and asTenant on objects, TenantInfo, diagnostics with a tenant); the real
// renderer and API server are in test/integration/tenant/.

#include <catch2/catch.hpp>

#include <algorithm>

#include "fake_kube_client.h"
#include "gitfed/render/renderer.h"
#include "gitfed/sync/engine.h"
#include "gitfed/sync/inventory.h"
#include "support/memory_tree.h"

using namespace gitfed::sync;
using gitfed::test::FakeKubeClient;
using nlohmann::json;
namespace render = gitfed::render;
namespace kube = gitfed::kube;

namespace {

std::vector<render::RenderedObject> objectsOf(const std::string& yaml) {
  gitfed::test::MemoryTree tree;
  tree.file("all.yaml", yaml);
  auto repo = render::loadRepository(tree);
  auto r = render::renderCluster(repo, "c1");
  for (const auto& e : r.errors) UNSCOPED_INFO(e.format());
  REQUIRE(r.ok());
  return std::move(r.objects);
}

std::string cm(const std::string& name, const std::string& ns, const std::string& value = "v") {
  return "---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: " + name + (ns.empty() ? "" : "\n  namespace: " + ns) +
         "\ndata:\n  k: " + value + "\n";
}
std::string ns(const std::string& name) { return "---\napiVersion: v1\nkind: Namespace\nmetadata:\n  name: " + name + "\n"; }

std::string user(const std::string& firstNamespace) {
  return "system:serviceaccount:" + firstNamespace + ":gitfed-tenant";
}

// A tenant as the renderer would give it: what it expands to (Namespaces, its
// ServiceAccount, a RoleBinding of it to `admin` in each namespace), and its
// own objects (withheld, with an error, when `failed`).
struct TenantFixture {
  std::string name;
  std::vector<std::string> namespaces;
  std::string own;  // YAML of its own objects
  bool failed = false;
};

render::RenderResult build(const std::string& platform, const std::vector<TenantFixture>& tenants,
                           const std::vector<render::Diagnostic>& platformErrors = {}) {
  render::RenderResult r;
  if (!platform.empty()) r.objects = objectsOf(platform);
  for (const auto& t : tenants) {
    std::string expansion;
    for (const auto& n : t.namespaces) expansion += ns(n);
    expansion += "---\napiVersion: v1\nkind: ServiceAccount\nmetadata: {name: gitfed-tenant, namespace: " +
                 t.namespaces.front() + "}\n";
    for (const auto& n : t.namespaces)
      expansion += "---\napiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata: {name: gitfed-tenant, "
                   "namespace: " + n + "}\nroleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: admin}\n"
                   "subjects: [{kind: ServiceAccount, name: gitfed-tenant, namespace: " + t.namespaces.front() + "}]\n";
    for (auto& o : objectsOf(expansion)) {
      o.tenant = t.name;
      o.asTenant = false;
      r.objects.push_back(std::move(o));
    }
    render::TenantInfo info;
    info.name = t.name;
    info.namespaces = t.namespaces;
    info.failed = t.failed;
    r.tenants.push_back(info);
    if (t.failed) {
      r.errors.emplace_back("tenants/" + t.name + "/app.yaml", 3, "ConfigMap x: broken", t.name);
      continue;
    }
    if (t.own.empty()) continue;
    for (auto& o : objectsOf(t.own)) {
      o.tenant = t.name;
      o.asTenant = true;
      o.source.path = "tenants/" + t.name + "/" + o.source.path;
      r.objects.push_back(std::move(o));
    }
  }
  for (const auto& d : platformErrors) r.errors.push_back(d);
  if (!r.platformOk()) r.objects.clear();
  return r;
}

SyncOptions options() {
  SyncOptions o;
  o.inventoryId = "c1";
  o.parallelism = 4;
  o.pollInterval = std::chrono::milliseconds(1);
  o.rbacPropagationTimeout = std::chrono::milliseconds(2000);
  return o;
}

const ObjectReport& find(const SyncReport& r, const std::string& kind, const std::string& ns, const std::string& name) {
  for (const auto& o : r.objects)
    if (o.ref.kind == kind && o.ref.ns == ns && o.ref.name == name) return o;
  FAIL("no " << kind << " " << ns << "/" << name << " in the report");
  throw std::logic_error("unreachable");
}

const TenantReport& tenantReport(const SyncReport& r, const std::string& name) {
  for (const auto& t : r.tenants)
    if (t.name == name) return t;
  FAIL("no tenant " << name << " in the report");
  throw std::logic_error("unreachable");
}

std::size_t countOf(const std::vector<std::string>& log, const std::string& line) {
  return static_cast<std::size_t>(std::count(log.begin(), log.end(), line));
}

std::string rbacDenial(const std::string& who, const std::string& ns) {
  return "configmaps is forbidden: User \"" + who + "\" cannot patch resource \"configmaps\" in API group \"\" in the namespace \"" +
         ns + "\"";
}

// RBAC as the API server would do it for tenants: a tenant's user may write
// in a namespace only where a RoleBinding grants its ServiceAccount (the fake
// store is consulted), nothing cluster-scoped; the client itself may do all.
struct Rbac {
  FakeKubeClient& fake;
  // Refuse this many authorized writes first (the authorizer's cache lag).
  std::atomic<int> lag{0};
  explicit Rbac(FakeKubeClient& f) : fake(f) {
    fake.addResource("rbac.authorization.k8s.io", "v1", "RoleBinding", "rolebindings", true);
    fake.authorize = [this](const std::string& who, const std::string& verb, const kube::Resource& r,
                            const std::string& ns, const std::string&) -> std::optional<kube::Error> {
      if (who.empty() || verb == "get" || verb == "list") return std::nullopt;
      bool bound = false;
      if (r.namespaced && !ns.empty())
        if (auto rb = fake.object("rbac.authorization.k8s.io/v1", "RoleBinding", ns, "gitfed-tenant")) {
          const json& s = (*rb)["subjects"][0];
          bound = user(s.value("namespace", "")) == who;
        }
      if (bound && lag.load() > 0) {
        --lag;
        bound = false;
      }
      if (bound) return std::nullopt;
      return kube::Error{403, "Forbidden", rbacDenial(who, ns), verb};
    };
  }
};

}  // namespace

TEST_CASE("tenants: the platform and what Tenants expand to first, then each tenant's own objects as the tenant",
          "[sync][engine][tenant]") {
  FakeKubeClient fake;
  Rbac rbac(fake);
  Engine engine(fake, options());
  auto r = engine.sync(build(ns("platform") + cm("p", "platform"),
                             {{"team-a", {"team-a", "team-a-dev"}, cm("app", "team-a") + cm("app", "team-a-dev")},
                              {"team-b", {"team-b"}, cm("app", "team-b")}}));
  INFO(toJson(r).dump(2));
  CHECK(r.phase == Phase::Synced);
  CHECK(r.summary.failed == 0);
  // Every write as a tenant is one of its own objects, as that tenant.
  auto as = fake.writesAs();
  CHECK(as.size() == 3);
  CHECK(countOf(as, user("team-a") + " apply ConfigMap team-a/app") == 1);
  CHECK(countOf(as, user("team-a") + " apply ConfigMap team-a-dev/app") == 1);
  CHECK(countOf(as, user("team-b") + " apply ConfigMap team-b/app") == 1);
  // Order: no tenant object before the last platform object.
  auto log = fake.applyLog();
  auto lastPlatform = std::find(log.begin(), log.end(), "ConfigMap platform/p");
  for (const auto& e : {"RoleBinding team-a/gitfed-tenant", "RoleBinding team-a-dev/gitfed-tenant",
                        "ServiceAccount team-a/gitfed-tenant", "RoleBinding team-b/gitfed-tenant"}) {
    auto at = std::find(log.begin(), log.end(), e);
    REQUIRE(at != log.end());
    for (const auto& own : {"ConfigMap team-a/app", "ConfigMap team-a-dev/app", "ConfigMap team-b/app"}) {
      auto o = std::find(log.begin(), log.end(), own);
      REQUIRE(o != log.end());
      CHECK(at < o);
      CHECK(lastPlatform < o);
    }
  }
  // Labels say whose it is and how it was written.
  auto own = fake.object("v1", "ConfigMap", "team-a", "app");
  REQUIRE(own);
  CHECK((*own)["metadata"]["labels"]["gitfed.io/tenant"] == "team-a");
  CHECK((*own)["metadata"]["labels"]["gitfed.io/applied-as"] == "tenant");
  auto binding = fake.object("rbac.authorization.k8s.io/v1", "RoleBinding", "team-a", "gitfed-tenant");
  REQUIRE(binding);
  CHECK((*binding)["metadata"]["labels"]["gitfed.io/tenant"] == "team-a");
  CHECK_FALSE((*binding)["metadata"]["labels"].contains("gitfed.io/applied-as"));
  auto platform = fake.object("v1", "ConfigMap", "platform", "p");
  REQUIRE(platform);
  CHECK_FALSE((*platform)["metadata"]["labels"].contains("gitfed.io/tenant"));
  // The report.
  CHECK(find(r, "ConfigMap", "team-a", "app").tenant == "team-a");
  CHECK(find(r, "ConfigMap", "team-a", "app").asTenant);
  CHECK(find(r, "RoleBinding", "team-b", "gitfed-tenant").tenant == "team-b");
  CHECK_FALSE(find(r, "RoleBinding", "team-b", "gitfed-tenant").asTenant);
  CHECK(find(r, "ConfigMap", "platform", "p").tenant.empty());
  REQUIRE(r.tenants.size() == 2);
  CHECK(tenantReport(r, "team-a").user == user("team-a"));
  CHECK(tenantReport(r, "team-a").objects == 2 + 1 + 2 + 2);  // namespaces, account, bindings, own
  CHECK(tenantReport(r, "team-a").message.empty());
  auto j = toJson(r);
  CHECK(j["tenants"][0]["name"] == "team-a");
  bool sawTenant = false;
  for (const auto& o : j["objects"])
    if (o.value("tenant", "") == "team-b" && o.value("asTenant", false)) sawTenant = true;
  CHECK(sawTenant);

  // Next round: nothing to write, as anyone.
  fake.resetCounters();
  auto again = engine.sync(build(ns("platform") + cm("p", "platform"),
                                 {{"team-a", {"team-a", "team-a-dev"}, cm("app", "team-a") + cm("app", "team-a-dev")},
                                  {"team-b", {"team-b"}, cm("app", "team-b")}}));
  INFO(toJson(again).dump(2));
  CHECK(again.phase == Phase::Synced);
  CHECK(fake.writes() == 0);
  CHECK(fake.writesAs().size() == 3);
}

TEST_CASE("tenants: an object refused by RBAC fails alone; the platform and the other tenant converge and prune",
          "[sync][engine][tenant]") {
  FakeKubeClient fake;
  Rbac rbac(fake);
  fake.put({{"apiVersion", "v1"}, {"kind", "Namespace"}, {"metadata", {{"name", "kube-system"}}}});
  Engine engine(fake, options());
  const std::string platform = ns("platform") + cm("p", "platform");
  auto r = engine.sync(build(platform + cm("old", "platform"),
                             {{"team-a", {"team-a"}, cm("app", "team-a") + cm("old", "team-a")},
                              {"team-b", {"team-b"}, cm("app", "team-b") + cm("old", "team-b")}}));
  REQUIRE(r.phase == Phase::Synced);

  // team-a now also writes into kube-system (the render-time check is off),
  // and every side removes "old".
  fake.resetCounters();
  auto round = [&] {
    return engine.sync(build(platform, {{"team-a", {"team-a"}, cm("app", "team-a") + cm("evil", "kube-system")},
                                        {"team-b", {"team-b"}, cm("app", "team-b")}}));
  };
  auto r2 = round();
  INFO(toJson(r2).dump(2));
  CHECK(r2.phase == Phase::Failed);
  const auto& evil = find(r2, "ConfigMap", "kube-system", "evil");
  CHECK(evil.state == State::Failed);
  CHECK(evil.tenant == "team-a");
  CHECK(evil.error.find("ConfigMap kube-system/evil: apply failed: 403 Forbidden") == 0);
  CHECK(evil.error.find(user("team-a")) != std::string::npos);
  CHECK_FALSE(fake.object("v1", "ConfigMap", "kube-system", "evil"));
  // A genuine refusal (not in its namespaces) is not retried.
  CHECK(countOf(fake.writesAs(), user("team-a") + " apply ConfigMap kube-system/evil") == 1);
  // The platform's and team-b's removed objects are pruned; team-a's is kept
  // while team-a has a failure.
  CHECK(find(r2, "ConfigMap", "platform", "old").action == Action::Pruned);
  CHECK(find(r2, "ConfigMap", "team-b", "old").action == Action::Pruned);
  CHECK(find(r2, "ConfigMap", "team-b", "old").tenant == "team-b");
  CHECK(find(r2, "ConfigMap", "team-b", "old").asTenant);
  CHECK(countOf(fake.writesAs(), user("team-b") + " delete ConfigMap team-b/old") == 1);
  CHECK_FALSE(fake.object("v1", "ConfigMap", "team-b", "old"));
  CHECK(fake.object("v1", "ConfigMap", "team-a", "old"));
  CHECK(r2.pruneSkipped);
  CHECK(r2.pruneMessage.find("team-a") != std::string::npos);
  CHECK(tenantReport(r2, "team-a").failed == 1);
  CHECK(tenantReport(r2, "team-a").pruneSkipped);
  CHECK(tenantReport(r2, "team-b").failed == 0);
  CHECK(r2.message.find("tenant team-a: 1 object failed") == 0);
  auto inv = Inventory::decode(fake.object("v1", "ConfigMap", "gitfed-system", "gitfed-inventory-c1")->at("data").value("objects", ""));
  REQUIRE(inv);
  CHECK(inv->contains(ObjectKey{"", "ConfigMap", "team-a", "old"}));
  CHECK_FALSE(inv->contains(ObjectKey{"", "ConfigMap", "team-b", "old"}));
}

TEST_CASE("tenants: a tenant's render errors withhold its objects, which are neither applied nor pruned",
          "[sync][engine][tenant]") {
  FakeKubeClient fake;
  Rbac rbac(fake);
  Engine engine(fake, options());
  const std::string platform = ns("platform") + cm("p", "platform");
  REQUIRE(engine.sync(build(platform + cm("old", "platform"),
                            {{"team-a", {"team-a"}, cm("app", "team-a")}, {"team-b", {"team-b"}, cm("app", "team-b") + cm("old", "team-b")}}))
              .phase == Phase::Synced);
  fake.resetCounters();
  auto r = engine.sync(build(platform + cm("new", "platform"),
                             {{"team-a", {"team-a"}, "", /*failed=*/true}, {"team-b", {"team-b"}, cm("app", "team-b")}}));
  INFO(toJson(r).dump(2));
  CHECK(r.phase == Phase::Failed);  // not Synced: a tenant's files are broken
  REQUIRE(r.renderErrors.size() == 1);
  CHECK(r.renderErrors[0].tenant == "team-a");
  CHECK(r.renderErrors[0].path == "tenants/team-a/app.yaml");
  REQUIRE(r.errors.size() == 1);
  CHECK(r.errors[0] == "tenants/team-a/app.yaml:3: ConfigMap x: broken");
  // team-a's withheld object stays, unreported and in the inventory.
  CHECK(fake.object("v1", "ConfigMap", "team-a", "app"));
  for (const auto& o : r.objects) CHECK_FALSE((o.ref.ns == "team-a" && o.ref.name == "app"));
  // Everything else converges: created, pruned.
  CHECK(find(r, "ConfigMap", "platform", "new").action == Action::Created);
  CHECK(find(r, "ConfigMap", "platform", "old").action == Action::Pruned);
  CHECK(find(r, "ConfigMap", "team-b", "old").action == Action::Pruned);
  CHECK(r.summary.failed == 0);
  const auto& a = tenantReport(r, "team-a");
  CHECK(a.renderFailed);
  CHECK(a.message == "render failed (1 error): its own objects were neither applied nor pruned");
  CHECK_FALSE(tenantReport(r, "team-b").renderFailed);
  CHECK(r.message.find("tenant team-a: render failed (1 error)") == 0);
  auto inv = Inventory::decode(fake.object("v1", "ConfigMap", "gitfed-system", "gitfed-inventory-c1")->at("data").value("objects", ""));
  REQUIRE(inv);
  CHECK(inv->contains(ObjectKey{"", "ConfigMap", "team-a", "app"}));

  // Fixed: it is synced again (nothing to write: it was never touched).
  fake.resetCounters();
  auto fixed = engine.sync(build(platform + cm("new", "platform"),
                                 {{"team-a", {"team-a"}, cm("app", "team-a")}, {"team-b", {"team-b"}, cm("app", "team-b")}}));
  INFO(toJson(fixed).dump(2));
  CHECK(fixed.phase == Phase::Synced);
  CHECK(fake.writes() == 0);
}

TEST_CASE("tenants: a platform render error still applies nothing and prunes nothing", "[sync][engine][tenant]") {
  FakeKubeClient fake;
  Rbac rbac(fake);
  Engine engine(fake, options());
  REQUIRE(engine.sync(build(ns("platform") + cm("p", "platform"), {{"team-a", {"team-a"}, cm("app", "team-a")}})).ok());
  fake.resetCounters();
  auto r = engine.sync(build("", {{"team-a", {"team-a"}, "", true}}, {render::Diagnostic("platform.yaml", 1, "bad")}));
  INFO(toJson(r).dump(2));
  CHECK(r.phase == Phase::Failed);
  CHECK(fake.writes() == 0);
  CHECK(r.renderErrors.size() == 2);
  CHECK(r.message.find("nothing applied, nothing pruned") != std::string::npos);
}

TEST_CASE("tenants: a 403 right after the tenant's RoleBinding was created is retried until RBAC catches up",
          "[sync][engine][tenant]") {
  FakeKubeClient fake;
  Rbac rbac(fake);
  rbac.lag = 3;  // the first three authorized writes are refused
  Engine engine(fake, options());
  auto r = engine.sync(build("", {{"team-a", {"team-a"}, cm("app", "team-a")}}));
  INFO(toJson(r).dump(2));
  CHECK(r.phase == Phase::Synced);
  CHECK(find(r, "ConfigMap", "team-a", "app").action == Action::Created);
  CHECK(countOf(fake.writesAs(), user("team-a") + " apply ConfigMap team-a/app") == 4);
  CHECK(rbac.lag == 0);
}

TEST_CASE("tenants: a 403 is not retried when the tenant's RBAC was not written this round, nor when it is admission's",
          "[sync][engine][tenant]") {
  FakeKubeClient fake;
  Rbac rbac(fake);
  Engine engine(fake, options());
  REQUIRE(engine.sync(build("", {{"team-a", {"team-a"}, cm("app", "team-a")}})).ok());
  SECTION("RBAC in place since an earlier round") {
    rbac.lag = 1;
    auto r = engine.sync(build("", {{"team-a", {"team-a"}, cm("app", "team-a", "changed")}}));
    INFO(toJson(r).dump(2));
    CHECK(find(r, "ConfigMap", "team-a", "app").state == State::Failed);
    CHECK(countOf(fake.writesAs(), user("team-a") + " apply ConfigMap team-a/app") == 2);  // round 1, and once now
  }
  SECTION("an admission denial in a fresh namespace") {
    auto admit = fake.authorize;
    fake.authorize = [admit](const std::string& who, const std::string& verb, const kube::Resource& r,
                             const std::string& ns, const std::string& name) -> std::optional<kube::Error> {
      if (!who.empty() && ns == "team-a-new")
        return kube::Error{403, "Forbidden", "pods \"x\" is forbidden: violates PodSecurity \"restricted:latest\"", verb};
      return admit(who, verb, r, ns, name);
    };
    auto r = engine.sync(build("", {{"team-a", {"team-a", "team-a-new"}, cm("app", "team-a") + cm("x", "team-a-new")}}));
    INFO(toJson(r).dump(2));
    CHECK(find(r, "ConfigMap", "team-a-new", "x").state == State::Failed);
    CHECK(find(r, "ConfigMap", "team-a-new", "x").error.find("PodSecurity") != std::string::npos);
    CHECK(countOf(fake.writesAs(), user("team-a") + " apply ConfigMap team-a-new/x") == 1);
  }
}

TEST_CASE("tenants: a tenant removed from Git is pruned by the agent, its namespaces last", "[sync][engine][tenant]") {
  FakeKubeClient fake;
  Rbac rbac(fake);
  Engine engine(fake, options());
  REQUIRE(engine.sync(build(ns("platform") + cm("p", "platform"),
                            {{"team-a", {"team-a"}, cm("app", "team-a")}, {"team-b", {"team-b"}, cm("app", "team-b")}}))
              .ok());
  fake.resetCounters();
  auto r = engine.sync(build(ns("platform") + cm("p", "platform"), {{"team-b", {"team-b"}, cm("app", "team-b")}}));
  INFO(toJson(r).dump(2));
  CHECK(r.phase == Phase::Synced);
  CHECK(find(r, "ConfigMap", "team-a", "app").action == Action::Pruned);
  CHECK(find(r, "ConfigMap", "team-a", "app").tenant == "team-a");
  CHECK_FALSE(find(r, "ConfigMap", "team-a", "app").asTenant);  // by the agent: the tenant is gone
  CHECK(find(r, "RoleBinding", "team-a", "gitfed-tenant").action == Action::Pruned);
  CHECK(find(r, "ServiceAccount", "team-a", "gitfed-tenant").action == Action::Pruned);
  CHECK(find(r, "Namespace", "", "team-a").action == Action::Pruned);
  for (const auto& w : fake.writesAs()) CHECK(w.find(" delete ") == std::string::npos);
  CHECK_FALSE(fake.object("v1", "Namespace", "", "team-a"));
  CHECK(fake.object("v1", "ConfigMap", "team-b", "app"));
  CHECK(r.tenants.size() == 1);
}

TEST_CASE("tenants: a namespace taken from a tenant: what is left of it there is pruned by the agent",
          "[sync][engine][tenant]") {
  FakeKubeClient fake;
  Rbac rbac(fake);
  Engine engine(fake, options());
  REQUIRE(engine.sync(build("", {{"team-a", {"team-a", "team-a-dev"}, cm("app", "team-a") + cm("app", "team-a-dev")}})).ok());
  auto r = engine.sync(build("", {{"team-a", {"team-a"}, cm("app", "team-a")}}));
  INFO(toJson(r).dump(2));
  CHECK(r.phase == Phase::Synced);
  CHECK(find(r, "ConfigMap", "team-a-dev", "app").action == Action::Pruned);
  CHECK_FALSE(find(r, "ConfigMap", "team-a-dev", "app").asTenant);
  CHECK(find(r, "Namespace", "", "team-a-dev").action == Action::Pruned);
}

TEST_CASE("tenants: drift of a tenant's object is confirmed and healed as the tenant", "[sync][engine][tenant]") {
  FakeKubeClient fake;
  Rbac rbac(fake);
  Engine engine(fake, options());
  auto desired = [] { return build("", {{"team-a", {"team-a"}, cm("app", "team-a")}}); };
  REQUIRE(engine.sync(desired()).ok());
  fake.edit("v1", "ConfigMap", "team-a", "app", [](json& o) { o["data"]["k"] = "edited"; });
  auto r = engine.sync(desired());
  INFO(toJson(r).dump(2));
  CHECK(find(r, "ConfigMap", "team-a", "app").action == Action::Healed);
  CHECK(countOf(fake.writesAs(), user("team-a") + " dryrun ConfigMap team-a/app") == 1);
  CHECK(countOf(fake.writesAs(), user("team-a") + " apply ConfigMap team-a/app") == 2);
  CHECK((*fake.object("v1", "ConfigMap", "team-a", "app"))["data"]["k"] == "v");
}

TEST_CASE("tenants: dry run as the tenant; before its RoleBinding exists its objects would be created",
          "[sync][engine][tenant]") {
  FakeKubeClient fake;
  Rbac rbac(fake);
  auto o = options();
  o.dryRun = true;
  o.driftMode = DriftMode::ReportOnly;
  {
    Engine dry(fake, o);
    auto r = dry.sync(build("", {{"team-a", {"team-a"}, cm("app", "team-a")}}));
    INFO(toJson(r).dump(2));
    CHECK(r.phase != Phase::Failed);
    CHECK(find(r, "ConfigMap", "team-a", "app").state == State::Missing);
    CHECK(fake.writes() == 0);
    CHECK(fake.writesAs().empty());
  }
  Engine engine(fake, options());
  REQUIRE(engine.sync(build("", {{"team-a", {"team-a"}, cm("app", "team-a")}})).ok());
  Engine dry(fake, o);
  auto r = dry.sync(build("", {{"team-a", {"team-a"}, cm("app", "team-a", "new") + cm("evil", "default")}}));
  INFO(toJson(r).dump(2));
  CHECK(find(r, "ConfigMap", "team-a", "app").state == State::Drifted);
  CHECK(find(r, "ConfigMap", "default", "evil").state == State::Failed);
  CHECK(countOf(fake.writesAs(), user("team-a") + " dryrun ConfigMap team-a/app") == 1);
  CHECK(countOf(fake.writesAs(), user("team-a") + " dryrun ConfigMap default/evil") == 1);
}

TEST_CASE("tenants: when the client cannot impersonate, the tenant's own objects fail and nothing else does",
          "[sync][engine][tenant]") {
  FakeKubeClient fake;
  Rbac rbac(fake);
  fake.failImpersonation = kube::Error{0, "NotSupported", "no impersonation here", "impersonate"};
  Engine engine(fake, options());
  auto r = engine.sync(build(ns("platform") + cm("p", "platform"), {{"team-a", {"team-a"}, cm("app", "team-a")}}));
  INFO(toJson(r).dump(2));
  CHECK(r.phase == Phase::Failed);
  const auto& app = find(r, "ConfigMap", "team-a", "app");
  CHECK(app.state == State::Failed);
  CHECK(app.error.find("ConfigMap team-a/app: not applied as tenant team-a: cannot impersonate " + user("team-a")) == 0);
  CHECK_FALSE(fake.object("v1", "ConfigMap", "team-a", "app"));
  CHECK(find(r, "ConfigMap", "platform", "p").action == Action::Created);
  CHECK(find(r, "RoleBinding", "team-a", "gitfed-tenant").action == Action::Created);
  CHECK(tenantReport(r, "team-a").message.find("cannot impersonate") != std::string::npos);
}

TEST_CASE("tenants: a tenant's own object in a namespace whose RoleBinding failed is skipped with that reason",
          "[sync][engine][tenant]") {
  FakeKubeClient fake;
  Rbac rbac(fake);
  auto allow = fake.authorize;
  fake.authorize = [allow](const std::string& who, const std::string& verb, const kube::Resource& r,
                           const std::string& ns, const std::string& name) -> std::optional<kube::Error> {
    if (who.empty() && r.kind == "RoleBinding" && ns == "team-a-dev" && verb == "apply")
      return kube::Error{403, "Forbidden", "rolebindings is forbidden: attempting to grant RBAC permissions not currently held", verb};
    return allow(who, verb, r, ns, name);
  };
  Engine engine(fake, options());
  auto r = engine.sync(build("", {{"team-a", {"team-a", "team-a-dev"}, cm("app", "team-a") + cm("app", "team-a-dev")}}));
  INFO(toJson(r).dump(2));
  CHECK(find(r, "RoleBinding", "team-a-dev", "gitfed-tenant").state == State::Failed);
  const auto& skipped = find(r, "ConfigMap", "team-a-dev", "app");
  CHECK(skipped.action == Action::Skipped);
  CHECK(skipped.error == "ConfigMap team-a-dev/app: skipped: tenant team-a's RoleBinding team-a-dev/gitfed-tenant could not be applied");
  CHECK(find(r, "ConfigMap", "team-a", "app").action == Action::Created);
  CHECK(countOf(fake.writesAs(), user("team-a") + " apply ConfigMap team-a-dev/app") == 0);
}
