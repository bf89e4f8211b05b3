#pragma once
// The state of one sync round, shared by its stages (stages.h): what each
// object is (Item), what was listed, what may be pruned, the tenants, the
// counters. Internal to gitfed_sync (and its unit tests). A stage reads and
// writes it on the round's thread; where a stage runs requests in parallel
// (parallelFor) each task touches its own Item, and shared containers are
// written under `mutex`.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <nlohmann/json.hpp>

#include "gitfed/kube/client.h"
#include "gitfed/render/renderer.h"
#include "gitfed/sync/circuit_breaker.h"
#include "gitfed/sync/diff.h"
#include "gitfed/sync/engine.h"
#include "gitfed/sync/in_sync_cache.h"
#include "gitfed/sync/inventory.h"
#include "gitfed/sync/object_ref.h"
#include "gitfed/sync/report.h"

namespace gitfed::sync {

using Clock = std::chrono::steady_clock;
using nlohmann::json;

// The string at `path` in `obj`, "" when absent or not a string.
std::string stringAt(const nlohmann::json& obj, std::initializer_list<const char*> path);

// A 422 that says the change cannot be made in place.
bool isImmutableError(const kube::Error& e);

// gitfed's own hash annotation is bookkeeping, not a difference to show.
void dropAppliedHash(std::vector<DriftEntry>& drift);

// What the round does with an object, decided stage by stage.
// Suspended: gitfed.io/reconcile: disabled, in Git or live: left alone.
// Waiting: to apply, but a config.kubernetes.io/depends-on dependency is not healthy.
enum class Plan { InSync, Apply, Suspect, Drifted, Failed, Skipped, Suspended, Waiting };

struct Item {
  render::RenderedObject* obj = nullptr;  // group, kind, name, (defaulted) ns; value freed once done with
  std::string apiVersion;
  const kube::Resource* resource = nullptr;  // null until resolved
  std::optional<std::size_t> crd;           // the CRD item defining this kind, while unresolved
  std::uint64_t hash = 0;                    // of what Git wants (kAppliedHashAnnotation)
  // Drift rules (docs/render-spec.md 7.2): `ignore`, the fields not compared
  // by the general comparison and sent with their live values (ignore and
  // warn rules both); `warn`, the fields compared on their own and reported,
  // never healed; `warnDrift`, what they differ by (found when listed).
  FieldSet ignore;
  FieldSet warn;
  std::vector<DriftEntry> warnDrift;
  std::vector<std::uint16_t> hpaRules;  // indices into RoundState::rules, held when an HPA targets it
  bool isSecret = false;
  bool listed = false;     // found by the ownership LIST
  bool liveKnown = false;  // its type (and namespace) was listed: not listed means not ours
  bool labelled = false;   // labels and hash added to obj->value
  std::string liveUid, liveRv;
  std::optional<json> live;  // kept only where needed (suspects, dry runs)
  // What Git wants, as MessagePack (a fraction of the tree's memory): once
  // prepared, obj->value is released and decoded again only while needed
  // (desiredTree); at 10,000 objects this is most of the engine's memory.
  std::vector<std::uint8_t> packed;
  std::vector<std::pair<std::vector<std::string>, json>> ignoredLive;  // live values of ignored fields
  Plan plan = Plan::InSync;
  Action applyAction = Action::None;
  // Multi-tenancy: the index of its tenant in RoundState::tenants (-1: the
  // platform's own); obj->asTenant says whether it is written as the tenant.
  int tenant = -1;
  bool tenantBinding = false;  // a RoleBinding the Tenant expands to, granting the tenant's ServiceAccount
  bool tenantAccount = false;  // the tenant's ServiceAccount
  // The parts of its ObjectReport (built at the end: fewer copies held).
  State state = State::Synced;
  Health health = Health::Unknown;
  Action action = Action::None;
  std::string healthMessage;
  std::vector<DriftEntry> drift;
  std::string error;

