// The sync engine against the real kube-apiserver of test/env (issue 4,
// "Tests"). Each TEST_CASE is registered as its own ctest test
// (CMakeLists.txt); each works in namespaces and an inventory id of its own.

#include <fcntl.h>

#include <catch2/catch.hpp>

#include <algorithm>
#include <set>

#include "gitfed/sync/inventory.h"
#include "support/run.h"
#include "sync_itest.h"

using namespace gitfed::sync;
using namespace gitfed::sync::itest;
using gitfed::test::TempDir;
namespace kube = gitfed::kube;

namespace {

const ObjectReport* find(const SyncReport& r, const std::string& kind, const std::string& name) {
  for (const auto& o : r.objects)
    if (o.ref.kind == kind && o.ref.name == name) return &o;
  throw std::runtime_error("no " + kind + " " + name + " in the report");
}

std::string rv(kube::KubeClient& c, const std::string& apiVersion, const std::string& kind, const std::string& ns,
               const std::string& name) {
  auto r = c.resourceFor(apiVersion, kind);
  auto o = c.get(*r, ns, name);
  return o ? (*o)["metadata"].value("resourceVersion", "") : std::string("absent");
}

std::optional<json> live(kube::KubeClient& c, const std::string& apiVersion, const std::string& kind,
                         const std::string& ns, const std::string& name) {
  auto r = c.resourceFor(apiVersion, kind);
  if (!r) return std::nullopt;
  auto o = c.get(*r, ns, name);
  if (!o) return std::nullopt;
  return *o;
}

std::string deployment(const std::string& name, const std::string& ns, int replicas, const std::string& image,
                       const std::string& metadataExtra = "", const std::string& app = "") {
  std::string label = app.empty() ? name : app;
  return "---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {name: " + name + ", namespace: " + ns + metadataExtra +
         "}\nspec:\n  replicas: " + std::to_string(replicas) + "\n  selector: {matchLabels: {app: " + label +
         "}}\n  template:\n    metadata: {labels: {app: " + label + "}}\n    spec:\n      containers:\n" +
         "      - name: main\n        image: " + image +
         "\n        resources: {requests: {cpu: 1000m, memory: 64Mi}, limits: {memory: 0.125Gi}}\n" +
         "        ports: [{containerPort: 8080}]\n";
}

std::string report(const SyncReport& r) { return toJson(r).dump(2); }

}  // namespace

TEST_CASE("create", "[sync]") {
  auto client = adminClient();
  std::string nsName = unique("gs-create");
  std::string id = unique("create");
  Engine engine(*client, options(id));
  auto r = engine.sync(renderYaml(ns(nsName) + cm("a", nsName) + deployment("web", nsName, 1, "nginx:1.25") +
                                  "---\napiVersion: v1\nkind: Service\nmetadata: {name: web, namespace: " + nsName +
                                  "}\nspec:\n  selector: {app: web}\n  ports: [{port: 80, targetPort: 8080}]\n"));
  INFO(report(r));
  CHECK(r.ok());
  CHECK(r.summary.objects == 4);
  CHECK(r.summary.failed == 0);
  for (const auto& o : r.objects) CHECK(o.action == Action::Created);
  auto cmLive = live(*client, "v1", "ConfigMap", nsName, "a");
  REQUIRE(cmLive);
  CHECK((*cmLive)["metadata"]["labels"]["gitfed.io/inventory"] == id);
  CHECK((*cmLive)["metadata"]["labels"]["gitfed.io/managed-by"] == "gitfed");
  CHECK((*cmLive)["metadata"]["managedFields"][0]["manager"] == "gitfed");
  auto inv = Inventory::decode(inventoryText(*client, id));
  REQUIRE(inv);
  CHECK(inv->size() == 4);
  // Health: the Deployment becomes Available on the kwok node.
  auto o = options(id);
  o.healthTimeout = 60s;
  Engine waiting(*client, o);
  auto healthy = waiting.sync(renderYaml(ns(nsName) + cm("a", nsName) + deployment("web", nsName, 1, "nginx:1.25") +
                                         "---\napiVersion: v1\nkind: Service\nmetadata: {name: web, namespace: " +
                                         nsName + "}\nspec:\n  selector: {app: web}\n  ports: [{port: 80, targetPort: 8080}]\n"));
  INFO(report(healthy));
  CHECK(healthy.phase == Phase::Synced);
  CHECK(find(healthy, "Deployment", "web")->health == Health::Healthy);
  kubectl("delete namespace " + nsName + " --wait=false");
}

TEST_CASE("update", "[sync]") {
  auto client = adminClient();
  Namespace n("gs-update");
  std::string id = unique("update");
  Engine engine(*client, options(id));
  REQUIRE(engine.sync(renderYaml(cm("a", n.name(), "k: v, gone: x") + cm("b", n.name()) +
                                 deployment("web", n.name(), 1, "nginx:1.25")))
              .ok());
  std::string rvB = rv(*client, "v1", "ConfigMap", n.name(), "b");
  auto r = engine.sync(renderYaml(cm("a", n.name(), "k: v2") + cm("b", n.name()) + deployment("web", n.name(), 2, "nginx:1.26")));
  INFO(report(r));
  CHECK(r.ok());
  CHECK(find(r, "ConfigMap", "a")->action == Action::Updated);
  CHECK(find(r, "Deployment", "web")->action == Action::Updated);
  CHECK(find(r, "ConfigMap", "b")->action == Action::None);
  auto a = *live(*client, "v1", "ConfigMap", n.name(), "a");
  CHECK(a["data"] == json{{"k", "v2"}});  // the field removed from Git is gone
  auto web = *live(*client, "apps/v1", "Deployment", n.name(), "web");
  CHECK(web["spec"]["replicas"] == 2);
  CHECK(web["spec"]["template"]["spec"]["containers"][0]["image"] == "nginx:1.26");
  CHECK(rv(*client, "v1", "ConfigMap", n.name(), "b") == rvB);
}

