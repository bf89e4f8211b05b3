#include <catch2/catch.hpp>

#include "gitfed/render/renderer.h"
#include "support/memory_tree.h"

using gitfed::render::loadRepository;
using gitfed::render::renderCluster;
using gitfed::render::RenderResult;
using gitfed::test::MemoryTree;
using nlohmann::json;

namespace {

RenderResult renderTree(const MemoryTree& tree, const std::string& cluster,
                        const gitfed::render::Labels& labels = {}) {
  auto repo = loadRepository(tree);
  return renderCluster(repo, cluster, labels);
}

RenderResult renderOk(const MemoryTree& tree, const std::string& cluster, const gitfed::render::Labels& labels = {}) {
  auto r = renderTree(tree, cluster, labels);
  for (const auto& e : r.errors) UNSCOPED_INFO(e.format());
  REQUIRE(r.ok());
  return r;
}

std::vector<std::string> names(const RenderResult& r) {
  std::vector<std::string> out;
  for (const auto& o : r.objects) out.push_back(o.kind + "/" + (o.ns.empty() ? "" : o.ns + "/") + o.name);
  return out;
}

std::vector<std::string> errors(const RenderResult& r) {
  std::vector<std::string> out;
  for (const auto& e : r.errors) out.push_back(e.format());
  return out;
}

bool anyError(const RenderResult& r, const std::string& text) {
  for (const auto& e : r.errors)
    if (e.format().find(text) != std::string::npos) return true;
  return false;
}

const char* kRegistry = R"(apiVersion: gitfed.io/v1alpha1
kind: Cluster
metadata: {name: eu, labels: {region: eu-west, environment: production}}
---
apiVersion: gitfed.io/v1alpha1
kind: Cluster
metadata: {name: us, labels: {region: us-east, environment: production}}
---
apiVersion: gitfed.io/v1alpha1
kind: Cluster
metadata: {name: stage, labels: {region: eu-west, environment: staging}}
)";

std::string cm(const std::string& name, const std::string& extraMetadata = "", const std::string& ns = "") {
  return "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: " + name + "\n" +
         (ns.empty() ? "" : "  namespace: " + ns + "\n") + extraMetadata + "data: {k: v}\n";
}

}  // namespace

// ------------------------------------------------------------------ files

TEST_CASE("files: only .yaml .yml .json, sorted, dot-files skipped", "[render][files]") {
  MemoryTree t;
  t.file("b.yaml", cm("b")).file("a.yml", cm("a")).file("c.json", R"({"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"c"}})")
      .file("d.txt", cm("d")).file(".hidden.yaml", cm("h")).file(".git/x.yaml", cm("x")).file("dir/.e.yaml", cm("e"))
      .file("dir/f.YAML", cm("f"));
  auto repo = loadRepository(t);
  CHECK(repo.files == 3);
  auto r = renderOk(t, "eu");
  CHECK(names(r) == std::vector<std::string>{"ConfigMap/a", "ConfigMap/b", "ConfigMap/c"});
}

TEST_CASE("files: byte-wise path order decides document order", "[render][files]") {
  MemoryTree t;
  t.file("a/z.yaml", "apiVersion: gitfed.io/v1alpha1\nkind: Cluster\nmetadata: {name: x}\n")
      .file("a.yaml", "apiVersion: gitfed.io/v1alpha1\nkind: Cluster\nmetadata: {name: x}\n");
  auto r = renderTree(t, "x");
  REQUIRE(r.errors.size() == 1);
  CHECK(r.errors[0].path == "a/z.yaml");  // "a.yaml" < "a/z.yaml": the second is the duplicate
}

TEST_CASE("files: a symlinked manifest is an error, other symlinks are ignored", "[render][files][hostile]") {
  MemoryTree t;
  t.file("ok.yaml", cm("ok")).symlink("evil.yaml").symlink("notes.txt");
  auto r = renderTree(t, "eu");
  CHECK(errors(r) == std::vector<std::string>{"evil.yaml: symlinks are not followed"});
  CHECK(r.objects.empty());
}

TEST_CASE("files: over 8 MiB is an error naming the file", "[render][files][hostile]") {
  MemoryTree t;
  t.file("big.yaml", std::string((8u << 20) + 1, '#'));
  auto r = renderTree(t, "eu");
  REQUIRE(r.errors.size() == 1);
  CHECK(r.errors[0].path == "big.yaml");
  CHECK_THAT(r.errors[0].message, Catch::Contains("over the limit of 8388608 bytes"));
}

