// The sync engine's logic against a hand-written fake KubeClient: ordering,
// planning (what is written and what is not), prune rules, skipping of
// dependents, drift confirmation, ignored fields, immutable fields, reports.
// The same behaviours are checked on the real kube-apiserver by
// test/integration/sync/.

#include <catch2/catch.hpp>

#include <algorithm>

#include "fake_kube_client.h"
#include "sync_test_support.h"
#include "gitfed/render/renderer.h"
#include "gitfed/sync/engine.h"
#include "gitfed/sync/inventory.h"
#include "support/memory_tree.h"

using namespace gitfed::sync;
using namespace gitfed::test::sync;
using gitfed::test::FakeKubeClient;
using nlohmann::json;


TEST_CASE("create: labels, hash, default namespace, Namespaces before what is in them", "[sync][engine]") {
  FakeKubeClient fake;
  fake.put({{"apiVersion", "v1"}, {"kind", "Namespace"}, {"metadata", {{"name", "default"}}}});
  Engine engine(fake, options());
  auto report = engine.sync(render(cm("a", "shop") + ns("shop") + cm("b", "")));
  INFO(toJson(report).dump(2));
  CHECK(report.phase == Phase::Synced);
  CHECK(report.summary.objects == 3);
  CHECK(report.summary.synced == 3);
  CHECK(find(report, "ConfigMap", "a").action == Action::Created);
  CHECK(find(report, "ConfigMap", "b").ref.ns == "default");
  auto log = fake.applyLog();
  // The inventory's namespace and ConfigMap first (written before anything else), then the Namespace.
  auto nsAt = std::find(log.begin(), log.end(), "Namespace /shop");
  auto cmAt = std::find(log.begin(), log.end(), "ConfigMap shop/a");
  REQUIRE(nsAt != log.end());
  REQUIRE(cmAt != log.end());
  CHECK(nsAt < cmAt);
  auto live = fake.object("v1", "ConfigMap", "default", "b");
  REQUIRE(live);
  CHECK((*live)["metadata"]["labels"]["gitfed.io/managed-by"] == "gitfed");
  CHECK((*live)["metadata"]["labels"]["gitfed.io/inventory"] == "c1");
  CHECK((*live)["metadata"]["annotations"]["gitfed.io/applied-hash"].get<std::string>().size() == 16);
  auto inv = Inventory::decode(inventoryText(fake));
  REQUIRE(inv);
  CHECK(inv->size() == 3);
}

TEST_CASE("no-op: a second sync makes no writes and no per-object requests", "[sync][engine]") {
  FakeKubeClient fake;
  std::string yaml = ns("shop");
  for (int i = 0; i < 40; ++i) yaml += cm("c" + std::to_string(i), "shop");
  Engine engine(fake, options());
  auto first = engine.sync(render(yaml));
  REQUIRE(first.phase == Phase::Synced);
  fake.resetCounters();
  Engine restarted(fake, options());  // nothing cached: as after an agent restart
  auto second = restarted.sync(render(yaml));
  INFO(toJson(second).dump(2));
  CHECK(second.phase == Phase::Synced);
  CHECK(fake.applies == 0);
  CHECK(fake.dryRuns == 0);
  CHECK(fake.deletes == 0);
  CHECK(fake.gets == 1);   // the inventory
  CHECK(fake.lists == 2);  // one per type: Namespaces, ConfigMaps
  for (const auto& o : second.objects) CHECK(o.action == Action::None);
}

TEST_CASE("update: a change in Git is applied; only the changed object is written", "[sync][engine]") {
  FakeKubeClient fake;
  Engine engine(fake, options());
  REQUIRE(engine.sync(render(ns("shop") + cm("a", "shop") + cm("b", "shop"))).ok());
  fake.resetCounters();
  auto report = engine.sync(render(ns("shop") + cm("a", "shop", "new") + cm("b", "shop")));
  CHECK(report.phase == Phase::Synced);
  CHECK(find(report, "ConfigMap", "a").action == Action::Updated);
  CHECK(find(report, "ConfigMap", "b").action == Action::None);
  CHECK(fake.applies == 1);
  CHECK((*fake.object("v1", "ConfigMap", "shop", "a"))["data"]["k"] == "new");
}

