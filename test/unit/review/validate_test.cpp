#include <catch2/catch.hpp>

#include "gitfed/review/validate.h"
#include "support/memory_tree.h"

using gitfed::render::loadRepository;
using gitfed::review::Finding;
using gitfed::review::SchemaSet;
using gitfed::review::validateFleet;
using gitfed::review::ValidateOptions;
using gitfed::test::MemoryTree;
using nlohmann::json;

namespace {

const char* kRegistry =
    "apiVersion: gitfed.io/v1alpha1\nkind: Cluster\nmetadata: {name: eu, labels: {env: prod}}\n---\n"
    "apiVersion: gitfed.io/v1alpha1\nkind: Cluster\nmetadata: {name: us, labels: {env: prod}}\n";

std::vector<std::string> formatted(const gitfed::review::ValidationReport& r) {
  std::vector<std::string> out;
  for (const auto& f : r.findings) out.push_back(f.format());
  return out;
}

bool has(const gitfed::review::ValidationReport& r, const std::string& text) {
  for (const auto& f : r.findings)
    if (f.format().find(text) != std::string::npos) return true;
  return false;
}

// A small OpenAPI v3 document in the shape the API server serves.
json deploymentSchema() {
  return json::parse(R"({"components": {"schemas": {
    "Deployment": {"type": "object", "x-kubernetes-group-version-kind": [{"group": "apps", "version": "v1", "kind": "Deployment"}],
      "properties": {"apiVersion": {"type": "string"}, "kind": {"type": "string"},
        "metadata": {"allOf": [{"$ref": "#/components/schemas/ObjectMeta"}]},
        "spec": {"allOf": [{"$ref": "#/components/schemas/DeploymentSpec"}]}}},
    "ObjectMeta": {"type": "object", "properties": {"name": {"type": "string"}, "namespace": {"type": "string"},
        "labels": {"type": "object", "additionalProperties": {"type": "string"}}}},
    "DeploymentSpec": {"type": "object", "required": ["selector"], "properties": {
        "replicas": {"type": "integer"}, "selector": {"type": "object", "x-kubernetes-preserve-unknown-fields": true},
        "strategy": {"type": "object", "properties": {"type": {"type": "string", "enum": ["Recreate", "RollingUpdate"]},
          "maxSurge": {"allOf": [{"$ref": "#/components/schemas/IntOrString"}]}}},
        "paused": {"type": "boolean"}, "args": {"type": "array", "items": {"type": "string"}}}},
    "IntOrString": {"format": "int-or-string", "oneOf": [{"type": "integer"}, {"type": "string"}]}}}})");
}

std::string deployment(const std::string& spec) {
  return "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, namespace: shop}\nspec:\n" + spec;
}

}  // namespace

TEST_CASE("validate: a clean repository has no findings", "[review][validate]") {
  MemoryTree t;
  t.file("clusters.yaml", kRegistry).file("cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n");
  auto r = validateFleet(loadRepository(t));
  CHECK(r.findings.empty());
}

TEST_CASE("validate: render errors are errors, merged across clusters", "[review][validate]") {
  MemoryTree t;
  t.file("clusters.yaml", kRegistry)
      .file("cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata: {a: '${cluster.region}'}\n")
      .file("tier.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: t}\ndata: {a: '${cluster.labels.tier}'}\n");
  auto r = validateFleet(loadRepository(t));
  REQUIRE(r.errors() == 3);
  CHECK_THAT(r.findings[0].format(), Catch::StartsWith("cm.yaml:1: error: ConfigMap c: unknown variable ${cluster.region}"));
  CHECK_THAT(r.findings[0].format(), Catch::EndsWith("(clusters: all clusters)"));
  // A message that names the cluster is one finding per cluster.
  CHECK_THAT(r.findings[1].format(), Catch::Contains("cluster eu has no label \"tier\"") && Catch::EndsWith("(clusters: eu)"));
  CHECK_THAT(r.findings[2].format(), Catch::Contains("cluster us has no label \"tier\"") && Catch::EndsWith("(clusters: us)"));
}

