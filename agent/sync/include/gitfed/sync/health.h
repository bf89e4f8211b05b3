#pragma once
// Health of a live object, judged per kind from its status (pure; thread-safe).

#include <nlohmann/json.hpp>

#include <string>

#include "gitfed/sync/report.h"

namespace gitfed::sync {

struct HealthResult {
  Health health = Health::Unknown;
  std::string message;  // why it is not Healthy; empty when Healthy
};

// Deployment, StatefulSet, DaemonSet: rollout complete (observedGeneration,
// updated/ready/available replicas; ProgressDeadlineExceeded is Degraded).
// Job: Complete / Failed. CustomResourceDefinition: Established (NamesAccepted
// false is Degraded). Namespace: Active. PersistentVolumeClaim: Bound (Lost is
// Degraded). Pod: Running and Ready, or Succeeded. Service of type
// LoadBalancer: an ingress address. Anything else: a `Ready` or `Available`
// condition when it has one (observedGeneration behind is Progressing),
// otherwise Healthy (it exists; ConfigMaps, RBAC and the like have no status).
HealthResult assessHealth(const nlohmann::json& live);

}  // namespace gitfed::sync