TEST_CASE("prune: owned objects removed from Git go, in reverse order; others stay", "[sync][engine]") {
  FakeKubeClient fake;
  Engine engine(fake, options());
  REQUIRE(engine.sync(render(ns("shop") + cm("keep", "shop") + cm("gone", "shop") +
                             cm("kept", "shop", "v", "\n  annotations: {gitfed.io/prune: disabled}")))
              .ok());
  // Not ours: same kind and namespace, no labels.
  fake.put(json::parse(R"({"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"foreign","namespace":"shop"}})"));
  // Ours by label but of another inventory.
  fake.put(json::parse(R"({"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"other","namespace":"shop",
                           "labels":{"gitfed.io/managed-by":"gitfed","gitfed.io/inventory":"c2"}}})"));
  auto report = engine.sync(render(ns("shop") + cm("keep", "shop")));
  INFO(toJson(report).dump(2));
  CHECK(report.phase == Phase::Synced);
  CHECK(find(report, "ConfigMap", "gone").state == State::Pruned);
  CHECK(find(report, "ConfigMap", "gone").action == Action::Pruned);
  CHECK(find(report, "ConfigMap", "kept").action == Action::Retained);
  CHECK(report.summary.pruned == 1);
  CHECK_FALSE(fake.object("v1", "ConfigMap", "shop", "gone"));
  CHECK(fake.object("v1", "ConfigMap", "shop", "kept"));
  CHECK(fake.object("v1", "ConfigMap", "shop", "foreign"));
  CHECK(fake.object("v1", "ConfigMap", "shop", "other"));
  auto inv = Inventory::decode(inventoryText(fake));
  REQUIRE(inv);
  CHECK_FALSE(inv->contains(ObjectKey{"", "ConfigMap", "shop", "gone"}));
  CHECK(inv->contains(ObjectKey{"", "ConfigMap", "shop", "keep"}));

  // Pruning a namespace and what is in it: contents first.
  auto all = engine.sync(render(ns("other") + cm("x", "other")));
  REQUIRE(all.ok());
  fake.resetCounters();
  auto r2 = engine.sync(render(ns("shop") + cm("keep", "shop")));
  CHECK(find(r2, "Namespace", "other").state == State::Pruned);
  CHECK(find(r2, "ConfigMap", "x").state == State::Pruned);
}

TEST_CASE("prune is refused for an empty revision unless allowed", "[sync][engine]") {
  FakeKubeClient fake;
  Engine engine(fake, options());
  REQUIRE(engine.sync(render(ns("shop") + cm("a", "shop"))).ok());
  auto refused = engine.sync(render(""));
  INFO(toJson(refused).dump(2));
  CHECK(refused.phase == Phase::Failed);
  CHECK(refused.pruneSkipped);
  CHECK(refused.pruneMessage.find("renders to no objects") != std::string::npos);
  CHECK(fake.object("v1", "ConfigMap", "shop", "a"));
  auto o = options();
  o.allowEmptyPrune = true;
  Engine allowed(fake, o);
  auto pruned = allowed.sync(render(""));
  CHECK(pruned.phase == Phase::Synced);
  CHECK(pruned.summary.pruned == 2);
  CHECK_FALSE(fake.object("v1", "ConfigMap", "shop", "a"));
  CHECK_FALSE(fake.object("v1", "Namespace", "", "shop"));
}

TEST_CASE("a render error applies nothing and prunes nothing", "[sync][engine]") {
  FakeKubeClient fake;
  Engine engine(fake, options());
  REQUIRE(engine.sync(render(ns("shop") + cm("a", "shop"))).ok());
  fake.resetCounters();
  auto bad = render(ns("shop") + cm("a", "shop") + cm("a", "shop"));  // duplicate: a render error
  REQUIRE_FALSE(bad.ok());
  auto report = engine.sync(std::move(bad));
  CHECK(report.phase == Phase::Failed);
  CHECK_FALSE(report.errors.empty());
  CHECK(report.message.find("render failed") == 0);
  CHECK(fake.writes() == 0);
  CHECK(fake.gets + fake.lists == 0);
}

TEST_CASE("a failed apply: the others go on, no prune this round, retried next round", "[sync][engine]") {
  FakeKubeClient fake;
  Engine engine(fake, options());
  REQUIRE(engine.sync(render(ns("shop") + cm("a", "shop") + cm("old", "shop"))).ok());
  fake.validate = [](const json&, const json& merged) -> std::optional<gitfed::kube::Error> {
    if (merged["metadata"]["name"] == "bad")
      return gitfed::kube::Error{422, "Invalid", "ConfigMap \"bad\" is invalid: data: too long", "apply"};
    return std::nullopt;
  };
  auto report = engine.sync(render(ns("shop") + cm("a", "shop", "2") + cm("bad", "shop") + cm("good", "shop")));
  INFO(toJson(report).dump(2));
  CHECK(report.phase == Phase::Failed);
  CHECK(find(report, "ConfigMap", "bad").state == State::Failed);
  CHECK(find(report, "ConfigMap", "bad").error ==
        "ConfigMap shop/bad: apply failed: 422 Invalid: ConfigMap \"bad\" is invalid: data: too long");
  CHECK(find(report, "ConfigMap", "good").state == State::Synced);
  CHECK(find(report, "ConfigMap", "a").action == Action::Updated);
  CHECK(report.pruneSkipped);
  CHECK(fake.object("v1", "ConfigMap", "shop", "old"));  // not pruned this round
  CHECK_FALSE(has(report, "ConfigMap", "old"));
  // The inventory knows everything that might exist: old and bad included.
  auto inv = Inventory::decode(inventoryText(fake));
  CHECK(inv->contains(ObjectKey{"", "ConfigMap", "shop", "bad"}));
  CHECK(inv->contains(ObjectKey{"", "ConfigMap", "shop", "old"}));

  fake.validate = nullptr;
  auto next = engine.sync(render(ns("shop") + cm("a", "shop", "2") + cm("bad", "shop") + cm("good", "shop")));
  CHECK(next.phase == Phase::Synced);
  CHECK(find(next, "ConfigMap", "bad").action == Action::Created);
  CHECK(find(next, "ConfigMap", "old").state == State::Pruned);
  CHECK_FALSE(fake.object("v1", "ConfigMap", "shop", "old"));
}