TEST_CASE("noop", "[sync]") {
  auto client = adminClient();
  Namespace n("gs-noop");
  std::string id = unique("noop");
  std::string yaml = deployment("web", n.name(), 1, "nginx:1.25") +
                     "---\napiVersion: v1\nkind: Service\nmetadata: {name: web, namespace: " + n.name() +
                     "}\nspec:\n  selector: {app: web}\n  ports: [{name: a, port: 80, targetPort: 8080}, {name: x, port: 81, targetPort: http}]\n" +
                     "---\napiVersion: v1\nkind: Secret\nmetadata: {name: s, namespace: " + n.name() +
                     "}\nstringData: {password: not-a-real-one}\n";
  for (int i = 0; i < 30; ++i) yaml += cm("c" + std::to_string(i), n.name(), "k: '" + std::to_string(i) + "'");
  {
    Engine engine(*client, options(id));
    auto first = engine.sync(renderYaml(yaml));
    INFO(report(first));
    REQUIRE(first.ok());
  }
  std::map<std::string, std::string> before;
  for (const char* kind : {"ConfigMap", "Secret", "Service"})
    for (const auto& o : owned(*client, "v1", kind, id)) before[o["metadata"]["name"]] = o["metadata"]["resourceVersion"];
  for (const auto& o : owned(*client, "apps/v1", "Deployment", id)) before["deploy"] = o["metadata"]["resourceVersion"];
  std::string invRv = rv(*client, "v1", "ConfigMap", "gitfed-system", "gitfed-inventory-" + id);

  // A new engine (nothing cached), as after an agent restart.
  CountingClient counting(*client);
  Engine engine(counting, options(id));
  auto attemptsBefore = client->stats().attempts;
  auto r = engine.sync(renderYaml(yaml));
  INFO(report(r));
  CHECK(r.ok());
  CHECK(counting.applies == 0);
  CHECK(counting.deletes == 0);
  CHECK(counting.dryRuns == 0);  // defaults and normalisation ("1000m", ports) need no dry run
  CHECK(counting.gets == 1);     // the inventory
  CHECK(counting.requests == 5);  // one LIST per type: Deployments, Services, Secrets, ConfigMaps + HPAs
  CHECK(client->stats().attempts - attemptsBefore <= 8);
  for (const auto& o : r.objects) CHECK(o.action == Action::None);
  std::map<std::string, std::string> after;
  for (const char* kind : {"ConfigMap", "Secret", "Service"})
    for (const auto& o : owned(*client, "v1", kind, id)) after[o["metadata"]["name"]] = o["metadata"]["resourceVersion"];
  for (const auto& o : owned(*client, "apps/v1", "Deployment", id)) after["deploy"] = o["metadata"]["resourceVersion"];
  CHECK(after.size() == 33);
  // The Deployment's status moves (the controller); ours is the spec: compare the rest exactly.
  after.erase("deploy");
  before.erase("deploy");
  CHECK(before == after);
  CHECK(rv(*client, "v1", "ConfigMap", "gitfed-system", "gitfed-inventory-" + id) == invRv);
}

TEST_CASE("prune", "[sync]") {
  auto client = adminClient();
  Namespace n("gs-prune");
  std::string id = unique("prune");
  Engine engine(*client, options(id));
  REQUIRE(engine.sync(renderYaml(cm("keep", n.name()) + cm("gone", n.name()) + deployment("gone", n.name(), 0, "nginx") +
                                 cm("kept", n.name(), "k: v", ", annotations: {gitfed.io/prune: disabled}")))
              .ok());
  kubectl("-n " + n.name() + " create configmap foreign --from-literal=k=v");
  auto r = engine.sync(renderYaml(cm("keep", n.name())));
  INFO(report(r));
  CHECK(r.ok());
  CHECK(find(r, "ConfigMap", "gone")->state == State::Pruned);
  CHECK(find(r, "Deployment", "gone")->state == State::Pruned);
  CHECK(find(r, "ConfigMap", "kept")->action == Action::Retained);
  CHECK_FALSE(live(*client, "v1", "ConfigMap", n.name(), "gone"));
  CHECK(eventually([&] { return !live(*client, "apps/v1", "Deployment", n.name(), "gone"); }));
  CHECK(live(*client, "v1", "ConfigMap", n.name(), "kept"));
  CHECK(live(*client, "v1", "ConfigMap", n.name(), "foreign"));
  CHECK(live(*client, "v1", "ConfigMap", n.name(), "keep"));
  auto inv = Inventory::decode(inventoryText(*client, id));
  CHECK_FALSE(inv->contains(ObjectKey{"", "ConfigMap", n.name(), "gone"}));
  CHECK(inv->contains(ObjectKey{"", "ConfigMap", n.name(), "keep"}));
}

TEST_CASE("crd", "[sync]") {
  auto client = adminClient();
  std::string nsName = unique("gs-crd");
  std::string group = unique("g") + ".example.com";
  std::string id = unique("crd");
  std::string yaml = ns(nsName) + "---\napiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata: {name: gadgets." +
                     group + "}\nspec:\n  group: " + group +
                     "\n  scope: Namespaced\n  names: {kind: Gadget, plural: gadgets, singular: gadget}\n"
                     "  versions:\n  - name: v1\n    served: true\n    storage: true\n    schema:\n      openAPIV3Schema:\n"
                     "        type: object\n        properties:\n          spec:\n            type: object\n"
                     "            properties: {size: {type: integer}, color: {type: string, default: blue}}\n";
  for (int i = 0; i < 3; ++i)
    yaml += "---\napiVersion: " + group + "/v1\nkind: Gadget\nmetadata: {name: g" + std::to_string(i) +
            ", namespace: " + nsName + "}\nspec: {size: " + std::to_string(i) + "}\n";
  Engine engine(*client, options(id));
  auto r = engine.sync(renderYaml(yaml));
  INFO(report(r));
  CHECK(r.ok());
  CHECK(r.summary.objects == 5);
  auto g = live(*client, group + "/v1", "Gadget", nsName, "g2");
  REQUIRE(g);
  CHECK((*g)["spec"]["color"] == "blue");  // defaulted by the schema: not drift below
  CountingClient counting(*client);
  Engine again(counting, options(id));
  auto noop = again.sync(renderYaml(yaml));
  INFO(report(noop));
  CHECK(noop.phase == Phase::Synced);
  CHECK(counting.writes() == 0);
  // Removing CRD and resources together prunes the resources first, the CRD last.
  auto pruned = again.sync(renderYaml(ns(nsName)));
  INFO(report(pruned));
  CHECK(pruned.ok());
  CHECK(pruned.summary.pruned == 4);
  CHECK(eventually([&] { return !live(*client, "apiextensions.k8s.io/v1", "CustomResourceDefinition", "", "gadgets." + group); }));
  kubectl("delete namespace " + nsName + " --wait=false");
}

