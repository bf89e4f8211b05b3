#pragma once
// ClusterStatus: one cluster's report on the status branch, the file
// clusters/<name>.yaml of docs/status-spec.md, as a C++ value; its JSON form
// (toJson/fromJson) and the YAML text written to the branch (toYamlText /
// parseReport). Plain values; thread-safe to copy.

#include <nlohmann/json.hpp>

#include <chrono>
#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "gitfed/git/error.h"

namespace gitfed::status {

using Error = git::Error;
using ErrorCode = git::ErrorCode;
template <class T>
using Result = git::Result<T>;
using Clock = std::chrono::system_clock;

enum class Phase { Synced, Progressing, Drifted, Failed, Stale };
enum class ObjectState { Drifted, Missing, Failed, Progressing, Pruned, Suspended, Waiting };
enum class Health { Healthy, Progressing, Degraded, Unknown };

// A render error (file, line) or a per-object failure (object). `tenant`
// (an addition to the spec's fields, omitted when empty) names the tenant
// whose files or objects the error is about.
struct ReportError {
  std::string file;
  int line = 0;
  std::string object;  // "apps/v1/Deployment/shop/web"
  std::string message;
  std::string tenant{};  // (a default: older aggregate initialisers stay complete)
  // A group of objects with the same error (docs/status-spec.md): how many
  // (0 = one error, `count` omitted) and up to 5 of them (`objects`).
  std::size_t count = 0;
  std::vector<std::string> examples{};
};

struct Drift {
  std::string path;  // JSON pointer into the object
  nlohmann::json desired;
  nlohmann::json live;
};

struct ObjectStatus {
  std::string apiVersion, kind, ns, name;
  ObjectState state = ObjectState::Drifted;
  Health health = Health::Unknown;
  std::vector<Drift> drift;
  std::string message;
  std::string tenant{};  // the tenant it belongs to; "" (omitted) for the platform's own
};

struct Summary {
  std::size_t objects = 0, synced = 0, drifted = 0, missing = 0, failed = 0, progressing = 0, pruned = 0;
  std::size_t degraded = 0;   // by health (docs/status-spec.md, "Degraded objects")
  std::size_t suspended = 0;  // gitfed.io/reconcile: disabled
  std::size_t waiting = 0;    // a config.kubernetes.io/depends-on dependency not healthy
};

struct ClusterStatus {
  std::string name;
  std::map<std::string, std::string> labels;  // the effective labels
  struct Source {
    std::string url;  // never with credentials
    std::string ref;
    std::string revision;  // the commit this report is about
  } source;
  struct Sync {
    Phase phase = Phase::Synced;
    std::string appliedRevision;
    std::optional<Clock::time_point> lastAttemptAt;
    std::optional<Clock::time_point> lastSuccessAt;
    std::string message;
    std::vector<ReportError> errors;
    // While the cluster is suspended (agent/daemon/README.md, "Suspension").
    struct Suspended {
      std::string by, reason;
    };
    std::optional<Suspended> suspended;
  } sync;
  Summary summary;
  std::vector<ObjectStatus> objects;  // only objects not synced and healthy
  std::size_t truncated = 0;          // objects left out beyond kMaxObjects
  std::string agentVersion;
};

inline constexpr std::size_t kMaxObjects = 1000;
// The bound of a report's YAML text, whatever happens (docs/status-spec.md).
inline constexpr std::size_t kMaxReportBytes = 64 * 1024;
inline constexpr std::size_t kMaxMessageBytes = 1000;
inline constexpr std::size_t kMaxValueBytes = 1000;
inline constexpr std::size_t kMaxErrors = 100;
inline constexpr const char* kRedacted = "<redacted>";

const char* toString(Phase p);
const char* toString(ObjectState s);
const char* toString(Health h);
std::optional<Phase> parsePhase(std::string_view s);

// "2026-11-21T10:00:00Z" (UTC, seconds).
std::string formatTime(Clock::time_point t);
std::optional<Clock::time_point> parseTime(std::string_view s);

// A cluster name is a path component of the branch: DNS-1123 style, at most
// 253 characters ([a-z0-9], '-', '.'; alphanumeric at both ends).
bool isValidClusterName(std::string_view name);

// Keeps the first kMaxObjects objects; the rest are counted in `truncated`.
void limitObjects(ClusterStatus& report);

// Makes the report's text at most `maxBytes` (docs/status-spec.md): messages
// cut, long drift values replaced, at most kMaxErrors errors, then as many
// of the first objects as fit (the rest counted in `truncated`).
void limitSize(ClusterStatus& report, std::size_t maxBytes = kMaxReportBytes);

nlohmann::json toJson(const ClusterStatus& report);
Result<ClusterStatus> fromJson(const nlohmann::json& doc);

// The file's text: keys in the spec's order, values as render::toYaml writes
// them (read back identically by kubectl and by parseReport).
std::string toYamlText(const ClusterStatus& report);
Result<ClusterStatus> parseReport(std::string_view yaml);
// The report's JSON document as read from YAML (for comparing).
Result<nlohmann::json> parseReportJson(std::string_view yaml);

// "eu-west-1: Synced 1a2b3c4 (412 objects)", "eu-west-1: Failed 1a2b3c4: 2 render errors".
// Built from the phase, revision and counts only: never from free text.
std::string commitMessage(const ClusterStatus& report);

}  // namespace gitfed::status