TEST_CASE("a failed delete is reported and retried", "[sync][engine]") {
  FakeKubeClient fake;
  Engine engine(fake, options());
  REQUIRE(engine.sync(render(ns("shop") + cm("a", "shop") + cm("b", "shop"))).ok());
  fake.failDelete["b"] = gitfed::kube::Error{403, "Forbidden", "cannot delete", "delete"};
  auto report = engine.sync(render(ns("shop")));
  CHECK(report.phase == Phase::Failed);
  CHECK(find(report, "ConfigMap", "b").state == State::Failed);
  CHECK(find(report, "ConfigMap", "a").state == State::Pruned);
  fake.failDelete.clear();
  auto next = engine.sync(render(ns("shop")));
  CHECK(next.phase == Phase::Synced);
  CHECK(find(next, "ConfigMap", "b").state == State::Pruned);
}

TEST_CASE("a failed LIST: objects are still applied, prune waits", "[sync][engine]") {
  FakeKubeClient fake;
  Engine engine(fake, options());
  REQUIRE(engine.sync(render(ns("shop") + cm("a", "shop") + cm("old", "shop"))).ok());
  fake.failList["configmaps"] = gitfed::kube::Error{500, "InternalError", "etcd timeout", "list"};
  auto report = engine.sync(render(ns("shop") + cm("a", "shop")));
  INFO(toJson(report).dump(2));
  CHECK(report.phase == Phase::Failed);
  CHECK(report.pruneSkipped);
  CHECK(fake.object("v1", "ConfigMap", "shop", "old"));
  CHECK(find(report, "ConfigMap", "a").state == State::Synced);
}

TEST_CASE("a cluster-wide LIST that is forbidden falls back to one LIST per namespace", "[sync][engine]") {
  FakeKubeClient fake;
  Engine engine(fake, options());
  REQUIRE(engine.sync(render(ns("shop") + cm("a", "shop") + cm("old", "shop"))).ok());
  fake.resetCounters();
  // The fake fails the LIST of the plural whatever the namespace: both forbidden.
  fake.failList["configmaps"] = gitfed::kube::Error{403, "Forbidden", "no", "list"};
  auto report = engine.sync(render(ns("shop") + cm("a", "shop")));
  CHECK(fake.lists == 3);  // namespaces, configmaps cluster-wide, configmaps in shop
  CHECK(report.pruneSkipped);
}

TEST_CASE("CRD and its custom resources in one revision", "[sync][engine][crd]") {
  FakeKubeClient fake;
  fake.establishAfterGets = 3;
  Engine engine(fake, options());
  auto report = engine.sync(render(ns("shop") + kCrd + kWidget));
  INFO(toJson(report).dump(2));
  CHECK(report.phase == Phase::Synced);
  CHECK(find(report, "Widget", "w1").action == Action::Created);
  auto log = fake.applyLog();
  auto crdAt = std::find(log.begin(), log.end(), "CustomResourceDefinition /widgets.example.com");
  auto crAt = std::find(log.begin(), log.end(), "Widget shop/w1");
  REQUIRE(crAt != log.end());
  CHECK(crdAt < crAt);
  CHECK(Inventory::decode(inventoryText(fake))->contains(ObjectKey{"example.com", "Widget", "shop", "w1"}));
  // The next round sees them in sync.
  fake.resetCounters();
  auto again = engine.sync(render(ns("shop") + kCrd + kWidget));
  CHECK(again.phase == Phase::Synced);
  CHECK(fake.writes() == 0);
}

TEST_CASE("a CRD that never becomes Established skips only its custom resources", "[sync][engine][crd]") {
  FakeKubeClient fake;
  fake.establishAfterGets = 1'000'000;
  Engine engine(fake, options());
  auto report = engine.sync(render(ns("shop") + kCrd + kWidget + cm("a", "shop")));
  INFO(toJson(report).dump(2));
  CHECK(report.phase == Phase::Failed);
  CHECK(find(report, "Widget", "w1").action == Action::Skipped);
  CHECK(find(report, "Widget", "w1").error ==
        "Widget shop/w1: skipped: its CustomResourceDefinition widgets.example.com is not Established");
  CHECK(find(report, "ConfigMap", "a").state == State::Synced);
}

TEST_CASE("a custom resource of an unknown kind fails alone", "[sync][engine][crd]") {
  FakeKubeClient fake;
  Engine engine(fake, options());
  auto report = engine.sync(render(ns("shop") + kWidget + cm("a", "shop")));
  CHECK(find(report, "Widget", "w1").state == State::Failed);
  CHECK(find(report, "Widget", "w1").error.find("no resource type example.com/v1 Widget") != std::string::npos);
  CHECK(find(report, "ConfigMap", "a").state == State::Synced);
}