TEST_CASE("namespace", "[sync]") {
  auto client = adminClient();
  std::string a = unique("gs-ns-a"), b = unique("gs-ns-b");
  std::string id = unique("ns");
  Engine engine(*client, options(id));
  // Objects before their Namespace in the files; one without a namespace gets the default.
  auto o = options(id);
  o.defaultNamespace = b;
  Engine withDefault(*client, o);
  auto r = withDefault.sync(renderYaml(cm("x", a) + cm("why", b) + ns(a) + ns(b) +
                                       "---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: z}\ndata: {k: v}\n"));
  INFO(report(r));
  CHECK(r.ok());
  CHECK(find(r, "Namespace", a)->action == Action::Created);
  CHECK(live(*client, "v1", "ConfigMap", a, "x"));
  CHECK(live(*client, "v1", "ConfigMap", b, "z"));
  CHECK(find(r, "ConfigMap", "z")->ref.ns == b);
  CHECK(find(r, "Namespace", a)->health == Health::Healthy);
  // A namespace that cannot be created (an invalid name) skips only what is in it.
  auto bad = withDefault.sync(renderYaml(cm("x", a) + cm("why", b) + ns(a) + ns(b) + ns("Bad_Name") + cm("q", "Bad_Name") +
                                         "---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: z}\ndata: {k: v}\n"));
  INFO(report(bad));
  CHECK(find(bad, "Namespace", "Bad_Name")->state == State::Failed);
  CHECK(find(bad, "ConfigMap", "q")->action == Action::Skipped);
  CHECK(find(bad, "ConfigMap", "q")->error.find("Namespace Bad_Name could not be created") != std::string::npos);
  CHECK(find(bad, "ConfigMap", "x")->state == State::Synced);
  kubectl("delete namespace " + a + " " + b + " --wait=false");
}

TEST_CASE("drift", "[sync]") {
  auto client = adminClient();
  Namespace n("gs-drift");
  std::string id = unique("drift");
  std::string yaml = cm("cfg", n.name()) + deployment("web", n.name(), 2, "nginx:1.25");
  Engine engine(*client, options(id));
  REQUIRE(engine.sync(renderYaml(yaml)).ok());
  // A person edits the live objects with kubectl edit (the editor is sed).
  auto e1 = sh("KUBE_EDITOR=\"sed -i 's/replicas: 2/replicas: 4/'\" timeout 60 kubectl --kubeconfig " + quote(kubeconfig()) +
               " -n " + n.name() + " edit deployment web");
  INFO(e1.out);
  REQUIRE(e1.status == 0);
  auto e2 = sh("KUBE_EDITOR=\"sed -i 's/k: v/k: edited/'\" timeout 60 kubectl --kubeconfig " + quote(kubeconfig()) +
               " -n " + n.name() + " edit configmap cfg");
  INFO(e2.out);
  REQUIRE(e2.status == 0);
  REQUIRE((*live(*client, "v1", "ConfigMap", n.name(), "cfg"))["data"]["k"] == "edited");

  auto ro = options(id);
  ro.driftMode = DriftMode::ReportOnly;
  CountingClient counting(*client);
  Engine reportOnly(counting, ro);
  auto r = reportOnly.sync(renderYaml(yaml));
  INFO(report(r));
  CHECK(r.phase == Phase::Drifted);
  CHECK(counting.applies == 0);
  const auto* web = find(r, "Deployment", "web");
  CHECK(web->state == State::Drifted);
  REQUIRE(web->drift.size() == 1);
  CHECK(web->drift[0].path == "/spec/replicas");
  CHECK(*web->drift[0].desired == 2);
  CHECK(*web->drift[0].live == 4);
  const auto* c = find(r, "ConfigMap", "cfg");
  REQUIRE(c->drift.size() == 1);
  CHECK(c->drift[0].path == "/data/k");
  CHECK((*live(*client, "apps/v1", "Deployment", n.name(), "web"))["spec"]["replicas"] == 4);

  auto healed = engine.sync(renderYaml(yaml));
  INFO(report(healed));
  CHECK(healed.ok());
  CHECK(find(healed, "Deployment", "web")->action == Action::Healed);
  CHECK(find(healed, "ConfigMap", "cfg")->action == Action::Healed);
  CHECK((*live(*client, "apps/v1", "Deployment", n.name(), "web"))["spec"]["replicas"] == 2);
  CHECK((*live(*client, "v1", "ConfigMap", n.name(), "cfg"))["data"]["k"] == "v");
  // A field gitfed does not set is not drift.
  kubectl("-n " + n.name() + " label configmap cfg someone-else=yes");
  counting.reset();
  auto quiet = reportOnly.sync(renderYaml(yaml));
  CHECK(quiet.phase != Phase::Drifted);
  CHECK(counting.writes() == 0);
}

