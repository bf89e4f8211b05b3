// config.kubernetes.io/depends-on (docs/render-spec.md section 7.1). The
// parser's cases are those of kubernetes-sigs/cli-utils
// pkg/object/dependson/strings_test.go (kpt's and Config Sync's reader),
// then gitfed's checks of one cluster's render.

#include <catch2/catch.hpp>

#include "gitfed/render/depends_on.h"
#include "gitfed/render/renderer.h"
#include "support/memory_tree.h"

using gitfed::render::DependencyRef;
using gitfed::render::formatDependencyRef;
using gitfed::render::loadRepository;
using gitfed::render::parseDependsOn;
using gitfed::render::renderCluster;
using gitfed::render::RenderResult;
using gitfed::test::MemoryTree;

namespace {

const DependencyRef kClusterScoped{"test-group", "test-kind", "", "cluster-obj"};
const DependencyRef kNamespaced{"test-group", "test-kind", "test-namespace", "namespaced-obj"};

RenderResult render(const MemoryTree& tree, const std::string& cluster = "eu") {
  auto repo = loadRepository(tree);
  return renderCluster(repo, cluster, {});
}

std::string errorsOf(const RenderResult& r) {
  std::string out;
  for (const auto& e : r.errors) out += e.format() + "\n";
  return out;
}

std::string cm(const std::string& name, const std::string& ns, const std::string& dependsOn = "") {
  std::string doc = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: " + name + "\n";
  if (!ns.empty()) doc += "  namespace: " + ns + "\n";
  if (!dependsOn.empty()) doc += "  annotations:\n    config.kubernetes.io/depends-on: \"" + dependsOn + "\"\n";
  return doc + "data: {k: v}\n";
}

std::string job(const std::string& name, const std::string& ns, const std::string& dependsOn = "") {
  std::string doc = "apiVersion: batch/v1\nkind: Job\nmetadata:\n  name: " + name + "\n  namespace: " + ns + "\n";
  if (!dependsOn.empty()) doc += "  annotations:\n    config.kubernetes.io/depends-on: \"" + dependsOn + "\"\n";
  return doc + "spec: {template: {spec: {restartPolicy: Never, containers: [{name: m, image: busybox}]}}}\n";
}

const gitfed::render::RenderedObject& find(const RenderResult& r, const std::string& kind, const std::string& name) {
  for (const auto& o : r.objects)
    if (o.kind == kind && o.name == name) return o;
  FAIL("no " << kind << " " << name);
  throw;
}

}  // namespace

TEST_CASE("depends-on: cli-utils' cases of UnmarshalDependencySet", "[depends-on]") {
  CHECK_FALSE(parseDependsOn(""));  // empty annotation is error
  CHECK_FALSE(parseDependsOn("test-group/test-namespace/test-kind/namespaced-obj"));  // 4 fields
  CHECK_FALSE(parseDependsOn("test-group/namespaces/test-kind/cluster-obj"));        // 4 fields
  CHECK(parseDependsOn("test-group/test-kind/cluster-obj").value() == std::vector{kClusterScoped});
  CHECK(parseDependsOn("test-group/namespaces/test-namespace/test-kind/namespaced-obj").value() ==
        std::vector{kNamespaced});
  CHECK(parseDependsOn("  test-group/namespaces/test-namespace/test-kind/namespaced-obj\n").value() ==
        std::vector{kNamespaced});
  CHECK(parseDependsOn("test-group/namespaces/test-namespace/test-kind/namespaced-obj,test-group/test-kind/cluster-obj")
            .value() == std::vector{kNamespaced, kClusterScoped});
}

TEST_CASE("depends-on: cli-utils' cases of MarshalObjMetadata", "[depends-on]") {
  CHECK(formatDependencyRef(kClusterScoped) == "test-group/test-kind/cluster-obj");
  CHECK(formatDependencyRef(kNamespaced) == "test-group/namespaces/test-namespace/test-kind/namespaced-obj");
  // Round trip, the core group included.
  const DependencyRef core{"", "ConfigMap", "shop", "settings"};
  CHECK(formatDependencyRef(core) == "/namespaces/shop/ConfigMap/settings");
  CHECK(parseDependsOn(formatDependencyRef(core)).value() == std::vector{core});
}

TEST_CASE("depends-on: what else is refused, and why", "[depends-on]") {
  auto why = [](const char* s) {
    auto r = parseDependsOn(s);
    REQUIRE_FALSE(r);
    return r.error();
  };
  CHECK(why("apps/v1/Deployment/web").find("4 fields") != std::string::npos);
  CHECK(why("apps/v1/Deployment/web").find("without its version") != std::string::npos);
  CHECK(why("apps/spaces/shop/Deployment/web").find("must be \"namespaces\"") != std::string::npos);
  CHECK(why("apps//web") == "\"apps//web\": the kind is empty");
  CHECK(why("apps/Deployment/") == "\"apps/Deployment/\": the name is empty");
  CHECK(why("apps/Deployment/a,,apps/Deployment/b").starts_with("entry 2 is empty"));
  CHECK(why("apps/Deployment/a,").starts_with("entry 2 is empty"));
  CHECK(why("/ConfigMap/a,x/y").starts_with("entry 2 \"x/y\": 2 fields"));
}