TEST_CASE("a Namespace that cannot be created skips only what is in it", "[sync][engine]") {
  FakeKubeClient fake;
  fake.validate = [](const json&, const json& merged) -> std::optional<gitfed::kube::Error> {
    if (merged["kind"] == "Namespace" && merged["metadata"]["name"] == "bad")
      return gitfed::kube::Error{403, "Forbidden", "namespaces is forbidden", "apply"};
    return std::nullopt;
  };
  Engine engine(fake, options());
  auto report = engine.sync(render(ns("bad") + ns("good") + cm("a", "bad") + cm("b", "good")));
  INFO(toJson(report).dump(2));
  CHECK(find(report, "Namespace", "bad").state == State::Failed);
  CHECK(find(report, "ConfigMap", "a").action == Action::Skipped);
  CHECK(find(report, "ConfigMap", "a").error == "ConfigMap bad/a: skipped: Namespace bad could not be created");
  CHECK(find(report, "ConfigMap", "b").state == State::Synced);
}

TEST_CASE("drift: a live edit is confirmed by a dry run, healed, and reported with paths", "[sync][engine][drift]") {
  FakeKubeClient fake;
  Engine engine(fake, options());
  std::string yaml = ns("shop") + cm("a", "shop") + cm("b", "shop");
  REQUIRE(engine.sync(render(yaml)).ok());
  fake.edit("v1", "ConfigMap", "shop", "a", [](json& o) { o["data"]["k"] = "edited"; });
  fake.resetCounters();
  auto report = engine.sync(render(yaml));
  INFO(toJson(report).dump(2));
  CHECK(report.phase == Phase::Synced);
  const auto& a = find(report, "ConfigMap", "a");
  CHECK(a.action == Action::Healed);
  REQUIRE(a.drift.size() == 1);
  CHECK(a.drift[0].path == "/data/k");
  CHECK(*a.drift[0].desired == "v");
  CHECK(*a.drift[0].live == "edited");
  CHECK(fake.dryRuns == 1);
  CHECK(fake.applies == 1);
  CHECK((*fake.object("v1", "ConfigMap", "shop", "a"))["data"]["k"] == "v");
}

TEST_CASE("drift in report-only mode is reported and left alone", "[sync][engine][drift]") {
  FakeKubeClient fake;
  auto o = options();
  o.driftMode = DriftMode::ReportOnly;
  Engine engine(fake, o);
  std::string yaml = ns("shop") + cm("a", "shop");
  REQUIRE(engine.sync(render(yaml)).ok());
  fake.edit("v1", "ConfigMap", "shop", "a", [](json& x) { x["data"]["k"] = "edited"; });
  fake.resetCounters();
  auto report = engine.sync(render(yaml));
  CHECK(report.phase == Phase::Drifted);
  CHECK(find(report, "ConfigMap", "a").state == State::Drifted);
  CHECK(report.summary.drifted == 1);
  CHECK(fake.applies == 0);
  CHECK((*fake.object("v1", "ConfigMap", "shop", "a"))["data"]["k"] == "edited");
  // A change in Git is still applied in report-only mode.
  auto changed = engine.sync(render(ns("shop") + cm("a", "shop", "v2")));
  CHECK(find(changed, "ConfigMap", "a").action == Action::Updated);
}

TEST_CASE("server normalisation is not drift, and is checked once per resourceVersion", "[sync][engine][drift]") {
  FakeKubeClient fake;
  // The "server" turns a string port into a number.
  fake.normalize = [](json& o) {
    if (o.value("kind", "") == "Service")
      for (auto& p : o["spec"]["ports"])
        if (p["targetPort"].is_string()) p["targetPort"] = std::stoi(p["targetPort"].get<std::string>());
  };
  std::string yaml = ns("shop") +
                     "---\napiVersion: v1\nkind: Service\nmetadata: {name: web, namespace: shop}\n"
                     "spec:\n  ports: [{port: 80, targetPort: '8080'}]\n";
  Engine engine(fake, options());
  REQUIRE(engine.sync(render(yaml)).ok());
  fake.resetCounters();
  auto report = engine.sync(render(yaml));
  CHECK(report.phase == Phase::Synced);
  CHECK(find(report, "Service", "web").action == Action::None);
  CHECK(fake.dryRuns == 1);  // the local compare suspected it; the dry run cleared it
  CHECK(fake.applies == 0);
  fake.resetCounters();
  engine.sync(render(yaml));
  CHECK(fake.dryRuns == 0);  // remembered for this resourceVersion
}