// Suspension (agent/sync/README.md, "Suspended objects"): a Deployment
// suspended in Git and scaled by hand is left alone; a ConfigMap suspended
// by hand on the live object keeps its hand edit, and is kept when Git drops it.
TEST_CASE("suspend", "[sync]") {
  auto client = adminClient();
  Namespace n("gs-suspend");
  std::string id = unique("suspend");
  const std::string suspended = ", annotations: {gitfed.io/reconcile: disabled}";
  Engine engine(*client, options(id));
  REQUIRE(engine.sync(renderYaml(cm("cfg", n.name()) + cm("other", n.name()) + deployment("web", n.name(), 2, "nginx:1.25")))
              .ok());
  kubectl("-n " + n.name() + " scale deployment web --replicas=5");
  auto e = sh("KUBE_EDITOR=\"sed -i 's/k: v/k: edited/'\" timeout 60 kubectl --kubeconfig " + quote(kubeconfig()) +
              " -n " + n.name() + " edit configmap cfg");
  INFO(e.out);
  REQUIRE(e.status == 0);
  kubectl("-n " + n.name() + " annotate configmap cfg gitfed.io/reconcile=disabled");

  CountingClient counting(*client);
  Engine watched(counting, options(id));
  // Git suspends the Deployment and changes its image; the ConfigMap is suspended live only.
  auto r = watched.sync(renderYaml(cm("cfg", n.name(), "k: from-git") + cm("other", n.name()) +
                                   deployment("web", n.name(), 2, "nginx:1.26", suspended)));
  INFO(report(r));
  CHECK(r.ok());
  CHECK(find(r, "Deployment", "web")->state == State::Suspended);
  CHECK(find(r, "ConfigMap", "cfg")->state == State::Suspended);
  CHECK(r.summary.suspended == 2);
  CHECK(counting.applies == 0);
  CHECK(counting.dryRuns == 0);
  auto web = live(*client, "apps/v1", "Deployment", n.name(), "web");
  REQUIRE(web);
  CHECK((*web)["spec"]["replicas"] == 5);
  CHECK((*web)["spec"]["template"]["spec"]["containers"][0]["image"] == "nginx:1.25");
  CHECK((*live(*client, "v1", "ConfigMap", n.name(), "cfg"))["data"]["k"] == "edited");

  // Git drops both ConfigMaps: the suspended one stays, the other is pruned.
  auto dropped = watched.sync(renderYaml(deployment("web", n.name(), 2, "nginx:1.26", suspended)));
  INFO(report(dropped));
  CHECK(dropped.ok());
  CHECK(find(dropped, "ConfigMap", "cfg")->state == State::Suspended);
  CHECK(find(dropped, "ConfigMap", "other")->state == State::Pruned);
  CHECK(live(*client, "v1", "ConfigMap", n.name(), "cfg"));
  CHECK_FALSE(live(*client, "v1", "ConfigMap", n.name(), "other"));

  // Resumed in Git: the Deployment gets Git's image and replicas.
  auto resumed = watched.sync(renderYaml(deployment("web", n.name(), 2, "nginx:1.26")));
  INFO(report(resumed));
  CHECK(resumed.ok());
  web = live(*client, "apps/v1", "Deployment", n.name(), "web");
  CHECK((*web)["spec"]["replicas"] == 2);
  CHECK((*web)["spec"]["template"]["spec"]["containers"][0]["image"] == "nginx:1.26");
}

TEST_CASE("hpa", "[sync]") {
  auto client = adminClient();
  Namespace n("gs-hpa");
  std::string id = unique("hpa");
  auto hpa = "---\napiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nmetadata: {name: web, namespace: " + n.name() +
             "}\nspec:\n  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: web}\n  minReplicas: 1\n  maxReplicas: 10\n"
             "  metrics: [{type: Resource, resource: {name: cpu, target: {type: Utilization, averageUtilization: 80}}}]\n";
  auto v1 = deployment("web", n.name(), 2, "nginx:1.25") + hpa +
            deployment("api", n.name(), 2, "nginx:1.25", ", annotations: {gitfed.io/ignore-fields: /spec/replicas}") +
            deployment("plain", n.name(), 2, "nginx:1.25");
  Engine engine(*client, options(id));
  REQUIRE(engine.sync(renderYaml(v1)).ok());
  for (const char* d : {"web", "api", "plain"}) REQUIRE(kubectl("-n " + n.name() + " scale deployment " + d + " --replicas=3").status == 0);
  auto r = engine.sync(renderYaml(v1));
  INFO(report(r));
  CHECK(find(r, "Deployment", "web")->action == Action::None);
  CHECK(find(r, "Deployment", "api")->action == Action::None);
  CHECK(find(r, "Deployment", "plain")->action == Action::Healed);
  CHECK((*live(*client, "apps/v1", "Deployment", n.name(), "web"))["spec"]["replicas"] == 3);
  CHECK((*live(*client, "apps/v1", "Deployment", n.name(), "api"))["spec"]["replicas"] == 3);
  CHECK((*live(*client, "apps/v1", "Deployment", n.name(), "plain"))["spec"]["replicas"] == 2);
  // A change in Git elsewhere does not reset the replicas the HPA owns.
  auto v2 = deployment("web", n.name(), 2, "nginx:1.26") + hpa +
            deployment("api", n.name(), 2, "nginx:1.26", ", annotations: {gitfed.io/ignore-fields: /spec/replicas}") +
            deployment("plain", n.name(), 2, "nginx:1.25");
  auto changed = engine.sync(renderYaml(v2));
  INFO(report(changed));
  CHECK(find(changed, "Deployment", "web")->action == Action::Updated);
  auto web = *live(*client, "apps/v1", "Deployment", n.name(), "web");
  CHECK(web["spec"]["replicas"] == 3);
  CHECK(web["spec"]["template"]["spec"]["containers"][0]["image"] == "nginx:1.26");
  CHECK((*live(*client, "apps/v1", "Deployment", n.name(), "api"))["spec"]["replicas"] == 3);
}

TEST_CASE("immutable", "[sync]") {
  auto client = adminClient();
  Namespace n("gs-immutable");
  std::string id = unique("immutable");
  Engine engine(*client, options(id));
  REQUIRE(engine.sync(renderYaml(deployment("web", n.name(), 0, "nginx", "", "one") + cm("other", n.name()))).ok());
  auto uid = (*live(*client, "apps/v1", "Deployment", n.name(), "web"))["metadata"]["uid"];
  // The selector of a Deployment cannot change.
  auto refused = engine.sync(renderYaml(deployment("web", n.name(), 0, "nginx", "", "two") + cm("other", n.name(), "k: v2")));
  INFO(report(refused));
  CHECK(refused.phase == Phase::Failed);
  const auto* web = find(refused, "Deployment", "web");
  CHECK(web->state == State::Failed);
  CHECK(web->error.find("Deployment " + n.name() + "/web: apply failed: 422") == 0);
  CHECK(web->error.find("immutable") != std::string::npos);
  CHECK(web->error.find("gitfed.io/force") != std::string::npos);
  CHECK(find(refused, "ConfigMap", "other")->action == Action::Updated);  // the others go on
  CHECK((*live(*client, "apps/v1", "Deployment", n.name(), "web"))["metadata"]["uid"] == uid);

  auto forced = engine.sync(
      renderYaml(deployment("web", n.name(), 0, "nginx", ", annotations: {gitfed.io/force: 'true'}", "two") + cm("other", n.name(), "k: v2")));
  INFO(report(forced));
  CHECK(forced.ok());
  CHECK(find(forced, "Deployment", "web")->action == Action::Recreated);
  auto now = *live(*client, "apps/v1", "Deployment", n.name(), "web");
  CHECK(now["metadata"]["uid"] != uid);
  CHECK(now["spec"]["selector"]["matchLabels"]["app"] == "two");
}