TEST_CASE("validate: names outside the registry, placements that select nothing", "[review][validate]") {
  MemoryTree t;
  t.file("clusters.yaml", kRegistry)
      .file("f.yaml",
            "apiVersion: types.kubefed.io/v1beta1\nkind: FederatedConfigMap\nmetadata: {name: a, namespace: team}\n"
            "spec:\n  placement: {clusters: [{name: eu}, {name: mars}]}\n  overrides:\n  - clusterName: venus\n"
            "    clusterOverrides: [{path: /data, value: {}}]\n---\n"
            "apiVersion: types.kubefed.io/v1beta1\nkind: FederatedConfigMap\nmetadata: {name: b, namespace: team}\n"
            "spec:\n  placement: {clusterSelector: {matchLabels: {env: staging}}}\n---\n"
            "apiVersion: types.kubefed.io/v1beta1\nkind: FederatedConfigMap\nmetadata: {name: nowhere, namespace: team}\n"
            "spec: {template: {data: {}}}\n---\n"
            "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: p, annotations: {gitfed.io/cluster-selector: env=dev}}\n");
  auto r = validateFleet(loadRepository(t));
  CHECK(r.errors() == 0);
  CHECK(has(r, "f.yaml:1: warning: FederatedConfigMap team/a: placement names cluster \"mars\", which is not in the registry"));
  CHECK(has(r, "FederatedConfigMap team/a: spec.overrides[0] names cluster \"venus\", which is not in the registry"));
  CHECK(has(r, "f.yaml:10: warning: FederatedConfigMap team/b: placement selects no cluster of the registry"));
  CHECK(has(r, "FederatedConfigMap team/nowhere: placement selects no cluster of the registry"));
  CHECK(has(r, "ConfigMap p: placement annotation selects no cluster of the registry"));
  CHECK_FALSE(has(r, "n/a: placement selects no cluster"));  // a is placed on eu
  CHECK(has(r, "warning: cluster us receives no objects"));
}

TEST_CASE("validate: clusters named on the command line count as known", "[review][validate]") {
  MemoryTree t;
  t.file("clusters.yaml", kRegistry)
      .file("c.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: p, annotations: {gitfed.io/cluster-names: laptop}}\n");
  CHECK(has(validateFleet(loadRepository(t)), "placement names cluster \"laptop\""));
  ValidateOptions o;
  o.extra.push_back({"laptop", {}});
  auto r = validateFleet(loadRepository(t), o);
  CHECK_FALSE(has(r, "laptop\", which is not in the registry"));
  CHECK_FALSE(has(r, "selects no cluster"));
}

TEST_CASE("validate: no registry at all is a warning", "[review][validate]") {
  MemoryTree t;
  t.file("c.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n");
  auto r = validateFleet(loadRepository(t));
  CHECK(has(r, "no cluster registry"));
}

TEST_CASE("validate: schemas reject unknown fields, wrong types, enum values, missing required fields", "[review][schema]") {
  SchemaSet schemas;
  schemas.addDocument(deploymentSchema());
  CHECK(schemas.knows("apps/v1", "Deployment"));
  CHECK_FALSE(schemas.knows("apps/v1", "StatefulSet"));
  auto problems = [&](const std::string& spec) {
    MemoryTree t;
    t.file("clusters.yaml", kRegistry).file("d.yaml", deployment(spec));
    ValidateOptions o;
    o.schemas = &schemas;
    return formatted(validateFleet(loadRepository(t), o));
  };
  CHECK(problems("  selector: {matchLabels: {a: b}}\n  replicas: 3\n  strategy: {type: Recreate, maxSurge: 25%}\n"
                 "  args: [a]\n").empty());
  CHECK(problems("  selector: {}\n  strategy: {maxSurge: 1}\n").empty());  // int-or-string takes an int
  CHECK(problems("  selector: {}\n  replicas: '3'\n") ==
        std::vector<std::string>{"d.yaml:1: error: Deployment shop/web: /spec/replicas: must be an integer, not string (clusters: all clusters)"});
  CHECK(problems("  selector: {}\n  replica: 3\n") ==
        std::vector<std::string>{"d.yaml:1: error: Deployment shop/web: /spec/replica: unknown field \"replica\" (clusters: all clusters)"});
  CHECK(problems("  replicas: 1\n") ==
        std::vector<std::string>{"d.yaml:1: error: Deployment shop/web: /spec: missing required field \"selector\" (clusters: all clusters)"});
  CHECK(problems("  selector: {}\n  strategy: {type: Sometimes}\n") ==
        std::vector<std::string>{"d.yaml:1: error: Deployment shop/web: /spec/strategy/type: value \"Sometimes\" is not one of [\"Recreate\",\"RollingUpdate\"] (clusters: all clusters)"});
  CHECK(problems("  selector: {}\n  strategy: {maxSurge: [1]}\n") ==
        std::vector<std::string>{"d.yaml:1: error: Deployment shop/web: /spec/strategy/maxSurge: has the wrong type (array) (clusters: all clusters)"});
  CHECK(problems("  selector: {}\n  args: [1]\n") ==
        std::vector<std::string>{"d.yaml:1: error: Deployment shop/web: /spec/args/0: must be a string, not integer (clusters: all clusters)"});
  CHECK(problems("  selector: {}\n  paused: 'yes'\n").size() == 1);
}

