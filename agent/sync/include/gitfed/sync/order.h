#pragma once
// Ordering of applies and deletes (pure; thread-safe): Namespaces and
// CustomResourceDefinitions first, then one stage per kind rank of the
// renderer (render spec section 7), in its order. Objects of one stage do not
// depend on each other and are applied in parallel; stages run one after the
// other. Pruning runs the stages in reverse.

#include <cstddef>
#include <string>
#include <vector>

namespace gitfed::sync {

struct KindOf {
  std::string group;
  std::string kind;
};

// Namespace (core) and CustomResourceDefinition (apiextensions.k8s.io).
bool isFirstStageKind(const std::string& group, const std::string& kind);

// The stage key of a kind: -1 for the first stage, else the renderer's rank.
int stageKey(const std::string& group, const std::string& kind);

// Indexes of `items` grouped into apply stages; within a stage the input
// order is kept.
std::vector<std::vector<std::size_t>> applyStages(const std::vector<KindOf>& items);

// The same stages for deleting: last apply stage first, the first stage
// (Namespaces, CRDs) last; within a stage, reverse input order.
std::vector<std::vector<std::size_t>> pruneStages(const std::vector<KindOf>& items);

}  // namespace gitfed::sync