TEST_CASE("roots limit what is read", "[render][files]") {
  MemoryTree t;
  t.file("apps/a.yaml", cm("a")).file("other/b.yaml", cm("b")).file("c.yaml", cm("c"));
  gitfed::render::LoadOptions o;
  o.roots = {"apps", "./c.yaml"};
  auto repo = loadRepository(t, o);
  auto r = renderCluster(repo, "eu");
  CHECK(names(r) == std::vector<std::string>{"ConfigMap/a", "ConfigMap/c"});
  o.roots = {"../etc"};
  CHECK_FALSE(loadRepository(t, o).errors.empty());
  o.roots = {"missing"};
  CHECK_FALSE(loadRepository(t, o).errors.empty());
}

// ------------------------------------------------------------------ documents

TEST_CASE("documents: shape errors", "[render][documents]") {
  MemoryTree t;
  t.file("a.yaml",
         "- a\n- b\n---\njust text\n---\nkind: ConfigMap\nmetadata: {name: x}\n---\napiVersion: v1\nmetadata: {name: x}\n"
         "---\napiVersion: v1\nkind: ConfigMap\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: ''}\n"
         "---\napiVersion: 1\nkind: ConfigMap\nmetadata: {name: x}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: [x]\n"
         "---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: x, namespace: 5}\n");
  auto r = renderTree(t, "eu");
  auto e = errors(r);
  REQUIRE(e.size() == 9);
  CHECK(e[0] == "a.yaml:1: document is a list, not a mapping (a Kubernetes object)");
  CHECK(e[1] == "a.yaml:4: document is a string, not a mapping (a Kubernetes object)");
  CHECK(e[2] == "a.yaml:6: document has no apiVersion (a non-empty string)");
  CHECK(e[3] == "a.yaml:9: document has no kind (a non-empty string)");
  CHECK(e[4] == "a.yaml:12: ConfigMap has no metadata.name (a non-empty string)");
  CHECK(e[5] == "a.yaml:15: ConfigMap has no metadata.name (a non-empty string)");
  CHECK(e[6] == "a.yaml:19: document has no apiVersion (a non-empty string)");
  CHECK(e[7] == "a.yaml:23: ConfigMap: metadata must be a mapping");
  CHECK_THAT(e[8], Catch::StartsWith("a.yaml:27: ConfigMap x: metadata.namespace must be a string"));
}

TEST_CASE("documents: a v1 List stands for its items", "[render][documents][lists]") {
  MemoryTree t;
  t.file("list.yaml", "apiVersion: v1\nkind: List\nitems:\n- " + std::string("{apiVersion: v1, kind: ConfigMap, metadata: {name: a}}") +
                          "\n- {apiVersion: v1, kind: Secret, metadata: {name: s}}\n");
  auto r = renderOk(t, "eu");
  CHECK(names(r) == std::vector<std::string>{"Secret/s", "ConfigMap/a"});
}

TEST_CASE("documents: <Kind>List as kubectl get writes it, kindless items included", "[render][documents][lists]") {
  MemoryTree t;
  t.file("rbac.yaml",
         "apiVersion: rbac.authorization.k8s.io/v1\nkind: RoleList\nmetadata: {resourceVersion: \"\"}\nitems:\n"
         "- metadata: {name: r, namespace: monitoring}\n  rules: []\n")
      .file("cms.json", "{\"apiVersion\": \"v1\", \"kind\": \"ConfigMapList\", \"items\": [{\"metadata\": {\"name\": \"j\"}}]}");
  auto r = renderOk(t, "eu");
  CHECK(names(r) == std::vector<std::string>{"ConfigMap/j", "Role/monitoring/r"});
}

TEST_CASE("documents: a list's errors name its file and the item's line; nothing is rendered", "[render][documents][lists]") {
  MemoryTree t;
  t.file("l.yaml",
         "apiVersion: v1\nkind: ConfigMapList\nitems:\n"
         "- metadata: {name: good}\n"                      // 4
         "- metadata: {}\n"                                // 5: no name
         "- 42\n"                                          // 6
         "- {apiVersion: v1, kind: List, items: []}\n"     // 7
         "- {kind: ConfigMap, metadata: {name: noav}}\n")  // 8: only kind given: no apiVersion
      .file("m.json", "{\"kind\": \"SecretList\", \"apiVersion\": \"v1\",\n \"items\": [\n {\"metadata\": {}}]}");
  auto r = renderTree(t, "eu");
  CHECK(r.objects.empty());
  auto e = errors(r);
  REQUIRE(e.size() == 5);
  CHECK(e[0] == "l.yaml:5: ConfigMap has no metadata.name (a non-empty string)");
  CHECK(e[1] == "l.yaml:6: ConfigMapList item 3 is a number, not a mapping (a Kubernetes object)");
  CHECK(e[2] == "l.yaml:7: ConfigMapList item 4 is itself a list: a list inside a list is not read (kubectl refuses it too)");
  CHECK(e[3] == "l.yaml:8: document has no apiVersion (a non-empty string)");
  CHECK(e[4] == "m.json:3: Secret has no metadata.name (a non-empty string)");
}

