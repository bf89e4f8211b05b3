// Drift rules (docs/render-spec.md section 7.2): DriftRules documents read,
// checked with file and line, placed per cluster, refused in tenants' files;
// the target selector; the built-in HPA rule.

#include <catch2/catch.hpp>

#include "gitfed/render/drift_rules.h"
#include "gitfed/render/renderer.h"
#include "support/memory_tree.h"

using gitfed::render::DriftMode;
using gitfed::render::ObjectFacts;
using gitfed::render::ObjectSelector;
using gitfed::test::MemoryTree;
using nlohmann::json;

namespace {

std::string rulesDoc(const std::string& rules, const std::string& annotations = "") {
  return "apiVersion: gitfed.io/v1alpha1\nkind: DriftRules\nmetadata:\n  name: fleet\n" +
         (annotations.empty() ? "" : "  annotations: {" + annotations + "}\n") + "spec:\n  rules:\n" + rules;
}

gitfed::render::RenderResult renderWith(MemoryTree& tree, const std::string& cluster = "eu") {
  tree.file("clusters.yaml",
            "apiVersion: gitfed.io/v1alpha1\nkind: Cluster\nmetadata: {name: eu, labels: {env: prod}}\n---\n"
            "apiVersion: gitfed.io/v1alpha1\nkind: Cluster\nmetadata: {name: us, labels: {env: dev}}\n");
  tree.file("a.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a, namespace: x}\ndata: {k: v}\n");
  return gitfed::render::renderCluster(gitfed::render::loadRepository(tree), cluster);
}

std::string firstError(const gitfed::render::RenderResult& r) { return r.errors.empty() ? "" : r.errors[0].format(); }

}  // namespace

TEST_CASE("DriftRules: read, never output, placed like a plain object", "[render][drift-rules]") {
  MemoryTree tree;
  tree.file("drift.yaml", "# rules\n" + rulesDoc("  - paths: [/spec/replicas, /data/a~1b]\n"
                                                 "    target: {group: apps, kind: Deployment}\n"
                                                 "  - paths: [/data/x]\n    mode: warn\n",
                                                 "gitfed.io/cluster-selector: env=prod"));
  auto eu = renderWith(tree);
  INFO(firstError(eu));
  REQUIRE(eu.ok());
  CHECK(eu.objects.size() == 1);  // the ConfigMap only
  REQUIRE(eu.driftRules.size() == 2);
  CHECK(eu.driftRules[0].mode == DriftMode::Ignore);
  CHECK(eu.driftRules[0].paths[1].tokens == std::vector<std::string>{"data", "a/b"});
  CHECK(eu.driftRules[0].origin == "DriftRules fleet (drift.yaml:2) rule 1");
  CHECK(eu.driftRules[1].mode == DriftMode::Warn);
  CHECK(eu.driftRules[1].target.describe().empty());
  auto us = renderWith(tree, "us");
  REQUIRE(us.ok());
  CHECK(us.driftRules.empty());  // env=dev: not placed there
}

TEST_CASE("DriftRules: every bad field is an error with file and line, and nothing is rendered", "[render][drift-rules]") {
  struct Case {
    std::string rules, message;
  };
  const std::vector<Case> cases = {
      {"  - paths: [spec/x]\n", "drift.yaml:1: DriftRules fleet: spec.rules[0].paths[0]: \"spec/x\" is not a JSON pointer (it must begin with /)"},
      {"  - paths: []\n", "spec.rules[0].paths must be a non-empty list of JSON pointers"},
      {"  - {paths: [/a~2]}\n", "spec.rules[0].paths[0]:"},
      {"  - {paths: [/metadata/name]}\n", "\"/metadata/name\" names the object"},
      {"  - {paths: [/kind]}\n", "\"/kind\" names the object"},
      {"  - {paths: [/a], mode: heal}\n", "spec.rules[0].mode: \"heal\" is neither ignore nor warn"},
      {"  - {paths: [/a], target: {labelSelecor: x=y}}\n", "spec.rules[0].target: unknown field \"labelSelecor\""},
      {"  - {paths: [/a], target: {name: \"(\"}}\n", "spec.rules[0].target.name: \"(\" is not a regular expression"},
      {"  - {paths: [/a], target: {labelSelector: \"a in (\"}}\n", "spec.rules[0].target.labelSelector:"},
      {"  - {paths: [/a], target: {kind: 3}}\n", "spec.rules[0].target.kind must be a string"},
      {"  - {paths: [/a], onlyHpaTargets: yes-please}\n", "spec.rules[0].onlyHpaTargets must be true or false"},
      {"  - {paths: [/a], extra: 1}\n", "spec.rules[0]: unknown field \"extra\""},
      {"  - 7\n", "spec.rules[0] must be a mapping"},
      {"    []\n", "spec.rules must be a non-empty list"},
  };
  for (const auto& c : cases) {
    MemoryTree tree;
    tree.file("drift.yaml", rulesDoc(c.rules));
    auto r = renderWith(tree);
    INFO(c.rules << " -> " << firstError(r));
    CHECK_FALSE(r.platformOk());
    CHECK(r.objects.empty());
    CHECK(firstError(r).find(c.message) != std::string::npos);
    CHECK(firstError(r).starts_with("drift.yaml:1: DriftRules fleet: "));
  }
}