TEST_CASE("validate: unknown kinds warn; kinds of the repository's own CRDs are checked against them", "[review][schema]") {
  SchemaSet schemas;
  schemas.addDocument(deploymentSchema());
  MemoryTree t;
  t.file("clusters.yaml", kRegistry)
      .file("crd.yaml",
            "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata: {name: widgets.example.com}\n"
            "spec:\n  group: example.com\n  names: {kind: Widget, plural: widgets}\n  scope: Namespaced\n  versions:\n"
            "  - name: v1\n    served: true\n    storage: true\n    schema:\n      openAPIV3Schema:\n        type: object\n"
            "        properties:\n          spec:\n            type: object\n            properties:\n"
            "              size: {type: integer}\n")
      .file("w.yaml", "apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w, namespace: team}\nspec: {size: big, colour: red}\n")
      .file("x.yaml", "apiVersion: other.com/v1\nkind: Gadget\nmetadata: {name: g}\n");
  ValidateOptions o;
  o.schemas = &schemas;
  auto r = validateFleet(loadRepository(t), o);
  CHECK(has(r, "w.yaml:1: error: Widget team/w: /spec/size: must be an integer, not string"));
  CHECK(has(r, "w.yaml:1: error: Widget team/w: /spec/colour: unknown field \"colour\""));
  CHECK(has(r, "x.yaml:1: warning: Gadget g: kind Gadget (other.com/v1) is not known to the schemas"));
  CHECK(has(r, "crd.yaml:1: warning: CustomResourceDefinition widgets.example.com: kind CustomResourceDefinition"));
}

TEST_CASE("validate: a schema directory that is not there or not JSON is an error", "[review][schema]") {
  CHECK_FALSE(SchemaSet::loadDirectory("/nonexistent/schemas").has_value());
}

TEST_CASE("validate: a tenant's errors are errors; placements are still judged; a tenant placed nowhere warns",
          "[review][validate][tenant]") {
  MemoryTree t;
  t.file("clusters.yaml", kRegistry)
      .file("tenants.yaml",
            "apiVersion: gitfed.io/v1alpha1\nkind: Tenant\nmetadata: {name: shop}\nspec: {paths: [shop]}\n---\n"
            "apiVersion: gitfed.io/v1alpha1\nkind: Tenant\nmetadata: {name: lab}\n"
            "spec: {paths: [lab], placement: {clusterSelector: {matchLabels: {env: staging}}}}\n")
      .file("shop/bad.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x, namespace: kube-system}\n")
      .file("lab/cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: conf, namespace: lab}\n")
      .file("f.yaml",
            "apiVersion: types.kubefed.io/v1beta1\nkind: FederatedConfigMap\nmetadata: {name: a, namespace: team}\n"
            "spec:\n  placement: {clusters: [{name: eu}]}\n");
  auto r = validateFleet(loadRepository(t));
  INFO(formatted(r).size());
  for (const auto& f : formatted(r)) UNSCOPED_INFO(f);
  CHECK(r.errors() == 1);
  CHECK(has(r, "shop/bad.yaml:1: error: ConfigMap kube-system/x: metadata.namespace: kube-system is not one of tenant "
               "shop's namespaces (shop) (clusters: all clusters)"));
  // The tenant's error does not hide where the rest goes.
  CHECK_FALSE(has(r, "FederatedConfigMap team/a: placement selects no cluster"));
  CHECK(has(r, "tenants.yaml:6: warning: Tenant lab: placement selects no cluster of the registry"));
}

TEST_CASE("validate warns about replica scheduling", "[review][validate][schedule]") {
  gitfed::test::MemoryTree tree;
  tree.file("clusters.yaml",
            "apiVersion: gitfed.io/v1alpha1\nkind: Cluster\nmetadata: {name: a}\n---\n"
            "apiVersion: gitfed.io/v1alpha1\nkind: Cluster\nmetadata: {name: b}\n")
      .file("web.yaml",
            "apiVersion: types.kubefed.io/v1beta1\nkind: FederatedDeployment\nmetadata: {name: web, namespace: shop}\n"
            "spec:\n  placement: {clusterSelector: {}}\n"
            "  overrides:\n  - {clusterName: a, clusterOverrides: [{path: /spec/replicas, value: 3}]}\n")
      .file("rsp.yaml",
            "apiVersion: scheduling.kubefed.io/v1alpha1\nkind: ReplicaSchedulingPreference\nmetadata: {name: web, namespace: shop}\n"
            "spec: {targetKind: FederatedDeployment, totalReplicas: 0, clusters: {a: {minReplicas: 2}, b: {minReplicas: 1}, gone: {weight: 1}}}\n");
  auto report = gitfed::review::validateFleet(gitfed::render::loadRepository(tree));
  std::string all;
  for (const auto& f : report.findings) all += f.format() + "\n";
  INFO(all);
  CHECK_THAT(all, Catch::Contains("totalReplicas 0 is below the sum of minReplicas (3)"));
  CHECK_THAT(all, Catch::Contains("spec.clusters names cluster \"gone\", which is not in the registry"));
  CHECK_THAT(all, Catch::Contains("web.yaml:1: warning: FederatedDeployment shop/web: spec.overrides[0] sets /spec/replicas"));
  CHECK_THAT(all, Catch::Contains("gets 0 replicas on every cluster"));
}
