#pragma once
// Core/v1 Events: what `kubectl get events` and `kubectl describe` list.
// Event is a plain value (thread-safe to copy); the functions below turn it
// into the API's object and write it over any KubeClient with `request()`:
// create (POST) and the count update of client-go's EventCorrelator
// (PATCH, application/merge-patch+json). They are as thread-safe as the
// client. RBAC: `create` and `patch` on `events` in the Event's namespace
// (and `get` on the involved object, for its uid).

#include <nlohmann/json.hpp>

#include <chrono>
#include <string>

#include "gitfed/kube/client.h"

namespace gitfed::kube {

// What an Event is about (core/v1 ObjectReference).
struct ObjectReference {
  std::string apiVersion;  // "v1"
  std::string kind;        // "ConfigMap"
  std::string ns;
  std::string name;
  std::string uid;         // "" when unknown (the object may not exist yet)
};

struct Event {
  std::string ns;    // metadata.namespace: the involved object's (the API server checks it)
  std::string name;  // metadata.name, e.g. "<involved name>.<hex nanoseconds>" as client-go names them
  ObjectReference involved;
  std::string type;     // "Normal" or "Warning"
  std::string reason;   // UpperCamelCase, e.g. "Applied"
  std::string message;  // one line
  std::string component;  // source.component and reportingComponent
  std::string instance;   // source.host and reportingInstance (at most 128 bytes)
  int count = 1;
  std::chrono::system_clock::time_point firstSeen, lastSeen;
};

// "2026-12-08T10:00:00Z": metav1.Time (RFC 3339, whole seconds, UTC).
std::string formatEventTime(std::chrono::system_clock::time_point t);

// The whole core/v1 Event object (legacy fields: count, firstTimestamp,
// lastTimestamp, source; no eventTime, which would subject it to the
// events.k8s.io validation rules).
nlohmann::json eventObject(const Event& event);

// The merge patch of a repeated event: count, lastTimestamp and message.
nlohmann::json eventCountPatch(const Event& event);

// POST /api/v1/namespaces/NS/events.
Result<void> createEvent(KubeClient& client, const Event& event);

// PATCH /api/v1/namespaces/NS/events/NAME with eventCountPatch (404 when
// the API server has removed it: its --event-ttl).
Result<void> updateEventCount(KubeClient& client, const Event& event);

// The uid of the involved object (discovery, then GET), "" when it cannot
// be read (absent, forbidden, unreachable): best effort, never an error.
std::string lookUpUid(KubeClient& client, const ObjectReference& object);

}  // namespace gitfed::kube