TEST_CASE("depends-on: resolved to the rendered objects, annotation kept", "[depends-on]") {
  MemoryTree tree;
  tree.file("a.yaml", cm("settings", "shop") + "---\n" + job("migrate", "shop", "/namespaces/shop/ConfigMap/settings") +
                          "---\n" + cm("app", "shop", "batch/namespaces/shop/Job/migrate, /namespaces/shop/ConfigMap/settings"));
  auto r = render(tree);
  INFO(errorsOf(r));
  REQUIRE(r.ok());
  const auto& app = find(r, "ConfigMap", "app");
  REQUIRE(app.dependsOn.size() == 2);
  CHECK(r.objects[app.dependsOn[0]].kind == "Job");
  CHECK(r.objects[app.dependsOn[1]].name == "settings");
  CHECK(find(r, "Job", "migrate").dependsOn.size() == 1);
  CHECK(find(r, "ConfigMap", "settings").dependsOn.empty());
  CHECK(app.value["metadata"]["annotations"]["config.kubernetes.io/depends-on"] ==
        "batch/namespaces/shop/Job/migrate, /namespaces/shop/ConfigMap/settings");
  // A namespace-less object is named with the 3-field form.
  MemoryTree bare;
  bare.file("b.yaml", cm("plain", "") + "---\n" + cm("user", "", "/ConfigMap/plain"));
  auto b = render(bare);
  INFO(errorsOf(b));
  REQUIRE(b.ok());
  CHECK(b.objects[find(b, "ConfigMap", "user").dependsOn.at(0)].name == "plain");
}

TEST_CASE("depends-on: errors name the file, the line, the object and the entry", "[depends-on]") {
  SECTION("missing, with a hint at the namespace") {
    MemoryTree tree;
    tree.file("a.yaml", cm("settings", "shop") + "---\n" + cm("app", "shop", "/ConfigMap/settings"));
    auto r = render(tree);
    CHECK(r.objects.empty());
    CHECK(errorsOf(r) ==
          "a.yaml:8: ConfigMap shop/app: config.kubernetes.io/depends-on: \"/ConfigMap/settings\": no such object in "
          "this cluster's render (ConfigMap shop/settings exists: write \"/namespaces/shop/ConfigMap/settings\")\n");
  }
  SECTION("not placed on this cluster") {
    MemoryTree tree;
    tree.file("a.yaml",
              "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\n  namespace: shop\n  annotations: "
              "{gitfed.io/cluster-names: us}\n---\n" +
                  cm("app", "shop", "/namespaces/shop/ConfigMap/settings"));
    CHECK(render(tree, "us").ok());
    auto r = render(tree, "eu");
    CHECK(errorsOf(r) ==
          "a.yaml:8: ConfigMap shop/app: config.kubernetes.io/depends-on: \"/namespaces/shop/ConfigMap/settings\": no "
          "such object in this cluster's render\n");
  }
  SECTION("self-reference") {
    MemoryTree tree;
    tree.file("a.yaml", cm("app", "shop", "/namespaces/shop/ConfigMap/app"));
    CHECK(errorsOf(render(tree)) ==
          "a.yaml:1: ConfigMap shop/app: config.kubernetes.io/depends-on: \"/namespaces/shop/ConfigMap/app\": an object "
          "cannot depend on itself\n");
  }
  SECTION("a cycle, named on each of its objects") {
    MemoryTree tree;
    tree.file("a.yaml", cm("a", "shop", "batch/namespaces/shop/Job/b") + "---\n" +
                            job("b", "shop", "/namespaces/shop/ConfigMap/c") + "---\n" +
                            cm("c", "shop", "/namespaces/shop/ConfigMap/a") + "---\n" +
                            cm("d", "shop", "/namespaces/shop/ConfigMap/a"));
    auto r = render(tree);
    CHECK(r.objects.empty());
    const std::string cycle = "dependency cycle: ConfigMap shop/a -> Job shop/b -> ConfigMap shop/c -> ConfigMap shop/a\n";
    CHECK(errorsOf(r) == "a.yaml:1: ConfigMap shop/a: config.kubernetes.io/depends-on: " + cycle +
                             "a.yaml:19: ConfigMap shop/c: config.kubernetes.io/depends-on: " + cycle +
                             "a.yaml:10: Job shop/b: config.kubernetes.io/depends-on: " + cycle);
  }
  SECTION("a malformed value") {
    MemoryTree tree;
    tree.file("a.yaml", cm("app", "shop", "apps/v1/Deployment/web"));
    CHECK(errorsOf(render(tree)) ==
          "a.yaml:1: ConfigMap shop/app: config.kubernetes.io/depends-on: \"apps/v1/Deployment/web\": 4 fields "
          "(expected <group>/namespaces/<namespace>/<kind>/<name> or <group>/<kind>/<name>); the group is written "
          "without its version\n");
  }
}