TEST_CASE("ignored fields: HPA-targeted replicas and the annotation", "[sync][engine][drift]") {
  FakeKubeClient fake;
  auto deploy = [](const std::string& name, int replicas, const std::string& image, const std::string& extra = "") {
    return "---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: " + name + "\n  namespace: shop" + extra +
           "\nspec:\n  replicas: " + std::to_string(replicas) + "\n  template:\n    spec:\n      containers: [{name: c, image: " +
           image + "}]\n";
  };
  const char* hpa = R"(---
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: {name: web, namespace: shop}
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: web}
  minReplicas: 1
  maxReplicas: 10
)";
  std::string v1 = ns("shop") + deploy("web", 3, "nginx:1") +
                   deploy("api", 2, "nginx:1", "\n  annotations: {gitfed.io/ignore-fields: /spec/replicas}") +
                   deploy("plain", 2, "nginx:1") + hpa;
  Engine engine(fake, options());
  REQUIRE(engine.sync(render(v1)).ok());
  for (const char* name : {"web", "api", "plain"})
    fake.edit("apps/v1", "Deployment", "shop", name, [](json& o) { o["spec"]["replicas"] = 7; });
  fake.resetCounters();
  auto report = engine.sync(render(v1));
  INFO(toJson(report).dump(2));
  CHECK(find(report, "Deployment", "web").action == Action::None);
  CHECK(find(report, "Deployment", "api").action == Action::None);
  CHECK(find(report, "Deployment", "plain").action == Action::Healed);  // no HPA, no annotation: drift
  CHECK((*fake.object("apps/v1", "Deployment", "shop", "web"))["spec"]["replicas"] == 7);
  CHECK((*fake.object("apps/v1", "Deployment", "shop", "plain"))["spec"]["replicas"] == 2);
  // A change in Git to another field keeps the live replicas of an ignored field.
  auto v2 = ns("shop") + deploy("web", 4, "nginx:2") +
            deploy("api", 2, "nginx:1", "\n  annotations: {gitfed.io/ignore-fields: /spec/replicas}") +
            deploy("plain", 2, "nginx:1") + hpa;
  auto changed = engine.sync(render(v2));
  CHECK(find(changed, "Deployment", "web").action == Action::Updated);
  auto web = *fake.object("apps/v1", "Deployment", "shop", "web");
  CHECK(web["spec"]["replicas"] == 7);
  CHECK(web["spec"]["template"]["spec"]["containers"][0]["image"] == "nginx:2");
}

TEST_CASE("a bad ignore-fields annotation fails that object", "[sync][engine]") {
  FakeKubeClient fake;
  Engine engine(fake, options());
  auto report = engine.sync(render(ns("shop") + cm("a", "shop", "v", "\n  annotations: {gitfed.io/ignore-fields: data}")));
  CHECK(find(report, "ConfigMap", "a").state == State::Failed);
  CHECK(find(report, "ConfigMap", "a").error.find("gitfed.io/ignore-fields") != std::string::npos);
}

TEST_CASE("immutable fields: a clear error by default, recreate with gitfed.io/force", "[sync][engine]") {
  FakeKubeClient fake;
  fake.validate = [](const json& existing, const json& merged) -> std::optional<gitfed::kube::Error> {
    if (!existing.is_null() && merged["kind"] == "Job" && existing["spec"]["image"] != merged["spec"]["image"])
      return gitfed::kube::Error{422, "Invalid", "Job.batch \"j\" is invalid: spec.image: field is immutable", "apply"};
    return std::nullopt;
  };
  auto job = [](const std::string& image, bool force) {
    return "---\napiVersion: batch/v1\nkind: Job\nmetadata:\n  name: j\n  namespace: shop\n" +
           std::string(force ? "  annotations: {gitfed.io/force: 'true'}\n" : "") + "spec: {image: '" + image + "'}\n";
  };
  Engine engine(fake, options());
  REQUIRE(engine.sync(render(ns("shop") + job("a", false))).ok());
  auto uid = (*fake.object("batch/v1", "Job", "shop", "j"))["metadata"]["uid"];
  auto refused = engine.sync(render(ns("shop") + job("b", false)));
  INFO(toJson(refused).dump(2));
  const auto& r = find(refused, "Job", "j");
  CHECK(r.state == State::Failed);
  CHECK(r.error.find("field is immutable") != std::string::npos);
  CHECK(r.error.find("gitfed.io/force") != std::string::npos);
  auto forced = engine.sync(render(ns("shop") + job("b", true)));
  CHECK(find(forced, "Job", "j").action == Action::Recreated);
  auto live = *fake.object("batch/v1", "Job", "shop", "j");
  CHECK(live["spec"]["image"] == "b");
  CHECK(live["metadata"]["uid"] != uid);
}