TEST_CASE("documents: all errors of a run are reported, nothing is rendered", "[render][documents]") {
  MemoryTree t;
  t.file("a.yaml", "a: [\n").file("b.yaml", cm("ok")).file("c.json", "{").file("d.yaml", "x: .nan\n");
  auto r = renderTree(t, "eu");
  CHECK(r.errors.size() == 3);
  CHECK(r.errors[0].path == "a.yaml");
  CHECK(r.errors[1].path == "c.json");
  CHECK(r.errors[2].path == "d.yaml");
  CHECK(r.objects.empty());
}

TEST_CASE("documents: duplicate keys are reported with file and line", "[render][documents]") {
  MemoryTree t;
  t.file("dup.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\ndata:\n  k: 1\n  k: 2\n");
  auto r = renderTree(t, "eu");
  CHECK(errors(r) == std::vector<std::string>{"dup.yaml:7: duplicate key \"k\" in a mapping"});
}

// ------------------------------------------------------------------ registry

TEST_CASE("registry: labels come from the entry, local labels win", "[render][registry]") {
  MemoryTree t;
  t.file("clusters.yaml", kRegistry)
      .file("cm.yaml", cm("c") + "---\n" +
                           "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: l}\ndata: {r: '${cluster.labels.region}', e: "
                           "'${cluster.labels.environment}', name: '${cluster.name}'}\n");
  auto r = renderOk(t, "eu", {{"environment", "canary"}});
  CHECK(r.cluster.labels == gitfed::render::Labels{{"region", "eu-west"}, {"environment", "canary"}});
  CHECK(r.objects[1].value["data"] == json{{"r", "eu-west"}, {"e", "canary"}, {"name", "eu"}});
  // Registry entries are never output.
  CHECK(names(r) == std::vector<std::string>{"ConfigMap/c", "ConfigMap/l"});
  // A cluster not in the registry has only its local labels.
  auto other = renderTree(t, "laptop", {{"region", "home"}, {"environment", "dev"}});
  REQUIRE(other.ok());
  CHECK(other.objects[1].value["data"]["r"] == "home");
}

TEST_CASE("registry: two entries with one name are an error", "[render][registry]") {
  MemoryTree t;
  t.file("a.yaml", kRegistry).file("b.yaml", "apiVersion: gitfed.io/v1alpha1\nkind: Cluster\nmetadata: {name: eu}\n");
  auto r = renderTree(t, "us");
  CHECK(errors(r) == std::vector<std::string>{
                         "b.yaml:1: Cluster eu: the registry already has a cluster of this name (a.yaml:1)"});
}

TEST_CASE("registry: non-string labels are an error", "[render][registry]") {
  MemoryTree t;
  t.file("a.yaml", "apiVersion: gitfed.io/v1alpha1\nkind: Cluster\nmetadata: {name: eu, labels: {gpu: true}}\n");
  CHECK(anyError(renderTree(t, "eu"), "label \"gpu\" must be a string"));
}

// ------------------------------------------------------------------ plain placement

TEST_CASE("plain placement annotations", "[render][placement]") {
  MemoryTree t;
  t.file("clusters.yaml", kRegistry)
      .file("p.yaml", cm("everywhere") + "---\n" +
                          cm("names", "  annotations: {gitfed.io/cluster-names: ' eu , stage ', keep: me}\n") + "---\n" +
                          cm("none", "  annotations: {gitfed.io/cluster-names: ''}\n") + "---\n" +
                          cm("prod", "  annotations: {gitfed.io/cluster-selector: 'environment=production,region in (eu-west)'}\n") +
                          "---\n" + cm("all", "  annotations: {gitfed.io/cluster-selector: ''}\n") + "---\n" +
                          cm("namesWin", "  annotations: {gitfed.io/cluster-names: us, gitfed.io/cluster-selector: 'environment=staging'}\n"));
  CHECK(names(renderOk(t, "eu")) ==
        std::vector<std::string>{"ConfigMap/all", "ConfigMap/everywhere", "ConfigMap/names", "ConfigMap/prod"});
  CHECK(names(renderOk(t, "us")) == std::vector<std::string>{"ConfigMap/all", "ConfigMap/everywhere", "ConfigMap/namesWin"});
  CHECK(names(renderOk(t, "stage")) == std::vector<std::string>{"ConfigMap/all", "ConfigMap/everywhere", "ConfigMap/names"});
  auto r = renderOk(t, "eu");
  // The placement annotations are removed; others stay; an emptied map goes.
  CHECK(r.objects[2].value["metadata"]["annotations"] == json{{"keep", "me"}});
  CHECK_FALSE(r.objects[3].value["metadata"].contains("annotations"));
}