TEST_CASE("field-manager", "[sync]") {
  auto client = adminClient();
  Namespace n("gs-manager");
  std::string id = unique("manager");
  TempDir d;
  // Another manager owns data.k (server-side apply) and data.o.
  d.write("other.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: shared, namespace: " + n.name() +
                            "}\ndata: {k: theirs, o: only-theirs}\n");
  REQUIRE(kubectl("apply --server-side --field-manager=other -f " + quote((d.path() / "other.yaml").string())).status == 0);
  // kubectl's client-side apply wrote another one.
  d.write("csa.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: csa, namespace: " + n.name() + "}\ndata: {k: kubectl}\n");
  REQUIRE(kubectl("apply -f " + quote((d.path() / "csa.yaml").string())).status == 0);

  Engine engine(*client, options(id));
  auto r = engine.sync(renderYaml(cm("shared", n.name(), "k: ours") + cm("csa", n.name(), "k: ours")));
  INFO(report(r));
  CHECK(r.ok());
  auto shared = *live(*client, "v1", "ConfigMap", n.name(), "shared");
  CHECK(shared["data"]["k"] == "ours");
  CHECK(shared["data"]["o"] == "only-theirs");  // theirs alone stays
  std::string fields = shared["metadata"]["managedFields"].dump();
  for (const auto& mf : shared["metadata"]["managedFields"]) {
    std::string f = mf["fieldsV1"].dump();
    if (mf["manager"] == "gitfed") CHECK(f.find("f:k") != std::string::npos);
    if (mf["manager"] == "other") CHECK(f.find("f:k") == std::string::npos);
  }
  CHECK((*live(*client, "v1", "ConfigMap", n.name(), "csa"))["data"]["k"] == "ours");
  // Next round: in sync, no conflict, no write.
  CountingClient counting(*client);
  Engine again(counting, options(id));
  auto noop = again.sync(renderYaml(cm("shared", n.name(), "k: ours") + cm("csa", n.name(), "k: ours")));
  CHECK(noop.phase == Phase::Synced);
  CHECK(counting.writes() == 0);
}

TEST_CASE("rejected", "[sync]") {
  auto client = adminClient();
  Namespace n("gs-rejected");
  std::string id = unique("rejected");
  Engine engine(*client, options(id));
  REQUIRE(engine.sync(renderYaml(cm("ok1", n.name()) + cm("old", n.name()))).ok());
  // A key a ConfigMap may not have: 422 from the server.
  auto r = engine.sync(renderYaml(cm("ok1", n.name(), "k: v2") + cm("bad", n.name(), "'bad key!': v") + cm("ok2", n.name())));
  INFO(report(r));
  CHECK(r.phase == Phase::Failed);
  const auto* bad = find(r, "ConfigMap", "bad");
  CHECK(bad->state == State::Failed);
  CHECK(bad->error.find("ConfigMap " + n.name() + "/bad: apply failed: 422 Invalid") == 0);
  CHECK(find(r, "ConfigMap", "ok1")->action == Action::Updated);
  CHECK(find(r, "ConfigMap", "ok2")->action == Action::Created);
  // A round with a failure prunes nothing; the next one, fixed, does.
  CHECK(r.pruneSkipped);
  CHECK(live(*client, "v1", "ConfigMap", n.name(), "old"));
  auto fixed = engine.sync(renderYaml(cm("ok1", n.name(), "k: v2") + cm("bad", n.name(), "good-key: v") + cm("ok2", n.name())));
  INFO(report(fixed));
  CHECK(fixed.ok());
  CHECK(find(fixed, "ConfigMap", "bad")->action == Action::Created);
  CHECK(find(fixed, "ConfigMap", "old")->state == State::Pruned);
  CHECK_FALSE(live(*client, "v1", "ConfigMap", n.name(), "old"));
}

TEST_CASE("empty-revision", "[sync]") {
  auto client = adminClient();
  Namespace n("gs-empty");
  std::string id = unique("empty");
  Engine engine(*client, options(id));
  REQUIRE(engine.sync(renderYaml(cm("a", n.name()) + cm("b", n.name()))).ok());
  auto refused = engine.sync(renderYaml(""));
  INFO(report(refused));
  CHECK(refused.phase == Phase::Failed);
  CHECK(refused.pruneSkipped);
  CHECK(refused.pruneMessage.find("renders to no objects") != std::string::npos);
  CHECK(live(*client, "v1", "ConfigMap", n.name(), "a"));
  auto o = options(id);
  o.allowEmptyPrune = true;
  Engine allowed(*client, o);
  auto pruned = allowed.sync(renderYaml(""));
  CHECK(pruned.ok());
  CHECK(pruned.summary.pruned == 2);
  CHECK_FALSE(live(*client, "v1", "ConfigMap", n.name(), "a"));
}