TEST_CASE("Secret values never reach errors or drift", "[sync][engine][secret]") {
  FakeKubeClient fake;
  fake.validate = [](const json&, const json& merged) -> std::optional<gitfed::kube::Error> {
    if (merged["kind"] == "Secret" && merged["metadata"]["name"] == "rejected")
      return gitfed::kube::Error{422, "Invalid", "denied: password " + merged["stringData"]["password"].get<std::string>() +
                                                     " is weak (" +
                                                     gitfed::sync::base64Encode(merged["stringData"]["password"].get<std::string>()) + ")",
                                 "apply"};
    return std::nullopt;
  };
  auto o = options();
  o.driftMode = DriftMode::ReportOnly;
  Engine engine(fake, o);
  std::string yaml = ns("shop") +
                     "---\napiVersion: v1\nkind: Secret\nmetadata: {name: rejected, namespace: shop}\n"
                     "stringData: {password: hunter2-secret}\n" +
                     "---\napiVersion: v1\nkind: Secret\nmetadata: {name: ok, namespace: shop}\n"
                     "data: {token: dG9wLXNlY3JldC10b2tlbg==}\n";
  auto report = engine.sync(render(yaml));
  std::string text = toJson(report).dump();
  INFO(text);
  CHECK(find(report, "Secret", "rejected").state == State::Failed);
  CHECK(text.find("hunter2-secret") == std::string::npos);
  CHECK(text.find("aHVudGVyMi1zZWNyZXQ=") == std::string::npos);
  CHECK(text.find("<redacted>") != std::string::npos);
  fake.edit("v1", "Secret", "shop", "ok", [](json& s) { s["data"]["token"] = "b3RoZXItc2VjcmV0"; });
  auto drifted = engine.sync(render(yaml));
  text = toJson(drifted).dump();
  INFO(text);
  const auto& ok = find(drifted, "Secret", "ok");
  CHECK(ok.state == State::Drifted);
  REQUIRE(ok.drift.size() == 1);
  CHECK(ok.drift[0].path == "/data/token");
  CHECK(*ok.drift[0].desired == "<redacted>");
  CHECK(text.find("dG9wLXNlY3JldC10b2tlbg") == std::string::npos);
  CHECK(text.find("b3RoZXItc2VjcmV0") == std::string::npos);
}

TEST_CASE("dry run: nothing is written; what would change is reported", "[sync][engine]") {
  FakeKubeClient fake;
  Engine engine(fake, options());
  REQUIRE(engine.sync(render(ns("shop") + cm("a", "shop") + cm("old", "shop"))).ok());
  fake.resetCounters();
  auto o = options();
  o.dryRun = true;
  Engine dry(fake, o);
  auto report = dry.sync(render(ns("shop") + cm("a", "shop", "new") + cm("b", "shop")));
  INFO(toJson(report).dump(2));
  CHECK(fake.applies == 0);
  CHECK(fake.deletes == 0);
  CHECK(report.phase == Phase::Drifted);
  const auto& a = find(report, "ConfigMap", "a");
  CHECK(a.action == Action::WouldApply);
  CHECK(a.state == State::Drifted);
  bool dataPath = std::any_of(a.drift.begin(), a.drift.end(), [](const auto& e) { return e.path == "/data/k"; });
  CHECK(dataPath);
  CHECK(find(report, "ConfigMap", "b").state == State::Missing);
  CHECK(find(report, "ConfigMap", "old").action == Action::WouldPrune);
  CHECK(find(report, "Namespace", "shop").state == State::Synced);
}

TEST_CASE("a restarted engine prunes from the stored inventory; a deleted owned object is re-created",
          "[sync][engine]") {
  FakeKubeClient fake;
  {
    Engine first(fake, options());
    REQUIRE(first.sync(render(ns("shop") + cm("a", "shop") + cm("b", "shop"))).ok());
  }
  REQUIRE(fake.remove(*fake.resourceFor("v1", "ConfigMap"), "shop", "a", gitfed::kube::Propagation::Background,
                      std::nullopt));
  Engine second(fake, options());
  auto report = second.sync(render(ns("shop") + cm("a", "shop")));
  CHECK(find(report, "ConfigMap", "a").action == Action::Created);
  CHECK(find(report, "ConfigMap", "b").state == State::Pruned);
}

TEST_CASE("health: waiting up to the timeout, then Degraded", "[sync][engine][health]") {
  FakeKubeClient fake;
  auto o = options();
  o.healthTimeout = std::chrono::milliseconds(50);
  Engine engine(fake, o);
  auto report = engine.sync(render(ns("shop") +
                                   "---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, namespace: shop}\n"
                                   "spec: {replicas: 1}\n"));
  const auto& d = find(report, "Deployment", "web");
  CHECK(d.health == Health::Degraded);
  CHECK(d.healthMessage.find("not healthy after 50ms") == 0);
  CHECK(report.phase == Phase::Progressing);
  // Without a timeout it is reported as progressing at once.
  Engine quick(fake, options());
  fake.edit("apps/v1", "Deployment", "shop", "web", [](json& x) { x["spec"]["replicas"] = 2; });
  auto r2 = quick.sync(render(ns("shop") + "---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, namespace: shop}\n"
                                           "spec: {replicas: 1}\n"));
  CHECK(find(r2, "Deployment", "web").state == State::Progressing);
}

TEST_CASE("options are validated", "[sync][engine]") {
  auto o = options();
  CHECK(validate(o).empty());
  o.inventoryId = "Bad_ID";
  CHECK_FALSE(validate(o).empty());
  FakeKubeClient fake;
  Engine engine(fake, o);
  auto report = engine.sync(render(ns("shop")));
  CHECK(report.phase == Phase::Failed);
  CHECK(fake.writes() == 0);
}