TEST_CASE("plain placement: an invalid selector is an error", "[render][placement]") {
  MemoryTree t;
  t.file("p.yaml", cm("bad", "  annotations: {gitfed.io/cluster-selector: 'environment in production'}\n"));
  auto r = renderTree(t, "eu");
  REQUIRE(r.errors.size() == 1);
  CHECK_THAT(r.errors[0].format(), Catch::StartsWith("p.yaml:1: ConfigMap bad: annotation gitfed.io/cluster-selector: invalid label selector"));
}

// ------------------------------------------------------------------ federated

namespace {
std::string fed(const std::string& kind, const std::string& name, const std::string& ns, const std::string& spec) {
  return "apiVersion: types.kubefed.io/v1beta1\nkind: " + kind + "\nmetadata:\n  name: " + name + "\n" +
         (ns.empty() ? "" : "  namespace: " + ns + "\n") + "spec:\n" + spec;
}
}  // namespace

TEST_CASE("federated: placement as in KubeFed", "[render][federated]") {
  MemoryTree t;
  t.file("clusters.yaml", kRegistry)
      .file("f.yaml",
            fed("FederatedConfigMap", "none", "ns", "  template: {data: {a: b}}\n") + "---\n" +
                fed("FederatedConfigMap", "empty", "ns", "  placement: {}\n") + "---\n" +
                fed("FederatedConfigMap", "list", "ns",
                    "  placement:\n    clusters: [{name: us}]\n    clusterSelector: {matchLabels: {region: eu-west}}\n") +
                "---\n" + fed("FederatedConfigMap", "all", "ns", "  placement: {clusterSelector: {}}\n") + "---\n" +
                fed("FederatedConfigMap", "sel", "ns",
                    "  placement:\n    clusterSelector:\n      matchLabels: {region: eu-west}\n      matchExpressions:\n"
                    "      - {key: environment, operator: NotIn, values: [staging]}\n"));
  CHECK(names(renderOk(t, "eu")) == std::vector<std::string>{"ConfigMap/ns/all", "ConfigMap/ns/sel"});
  CHECK(names(renderOk(t, "us")) == std::vector<std::string>{"ConfigMap/ns/all", "ConfigMap/ns/list"});
  CHECK(names(renderOk(t, "stage")) == std::vector<std::string>{"ConfigMap/ns/all"});
}

TEST_CASE("federated: building the object from the template", "[render][federated]") {
  MemoryTree t;
  t.file("f.yaml",
         fed("FederatedDeployment", "web", "shop",
             "  template:\n    apiVersion: wrong/v1\n    kind: Wrong\n    metadata: {name: wrong, namespace: wrong, labels: {app: web}}\n"
             "    spec: {replicas: 3}\n  placement: {clusterSelector: {}}\n") +
             "---\n" + fed("FederatedClusterRole", "reader", "shop", "  template: {rules: []}\n  placement: {clusterSelector: {}}\n") +
             "---\n" + fed("FederatedNamespace", "shop", "shop", "  template: {metadata: {labels: {team: shop}}}\n  placement: {clusterSelector: {}}\n") +
             "---\n" + fed("FederatedSecret", "notemplate", "shop", "  placement: {clusterSelector: {}}\n"));
  auto r = renderOk(t, "eu");
  REQUIRE(r.objects.size() == 4);
  CHECK(r.objects[0].value == json::parse(R"({"apiVersion":"v1","kind":"Namespace","metadata":{"name":"shop","labels":{"team":"shop"}}})"));
  CHECK(r.objects[1].value == json::parse(R"({"apiVersion":"v1","kind":"Secret","metadata":{"name":"notemplate","namespace":"shop"}})"));
  CHECK(r.objects[2].value == json::parse(R"({"apiVersion":"rbac.authorization.k8s.io/v1","kind":"ClusterRole","metadata":{"name":"reader"},"rules":[]})"));
  CHECK(r.objects[3].value == json::parse(R"({"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"web","namespace":"shop","labels":{"app":"web"}},"spec":{"replicas":3}})"));
}

TEST_CASE("federated: the built-in target table", "[render][federated]") {
  using gitfed::render::builtinTargetType;
  CHECK(builtinTargetType("HorizontalPodAutoscaler")->apiVersion == "autoscaling/v2");
  CHECK(builtinTargetType("CronJob")->apiVersion == "batch/v1");
  CHECK(builtinTargetType("PodDisruptionBudget")->apiVersion == "policy/v1");
  CHECK(builtinTargetType("Ingress")->apiVersion == "networking.k8s.io/v1");
  CHECK(builtinTargetType("PriorityClass")->apiVersion == "scheduling.k8s.io/v1");
  CHECK_FALSE(builtinTargetType("PriorityClass")->namespaced);
  CHECK_FALSE(builtinTargetType("StorageClass")->namespaced);
  CHECK_FALSE(builtinTargetType("CustomResourceDefinition")->namespaced);
  CHECK_FALSE(builtinTargetType("Namespace")->namespaced);
  CHECK(builtinTargetType("PersistentVolumeClaim")->namespaced);
  CHECK_FALSE(builtinTargetType("Pod").has_value());
}

