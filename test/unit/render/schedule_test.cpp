// Replica scheduling in the renderer (docs/render-spec.md section 8).
#include <catch2/catch.hpp>

#include <random>

#include "gitfed/render/renderer.h"
#include "support/memory_tree.h"

using gitfed::render::loadRepository;
using gitfed::render::renderCluster;
using gitfed::render::scheduleOf;
using gitfed::test::MemoryTree;

namespace {

const char* kRegistry =
    "apiVersion: gitfed.io/v1alpha1\nkind: Cluster\nmetadata: {name: prod-a, labels: {environment: production, region: east}}\n"
    "---\napiVersion: gitfed.io/v1alpha1\nkind: Cluster\nmetadata: {name: prod-b, labels: {environment: production, region: west}}\n"
    "---\napiVersion: gitfed.io/v1alpha1\nkind: Cluster\nmetadata: {name: prod-c, labels: {environment: production, region: west}}\n";

std::string target(const std::string& placement = "clusterSelector: {}", const std::string& extra = "") {
  return "apiVersion: types.kubefed.io/v1beta1\nkind: FederatedDeployment\nmetadata: {name: web, namespace: shop}\n"
         "spec:\n  template: {spec: {replicas: 2}}\n  placement: {" + placement + "}\n" + extra;
}

std::string rsp(const std::string& spec) {
  return "apiVersion: scheduling.kubefed.io/v1alpha1\nkind: ReplicaSchedulingPreference\n"
         "metadata: {name: web, namespace: shop}\nspec:\n" + spec;
}

// cluster -> replicas of Deployment shop/web (-1: not placed); errors are REQUIREd away.
std::int64_t replicasOn(const MemoryTree& tree, const std::string& cluster, const gitfed::render::Labels& labels = {}) {
  auto repo = loadRepository(tree);
  auto r = renderCluster(repo, cluster, labels);
  for (const auto& e : r.errors) UNSCOPED_INFO(e.format());
  REQUIRE(r.ok());
  for (const auto& o : r.objects)
    if (o.kind == "Deployment" && o.name == "web") return o.value["spec"]["replicas"].get<std::int64_t>();
  return -1;
}

std::string firstError(const MemoryTree& tree, const std::string& cluster = "prod-a") {
  auto repo = loadRepository(tree);
  auto r = renderCluster(repo, cluster);
  REQUIRE_FALSE(r.errors.empty());
  return r.errors.front().format();
}

}  // namespace

TEST_CASE("the book's multi-region example: the RSP replaces the replica overrides (16/9/5)", "[render][schedule]") {
  MemoryTree tree;
  tree.file("clusters.yaml", kRegistry)
      .file("web.yaml", target("clusterSelector: {matchLabels: {environment: production}}",
                               "  overrides:\n"
                               "  - {clusterName: prod-a, clusterOverrides: [{path: /spec/replicas, value: 15}]}\n"
                               "  - {clusterName: prod-b, clusterOverrides: [{path: /spec/replicas, value: 10}]}\n"
                               "  - {clusterName: prod-c, clusterOverrides: [{path: /spec/replicas, value: 5}]}\n"))
      .file("rsp.yaml", rsp("  targetKind: FederatedDeployment\n  totalReplicas: 30\n  clusters:\n"
                            "    prod-a: {weight: 50, minReplicas: 10, maxReplicas: 20}\n"
                            "    prod-b: {weight: 33, minReplicas: 5, maxReplicas: 15}\n"
                            "    prod-c: {weight: 17, minReplicas: 3, maxReplicas: 10}\n"));
  CHECK(replicasOn(tree, "prod-a") == 16);
  CHECK(replicasOn(tree, "prod-b") == 9);
  CHECK(replicasOn(tree, "prod-c") == 5);
  auto repo = loadRepository(tree);
  REQUIRE(repo.schedules.size() == 1);
  auto plan = scheduleOf(repo, repo.schedules[0]);
  CHECK(plan.active);
  CHECK(plan.clusters == std::vector<std::pair<std::string, std::int64_t>>{{"prod-a", 16}, {"prod-b", 9}, {"prod-c", 5}});
}

