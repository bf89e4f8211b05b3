#include "suspension.h"

namespace gitfed::daemon {

std::optional<Suspension> configMapSuspension(kube::KubeClient& client, const std::string& ns, std::string& warning) {
  auto resource = client.resourceFor("v1", "ConfigMap");
  if (!resource) {
    warning = "cannot tell whether ConfigMap " + ns + "/" + kSuspendConfigMap + " suspends the cluster: " +
              resource.error().message;
    return std::nullopt;
  }
  auto cm = client.get(*resource, ns, kSuspendConfigMap);
  if (!cm) {
    if (!cm.error().notFound())
      warning = "cannot read ConfigMap " + ns + "/" + kSuspendConfigMap + " (not suspended from the cluster): " +
                std::to_string(cm.error().status) + " " + cm.error().message;
    return std::nullopt;
  }
  Suspension s{"ConfigMap " + ns + "/" + kSuspendConfigMap, {}, true};
  if (auto d = cm->find("data"); d != cm->end() && d->is_object())
    if (auto r = d->find("reason"); r != d->end() && r->is_string()) s.reason = r->get<std::string>();
  return s;
}

std::optional<Suspension> suspensionOf(const render::RenderResult& rendered, bool flag, kube::KubeClient& client,
                                       const std::string& ns, std::string& warning) {
  if (rendered.suspension) return Suspension{rendered.suspension->by, rendered.suspension->reason, false};
  if (flag) return Suspension{"the agent's --suspend flag", {}, false};
  return configMapSuspension(client, ns, warning);
}

std::string suspendedMessage(const Suspension& s) {
  return "suspended by " + s.by + (s.reason.empty() ? std::string() : " (" + s.reason + ")") +
         ": nothing applied, nothing pruned";
}

}  // namespace gitfed::daemon