TEST_CASE("federated: FederatedTypeConfig declares target types and wins over the table", "[render][federated]") {
  MemoryTree t;
  t.file("ftc.yaml",
         "apiVersion: core.kubefed.io/v1beta1\nkind: FederatedTypeConfig\nmetadata: {name: widgets.example.com}\n"
         "spec:\n  federatedType: {group: types.kubefed.io, kind: FederatedWidget, version: v1beta1}\n"
         "  targetType: {group: example.com, kind: Widget, version: v1, scope: Namespaced}\n---\n"
         "apiVersion: core.kubefed.io/v1beta1\nkind: FederatedTypeConfig\nmetadata: {name: configmaps}\n"
         "spec:\n  federatedType: {kind: FederatedConfigMap}\n  targetType: {kind: ConfigMap, version: v1, scope: Cluster}\n")
      .file("w.yaml", fed("FederatedWidget", "w", "ns", "  template: {spec: {size: 1}}\n  placement: {clusterSelector: {}}\n") +
                          "---\n" + fed("FederatedConfigMap", "c", "ns", "  placement: {clusterSelector: {}}\n"));
  auto r = renderOk(t, "eu");
  REQUIRE(r.objects.size() == 2);
  CHECK(r.objects[0].value == json::parse(R"({"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"c"}})"));
  CHECK(r.objects[1].value == json::parse(R"({"apiVersion":"example.com/v1","kind":"Widget","metadata":{"name":"w","namespace":"ns"},"spec":{"size":1}})"));
}

TEST_CASE("federated: unknown federated kinds and bad type configs are errors", "[render][federated]") {
  MemoryTree t;
  t.file("f.yaml", fed("FederatedGadget", "g", "ns", "  placement: {clusterSelector: {}}\n") + "---\n" +
                       fed("Gadget", "g2", "ns", "  placement: {}\n") + "---\n" +
                       "apiVersion: core.kubefed.io/v1beta1\nkind: FederatedTypeConfig\nmetadata: {name: x}\n"
                       "spec: {federatedType: {kind: FederatedX}, targetType: {kind: X, version: v1, scope: Global}}\n");
  auto r = renderTree(t, "eu");
  CHECK(anyError(r, "f.yaml:1: FederatedGadget ns/g: unknown federated kind FederatedGadget"));
  CHECK(anyError(r, "f.yaml:9: Gadget ns/g2: unknown federated kind Gadget"));
  CHECK(anyError(r, "scope must be Namespaced or Cluster"));
}

TEST_CASE("federated: the namespace rule", "[render][federated]") {
  MemoryTree t;
  t.file("clusters.yaml", kRegistry)
      .file("ns.yaml", fed("FederatedNamespace", "shop", "shop", "  placement: {clusters: [{name: eu}]}\n"))
      .file("app.yaml", fed("FederatedConfigMap", "fc", "shop", "  placement: {clusterSelector: {}}\n") + "---\n" +
                            cm("plain", "", "shop") + "---\n" + cm("elsewhere", "", "other") + "---\n" +
                            fed("FederatedClusterRole", "cr", "shop", "  placement: {clusterSelector: {}}\n"));
  CHECK(names(renderOk(t, "eu")) == std::vector<std::string>{"Namespace/shop", "ConfigMap/other/elsewhere",
                                                             "ConfigMap/shop/fc", "ConfigMap/shop/plain", "ClusterRole/cr"});
  CHECK(names(renderOk(t, "us")) == std::vector<std::string>{"ConfigMap/other/elsewhere", "ClusterRole/cr"});
}

