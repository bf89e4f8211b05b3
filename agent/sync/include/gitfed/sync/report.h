#pragma once
// SyncReport: the structured result of one sync round (issue 4), shaped so the
// status writer can fill docs/status-spec.md from it: per object its state,
// health, drift paths with desired and live values (Secret values already
// redacted), errors; the phase and the summary. Plain values; thread-safe to
// copy.

#include <nlohmann/json.hpp>

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "gitfed/render/diagnostic.h"
#include "gitfed/sync/object_ref.h"

namespace gitfed::sync {

// Waiting: not applied, a config.kubernetes.io/depends-on dependency is not healthy.
enum class State { Synced, Drifted, Missing, Failed, Progressing, Pruned, Suspended, Waiting };
enum class Health { Healthy, Progressing, Degraded, Unknown };
enum class Phase { Synced, Progressing, Drifted, Failed };

// What this round did to the object (the status spec has no field for it; the
// CLI prints it and tests count writes with it).
enum class Action {
  None,         // in sync: no write
  Created,      // applied; it was not among the objects this inventory owned
  Updated,      // applied; changed in Git (or labels/annotation missing)
  Healed,       // applied; drift confirmed by a dry run (self-heal)
  Recreated,    // deleted and applied again (immutable field, gitfed.io/force)
  Pruned,       // deleted: owned, no longer in Git
  Retained,     // no longer in Git, kept: gitfed.io/prune: disabled
  Skipped,      // not applied: what it depends on failed
  WouldApply,   // dry run: an apply would change it
  WouldPrune,   // dry run / diff: would be deleted
};

std::string_view toString(State s);
std::string_view toString(Health h);
std::string_view toString(Phase p);
std::string_view toString(Action a);

// One differing field: a JSON pointer into the object, and the value Git wants
// (after the server's normalisation when confirmed by a dry run) and the live
// one; nullopt when the field is absent on that side.
struct DriftEntry {
  std::string path;
  std::optional<nlohmann::json> desired;
  std::optional<nlohmann::json> live;
};

struct ObjectReport {
  ObjectRef ref;
  std::string source;  // "path:line" in the repository; empty for pruned objects
  // The tenant the object belongs to ("" for the platform's own) and whether
  // it was written (or pruned) as that tenant, impersonating its user.
  std::string tenant;
  bool asTenant = false;
  State state = State::Synced;
  Health health = Health::Unknown;
  std::string healthMessage;
  Action action = Action::None;
  std::vector<DriftEntry> drift;
  std::string error;  // begins with ref.identity(); Secret values redacted
};

struct Summary {
  std::size_t objects = 0;  // desired objects
  std::size_t synced = 0, drifted = 0, missing = 0, failed = 0, progressing = 0, pruned = 0;
  std::size_t suspended = 0;  // gitfed.io/reconcile: disabled (agent/sync/README.md)
  std::size_t waiting = 0;    // a dependency not healthy: not applied this round
  std::size_t degraded = 0;  // by health: desired objects whose health is Degraded (overlaps the states)
};

// Requests the engine made, by kind (its own count; tests also count at the
// client).
struct SyncStats {
  std::size_t lists = 0, gets = 0, applies = 0, dryRuns = 0, deletes = 0, inventoryWrites = 0;
  double seconds = 0;
};

// One tenant placed on the cluster (docs/render-spec.md section 10), as this
// round saw it.
struct TenantReport {
  std::string name;
  std::vector<std::string> namespaces;
  std::string user;            // impersonated for its own objects
  bool renderFailed = false;   // its files have errors: its own objects were neither applied nor pruned
  std::size_t objects = 0;     // desired objects of the tenant (its own and what the Tenant expands to)
  std::size_t failed = 0;      // of those, failed or skipped this round
  bool pruneSkipped = false;   // some of its objects no longer in Git were kept this round
  std::string message;         // one line, "" when all is well
};

struct SyncReport {
  Phase phase = Phase::Synced;
  std::string message;              // one line: why the phase, e.g. "2 objects failed; prune skipped"
  std::vector<std::string> errors;  // render errors or per-object errors (redacted), in order
  // The render errors among `errors`, as the renderer gave them (file, line,
  // tenant): all of them when the platform's files failed (nothing applied),
  // else those of tenants whose own objects were withheld.
  std::vector<render::Diagnostic> renderErrors;
  std::vector<TenantReport> tenants;  // the tenants placed on the cluster, in the renderer's order
  std::vector<ObjectReport> objects;  // every desired object in apply order, then pruned/retained ones
  Summary summary;
  bool pruneSkipped = false;    // prune was wanted but not done this round
  std::string pruneMessage;     // why, when skipped
  SyncStats stats;

  bool ok() const { return phase != Phase::Failed; }
};

// Recomputes summary and phase from objects/errors (Failed when there are
// errors or failed objects; else Drifted when drifted or missing; else
// Progressing when an object is not healthy; else Synced).
void finalize(SyncReport& report);

// The whole report as JSON (what `gitfed apply --output json` prints).
// The one-line message of a round without a message of its own: "2 created,
// 1 pruned", failures and drift counted, a skipped prune's reason, failed
// tenants first.
std::string summaryMessage(const SyncReport& report);

nlohmann::json toJson(const SyncReport& report);
nlohmann::json toJson(const ObjectReport& object);

}  // namespace gitfed::sync