TEST_CASE("rbac", "[sync]") {
  auto admin = adminClient();
  Namespace n("gs-rbac");
  std::string id = unique("rbac");
  // A service account that may manage ConfigMaps and Services in its
  // namespace, and nothing else (not Secrets; nothing cluster-wide).
  TempDir d;
  d.write("rbac.yaml", "apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: agent, namespace: " + n.name() +
                           "}\n---\napiVersion: rbac.authorization.k8s.io/v1\nkind: Role\nmetadata: {name: agent, namespace: " +
                           n.name() + "}\nrules:\n- apiGroups: ['']\n  resources: [configmaps, services]\n"
                           "  verbs: [get, list, watch, create, update, patch, delete]\n---\n"
                           "apiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata: {name: agent, namespace: " +
                           n.name() + "}\nroleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: agent}\n"
                           "subjects: [{kind: ServiceAccount, name: agent, namespace: " + n.name() + "}]\n");
  REQUIRE(kubectl("apply -f " + quote((d.path() / "rbac.yaml").string())).status == 0);
  auto token = kubectl("-n " + n.name() + " create token agent --duration=1h");
  REQUIRE(token.status == 0);
  std::string tok = token.out.substr(0, token.out.find_first_of("\r\n"));
  kube::Config config;
  config.server = gitfed::testenv::require("GITFED_TEST_APISERVER");
  config.caPem = readFile(gitfed::testenv::require("GITFED_TEST_KUBE_CA"));
  config.token = tok;
  auto limited = kube::CurlKubeClient::create(config);
  REQUIRE(limited);
  auto o = options(id);
  o.inventoryNamespace = n.name();  // the only namespace it may write
  Engine engine(**limited, o);
  std::string yaml = cm("a", n.name()) + cm("b", n.name()) +
                     "---\napiVersion: v1\nkind: Secret\nmetadata: {name: s, namespace: " + n.name() + "}\nstringData: {k: v}\n";
  auto r = engine.sync(renderYaml(yaml));
  INFO(report(r));
  CHECK(r.phase == Phase::Failed);
  CHECK(find(r, "Secret", "s")->state == State::Failed);
  CHECK(find(r, "Secret", "s")->error.find("403") != std::string::npos);
  CHECK(find(r, "ConfigMap", "a")->action == Action::Created);
  CHECK(find(r, "ConfigMap", "b")->action == Action::Created);
  // Next round (cluster-wide LIST forbidden: one LIST per namespace): the ConfigMaps are in sync.
  auto again = engine.sync(renderYaml(yaml));
  INFO(report(again));
  CHECK(find(again, "ConfigMap", "a")->action == Action::None);
  CHECK(find(again, "Secret", "s")->state == State::Failed);
}

TEST_CASE("apiserver-restart", "[sync]") {
  auto client = adminClient();
  Namespace n("gs-restart");
  std::string id = unique("restart");
  std::string yaml;
  for (int i = 0; i < 400; ++i) yaml += cm("c" + std::to_string(i), n.name(), "k: '" + std::to_string(i) + "'");
  auto config = *kube::loadKubeconfig(kubeconfig());
  config.qps = 100;  // slow enough for the restart to land mid-sync
  config.burst = 10;
  config.maxInFlight = 4;
  config.retry.maxAttempts = 2;  // fail fast: the next round must converge
  auto slow = std::move(*kube::CurlKubeClient::create(config));
  SyncReport first;
  std::thread syncing([&] {
    Engine engine(*slow, options(id));
    first = engine.sync(renderYaml(yaml));
  });
  REQUIRE(eventually([&] { return owned(*client, "v1", "ConfigMap", id).size() >= 50; }));
  std::string scripts = gitfed::testenv::require("GITFED_TEST_ENV_SCRIPTS");
  std::string dir = gitfed::testenv::require("GITFED_TEST_KUBE_DIR");
  auto stop = sh(scripts + "/service " + quote(dir) + " apiserver stop");
  INFO(stop.out);
  std::this_thread::sleep_for(2s);
  auto start = sh(scripts + "/service " + quote(dir) + " apiserver start");
  INFO(start.out);
  REQUIRE(start.status == 0);
  syncing.join();
  INFO(report(first));
  CHECK(first.phase == Phase::Failed);  // the outage did land in the middle of the sync
  // The next round converges: every object exactly once, the inventory complete.
  auto fresh = adminClient();
  Engine engine(*fresh, options(id));
  auto r = engine.sync(renderYaml(yaml));
  INFO(report(r));
  CHECK(r.ok());
  auto items = owned(*fresh, "v1", "ConfigMap", id);
  std::set<std::string> names;
  for (const auto& i : items) names.insert(i["metadata"]["name"]);
  CHECK(items.size() == 400);
  CHECK(names.size() == 400);
  auto inv = Inventory::decode(inventoryText(*fresh, id));
  REQUIRE(inv);
  CHECK(inv->size() == 400);
  CountingClient counting(*fresh);
  Engine noop(counting, options(id));
  CHECK(noop.sync(renderYaml(yaml)).phase == Phase::Synced);
  CHECK(counting.writes() == 0);
}

namespace {

// Runs `gitfed apply` on a directory and returns (status, output).
Shell gitfedApply(const std::filesystem::path& dir, const std::string& id, const std::string& extra = "") {
  return sh(quote(gitfedBinary()) + " apply --cluster itest --inventory-id " + id + " --kubeconfig " + quote(kubeconfig()) +
            " " + extra + " " + quote(dir.string()));
}

void writeConfigMaps(const TempDir& d, const std::string& nsName, int from, int to) {
  std::filesystem::remove_all(d.path() / "repo");
  std::string yaml;
  for (int i = from; i < to; ++i) yaml += cm("c" + std::to_string(i), nsName, "k: '" + std::to_string(i) + "'");
  d.write("repo/objects.yaml", yaml);
}

std::set<std::string> ownedNames(kube::KubeClient& c, const std::string& id) {
  std::set<std::string> out;
  for (const auto& o : owned(c, "v1", "ConfigMap", id)) out.insert(o["metadata"]["name"]);
  return out;
}

std::set<std::string> range(int from, int to) {
  std::set<std::string> out;
  for (int i = from; i < to; ++i) out.insert("c" + std::to_string(i));
  return out;
}

}  // namespace

TEST_CASE("kill-apply", "[sync][cli]") {
  auto client = adminClient();
  Namespace n("gs-kill-apply");
  std::string id = unique("killapply");
  TempDir d;
  writeConfigMaps(d, n.name(), 0, 600);
  {
    Child child({gitfedBinary(), "apply", "--cluster", "itest", "--inventory-id", id, "--kubeconfig", kubeconfig(),
                 "--prune", "--qps", "60", "--burst", "1", "--parallelism", "2", (d.path() / "repo").string()},
                d.path() / "log");
    REQUIRE(eventually([&] { return ownedNames(*client, id).size() >= 40; }));
    REQUIRE(child.alive());
    child.kill9();
  }
  auto partial = ownedNames(*client, id);
  INFO("objects when killed: " << partial.size());
  CHECK(partial.size() < 600);
  // The next revision drops half of them: those already applied must be pruned (no orphans).
  writeConfigMaps(d, n.name(), 300, 600);
  auto r = gitfedApply(d.path() / "repo", id, "--prune");
  INFO(r.out);
  CHECK(r.status == 0);
  CHECK(ownedNames(*client, id) == range(300, 600));
  auto inv = Inventory::decode(inventoryText(*client, id));
  REQUIRE(inv);
  CHECK(inv->size() == 300);
  // And nothing unlabelled was left behind either.
  auto all = kubectl("-n " + n.name() + " get configmaps -o name --field-selector metadata.name!=kube-root-ca.crt");
  CHECK(std::count(all.out.begin(), all.out.end(), '\n') == 300);
}