TEST_CASE("federated: overrides by name and by selector, in order", "[render][overrides]") {
  MemoryTree t;
  t.file("clusters.yaml", kRegistry)
      .file("d.yaml", fed("FederatedDeployment", "web", "shop",
                          "  template:\n    spec:\n      replicas: 3\n      template: {spec: {containers: [{name: web, image: web:1}]}}\n"
                          "  placement: {clusterSelector: {}}\n"
                          "  overrides:\n"
                          "  - clusterName: eu\n    clusterOverrides:\n    - {path: /spec/replicas, value: 5}\n"
                          "    - {op: add, path: /metadata/annotations, value: {tier: gold}}\n"
                          "    - {op: replace, path: /spec/replicas, value: 6}\n"
                          "  - clusterSelector: {matchLabels: {region: eu-west}}\n    clusterOverrides:\n"
                          "    - {path: /spec/template/spec/containers/0/image, value: web:2}\n"
                          "    - {op: add, path: /spec/template/spec/containers/-, value: {name: sidecar, image: s:1}}\n"
                          "  - clusterName: us\n    clusterOverrides:\n    - {op: remove, path: /spec/replicas}\n"));
  auto eu = renderOk(t, "eu").objects.at(0).value;
  CHECK(eu["spec"]["replicas"] == 6);
  CHECK(eu["metadata"]["annotations"] == json{{"tier", "gold"}});
  CHECK(eu["spec"]["template"]["spec"]["containers"] ==
        json::parse(R"([{"name":"web","image":"web:2"},{"name":"sidecar","image":"s:1"}])"));
  auto us = renderOk(t, "us").objects.at(0).value;
  CHECK_FALSE(us["spec"].contains("replicas"));
  CHECK(us["spec"]["template"]["spec"]["containers"][0]["image"] == "web:1");
  auto stage = renderOk(t, "stage").objects.at(0).value;
  CHECK(stage["spec"]["replicas"] == 3);
  CHECK(stage["spec"]["template"]["spec"]["containers"].size() == 2);
}

TEST_CASE("federated: override syntax is checked on every entry, matching or not", "[render][overrides]") {
  auto check = [](const std::string& overrides, const std::string& expected) {
    MemoryTree t;
    t.file("d.yaml", fed("FederatedConfigMap", "c", "ns",
                         "  template: {data: {a: b}}\n  placement: {clusterSelector: {}}\n  overrides:\n" + overrides));
    auto r = renderTree(t, "some-cluster-not-named");
    INFO(overrides);
    CHECK(r.objects.empty());
    REQUIRE(r.errors.size() == 1);
    CHECK_THAT(r.errors[0].format(), Catch::Contains(expected));
  };
  check("  - clusterName: x\n    clusterOverrides: [{op: move, path: /data, value: 1}]\n", "unknown op \"move\"");
  check("  - clusterName: x\n    clusterOverrides: [{path: data, value: 1}]\n", "must start with '/'");
  check("  - clusterName: x\n    clusterOverrides: [{path: /data/a~2, value: 1}]\n", "'~' must be followed by 0 or 1");
  check("  - clusterName: x\n    clusterOverrides: [{value: 1}]\n", "path is missing");
  check("  - clusterName: x\n    clusterOverrides: [{path: /apiVersion, value: v2}]\n", "path /apiVersion may not be overridden");
  check("  - clusterName: x\n    clusterOverrides: [{path: /kind/x, value: v2}]\n", "path /kind/x may not be overridden");
  check("  - clusterName: x\n    clusterOverrides: [{path: /metadata/name, value: n}]\n", "may not be overridden");
  check("  - clusterName: x\n    clusterOverrides: [{op: remove, path: /metadata/namespace}]\n", "may not be overridden");
  check("  - clusterName: x\n    clusterSelector: {}\n    clusterOverrides: []\n", "has both clusterName and clusterSelector");
  check("  - clusterOverrides: []\n", "has neither clusterName nor clusterSelector");
  check("  - clusterSelector: {matchLabels: {a: [1]}}\n    clusterOverrides: []\n", "must be a string");
  check("  - clusterName: x\n    clusterOverrides: [{path: /data, valeu: 1}]\n", "unknown field \"valeu\"");
  check("  - clusterName: x\n    clusterOverrides: [{op: add, path: /data}]\n", "needs a value");
  check("  - clusterName: x\n    clusterOverrides:\n    - {op: remove, path: /data}\n  - clusterName: z\n    clusterOverrides: [{op: bad, path: /d}]\n",
        "d.yaml:1: FederatedConfigMap ns/c: spec.overrides[1].clusterOverrides[0]: unknown op \"bad\"");
}

