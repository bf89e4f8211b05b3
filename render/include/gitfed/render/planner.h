#pragma once
// KubeFed's replica planner (pkg/controller/util/planner/planner.go in
// kubernetes-sigs/kubefed), ported exactly: how many of an RSP's replicas
// each available cluster runs. Pure values and functions; thread-safe.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace gitfed::render {

// One entry of ReplicaSchedulingPreference spec.clusters.
struct ClusterPreference {
  std::int64_t minReplicas = 0;
  std::optional<std::int64_t> maxReplicas;  // nullopt: unbounded
  std::int64_t weight = 0;
  // gitfed: the score of placement.clusterAffinity's preferred terms that
  // match the cluster; it orders clusters of equal weight (0 keeps KubeFed's order).
  std::int64_t preferredScore = 0;
};

struct PlannerInput {
  std::map<std::string, ClusterPreference> preferences;  // by cluster name, or "*"
  std::int64_t totalReplicas = 0;
  bool rebalance = false;
  std::vector<std::string> availableClusters;
  // Live inputs KubeFed measures; empty in a render (a later issue feeds them from peers' reports).
  std::map<std::string, std::int64_t> currentReplicas;
  std::map<std::string, std::int64_t> estimatedCapacity;
  std::string key;  // KubeFed's replicaSetKey: "namespace/name" in production, "" in its tests
};

struct ReplicaPlan {
  std::map<std::string, std::int64_t> replicas;  // a key for every available cluster
  std::map<std::string, std::int64_t> overflow;  // only values > 0
};

ReplicaPlan planReplicas(const PlannerInput& input);

// The same algorithm over parallel vectors (what the renderer calls, once per
// target and cluster, so it avoids maps): cluster i is names[i], with its
// resolved preference (nullopt: no entry and no "*", plan 0), and its live
// inputs (-1: unknown). Returns the plan, and the overflow (0: none), by index.
struct IndexedPlan {
  std::vector<std::int64_t> replicas;
  std::vector<std::int64_t> overflow;
};
IndexedPlan planReplicasIndexed(const std::vector<const std::string*>& names,
                                const std::vector<std::optional<ClusterPreference>>& preferences,
                                std::int64_t totalReplicas, bool rebalance, std::string_view key,
                                const std::vector<std::int64_t>& currentReplicas = {},
                                const std::vector<std::int64_t>& estimatedCapacity = {});

// The share of one cluster (names[self]) of the plan planReplicasIndexed makes
// without live inputs (a render's case: no current replicas, no capacity), for
// a render that needs only its own cluster's number. Same result, by a shorter
// way: each pass gives every active cluster its rounded-up share capped by its
// maximum, and the order of the clusters changes a share only in the pass where
// the replicas run out (then a cluster gets what the clusters ranked before it
// left). So no sort: the pass that runs out ranks the others against `self`
// alone, and hashes only the clusters tied with it on weight and score.
// Falls back to the full planner for inputs validate refuses (min > max,
// negative numbers), so the two never differ.
std::int64_t planShareIndexed(const std::vector<const std::string*>& names,
                              const std::vector<std::optional<ClusterPreference>>& preferences,
                              std::int64_t totalReplicas, std::string_view key, std::size_t self);

// The same share again, for a render of a big fleet (docs/render-spec.md 8.3):
// cluster i of names has preference `entries`' one when listed there (indices
// ascending, each once), else `others` (nullopt: plan 0), so the planner runs
// over groups of equal clusters instead of each cluster. Only the clusters
// tied with `self` on weight and score are ranked by hash, each from its
// cached FNV-1 prefix (prefixes[i] == fnv1Continue(fnv1Prefix(*names[i]),
// keyPrefix): the planner's key is keyPrefix + key), and the ranking
// stops as soon as the share is decided. Same result as planShareIndexed over
// the expanded preferences (tested on seeded fleets); falls back to it for
// inputs validate refuses.
struct GroupedFleet {
  const std::vector<const std::string*>& names;
  const std::vector<std::uint32_t>& prefixes;
  const std::vector<std::pair<std::size_t, ClusterPreference>>& entries;
  std::optional<ClusterPreference> others;
  std::string_view keyPrefix = {};
};
std::int64_t planShareGrouped(const GroupedFleet& fleet, std::int64_t totalReplicas, std::string_view key,
                              std::size_t self);

// Go's hash/fnv New32 (FNV-1, not FNV-1a) over `a` followed by `b`;
// fnv1Hash32(a, b) == fnv1Continue(fnv1Prefix(a), b).
std::uint32_t fnv1Hash32(std::string_view a, std::string_view b);
std::uint32_t fnv1Prefix(std::string_view a);
std::uint32_t fnv1Continue(std::uint32_t state, std::string_view b);

}  // namespace gitfed::render