TEST_CASE("kill-prune", "[sync][cli]") {
  auto client = adminClient();
  Namespace n("gs-kill-prune");
  std::string id = unique("killprune");
  TempDir d;
  writeConfigMaps(d, n.name(), 0, 500);
  auto first = gitfedApply(d.path() / "repo", id, "--prune");
  INFO(first.out);
  REQUIRE(first.status == 0);
  REQUIRE(ownedNames(*client, id).size() == 500);
  writeConfigMaps(d, n.name(), 0, 20);
  {
    Child child({gitfedBinary(), "apply", "--cluster", "itest", "--inventory-id", id, "--kubeconfig", kubeconfig(),
                 "--prune", "--qps", "60", "--burst", "1", "--parallelism", "2", (d.path() / "repo").string()},
                d.path() / "log");
    REQUIRE(eventually([&] { return ownedNames(*client, id).size() <= 450; }));
    REQUIRE(child.alive());
    child.kill9();
  }
  auto partial = ownedNames(*client, id).size();
  INFO("objects when killed: " << partial);
  CHECK(partial > 20);
  auto r = gitfedApply(d.path() / "repo", id, "--prune");
  INFO(r.out);
  CHECK(r.status == 0);
  CHECK(ownedNames(*client, id) == range(0, 20));
  CHECK(Inventory::decode(inventoryText(*client, id))->size() == 20);
}

TEST_CASE("secret-admission", "[sync][cli][secret]") {
  auto client = adminClient();
  Namespace n("gs-secret");
  std::string id = unique("secret");
  std::string policy = unique("gs-echo");
  TempDir d;
  // An admission policy that rejects a Secret and echoes its value.
  d.write("policy.yaml", "apiVersion: admissionregistration.k8s.io/v1\nkind: ValidatingAdmissionPolicy\nmetadata: {name: " +
                             policy + "}\nspec:\n  failurePolicy: Fail\n  matchConstraints:\n    resourceRules:\n"
                             "    - {apiGroups: [''], apiVersions: [v1], operations: [CREATE, UPDATE], resources: [secrets]}\n"
                             "  validations:\n  - expression: \"!has(object.data) || !('password' in object.data)\"\n"
                             "    messageExpression: \"'rejected: the password ' + string(object.data.password) + ' is weak'\"\n"
                             "---\napiVersion: admissionregistration.k8s.io/v1\nkind: ValidatingAdmissionPolicyBinding\n"
                             "metadata: {name: " + policy + "}\nspec:\n  policyName: " + policy +
                             "\n  validationActions: [Deny]\n  matchResources:\n    namespaceSelector: {matchLabels: "
                             "{kubernetes.io/metadata.name: " + n.name() + "}}\n");
  REQUIRE(kubectl("apply -f " + quote((d.path() / "policy.yaml").string())).status == 0);
  const std::string value = "Sup3r-Secret-Value-" + std::to_string(::getpid());
  REQUIRE(eventually([&] {
    auto probe = kubectl("-n " + n.name() + " create secret generic probe --dry-run=server --from-literal=password=x");
    return probe.out.find("rejected") != std::string::npos;
  }, 60s));
  d.write("repo/s.yaml", "apiVersion: v1\nkind: Secret\nmetadata: {name: s, namespace: " + n.name() +
                             "}\nstringData: {password: " + value + "}\n---\n" + cm("fine", n.name()).substr(4));
  auto r = gitfedApply(d.path() / "repo", id, "-v --output json");
  kubectl("delete validatingadmissionpolicybinding " + policy);
  kubectl("delete validatingadmissionpolicy " + policy);
  INFO(r.out);
  CHECK(r.status == 1);
  CHECK(r.out.find("rejected: the password") != std::string::npos);  // the message is there...
  CHECK(r.out.find("<redacted>") != std::string::npos);              // ...without the value
  CHECK(r.out.find(value) == std::string::npos);
  CHECK(r.out.find(gitfed::sync::base64Encode(value)) == std::string::npos);
  CHECK(live(*client, "v1", "ConfigMap", n.name(), "fine"));
}

TEST_CASE("cli-diff", "[sync][cli]") {
  auto client = adminClient();
  Namespace n("gs-diff");
  std::string id = unique("diff");
  TempDir d;
  d.write("repo/a.yaml", cm("a", n.name(), "k: v").substr(4) + "---\napiVersion: v1\nkind: Secret\nmetadata: {name: s, namespace: " +
                             n.name() + "}\nstringData: {password: diff-secret-value}\n");
  auto diffCmd = [&](const std::string& extra = "") {
    return sh(quote(gitfedBinary()) + " diff --cluster itest --inventory-id " + id + " --kubeconfig " + quote(kubeconfig()) +
              " " + extra + " " + quote((d.path() / "repo").string()));
  };
  auto before = diffCmd();
  INFO(before.out);
  CHECK(before.status == 1);  // not applied yet
  CHECK(before.out.find("+ v1 ConfigMap " + n.name() + "/a") != std::string::npos);
  auto applied = gitfedApply(d.path() / "repo", id, "--prune");
  INFO(applied.out);
  REQUIRE(applied.status == 0);
  auto clean = diffCmd();
  INFO(clean.out);
  CHECK(clean.status == 0);
  CHECK(clean.out.empty());
  kubectl("-n " + n.name() + " patch configmap a --type merge -p '{\"data\":{\"k\":\"edited\"}}'");
  kubectl("-n " + n.name() + " patch secret s --type merge -p '{\"stringData\":{\"password\":\"other-secret-value\"}}'");
  auto drifted = diffCmd();
  INFO(drifted.out);
  CHECK(drifted.status == 1);
  CHECK(drifted.out.find("~ v1 ConfigMap " + n.name() + "/a\n    /data/k: \"edited\" -> \"v\"") != std::string::npos);
  CHECK(drifted.out.find("/data/password: \"<redacted>\" -> \"<redacted>\"") != std::string::npos);
  CHECK(drifted.out.find("secret-value") == std::string::npos);
  // Nothing was changed by diff.
  CHECK((*live(*client, "v1", "ConfigMap", n.name(), "a"))["data"]["k"] == "edited");
  // With --prune, an owned object removed from Git shows as '-'.
  d.write("repo/a.yaml", cm("a", n.name(), "k: edited").substr(4));
  auto pruning = diffCmd("--prune");
  INFO(pruning.out);
  CHECK(pruning.status == 1);
  CHECK(pruning.out.find("- v1 Secret " + n.name() + "/s (would be pruned)") != std::string::npos);
}

