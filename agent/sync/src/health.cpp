#include "gitfed/sync/health.h"

#include <cstdint>

namespace gitfed::sync {

using nlohmann::json;

namespace {

std::int64_t intAt(const json& obj, const char* key, std::int64_t fallback = 0) {
  if (!obj.is_object()) return fallback;
  auto it = obj.find(key);
  if (it == obj.end() || !it->is_number()) return fallback;
  return it->get<std::int64_t>();
}

std::string stringAt(const json& obj, const char* key) {
  if (!obj.is_object()) return {};
  auto it = obj.find(key);
  if (it == obj.end() || !it->is_string()) return {};
  return it->get<std::string>();
}

const json& member(const json& obj, const char* key) {
  static const json empty = json::object();
  if (!obj.is_object()) return empty;
  auto it = obj.find(key);
  return it == obj.end() ? empty : *it;
}

// The condition of `type`, or nullptr.
const json* condition(const json& status, const char* type) {
  const json& conditions = member(status, "conditions");
  if (!conditions.is_array()) return nullptr;
  for (const auto& c : conditions)
    if (c.is_object() && stringAt(c, "type") == type) return &c;
  return nullptr;
}

std::string conditionText(const json& c) {
  std::string s = stringAt(c, "type") + "=" + stringAt(c, "status");
  if (auto r = stringAt(c, "reason"); !r.empty()) s += " (" + r + ")";
  if (auto m = stringAt(c, "message"); !m.empty()) s += ": " + m;
  return s;
}

HealthResult healthy() { return {Health::Healthy, {}}; }
HealthResult progressing(std::string m) { return {Health::Progressing, std::move(m)}; }
HealthResult degraded(std::string m) { return {Health::Degraded, std::move(m)}; }

// observedGeneration behind generation: the controller has not seen the
// latest spec yet.
bool generationPending(const json& live, const json& status) {
  std::int64_t generation = intAt(member(live, "metadata"), "generation", 0);
  std::int64_t observed = intAt(status, "observedGeneration", -1);
  return observed >= 0 ? observed < generation : false;
}

HealthResult deployment(const json& live) {
  const json& spec = member(live, "spec");
  const json& status = member(live, "status");
  if (!status.contains("observedGeneration") || generationPending(live, status))
    return progressing("waiting for the rollout to be observed");
  if (const json* p = condition(status, "Progressing"); p && stringAt(*p, "reason") == "ProgressDeadlineExceeded")
    return degraded("rollout exceeded its progress deadline: " + conditionText(*p));
  if (spec.value("paused", false)) return healthy();
  std::int64_t want = intAt(spec, "replicas", 1);
  std::int64_t updated = intAt(status, "updatedReplicas");
  std::int64_t replicas = intAt(status, "replicas");
  std::int64_t available = intAt(status, "availableReplicas");
  if (updated < want)
    return progressing(std::to_string(updated) + " of " + std::to_string(want) + " replicas updated");
  if (replicas > updated)
    return progressing(std::to_string(replicas - updated) + " old replicas pending termination");
  if (available < updated)
    return progressing(std::to_string(available) + " of " + std::to_string(updated) + " updated replicas available");
  return healthy();
}

HealthResult statefulSet(const json& live) {
  const json& spec = member(live, "spec");
  const json& status = member(live, "status");
  if (!status.contains("observedGeneration") || generationPending(live, status))
    return progressing("waiting for the rollout to be observed");
  std::int64_t want = intAt(spec, "replicas", 1);
  std::int64_t ready = intAt(status, "readyReplicas");
  if (ready < want) return progressing(std::to_string(ready) + " of " + std::to_string(want) + " replicas ready");
  const json& strategy = member(spec, "updateStrategy");
  if (stringAt(strategy, "type") == "OnDelete") return healthy();
  std::int64_t partition = intAt(member(strategy, "rollingUpdate"), "partition", 0);
  if (partition > 0) {
    std::int64_t updated = intAt(status, "updatedReplicas");
    if (updated < want - partition)
      return progressing(std::to_string(updated) + " of " + std::to_string(want - partition) + " replicas updated");
    return healthy();
  }
  auto current = stringAt(status, "currentRevision");
  auto update = stringAt(status, "updateRevision");
  if (!update.empty() && current != update) return progressing("rolling update to revision " + update + " in progress");
  return healthy();
}

HealthResult daemonSet(const json& live) {
  const json& status = member(live, "status");
  if (!status.contains("observedGeneration") || generationPending(live, status))
    return progressing("waiting for the rollout to be observed");
  std::int64_t want = intAt(status, "desiredNumberScheduled");
  std::int64_t updated = intAt(status, "updatedNumberScheduled");
  std::int64_t available = intAt(status, "numberAvailable");
  if (updated < want) return progressing(std::to_string(updated) + " of " + std::to_string(want) + " pods updated");
  if (available < want) return progressing(std::to_string(available) + " of " + std::to_string(want) + " pods available");
  return healthy();
}

HealthResult job(const json& live) {
  const json& status = member(live, "status");
  if (const json* c = condition(status, "Failed"); c && stringAt(*c, "status") == "True")
    return degraded("job failed: " + conditionText(*c));
  if (const json* c = condition(status, "Complete"); c && stringAt(*c, "status") == "True") return healthy();
  if (member(live, "spec").value("suspend", false)) return healthy();
  return progressing("job has not completed");
}

HealthResult crd(const json& live) {
  const json& status = member(live, "status");
  if (const json* c = condition(status, "NamesAccepted"); c && stringAt(*c, "status") == "False")
    return degraded(conditionText(*c));
  if (const json* c = condition(status, "Established"); c && stringAt(*c, "status") == "True") return healthy();
  return progressing("not yet Established");
}

HealthResult phaseIs(const json& live, const char* good, const char* bad) {
  auto phase = stringAt(member(live, "status"), "phase");
  if (phase == good) return healthy();
  if (bad && phase == bad) return degraded("phase " + phase);
  return progressing(phase.empty() ? std::string("no phase yet") : "phase " + phase);
}

HealthResult pod(const json& live) {
  const json& status = member(live, "status");
  auto phase = stringAt(status, "phase");
  if (phase == "Succeeded") return healthy();
  if (phase == "Failed") return degraded("pod failed" + (stringAt(status, "reason").empty() ? std::string() : ": " + stringAt(status, "reason")));
  if (phase == "Running") {
    if (const json* c = condition(status, "Ready"); c && stringAt(*c, "status") == "True") return healthy();
    return progressing("pod running, not Ready");
  }
  return progressing(phase.empty() ? std::string("pod not scheduled yet") : "phase " + phase);
}

HealthResult service(const json& live) {
  if (stringAt(member(live, "spec"), "type") != "LoadBalancer") return healthy();
  const json& ingress = member(member(member(live, "status"), "loadBalancer"), "ingress");
  if (ingress.is_array() && !ingress.empty()) return healthy();
  return progressing("waiting for a load balancer address");
}

HealthResult generic(const json& live) {
  const json& status = member(live, "status");
  if (generationPending(live, status)) return progressing("waiting for the controller to observe the latest generation");
  for (const char* type : {"Ready", "Available"}) {
    if (const json* c = condition(status, type)) {
      auto s = stringAt(*c, "status");
      if (s == "True") return healthy();
      if (s == "False") return degraded(conditionText(*c));
      return progressing(conditionText(*c));
    }
  }
  return healthy();
}

}  // namespace

HealthResult assessHealth(const json& live) {
  if (!live.is_object()) return {Health::Unknown, "no live object"};
  auto kind = stringAt(live, "kind");
  auto apiVersion = stringAt(live, "apiVersion");
  auto slash = apiVersion.find('/');
  std::string group = slash == std::string::npos ? std::string() : apiVersion.substr(0, slash);
  if (member(live, "metadata").contains("deletionTimestamp")) return degraded("being deleted");
  if (group == "apps" && kind == "Deployment") return deployment(live);
  if (group == "apps" && kind == "StatefulSet") return statefulSet(live);
  if (group == "apps" && kind == "DaemonSet") return daemonSet(live);
  if (group == "batch" && kind == "Job") return job(live);
  if (group == "apiextensions.k8s.io" && kind == "CustomResourceDefinition") return crd(live);
  if (group.empty()) {
    if (kind == "Namespace") return phaseIs(live, "Active", "Terminating");
    if (kind == "PersistentVolumeClaim") return phaseIs(live, "Bound", "Lost");
    if (kind == "Pod") return pod(live);
    if (kind == "Service") return service(live);
  }
  return generic(live);
}

}  // namespace gitfed::sync