TEST_CASE("DriftRules in a tenant's files are refused", "[render][drift-rules][tenant]") {
  MemoryTree tree;
  tree.file("tenants.yaml",
            "apiVersion: gitfed.io/v1alpha1\nkind: Tenant\nmetadata: {name: shop}\nspec: {paths: [tenants/shop]}\n");
  tree.file("tenants/shop/drift.yaml", rulesDoc("  - {paths: [/spec/replicas]}\n"));
  auto r = renderWith(tree);
  REQUIRE(r.errors.size() == 1);
  CHECK(r.errors[0].format() ==
        "tenants/shop/drift.yaml:1: DriftRules fleet: drift rules are the platform's, not allowed in the files of tenant shop");
  CHECK(r.errors[0].tenant == "shop");
  CHECK(r.driftRules.empty());
}

TEST_CASE("ObjectSelector: exact group, version and kind; anchored name and namespace; labels and annotations",
          "[render][drift-rules]") {
  auto sel = [](const std::string& j) {
    auto s = ObjectSelector::fromJson(json::parse(j), "t");
    REQUIRE(s);
    return *s;
  };
  gitfed::render::Labels labels{{"team", "a"}}, annotations{{"owner", "ops"}};
  ObjectFacts web{"apps", "v1", "Deployment", "shop", "web-1", &labels, &annotations};
  ObjectFacts core{"", "v1", "ConfigMap", "", "web", nullptr, nullptr};
  CHECK(sel("{}").matches(web));
  CHECK(sel("{}").matches(core));
  CHECK(sel(R"({"group":"apps","version":"v1","kind":"Deployment"})").matches(web));
  CHECK_FALSE(sel(R"({"group":"apps"})").matches(core));
  CHECK(sel(R"({"group":""})").matches(core));  // "" is the core group
  CHECK(sel(R"({"name":"web-.*"})").matches(web));
  CHECK_FALSE(sel(R"({"name":"web"})").matches(web));  // anchored: the whole name
  CHECK_FALSE(sel(R"({"name":"eb-1"})").matches(web));
  CHECK(sel(R"({"namespace":"shop|pay"})").matches(web));
  CHECK_FALSE(sel(R"({"namespace":"sho"})").matches(web));
  CHECK(sel(R"({"namespace":""})").matches(core));  // cluster-scoped or not defaulted: ""
  CHECK(sel(R"j({"labelSelector":"team in (a,b)"})j").matches(web));
  CHECK_FALSE(sel(R"({"labelSelector":"team=b"})").matches(web));
  CHECK_FALSE(sel(R"({"labelSelector":"team"})").matches(core));  // no labels
  CHECK(sel(R"({"annotationSelector":"owner=ops"})").matches(web));
  CHECK(sel(R"({"annotationSelector":"!owner"})").matches(core));
  CHECK(sel(R"({"labelSelector":"team"})").usesMetadata());
  CHECK_FALSE(sel(R"({"kind":"X","name":"y"})").usesMetadata());
  CHECK(sel(R"({"kind":"X","name":"y"})").describe() == "kind=X name=y");
}

TEST_CASE("the built-in rule: Deployment and StatefulSet /spec/replicas when an HPA targets them", "[render][drift-rules]") {
  auto rules = gitfed::render::builtinDriftRules();
  REQUIRE(rules.size() == 2);
  for (const auto& r : rules) {
    CHECK(r.onlyHpaTargets);
    CHECK(r.mode == DriftMode::Ignore);
    REQUIRE(r.paths.size() == 1);
    CHECK(r.paths[0].text == "/spec/replicas");
  }
  ObjectFacts sts{"apps", "v1", "StatefulSet", "x", "db", nullptr, nullptr};
  ObjectFacts rs{"apps", "v1", "ReplicaSet", "x", "db", nullptr, nullptr};
  CHECK((rules[0].target.matches(sts) || rules[1].target.matches(sts)));
  CHECK_FALSE((rules[0].target.matches(rs) || rules[1].target.matches(rs)));
}
