#pragma once
// The stages of a sync round, in the order Round runs them (engine.cpp),
// each in a file of its own over the round's shared state (round_state.h):
//
//   stage_tenants.cpp    the tenants placed here, their clients and RBAC; which
//                        of their objects are kept from pruning; their reports
//   stage_plan.cpp       each object's identity, resource type, namespace and
//                        hash; the ignore rules that apply to it
//   stage_drift.cpp      one LIST per type compared locally; suspected drift
//                        confirmed by a server-side dry run
//   stage_inventory.cpp  the inventory written before applying and after pruning
//   stage_apply.cpp      server-side apply in stages, depth by depth of the
//                        dependencies (dependencies.cpp); CRDs awaited;
//                        immutable fields recreated; the dry run of `gitfed diff`
//   stage_prune.cpp      owned objects no longer in Git, in reverse order
//   stage_health.cpp     waiting for health; each object's final state
//
// Internal to gitfed_sync (and its unit tests).

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "round_state.h"

namespace gitfed::sync::stage {

// ---- tenants (stage_tenants.cpp) ----
// The tenants placed on the cluster, an impersonating client each, and the
// render errors of those whose files failed.
void setUpTenants(RoundState& s);
// The tenant of `it`, its labels, and whether it is part of the tenant's
// RBAC. False (and the item failed) when it cannot be written.
bool prepareTenant(RoundState& s, Item& it, nlohmann::json& meta);
// After the platform's stage: which tenants had their RBAC written now.
void noteFreshRbac(RoundState& s);
// Why the tenant's own `it` cannot be written because the tenant's
// ServiceAccount, or its RoleBinding in the object's namespace, failed; "".
std::string tenantRbacFailed(const RoundState& s, const Item& it);
// Dry run: the tenant's RBAC for `it` would be created by this revision.
bool tenantRbacPending(const RoundState& s, const Item& it);
// A 403 from RBAC right after the tenant's RBAC was written: try again.
bool rbacMayLag(const RoundState& s, const Item& it, const kube::Error& e);
// The tenant as which a prune candidate is deleted; null: the agent.
const TenantState* pruneAsTenant(const RoundState& s, const Candidate& c);
// Removes the candidates that must stay this round for their tenant's sake.
void keepTenantsObjects(RoundState& s);
// report.tenants from the tenants and the object reports.
void reportTenants(RoundState& s);

// ---- plan (stage_plan.cpp) ----
// Identity, resource type (a custom resource of a CRD in this revision
// waits for it), namespace, duplicates, tenant labels, the applied hash.
void plan(RoundState& s);
// The rules that hold for an object only when an HPA targets it (the
// built-in rule): HPA targets listed when one may apply. Then each object's
// ignored fields (`ignore`: ignore and warn rules, the live values sent)
// and warn fields (`warn`: compared locally, never healed) are final.
void applyDriftRules(RoundState& s);

// ---- drift (stage_drift.cpp) ----
// One paged LIST per type (of the revision and of the inventory) with the
// ownership selector; each live object classified (in sync, apply, suspect)
// or, when not desired, made a prune candidate.
void observe(RoundState& s);
// Suspects confirmed or cleared by a server-side dry run.
void confirmDrift(RoundState& s);

// ---- inventory (stage_inventory.cpp) ----
// The stored inventory plus every desired object.
Inventory unionInventory(const RoundState& s);
// Whether the stored inventory already names every desired object.
bool inventoryCovers(const RoundState& s);
// Writes `inv` unless it is what is stored; false (and an error) on failure.
bool writeInventory(RoundState& s, Inventory inv, const char* when);
// After pruning: the stored inventory without what was pruned or is gone.
void writeFinalInventory(RoundState& s);

// ---- apply (stage_apply.cpp) ----
// The platform's objects stage by stage, then each tenant's as the tenant.
void apply(RoundState& s);
// Why `it` cannot be applied because something it depends on failed; "".
std::string blockedBy(const RoundState& s, const Item& it);

// ---- prune (stage_prune.cpp) ----
// Forgets inventory entries that are gone; deletes owned objects no longer
// in Git (options.prune), unless pruneBlocker says no.
void prune(RoundState& s);
// Why nothing may be pruned this round; "" when pruning may go ahead.
std::string pruneBlocker(const RoundState& s);

// ---- health (stage_health.cpp) ----
// Polls Progressing objects until healthy or options.healthTimeout.
void waitForHealth(RoundState& s);
// Polls those of `indices` that exist and are Progressing, every
// pollInterval, until none is or `deadline` (nothing marked Degraded).
void pollHealth(RoundState& s, const std::vector<std::size_t>& indices, Clock::time_point deadline);
// An object's reported state from its plan and health.
void finishState(Item& it);

}  // namespace gitfed::sync::stage