TEST_CASE("federated: every bad override item is reported in one run", "[render][overrides]") {
  MemoryTree t;
  t.file("d.yaml", fed("FederatedConfigMap", "c", "ns",
                       "  placement: {clusterSelector: {}}\n  overrides:\n  - clusterName: other\n    clusterOverrides:\n"
                       "    - {path: /metadata/name, value: x}\n    - {path: /metadata/namespace/x, value: x}\n"
                       "    - {path: data/x, value: x}\n    - {op: remove, path: /kind}\n    - {path: /data/ok, value: fine}\n"
                       "  - clusterName: other2\n    clusterOverrides: [{op: copy, path: /x, value: 1}]\n"));
  auto r = renderTree(t, "eu");
  auto e = errors(r);
  REQUIRE(e.size() == 5);
  CHECK_THAT(e[0], Catch::Contains("spec.overrides[0].clusterOverrides[0]: path /metadata/name may not be overridden"));
  CHECK_THAT(e[1], Catch::Contains("spec.overrides[0].clusterOverrides[1]: path /metadata/namespace/x may not be overridden"));
  CHECK_THAT(e[2], Catch::Contains("spec.overrides[0].clusterOverrides[2]: path \"data/x\" must start with '/'"));
  CHECK_THAT(e[3], Catch::Contains("spec.overrides[0].clusterOverrides[3]: path /kind may not be overridden"));
  CHECK_THAT(e[4], Catch::Contains("spec.overrides[1].clusterOverrides[0]: unknown op \"copy\""));
  CHECK(r.objects.empty());
}

TEST_CASE("federated: override application errors only where the override applies", "[render][overrides]") {
  MemoryTree t;
  t.file("clusters.yaml", kRegistry)
      .file("d.yaml", fed("FederatedConfigMap", "c", "ns",
                          "  template: {data: {a: b}}\n  placement: {clusterSelector: {}}\n  overrides:\n"
                          "  - clusterName: eu\n    clusterOverrides:\n    - {op: remove, path: /data/missing}\n"
                          "  - clusterName: us\n    clusterOverrides:\n    - {path: /spec/x, value: 1}\n"
                          "  - clusterName: stage\n    clusterOverrides:\n    - {path: /metadata/labels/x, value: '1'}\n"));
  auto eu = renderTree(t, "eu");
  CHECK(errors(eu) == std::vector<std::string>{
                          "d.yaml:1: FederatedConfigMap ns/c: spec.overrides[0].clusterOverrides[0]: remove /data/missing: there is nothing at that path"});
  CHECK(anyError(renderTree(t, "us"), "path /spec/x: /spec does not exist"));
  CHECK(anyError(renderTree(t, "stage"), "/metadata/labels does not exist"));
  CHECK(renderTree(t, "other").ok());
}

TEST_CASE("federated: replacing /metadata keeps the identity", "[render][overrides]") {
  MemoryTree t;
  t.file("d.yaml", fed("FederatedConfigMap", "c", "ns",
                       "  placement: {clusterSelector: {}}\n  overrides:\n  - clusterName: eu\n    clusterOverrides:\n"
                       "    - {path: /metadata, value: {labels: {a: b}}}\n"));
  auto r = renderOk(t, "eu");
  CHECK(r.objects[0].value["metadata"] == json::parse(R"({"name":"c","namespace":"ns","labels":{"a":"b"}})"));
}

TEST_CASE("federated: structure errors", "[render][federated]") {
  auto check = [](const std::string& spec, const std::string& expected) {
    MemoryTree t;
    t.file("d.yaml", fed("FederatedConfigMap", "c", "ns", spec));
    auto r = renderTree(t, "eu");
    INFO(spec);
    CHECK(anyError(r, expected));
  };
  check("  template: [a]\n", "spec.template must be a mapping");
  check("  template: {metadata: x}\n", "spec.template.metadata must be a mapping");
  check("  placement: [a]\n", "spec.placement must be a mapping");
  check("  placement: {cluster: [{name: a}]}\n", "unknown field \"cluster\"");
  check("  placement: {clusters: [a]}\n", "each entry needs a name");
  check("  placement: {clusterSelector: {matchExpressions: [{key: a, operator: Foo}]}}\n", "unknown operator \"Foo\"");
  check("  overrides: {a: b}\n", "spec.overrides must be a list");
}

// ------------------------------------------------------------------ substitution

TEST_CASE("substitution happens after overrides, in every output object", "[render][substitution]") {
  MemoryTree t;
  t.file("clusters.yaml", kRegistry)
      .file("d.yaml", fed("FederatedConfigMap", "c-${cluster.name}", "ns",
                          "  template: {data: {a: x}}\n  placement: {clusterSelector: {}}\n  overrides:\n"
                          "  - clusterSelector: {}\n    clusterOverrides: [{path: /data/a, value: '${cluster.labels.region}'}]\n") +
                          "---\n" + cm("plain-${cluster.labels.environment}"));
  auto r = renderOk(t, "eu");
  REQUIRE(r.objects.size() == 2);
  CHECK(r.objects[0].name == "plain-production");  // no namespace sorts first
  CHECK(r.objects[1].name == "c-eu");
  CHECK(r.objects[1].value["data"]["a"] == "eu-west");
}