  ObjectKey key() const { return ObjectKey{obj->group, obj->kind, obj->ns, obj->name}; }
  ObjectRef ref() const { return ObjectRef{apiVersion, obj->kind, obj->ns, obj->name}; }
  std::string identity() const { return obj->ns.empty() ? obj->kind + " " + obj->name : obj->kind + " " + obj->ns + "/" + obj->name; }
};

// An object's identity as views (into a RenderedObject or a live object's
// strings): the index of desired objects without copies of their names.
struct KeyView {
  std::string_view group, kind, ns, name;
  bool operator==(const KeyView&) const = default;
};
struct KeyViewHash {
  std::size_t operator()(const KeyView& k) const noexcept {
    std::hash<std::string_view> h;
    return ((h(k.group) * 1000003u ^ h(k.kind)) * 1000003u ^ h(k.ns)) * 1000003u ^ h(k.name);
  }
};
inline KeyView viewOf(const ObjectKey& k) { return KeyView{k.group, k.kind, k.ns, k.name}; }

inline std::string hex(std::uint64_t h) {
  static const char* digits = "0123456789abcdef";
  std::string out(16, '0');
  for (int i = 15; i >= 0; --i, h >>= 4) out[static_cast<std::size_t>(i)] = digits[h & 0xf];
  return out;
}

struct Candidate {
  ObjectRef ref;
  kube::Resource resource;
  std::string uid;
  bool pruneDisabled = false;
  bool suspended = false;  // gitfed.io/reconcile: disabled on the live object
  int stage = 0;
  std::string tenant;            // its gitfed.io/tenant label
  bool appliedAsTenant = false;  // gitfed.io/applied-as=tenant
  std::vector<ObjectKey> dependsOn;  // its live config.kubernetes.io/depends-on, when it parses
};

// A tenant placed on the cluster, during one round.
struct TenantState {
  std::size_t index = 0;  // in RoundState::tenants
  const render::TenantInfo* info = nullptr;
  std::set<std::string, std::less<>> namespaces;
  std::unique_ptr<kube::KubeClient> client;  // impersonating info->user(); null when that failed
  std::string clientError;
  std::size_t renderErrors = 0;
  // Its RBAC (Namespaces, ServiceAccount, RoleBindings) was written this
  // round: a 403 from RBAC may be the authorizer's cache, until the deadline.
  bool rbacFresh = false;
  Clock::time_point rbacDeadline{};
  std::atomic<bool> pruneKept{false};
};

// An authorization denial (RBAC), as opposed to an admission denial
// (PodSecurity, a ValidatingAdmissionPolicy), which is also a 403.
inline bool isAuthorizationDenial(const kube::Error& e) {
  return e.status == 403 && e.message.find("User \"") != std::string::npos &&
         e.message.find(" cannot ") != std::string::npos;
}

struct TypeEntry {
  kube::Resource resource;
  std::set<std::string> namespaces;  // for per-namespace listing when cluster-wide LIST is forbidden
  bool ok = true;
  std::set<std::string> failedNamespaces;
  std::string error;
};

inline std::string typeKey(const kube::Resource& r) { return r.group + "/" + r.plural; }

// One round's state (see the top of this file).
struct RoundState {
  RoundState(kube::KubeClient& c, const SyncOptions& o, render::RenderResult& r, InSyncCache& inSync)
      : client(c), options(o), rendered(r), cache(inSync), store(c, o.inventoryNamespace, o.inventoryId) {}

  kube::KubeClient& client;
  const SyncOptions& options;
  render::RenderResult& rendered;
  InSyncCache& cache;
  InventoryStore store;
  SyncReport report;

  std::vector<Item> items;  // one per rendered object, same order
  std::unordered_map<KeyView, std::size_t, KeyViewHash> index;  // desired objects by identity
  std::map<std::string, kube::Resource> resources;  // the one copy of each resource type items point to
  std::set<ObjectKey> hpaTargets;
  // The round's drift rules (the engine's, then the revision's) and each
  // rule's fields as a FieldSet, same order.
  std::vector<const render::DriftRule*> rules;
  std::vector<FieldSet> ruleFields;
  Inventory stored;                                 // the inventory as stored (updated when written)
  std::map<std::string, TypeEntry> listedTypes;
  std::vector<Candidate> candidates;                // owned, listed, not desired
  std::vector<ObjectReport> pruneReports;
  std::vector<ObjectKey> dropFromInventory;
  std::deque<TenantState> tenants;  // deque: TenantState does not move
  std::map<std::string, std::size_t, std::less<>> tenantIndex;
  std::set<std::string> keptForTenants;
  // Items of each tenant's ServiceAccount (namespace "") and of its
  // RoleBindings by namespace: what its own objects depend on.
  std::map<std::pair<int, std::string>, std::vector<std::size_t>> tenantRbacItems;
  bool listFailed = false;
  std::mutex mutex;
  std::atomic<std::size_t> lists{0}, gets{0}, applies{0}, dryRuns{0}, deletes{0}, inventoryWrites{0};
  // The round's circuit breaker and retry budget (circuit_breaker.h).
  CircuitBreaker breaker{BreakerOptions{options.breakerThreshold, options.retryBudget}};
  // For the progress line: writes (applies and drift dry runs) planned and
  // done, objects failed, the step.
  std::atomic<std::size_t> toWrite{0}, written{0}, failedObjects{0};
  std::atomic<const char*> step{"preparing"};

  // ---- shared by the stages (round_state.cpp) ----

  // The client that writes `it`: the tenant's impersonating one for a
  // tenant's own objects, else the agent's.
  kube::KubeClient& writer(const Item& it);
  // The one copy of a resource type.
  const kube::Resource* intern(const kube::Resource& r);
  // The desired object as a tree, decoded from `packed` when it was released
  // (without the labels body() adds: they are added again when sent).
  nlohmann::json& desiredTree(Item& it);
  // What is sent: the desired object with the ownership labels and the
  // hash, and the live values of ignored fields (another controller owns
  // them). Changed in place: nothing else reads it afterwards.
  const nlohmann::json& body(Item& it);
  // Nothing more will be sent for this object this round: its desired JSON
  // is freed now (at 10,000 objects that is most of the memory).
  void markInSync(Item& it);
  // The in-sync cache's key: FNV-1a of "uid/resourceVersion/hash".
  static std::uint64_t inSyncKey(const Item& it);
  void fail(Item& it, std::string message);
  void skip(Item& it, const std::string& why);
  // Error text about a Secret never carries its values.
  std::string redact(const Item& it, std::string text) const;
};

}  // namespace gitfed::sync
