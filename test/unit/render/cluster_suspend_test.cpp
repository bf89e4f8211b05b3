// A registry entry that suspends its cluster (docs/render-spec.md, "Cluster
// registry and the cluster's labels"; agent/daemon/README.md, "Suspension").

#include <catch2/catch.hpp>

#include "gitfed/render/renderer.h"
#include "support/memory_tree.h"

using gitfed::render::loadRepository;
using gitfed::render::renderCluster;
using gitfed::test::MemoryTree;

namespace {

const char* kObject = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a, namespace: x}\ndata: {k: v}\n";

gitfed::render::RenderResult renderWith(const std::string& registry, const std::string& cluster = "eu") {
  MemoryTree tree;
  tree.file("clusters.yaml", registry);
  tree.file("a.yaml", kObject);
  auto repo = loadRepository(tree);
  return renderCluster(repo, cluster);
}

}  // namespace

TEST_CASE("registry: spec.suspend suspends that cluster only, with who and why", "[render][suspend]") {
  const std::string registry =
      "apiVersion: gitfed.io/v1alpha1\nkind: Cluster\nmetadata: {name: us}\n---\n"
      "apiVersion: gitfed.io/v1alpha1\nkind: Cluster\nmetadata: {name: eu}\nspec:\n  suspend: true\n"
      "  suspendReason: maintenance, OPS-42\n";
  auto eu = renderWith(registry);
  REQUIRE(eu.ok());
  REQUIRE(eu.suspension);
  CHECK(eu.suspension->by == "Cluster eu (clusters.yaml:5)");
  CHECK(eu.suspension->reason == "maintenance, OPS-42");
  CHECK(eu.objects.size() == 1);  // rendered all the same
  auto us = renderWith(registry, "us");
  CHECK_FALSE(us.suspension);
  CHECK_FALSE(renderWith("apiVersion: gitfed.io/v1alpha1\nkind: Cluster\nmetadata: {name: eu}\nspec: {suspend: false}\n")
                  .suspension);
  CHECK_FALSE(renderWith("apiVersion: gitfed.io/v1alpha1\nkind: Cluster\nmetadata: {name: eu}\n").suspension);
}

TEST_CASE("registry: a wrong spec.suspend or spec.suspendReason is an error with file and line", "[render][suspend]") {
  auto bad = [](const std::string& spec) {
    auto r = renderWith("apiVersion: gitfed.io/v1alpha1\nkind: Cluster\nmetadata: {name: eu}\nspec: " + spec + "\n");
    REQUIRE(r.errors.size() == 1);
    CHECK(r.objects.empty());
    return r.errors[0].format();
  };
  CHECK(bad("{suspend: \"yes\"}") == "clusters.yaml:1: Cluster eu: spec.suspend must be true or false, not a string");
  CHECK(bad("{suspend: true, suspendReason: 3}") == "clusters.yaml:1: Cluster eu: spec.suspendReason must be a string, not a number");
  CHECK(bad("[suspend]") == "clusters.yaml:1: Cluster eu: spec must be a mapping, not a list");
}