TEST_CASE("an RSP places the target on every considered cluster, 0 included", "[render][schedule]") {
  MemoryTree tree;
  tree.file("clusters.yaml", kRegistry)
      .file("web.yaml", target("clusters: [{name: prod-a}]"))
      .file("rsp.yaml", rsp("  targetKind: FederatedDeployment\n  totalReplicas: 4\n  clusters: {prod-a: {weight: 1}, prod-b: {weight: 1}}\n"));
  CHECK(replicasOn(tree, "prod-a") == 2);
  CHECK(replicasOn(tree, "prod-b") == 2);
  CHECK(replicasOn(tree, "prod-c") == 0);  // no entry and no "*": placed with 0, as KubeFed writes it
  // Outside the registry: the target's own placement and overrides.
  CHECK(replicasOn(tree, "laptop") == -1);
}

TEST_CASE("empty clusters mean {\"*\": {weight: 1}}, keyed by namespace/name", "[render][schedule]") {
  MemoryTree tree;
  tree.file("clusters.yaml", kRegistry).file("web.yaml", target()).file("rsp.yaml", rsp("  targetKind: FederatedDeployment\n  totalReplicas: 3\n"));
  CHECK(replicasOn(tree, "prod-a") == 1);
  CHECK(replicasOn(tree, "prod-b") == 1);
  CHECK(replicasOn(tree, "prod-c") == 1);
}

TEST_CASE("intersectWithClusterSelector limits the considered clusters to the placement", "[render][schedule]") {
  MemoryTree tree;
  tree.file("clusters.yaml", kRegistry)
      .file("web.yaml", target("clusterSelector: {matchLabels: {region: west}}"))
      .file("rsp.yaml", rsp("  targetKind: FederatedDeployment\n  totalReplicas: 10\n  intersectWithClusterSelector: true\n"));
  CHECK(replicasOn(tree, "prod-a") == -1);
  CHECK(replicasOn(tree, "prod-b") + replicasOn(tree, "prod-c") == 10);
}

TEST_CASE("no cluster considered: the RSP changes nothing (KubeFed's samples without a registry)", "[render][schedule]") {
  MemoryTree tree;
  tree.file("web.yaml", target()).file("rsp.yaml", rsp("  targetKind: FederatedDeployment\n  totalReplicas: 10\n"));
  CHECK(replicasOn(tree, "cluster1") == 2);
}

TEST_CASE("clusterAffinity: required terms ORed, expressions ANDed, ANDed with the selector", "[render][schedule]") {
  std::string affinity =
      "clusterSelector: {matchLabels: {environment: production}}, clusterAffinity: {requiredDuringSchedulingIgnoredDuringExecution: "
      "{clusterSelectorTerms: [{matchExpressions: [{key: region, operator: In, values: [east]}]}, "
      "{matchExpressions: [{key: region, operator: In, values: [west]}, {key: tier, operator: Exists}]}]}}";
  MemoryTree tree;
  tree.file("clusters.yaml", kRegistry).file("web.yaml", target(affinity));
  CHECK(replicasOn(tree, "prod-a") == 2);
  CHECK(replicasOn(tree, "prod-b") == -1);
  CHECK(replicasOn(tree, "prod-b", {{"tier", "gold"}}) == 2);  // the second term, with the local label
}

TEST_CASE("preferred affinity orders clusters of equal weight", "[render][schedule]") {
  auto with = [](const std::string& prefer) {
    MemoryTree tree;
    tree.file("clusters.yaml", kRegistry)
        .file("web.yaml", target("clusterSelector: {}, clusterAffinity: {preferredDuringSchedulingIgnoredDuringExecution: "
                                 "[{weight: 10, preference: {matchExpressions: [{key: region, operator: In, values: [" +
                                 prefer + "]}]}}]}"))
        .file("rsp.yaml", rsp("  targetKind: FederatedDeployment\n  totalReplicas: 1\n"));
    return tree;
  };
  CHECK(replicasOn(with("east"), "prod-a") == 1);
}