TEST_CASE("the report's JSON carries state, health, drift and the summary", "[sync][report]") {
  SyncReport r;
  ObjectReport o;
  o.ref = {"apps/v1", "Deployment", "shop", "web"};
  o.state = State::Drifted;
  o.health = Health::Healthy;
  o.drift.push_back({"/spec/replicas", json(3), json(5)});
  r.objects.push_back(o);
  finalize(r);
  auto j = toJson(r);
  CHECK(j["phase"] == "Drifted");
  CHECK(j["summary"]["drifted"] == 1);
  CHECK(j["objects"][0]["drift"][0] == json{{"path", "/spec/replicas"}, {"desired", 3}, {"live", 5}});
  CHECK(o.ref.id() == "apps/v1/Deployment/shop/web");
}

TEST_CASE("dry run: objects in a Namespace the revision creates are reported missing, not failed", "[sync][engine]") {
  FakeKubeClient fake;
  auto o = options();
  o.dryRun = true;
  Engine dry(fake, o);
  auto report = dry.sync(render(ns("fresh") + cm("a", "fresh")));
  INFO(toJson(report).dump(2));
  CHECK(report.phase == Phase::Drifted);
  CHECK(find(report, "Namespace", "fresh").state == State::Missing);
  CHECK(find(report, "ConfigMap", "a").state == State::Missing);
  CHECK(find(report, "ConfigMap", "a").action == Action::WouldApply);
  CHECK(fake.count() == 0);
}

TEST_CASE("a custom resource of a version its CRD does not serve is skipped with that reason", "[sync][engine][crd]") {
  FakeKubeClient fake;
  Engine engine(fake, options());
  std::string v2 = kWidget;
  v2.replace(v2.find("example.com/v1"), 14, "example.com/v2");
  auto report = engine.sync(render(ns("shop") + kCrd + v2));
  INFO(toJson(report).dump(2));
  CHECK(find(report, "CustomResourceDefinition", "widgets.example.com").state == State::Synced);
  CHECK(find(report, "Widget", "w1").error ==
        "Widget shop/w1: skipped: its CustomResourceDefinition widgets.example.com is Established but the server does not "
        "serve example.com/v2 Widget");
}

TEST_CASE("a type that is no longer served (404 on LIST) has no objects and does not block pruning", "[sync][engine][crd]") {
  FakeKubeClient fake;
  Engine engine(fake, options());
  REQUIRE(engine.sync(render(ns("shop") + kCrd + kWidget + cm("a", "shop"))).ok());
  // The CRD is deleted out of band; discovery still knows the kind.
  fake.failList["widgets"] = gitfed::kube::Error{404, "NotFound", "the server could not find the requested resource", "list"};
  auto report = engine.sync(render(ns("shop") + kCrd + cm("a", "shop")));
  INFO(toJson(report).dump(2));
  CHECK(report.phase == Phase::Synced);
  CHECK_FALSE(report.pruneSkipped);
  CHECK_FALSE(Inventory::decode(inventoryText(fake))->contains(ObjectKey{"example.com", "Widget", "shop", "w1"}));
}

TEST_CASE("drift after rounds that found the object in sync (remembered by resourceVersion) is still found",
          "[sync][engine][drift]") {
  FakeKubeClient fake;
  Engine engine(fake, options());
  std::string yaml = ns("shop") + cm("a", "shop") + cm("b", "shop");
  REQUIRE(engine.sync(render(yaml)).ok());
  // Two no-op rounds: the second finds every object unchanged since the first compared it.
  for (int round = 0; round < 2; ++round) {
    fake.resetCounters();
    auto noop = engine.sync(render(yaml));
    CHECK(noop.phase == Phase::Synced);
    CHECK(fake.applies == 0);
    CHECK(fake.dryRuns == 0);
  }
  fake.edit("v1", "ConfigMap", "shop", "b", [](json& o) { o["data"]["k"] = "edited"; });
  fake.resetCounters();
  auto report = engine.sync(render(yaml));
  INFO(toJson(report).dump(2));
  const auto& b = find(report, "ConfigMap", "b");
  CHECK(b.action == Action::Healed);
  REQUIRE(b.drift.size() == 1);
  CHECK(b.drift[0].path == "/data/k");
  CHECK(fake.applies == 1);
  CHECK((*fake.object("v1", "ConfigMap", "shop", "b"))["data"]["k"] == "v");
  // What Git wants changed (a new hash): compared again, applied.
  fake.resetCounters();
  auto changed = engine.sync(render(ns("shop") + cm("a", "shop") + cm("b", "shop", "x")));
  INFO(toJson(changed).dump(2));
  CHECK(changed.phase == Phase::Synced);
  CHECK(fake.applies == 1);
  CHECK((*fake.object("v1", "ConfigMap", "shop", "b"))["data"]["k"] == "x");
}

