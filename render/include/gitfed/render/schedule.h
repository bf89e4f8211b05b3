#pragma once
// Replica scheduling (docs/render-spec.md section 8): KubeFed's
// ReplicaSchedulingPreference, and the placement rules clusterAffinity and
// spreadConstraints. Parsing here is pure and checks every field; the plan of
// an RSP over the registry is computed by scheduleOf (renderer.h). Immutable
// values, thread-safe.

#include <nlohmann/json.hpp>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "gitfed/render/diagnostic.h"
#include "gitfed/render/planner.h"
#include "gitfed/render/selector.h"

namespace gitfed::render {

// placement.clusterAffinity, with clusters as nodes: required terms ORed
// (the expressions of a term ANDed); preferred terms add their weight to the
// score of a cluster they match.
struct ClusterAffinity {
  struct Preferred {
    std::int64_t weight = 0;  // 1-100
    Selector preference;
  };
  std::vector<Selector> required;  // empty: no requirement
  std::vector<Preferred> preferred;
  bool allows(const Labels& labels) const;
  std::int64_t score(const Labels& labels) const;
};

// One entry of placement.spreadConstraints.
struct SpreadConstraint {
  std::int64_t maxSkew = 1;
  std::string topologyKey;
  bool doNotSchedule = true;  // whenUnsatisfiable: DoNotSchedule (else ScheduleAnyway)
  std::string describe() const;  // "maxSkew 1 over topologyKey region (DoNotSchedule)"
};

Result<ClusterAffinity> parseClusterAffinity(const nlohmann::json& affinity, const std::string& where);
Result<std::vector<SpreadConstraint>> parseSpreadConstraints(const nlohmann::json& constraints, const std::string& where);

// A ReplicaSchedulingPreference's spec, checked.
struct ReplicaSchedulingSpec {
  std::string targetKind;  // FederatedDeployment, FederatedReplicaSet, FederatedStatefulSet
  std::int64_t totalReplicas = 0;
  bool rebalance = false;
  bool intersectWithClusterSelector = false;
  std::map<std::string, ClusterPreference> clusters;  // empty in the file: {"*": {weight: 1}}
};
// `doc` is the whole document; `identity` begins every message.
Result<ReplicaSchedulingSpec> parseReplicaSchedulingPreference(const nlohmann::json& doc, const std::string& identity);

// What parseReplicaSchedulingPreference accepts, for the readers that check
// an RSP without a JSON tree (schedule_reader.h): the kinds spec.targetKind
// may name; the largest totalReplicas, weight, minReplicas and maxReplicas;
// and spec.clusters completed as KubeFed's controller reads an empty one.
bool isScheduleTargetKind(std::string_view kind);
inline constexpr std::int64_t kMaxScheduleNumber = 2147483647;  // int32, as in KubeFed's CRD
void completeScheduleClusters(ReplicaSchedulingSpec& spec);

// The replicas of each domain (the values of the topology key; clusters
// without the key are in none) and the skew between the largest and smallest.
struct SpreadDomains {
  std::map<std::string, std::int64_t> counts;
  std::int64_t skew() const;
  std::string describe() const;  // "region=eu-west: 16, region=us-east: 14"
};
SpreadDomains spreadDomains(const SpreadConstraint& c, const std::vector<const Labels*>& labels,
                            const std::vector<std::int64_t>& replicas);

// Moves replicas, one at a time, from the largest domain to the smallest,
// within each cluster's min/max, until every constraint holds (see the spec,
// 8.5). Returns the message of the first DoNotSchedule constraint that cannot
// be met ("" when all hold); ScheduleAnyway constraints are tried and never fail.
std::string satisfySpread(const std::vector<SpreadConstraint>& constraints, const std::vector<const Labels*>& labels,
                          const std::vector<std::optional<ClusterPreference>>& preferences,
                          std::vector<std::int64_t>& replicas);

}  // namespace gitfed::render