TEST_CASE("spreadConstraints: the plan is evened out within min/max, or it is an error", "[render][schedule]") {
  std::string spread = "clusterSelector: {}, spreadConstraints: [{maxSkew: 1, topologyKey: region, whenUnsatisfiable: DoNotSchedule}]";
  MemoryTree tree;
  tree.file("clusters.yaml", kRegistry)
      .file("web.yaml", target(spread))
      .file("rsp.yaml", rsp("  targetKind: FederatedDeployment\n  totalReplicas: 10\n  clusters: {prod-a: {weight: 8}, \"*\": {weight: 1}}\n"));
  // KubeFed alone gives east 8, west 2; spread: east 5, west 5 (skew 0 <= 1).
  CHECK(replicasOn(tree, "prod-a") == 5);
  CHECK(replicasOn(tree, "prod-b") + replicasOn(tree, "prod-c") == 5);

  tree.file("rsp.yaml", rsp("  targetKind: FederatedDeployment\n  totalReplicas: 10\n"
                            "  clusters: {prod-a: {weight: 8, minReplicas: 8}, \"*\": {weight: 1}}\n"));
  auto e = firstError(tree);
  CHECK_THAT(e, Catch::Contains("web.yaml:1: FederatedDeployment shop/web: spec.placement.spreadConstraints[0]"));
  CHECK_THAT(e, Catch::Contains("region=east: 8, region=west: 2 (skew 6)"));
}

TEST_CASE("spreadConstraints without an RSP are checked on the rendered replicas", "[render][schedule]") {
  MemoryTree tree;
  tree.file("clusters.yaml", kRegistry)
      .file("web.yaml", target("clusterSelector: {}, spreadConstraints: [{maxSkew: 1, topologyKey: region, whenUnsatisfiable: DoNotSchedule}]",
                               "  overrides:\n  - {clusterName: prod-a, clusterOverrides: [{path: /spec/replicas, value: 9}]}\n"));
  CHECK_THAT(firstError(tree), Catch::Contains("region=east: 9, region=west: 4 (skew 5)"));
  tree.file("web.yaml", target("clusterSelector: {}, spreadConstraints: [{maxSkew: 1, topologyKey: region, whenUnsatisfiable: ScheduleAnyway}]",
                               "  overrides:\n  - {clusterName: prod-a, clusterOverrides: [{path: /spec/replicas, value: 9}]}\n"));
  CHECK(replicasOn(tree, "prod-a") == 9);
}

TEST_CASE("every wrong RSP field is an error with file and line", "[render][schedule]") {
  auto errorOf = [](const std::string& rspText, const std::string& webText = target()) {
    MemoryTree tree;
    tree.file("clusters.yaml", kRegistry).file("web.yaml", webText).file("rsp.yaml", "# rsp\n" + rspText);
    return firstError(tree);
  };
  const std::string ok = "  targetKind: FederatedDeployment\n  totalReplicas: 3\n";
  CHECK_THAT(errorOf(rsp(ok), ""), Catch::Contains("rsp.yaml:2: ReplicaSchedulingPreference shop/web: no FederatedDeployment shop/web"));
  CHECK_THAT(errorOf(rsp("  targetKind: FederatedReplicaSet\n  totalReplicas: 3\n")),
             Catch::Contains("targetKind is FederatedReplicaSet, but shop/web is a FederatedDeployment"));
  CHECK_THAT(errorOf(rsp("  targetKind: FederatedService\n  totalReplicas: 3\n")), Catch::Contains("spec.targetKind must be"));
  CHECK_THAT(errorOf(rsp("  totalReplicas: 3\n")), Catch::Contains("spec.targetKind is missing"));
  CHECK_THAT(errorOf(rsp("  targetKind: FederatedDeployment\n")), Catch::Contains("spec.totalReplicas is missing"));
  CHECK_THAT(errorOf(rsp(ok + "  totalReplica: 3\n")), Catch::Contains("rsp.yaml:2: ReplicaSchedulingPreference shop/web: spec: unknown field \"totalReplica\""));
  CHECK_THAT(errorOf(rsp(ok + "  clusters: {prod-a: {wieght: 1}}\n")), Catch::Contains("spec.clusters.prod-a: unknown field \"wieght\""));
  CHECK_THAT(errorOf(rsp("  targetKind: FederatedDeployment\n  totalReplicas: -1\n")), Catch::Contains("spec.totalReplicas must be at least 0, not -1"));
  CHECK_THAT(errorOf(rsp(ok + "  clusters: {prod-a: {weight: -2}}\n")), Catch::Contains("spec.clusters.prod-a.weight must be at least 0, not -2"));
  CHECK_THAT(errorOf(rsp(ok + "  clusters: {prod-a: {minReplicas: -2}}\n")), Catch::Contains("minReplicas must be at least 0"));
  CHECK_THAT(errorOf(rsp(ok + "  clusters: {prod-a: {maxReplicas: -2}}\n")), Catch::Contains("maxReplicas must be at least 0"));
  CHECK_THAT(errorOf(rsp(ok + "  clusters: {prod-a: {minReplicas: 5, maxReplicas: 2}}\n")),
             Catch::Contains("spec.clusters.prod-a: minReplicas 5 is greater than maxReplicas 2"));
  CHECK_THAT(errorOf(rsp(ok + "  rebalance: sometimes\n")), Catch::Contains("spec.rebalance must be true or false"));
  CHECK_THAT(errorOf(rsp(ok + "  intersectWithClusterSelector: 1\n")), Catch::Contains("spec.intersectWithClusterSelector must be true or false"));
  CHECK_THAT(errorOf(rsp(ok + "  clusters: [prod-a]\n")), Catch::Contains("spec.clusters must be a mapping"));
  CHECK_THAT(errorOf(rsp(ok + "  clusters: {prod-a: {weight: 1.5}}\n")), Catch::Contains("weight must be an integer"));
  CHECK_THAT(errorOf("apiVersion: types.kubefed.io/v1beta1\nkind: ReplicaSchedulingPreference\nmetadata: {name: web, namespace: shop}\nspec: {}\n"),
             Catch::Contains("rsp.yaml:2: ReplicaSchedulingPreference shop/web: apiVersion types.kubefed.io/v1beta1 has no "
                             "ReplicaSchedulingPreference; it is scheduling.kubefed.io/v1alpha1"));
  CHECK_THAT(errorOf(rsp(ok) + "---\n" + rsp(ok)), Catch::Contains("is already scheduled by rsp.yaml:2"));
  CHECK_THAT(errorOf(rsp(ok) + "status: {}\nextra: 1\n"), Catch::Contains("unknown field \"extra\""));
}

