#pragma once
// config.kubernetes.io/depends-on in a round (agent/sync/README.md,
// "Dependencies"): each item's depth, and the gate before a depth is applied.
// Internal to gitfed_sync (and its unit tests).

#include <cstddef>
#include <vector>

#include "round_state.h"

namespace gitfed::sync {

// Each item's depth: 0 without dependencies, else one more than its deepest
// dependency; a custom resource is never shallower than its CRD item, nor an
// object than its Namespace's item (same depth: the stages order those).
// Without the annotation every depth is 0. An edge that would close a cycle (only
// possible through those implicit edges: the renderer refuses cycles) is
// left out.
std::vector<std::size_t> dependencyDepths(const RoundState& s);

// Before `indices` (one depth) are applied: their dependencies still
// Progressing are polled until healthy, Degraded or options.dependencyTimeout;
// then an item to apply whose dependency failed is skipped, and one whose
// dependency is not Healthy waits (Plan::Waiting, the message names it).
void gateOnDependencies(RoundState& s, const std::vector<std::size_t>& indices);

}  // namespace gitfed::sync