// Dependencies (agent/sync/README.md, "Dependencies"; render-spec 7.1): a
// CRD and its custom resources in one commit, ordered by
// config.kubernetes.io/depends-on; a Deployment that depends on a Job the
// Job controller fails (activeDeadlineSeconds) is never applied and says so;
// a cycle is refused before anything is applied.
TEST_CASE("depends-on", "[sync]") {
  auto client = adminClient();
  Namespace n("gs-deps");
  std::string group = unique("d") + ".example.com";
  std::string id = unique("deps");
  auto dependsOn = [](const std::string& refs) { return ", annotations: {config.kubernetes.io/depends-on: \"" + refs + "\"}"; };
  std::string crd = "---\napiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata: {name: gadgets." +
                    group + "}\nspec:\n  group: " + group +
                    "\n  scope: Namespaced\n  names: {kind: Gadget, plural: gadgets, singular: gadget}\n"
                    "  versions:\n  - name: v1\n    served: true\n    storage: true\n    schema:\n      openAPIV3Schema:\n"
                    "        type: object\n        x-kubernetes-preserve-unknown-fields: true\n";
  std::string gadgets;
  for (int i = 0; i < 2; ++i)
    gadgets += "---\napiVersion: " + group + "/v1\nkind: Gadget\nmetadata: {name: g" + std::to_string(i) +
               ", namespace: " + n.name() + dependsOn("apiextensions.k8s.io/CustomResourceDefinition/gadgets." + group) +
               "}\nspec: {size: " + std::to_string(i) + "}\n";
  // The Job controller fails this Job after a second (DeadlineExceeded).
  std::string job = "---\napiVersion: batch/v1\nkind: Job\nmetadata: {name: migrate, namespace: " + n.name() +
                    "}\nspec:\n  activeDeadlineSeconds: 1\n  backoffLimit: 0\n  template:\n    spec:\n"
                    "      restartPolicy: Never\n      containers: [{name: m, image: busybox}]\n";
  std::string web = deployment("web", n.name(), 1, "nginx:1.25", dependsOn("batch/namespaces/" + n.name() + "/Job/migrate"));

  auto o = options(id);
  // The Job's failure is final (Degraded): the gate stops waiting then. The
  // bound is the Job controller's: activeDeadlineSeconds plus its resync.
  o.dependencyTimeout = 120s;
  Engine engine(*client, o);
  auto r = engine.sync(renderYaml(crd + gadgets + job + web + cm("other", n.name())));
  INFO(report(r));
  CHECK(r.errors.empty());
  CHECK(find(r, "Gadget", "g1")->action == Action::Created);
  CHECK(live(*client, group + "/v1", "Gadget", n.name(), "g1"));
  const ObjectReport* w = find(r, "Deployment", "web");
  CHECK(w->state == State::Waiting);
  CHECK(w->healthMessage.starts_with("waiting for Job " + n.name() + "/migrate: Degraded: job failed"));
  CHECK(r.summary.waiting == 1);
  CHECK(r.phase == Phase::Progressing);
  CHECK(r.message.find("1 waiting: Deployment " + n.name() + "/web (waiting for Job " + n.name() + "/migrate") !=
        std::string::npos);
  CHECK_FALSE(live(*client, "apps/v1", "Deployment", n.name(), "web"));
  CHECK(live(*client, "v1", "ConfigMap", n.name(), "other"));  // the rest of the round went on

  // The next round retries: still failed, still waiting, still not applied.
  auto again = engine.sync(renderYaml(crd + gadgets + job + web + cm("other", n.name())));
  INFO(report(again));
  CHECK(find(again, "Deployment", "web")->state == State::Waiting);
  CHECK_FALSE(live(*client, "apps/v1", "Deployment", n.name(), "web"));

  // A cycle: a render error naming it; the engine applies and prunes nothing.
  auto cyclic = renderYaml(cm("a", n.name(), "k: v", dependsOn("/namespaces/" + n.name() + "/ConfigMap/b")) +
                           cm("b", n.name(), "k: v", dependsOn("/namespaces/" + n.name() + "/ConfigMap/a")));
  REQUIRE_FALSE(cyclic.ok());
  CHECK(cyclic.errors[0].format().find("fleet.yaml:") == 0);
  CHECK(cyclic.errors[0].message.find("dependency cycle: ConfigMap " + n.name() + "/a -> ConfigMap " + n.name() + "/b -> ConfigMap " +
                                      n.name() + "/a") != std::string::npos);
  auto refused = engine.sync(std::move(cyclic));
  CHECK(refused.phase == Phase::Failed);
  CHECK(live(*client, "v1", "ConfigMap", n.name(), "other"));
  CHECK(live(*client, group + "/v1", "Gadget", n.name(), "g0"));

  // Removed from Git together: the Gadgets (which depend on the CRD) go before it.
  auto pruned = engine.sync(renderYaml(cm("other", n.name())));
  INFO(report(pruned));
  CHECK(pruned.ok());
  CHECK(find(pruned, "CustomResourceDefinition", "gadgets." + group)->state == State::Pruned);
  CHECK(find(pruned, "Gadget", "g0")->state == State::Pruned);
}
