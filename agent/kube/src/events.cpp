// Core/v1 Events over KubeClient::request (see events.h).

#include "gitfed/kube/events.h"

#include <cstdio>
#include <ctime>

namespace gitfed::kube {

using nlohmann::json;

namespace {

std::string eventsPath(const std::string& ns) { return "/api/v1/namespaces/" + ns + "/events"; }

}  // namespace

std::string formatEventTime(std::chrono::system_clock::time_point t) {
  const std::time_t secs = std::chrono::system_clock::to_time_t(
      std::chrono::time_point_cast<std::chrono::seconds>(t));
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[96];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02dZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                tm.tm_hour, tm.tm_min, tm.tm_sec);
  return buf;
}

json eventObject(const Event& e) {
  json involved = {{"apiVersion", e.involved.apiVersion}, {"kind", e.involved.kind}, {"name", e.involved.name}};
  if (!e.involved.ns.empty()) involved["namespace"] = e.involved.ns;
  if (!e.involved.uid.empty()) involved["uid"] = e.involved.uid;
  const std::string instance = e.instance.substr(0, 128);
  return {{"apiVersion", "v1"},
          {"kind", "Event"},
          {"metadata", {{"name", e.name}, {"namespace", e.ns}}},
          {"involvedObject", std::move(involved)},
          {"type", e.type},
          {"reason", e.reason},
          {"message", e.message},
          {"count", e.count},
          {"firstTimestamp", formatEventTime(e.firstSeen)},
          {"lastTimestamp", formatEventTime(e.lastSeen)},
          {"source", {{"component", e.component}, {"host", instance}}},
          {"reportingComponent", e.component},
          {"reportingInstance", instance}};
}

json eventCountPatch(const Event& e) {
  return {{"count", e.count}, {"lastTimestamp", formatEventTime(e.lastSeen)}, {"message", e.message}};
}

Result<void> createEvent(KubeClient& client, const Event& event) {
  const json body = eventObject(event);
  auto r = client.request("POST", eventsPath(event.ns), &body);
  if (!r) return std::unexpected(std::move(r.error()));
  return {};
}

Result<void> updateEventCount(KubeClient& client, const Event& event) {
  const json body = eventCountPatch(event);
  auto r = client.request("PATCH", eventsPath(event.ns) + "/" + event.name, &body, "application/merge-patch+json");
  if (!r) return std::unexpected(std::move(r.error()));
  return {};
}

std::string lookUpUid(KubeClient& client, const ObjectReference& object) {
  auto resource = client.resourceFor(object.apiVersion, object.kind);
  if (!resource) return {};
  auto live = client.get(*resource, object.ns, object.name);
  if (!live || !live->is_object()) return {};
  const json& md = live->value("metadata", json::object());
  return md.is_object() ? md.value("uid", "") : std::string();
}

}  // namespace gitfed::kube