TEST_CASE("depends-on: a federated object carries it through its template and overrides", "[depends-on]") {
  MemoryTree tree;
  tree.file("registry.yaml",
            "apiVersion: gitfed.io/v1alpha1\nkind: Cluster\nmetadata: {name: eu, labels: {region: eu}}\n---\n"
            "apiVersion: gitfed.io/v1alpha1\nkind: Cluster\nmetadata: {name: us, labels: {region: us}}\n");
  tree.file("app.yaml", job("migrate", "shop") +
                            "---\napiVersion: types.kubefed.io/v1beta1\nkind: FederatedDeployment\n"
                            "metadata: {name: web, namespace: shop}\nspec:\n  template:\n    metadata:\n"
                            "      annotations: {config.kubernetes.io/depends-on: batch/namespaces/shop/Job/migrate}\n"
                            "    spec:\n      selector: {matchLabels: {app: web}}\n"
                            "      template: {metadata: {labels: {app: web}}, spec: {containers: [{name: m, image: x}]}}\n"
                            "  placement: {clusters: [{name: eu}, {name: us}]}\n  overrides:\n  - clusterName: us\n"
                            "    clusterOverrides:\n    - {path: /metadata/annotations/config.kubernetes.io~1depends-on, "
                            "value: batch/namespaces/shop/Job/absent}\n");
  auto eu = render(tree, "eu");
  INFO(errorsOf(eu));
  REQUIRE(eu.ok());
  CHECK(eu.objects[find(eu, "Deployment", "web").dependsOn.at(0)].kind == "Job");
  auto us = render(tree, "us");
  INFO(errorsOf(us));
  CHECK(errorsOf(us).find("app.yaml:8: Deployment shop/web: config.kubernetes.io/depends-on: "
                          "\"batch/namespaces/shop/Job/absent\": no such object") != std::string::npos);
}

TEST_CASE("depends-on: tenants' own objects are depended on by their tenant only", "[depends-on]") {
  MemoryTree tree;
  tree.file("registry.yaml",
            "apiVersion: gitfed.io/v1alpha1\nkind: Cluster\nmetadata: {name: eu}\n---\n"
            "apiVersion: gitfed.io/v1alpha1\nkind: Tenant\nmetadata: {name: shop}\nspec: {paths: [tenants/shop], "
            "namespaces: [shop]}\n---\n"
            "apiVersion: gitfed.io/v1alpha1\nkind: Tenant\nmetadata: {name: blog}\nspec: {paths: [tenants/blog], "
            "namespaces: [blog]}\n");
  tree.file("platform.yaml", cm("base", "kube-system"));
  tree.file("tenants/shop/a.yaml", cm("settings", "shop", "/namespaces/kube-system/ConfigMap/base") + "---\n" +
                                       cm("app", "shop", "/namespaces/shop/ConfigMap/settings"));
  SECTION("within the tenant and on the platform's: fine") {
    auto r = render(tree);
    INFO(errorsOf(r));
    CHECK(r.ok());
    const auto& app = find(r, "ConfigMap", "app");
    CHECK(r.objects[app.dependsOn.at(0)].name == "settings");
    CHECK(r.objects[find(r, "ConfigMap", "settings").dependsOn.at(0)].name == "base");
  }
  SECTION("another tenant's dependency fails that tenant only; indices stay right") {
    tree.file("tenants/blog/a.yaml", cm("posts", "blog", "/namespaces/shop/ConfigMap/app"));
    auto r = render(tree);
    REQUIRE(r.errors.size() == 1);
    CHECK(r.errors[0].tenant == "blog");
    CHECK(r.errors[0].format() ==
          "tenants/blog/a.yaml:1: ConfigMap blog/posts: config.kubernetes.io/depends-on: "
          "\"/namespaces/shop/ConfigMap/app\": ConfigMap shop/app belongs to tenant shop; only that tenant's own "
          "objects may depend on it");
    CHECK(r.platformOk());
    const auto& app = find(r, "ConfigMap", "app");
    CHECK(r.objects[app.dependsOn.at(0)].name == "settings");
    for (const auto& o : r.objects) CHECK(o.name != "posts");
  }
  SECTION("the platform may not depend on a tenant's own object") {
    tree.file("platform.yaml", cm("base", "kube-system", "/namespaces/shop/ConfigMap/app"));
    auto r = render(tree);
    CHECK_FALSE(r.platformOk());
    CHECK(errorsOf(r).find("platform.yaml:1: ConfigMap kube-system/base: config.kubernetes.io/depends-on: "
                           "\"/namespaces/shop/ConfigMap/app\": ConfigMap shop/app belongs to tenant shop") !=
          std::string::npos);
  }
}
