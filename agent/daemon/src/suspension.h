#pragma once
// Cluster suspension (agent/daemon/README.md, "Suspension"): who suspends
// the cluster, if anyone — Git's registry entry (from the render), the
// agent's --suspend flag, or the ConfigMap gitfed-suspend in the inventory
// namespace — and the report's wording.

#include <optional>
#include <string>

#include "gitfed/kube/client.h"
#include "gitfed/render/renderer.h"

namespace gitfed::daemon {

inline constexpr const char* kSuspendConfigMap = "gitfed-suspend";

struct Suspension {
  std::string by;      // "Cluster eu (clusters.yaml:3)", "ConfigMap gitfed-system/gitfed-suspend", ...
  std::string reason;  // may be empty
  bool fromConfigMap = false;
};

// The ConfigMap's verdict: suspended (with its data.reason), not (404), or
// unknown (`warning` says why; treated as not suspended).
std::optional<Suspension> configMapSuspension(kube::KubeClient& client, const std::string& ns, std::string& warning);

// The first of: the registry entry (rendered), the flag, the ConfigMap.
std::optional<Suspension> suspensionOf(const render::RenderResult& rendered, bool flag, kube::KubeClient& client,
                                       const std::string& ns, std::string& warning);

// "suspended by BY (REASON): nothing applied, nothing pruned"
std::string suspendedMessage(const Suspension& s);

}  // namespace gitfed::daemon