TEST_CASE("every wrong placement rule is an error", "[render][schedule]") {
  auto errorOf = [](const std::string& placement) {
    MemoryTree tree;
    tree.file("clusters.yaml", kRegistry).file("web.yaml", target(placement));
    return firstError(tree);
  };
  CHECK_THAT(errorOf("clusterAffinity: {required: {}}"), Catch::Contains("clusterAffinity: unknown field \"required\""));
  CHECK_THAT(errorOf("clusterAffinity: {requiredDuringSchedulingIgnoredDuringExecution: {clusterSelectorTerms: []}}"),
             Catch::Contains("clusterSelectorTerms must be a non-empty list"));
  CHECK_THAT(errorOf("clusterAffinity: {requiredDuringSchedulingIgnoredDuringExecution: {clusterSelectorTerms: [{matchLabels: {a: b}}]}}"),
             Catch::Contains("unknown field \"matchLabels\""));
  CHECK_THAT(errorOf("clusterAffinity: {preferredDuringSchedulingIgnoredDuringExecution: [{weight: 101, preference: {matchExpressions: [{key: a, operator: Exists}]}}]}"),
             Catch::Contains("weight must be at most 100"));
  CHECK_THAT(errorOf("clusterAffinity: {preferredDuringSchedulingIgnoredDuringExecution: [{weight: 1}]}"),
             Catch::Contains("preference is missing"));
  CHECK_THAT(errorOf("spreadConstraints: [{maxSkew: 0, topologyKey: region, whenUnsatisfiable: DoNotSchedule}]"),
             Catch::Contains("maxSkew must be at least 1"));
  CHECK_THAT(errorOf("spreadConstraints: [{maxSkew: 1, whenUnsatisfiable: DoNotSchedule}]"), Catch::Contains("topologyKey must be"));
  CHECK_THAT(errorOf("spreadConstraints: [{maxSkew: 1, topologyKey: region, whenUnsatisfiable: Maybe}]"),
             Catch::Contains("whenUnsatisfiable must be DoNotSchedule or ScheduleAnyway"));
  CHECK_THAT(errorOf("spreadConstraints: [{maxSkew: 1, topologyKey: region, whenUnsatisfiable: DoNotSchedule, x: 1}]"),
             Catch::Contains("unknown field \"x\""));
  CHECK_THAT(errorOf("spreadConstraints: {}"), Catch::Contains("spreadConstraints must be a list"));
}