TEST_CASE("substitution errors only where the object is output", "[render][substitution]") {
  MemoryTree t;
  t.file("clusters.yaml", kRegistry)
      .file("c.yaml", cm("c", "  annotations: {gitfed.io/cluster-names: us}\n  labels: {tier: '${cluster.labels.tier}'}\n"));
  CHECK(renderTree(t, "eu").ok());
  auto r = renderTree(t, "us");
  CHECK(errors(r) == std::vector<std::string>{
                         "c.yaml:1: ConfigMap c: variable ${cluster.labels.tier}: cluster us has no label \"tier\" and the "
                         "variable gives no default (write ${cluster.labels.tier:-DEFAULT}) (at /metadata/labels/tier)"});
}

// ------------------------------------------------------------------ output

TEST_CASE("output order: kind rank, group, namespace, name", "[render][output]") {
  MemoryTree t;
  t.file("a.yaml",
         "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: b, namespace: x}\n---\n"
         "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: a, namespace: x}\n---\n"
         "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: z, namespace: a}\n---\n"
         "apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w}\n---\n"
         "apiVersion: aaa.com/v1\nkind: Zebra\nmetadata: {name: w}\n---\n"
         "apiVersion: v1\nkind: Service\nmetadata: {name: s, namespace: x}\n---\n"
         "apiVersion: v1\nkind: Namespace\nmetadata: {name: x}\n---\n"
         "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata: {name: widgets.example.com}\n---\n"
         "apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata: {name: i, namespace: x}\n---\n"
         "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cm}\n---\n"
         "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cm, namespace: x}\n");
  CHECK(names(renderOk(t, "eu")) ==
        std::vector<std::string>{"Namespace/x", "ConfigMap/cm", "ConfigMap/x/cm", "CustomResourceDefinition/widgets.example.com",
                                 "Service/x/s", "Deployment/a/z", "Deployment/x/a", "Deployment/x/b", "Ingress/x/i",
                                 "Zebra/w", "Widget/w"});
}

TEST_CASE("output: kind ranks follow the spec", "[render][output]") {
  using gitfed::render::kindRank;
  const char* order[] = {"Namespace", "NetworkPolicy", "ResourceQuota", "LimitRange", "PodDisruptionBudget",
                         "ServiceAccount", "Secret", "ConfigMap", "StorageClass", "PersistentVolume",
                         "PersistentVolumeClaim", "CustomResourceDefinition", "ClusterRole", "ClusterRoleBinding",
                         "Role", "RoleBinding", "Service", "DaemonSet", "Pod", "ReplicationController", "ReplicaSet",
                         "Deployment", "HorizontalPodAutoscaler", "StatefulSet", "Job", "CronJob", "IngressClass",
                         "Ingress", "APIService", "Anything"};
  for (std::size_t i = 1; i < std::size(order); ++i) CHECK(kindRank(order[i - 1]) < kindRank(order[i]));
}

TEST_CASE("output: duplicates are judged on final objects and name both files", "[render][output]") {
  MemoryTree t;
  t.file("clusters.yaml", kRegistry)
      .file("a.yaml", cm("web-eu", "", "shop"))
      .file("b/c.yaml", cm("web-${cluster.name}", "", "shop"))
      .file("d.yaml", "apiVersion: v2\nkind: ConfigMap\nmetadata: {name: web-eu, namespace: shop}\n");  // same group: duplicate
  auto r = renderTree(t, "eu");
  CHECK(errors(r) == std::vector<std::string>{
                         "b/c.yaml:1: duplicate object ConfigMap shop/web-eu: also defined at a.yaml:1",
                         "d.yaml:1: duplicate object ConfigMap shop/web-eu: also defined at b/c.yaml:1"});
  CHECK(renderTree(t, "us").errors.size() == 1);  // a.yaml and d.yaml still collide
}

TEST_CASE("output: the same name in other groups or kinds is no duplicate", "[render][output]") {
  MemoryTree t;
  t.file("a.yaml", cm("x") + "---\napiVersion: example.com/v1\nkind: ConfigMap\nmetadata: {name: x}\n---\n"
                             "apiVersion: v1\nkind: Secret\nmetadata: {name: x}\n");
  CHECK(renderOk(t, "eu").objects.size() == 3);
}

TEST_CASE("non-output kinds: Cluster, FederatedTypeConfig, ReplicaSchedulingPreference", "[render][output]") {
  MemoryTree t;
  t.file("a.yaml", "apiVersion: scheduling.kubefed.io/v1alpha1\nkind: ReplicaSchedulingPreference\nmetadata: {name: r, namespace: shop}\n"
                   "spec: {totalReplicas: 10, targetKind: FederatedDeployment}\n"
                   "---\napiVersion: types.kubefed.io/v1beta1\nkind: FederatedDeployment\nmetadata: {name: r, namespace: shop}\n");
  auto r = renderOk(t, "eu");
  CHECK(r.objects.empty());
}