TEST_CASE("drift rules: a warn field is reported every round and never healed; an ignored one neither; others heal",
          "[sync][engine][drift-rules]") {
  FakeKubeClient fake;
  const std::string rules = R"(
---
apiVersion: gitfed.io/v1alpha1
kind: DriftRules
metadata: {name: fleet}
spec:
  rules:
  - paths: [/data/owned]
    target: {kind: ConfigMap, name: "app-.*"}
  - paths: [/data/watched]
    mode: warn
    target: {kind: ConfigMap, labelSelector: "watch=yes"}
)";
  auto config = [&](const std::string& name, const std::string& labels, const std::string& other) {
    return "---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: " + name + ", namespace: shop, labels: {" + labels +
           "}}\ndata: {owned: git, watched: git, other: " + other + "}\n";
  };
  auto v1 = ns("shop") + config("app-1", "watch: 'yes'", "a") + config("plain", "watch: 'no'", "a") + rules;
  Engine engine(fake, options());
  REQUIRE(engine.sync(render(v1)).ok());
  for (const char* name : {"app-1", "plain"})
    fake.edit("v1", "ConfigMap", "shop", name, [](json& o) {
      o["data"]["owned"] = "hand";
      o["data"]["watched"] = "hand";
    });
  for (int round = 0; round < 2; ++round) {
    auto report = engine.sync(render(v1));
    INFO(toJson(report).dump(2));
    const auto& app = find(report, "ConfigMap", "app-1");
    CHECK(app.state == State::Drifted);  // watched differs: reported (every round: never cached)
    CHECK(app.action == Action::None);   // and never healed
    REQUIRE(app.drift.size() == 1);
    CHECK(app.drift[0].path == "/data/watched");
    CHECK(app.drift[0].desired == json("git"));
    CHECK(app.drift[0].live == json("hand"));
    // No rule selects it: healed in the first round, in sync in the second.
    CHECK(find(report, "ConfigMap", "plain").action == (round == 0 ? Action::Healed : Action::None));
    CHECK(report.summary.drifted == 1);
  }
  auto app = *fake.object("v1", "ConfigMap", "shop", "app-1");
  CHECK(app["data"]["owned"] == "hand");    // ignored: not reset
  CHECK(app["data"]["watched"] == "hand");  // warn: not reset
  CHECK((*fake.object("v1", "ConfigMap", "shop", "plain"))["data"]["owned"] == "git");

  // Git changes another field: applied, the warn and ignore fields keep their live values, the drift is still reported.
  auto v2 = ns("shop") + config("app-1", "watch: 'yes'", "b") + config("plain", "watch: 'no'", "a") + rules;
  auto changed = engine.sync(render(v2));
  INFO(toJson(changed).dump(2));
  const auto& r = find(changed, "ConfigMap", "app-1");
  CHECK(r.action == Action::Updated);
  CHECK(r.state == State::Drifted);
  REQUIRE(r.drift.size() == 1);
  CHECK(r.drift[0].path == "/data/watched");
  app = *fake.object("v1", "ConfigMap", "shop", "app-1");
  CHECK(app["data"]["other"] == "b");
  CHECK(app["data"]["owned"] == "hand");
  CHECK(app["data"]["watched"] == "hand");

  // The field put back by hand: in sync again.
  fake.edit("v1", "ConfigMap", "shop", "app-1", [](json& o) { o["data"]["watched"] = "git"; });
  auto back = engine.sync(render(v2));
  CHECK(find(back, "ConfigMap", "app-1").state == State::Synced);
  CHECK(find(back, "ConfigMap", "app-1").drift.empty());
}

TEST_CASE("drift rules: a warn field of a Secret is reported without its values", "[sync][engine][drift-rules][secret]") {
  FakeKubeClient fake;
  auto secret = "---\napiVersion: v1\nkind: Secret\nmetadata:\n  name: s\n  namespace: shop\n  annotations: "
                "{gitfed.io/warn-fields: /data/token}\ndata: {token: " +
                gitfed::sync::base64Encode("from-git-1234") + "}\n";
  Engine engine(fake, options());
  REQUIRE(engine.sync(render(ns("shop") + secret)).ok());
  fake.edit("v1", "Secret", "shop", "s",
            [](json& o) { o["data"]["token"] = gitfed::sync::base64Encode("by-hand-5678"); });
  auto report = engine.sync(render(ns("shop") + secret));
  const auto dump = toJson(report).dump();
  INFO(dump);
  const auto& r = find(report, "Secret", "s");
  CHECK(r.state == State::Drifted);
  REQUIRE(r.drift.size() == 1);
  CHECK(r.drift[0].path == "/data/token");
  CHECK(dump.find(gitfed::sync::base64Encode("by-hand-5678")) == std::string::npos);
  CHECK(dump.find(gitfed::sync::base64Encode("from-git-1234")) == std::string::npos);
  CHECK(dump.find("by-hand") == std::string::npos);
  CHECK((*fake.object("v1", "Secret", "shop", "s"))["data"]["token"] == gitfed::sync::base64Encode("by-hand-5678"));
}

TEST_CASE("a bad warn-fields annotation fails that object", "[sync][engine][drift-rules]") {
  FakeKubeClient fake;
  Engine engine(fake, options());
  auto report = engine.sync(render(ns("shop") + cm("a", "shop", "v", "\n  annotations: {gitfed.io/warn-fields: data}")));
  CHECK(find(report, "ConfigMap", "a").state == State::Failed);
  CHECK(find(report, "ConfigMap", "a").error.find("gitfed.io/warn-fields") != std::string::npos);
}