TEST_CASE("a render's share (the short way, 8.3) is the full plan's, over seeded repositories", "[render][schedule]") {
  // Registries of 1-30 clusters, one target and its RSP with entries (some
  // naming no registry cluster), with or without "*", intersect, required
  // affinity: the share scheduleOf gives one cluster equals that cluster's
  // number in the plan of every cluster, and the render writes it.
  std::mt19937 rng(20261207);
  auto pick = [&](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); };
  auto preference = [&] {
    std::string p = "{weight: " + std::to_string(pick(0, 4) == 0 ? 0 : pick(1, 3));
    int min = pick(0, 2) == 0 ? pick(0, 4) : 0;
    if (min) p += ", minReplicas: " + std::to_string(min);
    if (pick(0, 1)) p += ", maxReplicas: " + std::to_string(min + pick(0, 6));
    return p + "}";
  };
  int compared = 0, rendered = 0;
  for (int round = 0; round < 300; ++round) {
    const int n = pick(1, 30);
    std::string registry;
    for (int i = 0; i < n; ++i)
      registry += "---\napiVersion: gitfed.io/v1alpha1\nkind: Cluster\nmetadata: {name: c" + std::to_string(i) +
                  ", labels: {region: r" + std::to_string(pick(0, 2)) + ", tier: t" + std::to_string(pick(0, 1)) + "}}\n";
    std::string placement = pick(0, 1) ? "clusterSelector: {matchLabels: {tier: t0}}" : "clusterSelector: {}";
    if (pick(0, 2) == 0)
      placement += ", clusterAffinity: {requiredDuringSchedulingIgnoredDuringExecution: {clusterSelectorTerms: "
                   "[{matchExpressions: [{key: region, operator: In, values: [r0, r1]}]}]}}";
    std::string clusters;
    for (int i = 0; i < n + 2; ++i)
      if (pick(0, 5) == 0) clusters += (clusters.empty() ? "" : ", ") + ("c" + std::to_string(i)) + ": " + preference();
    if (pick(0, 5) != 0) clusters += std::string(clusters.empty() ? "" : ", ") + "\"*\": " + preference();
    std::string spec = "  targetKind: FederatedDeployment\n  totalReplicas: " + std::to_string(pick(0, 60)) + "\n";
    if (pick(0, 2) == 0) spec += "  intersectWithClusterSelector: true\n";
    if (!clusters.empty()) spec += "  clusters: {" + clusters + "}\n";
    MemoryTree tree;
    tree.file("clusters.yaml", registry).file("web.yaml", target(placement)).file("rsp.yaml", rsp(spec));
    auto repo = loadRepository(tree);
    for (const auto& e : repo.errors) UNSCOPED_INFO(e.format());
    REQUIRE(repo.errors.empty());
    REQUIRE(repo.schedules.size() == 1);
    auto full = scheduleOf(repo, repo.schedules[0]);
    for (int i = 0; i < n; ++i) {
      std::string name = "c" + std::to_string(i);
      INFO("round " << round << ", " << name << "\n" << spec << placement);
      auto one = scheduleOf(repo, repo.schedules[0], &name);
      CHECK(one.active == full.active);
      const std::int64_t* expected = full.find(name);
      const std::int64_t* got = one.find(name);
      REQUIRE((expected == nullptr) == (got == nullptr));
      if (expected) CHECK(*got == *expected);
      CHECK(one.clusters.size() == (expected ? 1u : 0u));
      ++compared;
      if (i < 3) {  // and the render writes that share
        auto r = renderCluster(repo, name);
        REQUIRE(r.ok());
        std::int64_t replicas = -1;
        for (const auto& o : r.objects)
          if (o.kind == "Deployment") replicas = o.value["spec"]["replicas"].get<std::int64_t>();
        if (full.active) CHECK(replicas == (expected ? *expected : -1));
        ++rendered;
      }
    }
  }
  CHECK(compared > 3000);
  CHECK(rendered > 600);
}
