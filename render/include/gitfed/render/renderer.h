#pragma once
// The renderer: a repository (a SourceTree and root paths) and one cluster's
// identity in, the ordered objects that cluster runs out. Implements
// ../shared/spec/render.md. Loading (reading and classifying every file) is
// done once; rendering for a cluster reuses it, so rendering a fleet costs one
// read. Repository is immutable once loaded: render it from several threads.

#include <nlohmann/json.hpp>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "gitfed/render/diagnostic.h"
#include "gitfed/render/drift_rules.h"
#include "gitfed/render/document_reader.h"
#include "gitfed/render/json_patch.h"
#include "gitfed/render/schedule.h"
#include "gitfed/render/selector.h"
#include "gitfed/render/source_tree.h"
#include "gitfed/render/substitution.h"

namespace gitfed::render {

struct LoadOptions {
  std::vector<std::string> roots{""};  // paths inside the tree; "" is the whole tree
  std::uint64_t maxFileBytes = 8u << 20;
  ReadLimits limits;
  unsigned threads = 0;  // files are read in parallel; 0: one per core
  // Keep the registry only (Cluster entries, and the Tenants that decide
  // which files may hold them): what a reader of the fleet's status needs.
  // Every file is still read, and its errors kept; other documents are not
  // checked, and the result renders nothing.
  bool registryOnly = false;
};

// Where a document came from.
struct SourceRef {
  std::string path;  // relative to the tree's root
  int line = 0;
};

// A federated type's target (from a FederatedTypeConfig or the built-in table).
struct TargetType {
  std::string apiVersion;
  std::string kind;
  bool namespaced = true;
};

// A cluster registry entry (gitfed.io/v1alpha1 Cluster).
struct ClusterEntry {
  std::string name;
  std::string identity;  // "Cluster name", for messages
  Labels labels;
  // spec.statusPublicKey: the Ed25519 key (canonical PEM, public_key.h) that
  // verifies the cluster's signed status reports; "" when it has none.
  std::string statusPublicKey;
  SourceRef source;
  bool suspend = false;       // spec.suspend: the agent applies nothing (section 3)
  std::string suspendReason;  // spec.suspendReason
};

// Where an object goes: the placement annotations of a plain object, or a
// federated object's spec.placement, checked once when loading.
struct Placement {
  enum class Mode { Everywhere, Nowhere, Names, Selector };
  Mode mode = Mode::Everywhere;
  std::vector<std::string> names;
  Selector selector;
  // Federated objects only (section 8): ANDed with the above.
  ClusterAffinity affinity;
  std::vector<SpreadConstraint> spread;
  bool matches(const ClusterIdentity& cluster) const { return matches(cluster.name, cluster.labels); }
  bool matches(const std::string& name, const Labels& labels) const;  // no copy of the labels
};

// One entry of a federated object's spec.overrides, checked once when loading.
struct Override {
  struct Item {
    PatchOp op = PatchOp::Replace;
    JsonPointer path;
    nlohmann::json value;
  };
  std::optional<std::string> clusterName;  // else `selector`
  Selector selector;
  std::vector<Item> items;
  bool matches(const ClusterIdentity& cluster) const { return matches(cluster.name, cluster.labels); }
  bool matches(const std::string& name, const Labels& labels) const;
};

// A plain or federated object of the repository. Kept compact: the document
// is held as MessagePack (a tenth of the memory of a JSON tree) and decoded
// when a cluster renders it; what placement needs is parsed once, here.
struct SourceDocument {
  std::string apiVersion;
  std::string kind;
  std::string name;
  std::string ns;                     // metadata.namespace, "" for none
  std::vector<std::uint8_t> packed;  // the document as read (MessagePack)
  nlohmann::json value() const { return nlohmann::json::from_msgpack(packed); }
  SourceRef source;
  std::string identity;  // "Kind ns/name", for messages
  Placement placement;
  int tenant = -1;  // index into Repository::tenants when the file is in a tenant's paths
  // Federated objects only:
  bool federated = false;
  TargetType target;
  std::vector<Override> overrides;
  int schedule = -1;  // index into Repository::schedules when an RSP schedules its replicas
};

// A DriftRules document (section 7.2), checked, with its placement.
struct DriftRulesDocument {
  std::string identity;  // "DriftRules controllers"
  SourceRef source;
  Placement placement;
  std::vector<DriftRule> rules;
};

// A ReplicaSchedulingPreference (section 8), checked, and linked to its target.
struct ReplicaSchedule {
  std::string ns;
  std::string name;
  std::string identity;  // "ReplicaSchedulingPreference ns/name"
  SourceRef source;
  ReplicaSchedulingSpec spec;
  std::size_t target = 0;  // index into Repository::documents
  int namespaceDocument = -1;  // the FederatedNamespace of its namespace, if any
  // spec.clusters' entries that name a registry cluster, by index into
  // Repository::clusters, ascending (resolved once when loading).
  std::vector<std::pair<std::size_t, ClusterPreference>> registryEntries;
};

// A Tenant (gitfed.io/v1alpha1, docs/render-spec.md section 10), as loaded:
// what is the same on every cluster. Its spec is checked when loading and
// again, after the overrides of a cluster, when rendering.
struct TenantDocument {
  std::string name;
  std::string identity;            // "Tenant team-a", for messages
  SourceRef source;
  std::vector<std::string> paths;  // the repository paths it owns, normalised ("tenants/a")
  Placement placement;             // spec.placement as in KubeFed; absent: every cluster
  std::vector<Override> overrides; // paths into the Tenant object (/spec/quota/hard/pods)
  std::vector<std::uint8_t> packed;  // the document (MessagePack)
};

struct Repository {
  std::vector<SourceDocument> documents;  // plain and federated objects, in file order
  std::vector<ClusterEntry> clusters;      // the registry, in file order
  std::vector<TenantDocument> tenants;     // in file order
  std::vector<ReplicaSchedule> schedules;  // RSPs with a target, in file order
  std::vector<DriftRulesDocument> driftRules;  // in file order
  std::map<std::string, TargetType> federatedTypes;  // from FederatedTypeConfigs, by federated kind
  std::vector<Diagnostic> errors;          // everything wrong with the repository as such
  std::size_t files = 0;                   // files read
  // Render-time checks of tenants' objects (namespaces, scope, role bindings,
  // pod policies). Only tests of the API server's own enforcement turn this off.
  bool enforceTenantPolicies = true;

  const ClusterEntry* findCluster(const std::string& name) const;
};

Repository loadRepository(const SourceTree& tree, const LoadOptions& options = {});

struct RenderedObject {
  nlohmann::json value;   // null when the render was asked for text (see Preformat)
  std::string text;       // the object as YAML or as an indented JSON item, when asked for
  SourceRef source;
  std::string group;      // API group ("" for the core group)
  std::string kind;
  std::string ns;         // "" for none
  std::string name;
  // Multi-tenancy (docs/render-spec.md section 10): the tenant the object
  // belongs to ("" for the platform's own), and whether it comes from the
  // tenant's own paths, to be applied as the tenant (impersonating its
  // ServiceAccount) rather than as the agent. The objects a Tenant expands to
  // (namespaces, quota, RBAC...) carry the tenant's name and asTenant false.
  std::string tenant;
  bool asTenant = false;
  // config.kubernetes.io/depends-on (section 7.1): the annotation as written
  // ("" when absent; it stays on the object too), and the objects it names,
  // as indices into RenderResult::objects, checked (no cycle, all rendered).
  std::string dependsOnAnnotation;
  std::vector<std::size_t> dependsOn;
};

// A tenant placed on the rendered cluster.
struct TenantInfo {
  std::string name;
  std::vector<std::string> namespaces;      // after this cluster's overrides; the first holds the ServiceAccount
  std::string serviceAccount = "gitfed-tenant";
  bool failed = false;  // its files have errors: none of its own objects are in RenderResult::objects
  // The user to impersonate: "system:serviceaccount:NS:gitfed-tenant".
  std::string user() const { return "system:serviceaccount:" + namespaces.front() + ":" + serviceAccount; }
};

// Errors are contained: an error of the platform's own files (tenant "")
// leaves `objects` empty; an error in a tenant's files leaves out that
// tenant's own objects only (TenantInfo::failed), and everything else renders.
struct RenderResult {
  std::vector<RenderedObject> objects;  // in apply order; empty when the platform has errors
  std::vector<Diagnostic> errors;       // every error found, repository errors first
  ClusterIdentity cluster;              // the effective identity used
  std::vector<TenantInfo> tenants;      // the tenants placed on this cluster, in file order
  // The cluster's registry entry suspends it (section 3): who ("Cluster eu
  // (clusters.yaml:3)") and why. The objects are rendered all the same.
  struct Suspension {
    std::string by, reason;
  };
  std::optional<Suspension> suspension;
  // The DriftRules (section 7.2) placed on this cluster, in file order; the
  // built-in rule is the engine's, not listed here.
  std::vector<DriftRule> driftRules;
  bool ok() const { return errors.empty(); }
  // No error outside tenants' files: `objects` holds everything but failed tenants' own objects.
  bool platformOk() const;
  const TenantInfo* findTenant(std::string_view name) const;
};

// Renders `repo` for the cluster named `name`, whose local labels overlay the
// registry entry's labels (the local value wins on the same key).
RenderResult renderCluster(const Repository& repo, const std::string& name, const Labels& localLabels = {});
// The same, consuming the repository (one render of a big repository, as
// `gitfed render` does): each document's storage is released as it is
// rendered, and with a Preformat each object is formatted at once and only
// its text kept — memory stays a small multiple of the repository's size.
enum class Preformat { None, Yaml, Json };
RenderResult renderCluster(Repository&& repo, const std::string& name, const Labels& localLabels = {},
                           Preformat preformat = Preformat::None);

// The replica plan of an RSP over the registry (section 8): every considered
// cluster, in registry order, with its share. `active` is false when no
// cluster is considered (the RSP then changes nothing); `error` is set when a
// DoNotSchedule spread constraint cannot be met.
struct SchedulePlan {
  bool active = false;
  std::vector<std::pair<std::string, std::int64_t>> clusters;
  std::string error;  // begins with the target's identity
  const std::int64_t* find(const std::string& cluster) const;
};
// `onlyCluster`: keep only that cluster's share in `clusters` (a render needs no more).
SchedulePlan scheduleOf(const Repository& repo, const ReplicaSchedule& schedule, const std::string* onlyCluster = nullptr);
// What a render of one cluster needs for every RSP, computed once per render:
// the registry's names, the FNV-1 state after each name (the planner's hash of
// name + key continues from it), and the cluster's index (SIZE_MAX: not in the
// registry). Immutable once built; valid while `repo` is unchanged.
struct ScheduleFleet {
  ScheduleFleet(const Repository& repo, const std::string& cluster);
  std::string cluster;
  std::vector<const std::string*> names;
  std::vector<std::uint32_t> prefixes;
  std::size_t self = SIZE_MAX;
  // For a namespace of several RSPs (their keys all begin "namespace/"): the
  // state after each name and "namespace/", so each RSP hashes only its name.
  // Filled by cacheNamespaces (a render does, once), bounded in size.
  std::map<std::string, std::vector<std::uint32_t>, std::less<>> namespacePrefixes;
  void cacheNamespaces(const Repository& repo);
};
// scheduleOf(repo, schedule, &fleet.cluster), the same plan by the render's short way (section 8.3).
SchedulePlan scheduleOf(const Repository& repo, const ReplicaSchedule& schedule, const ScheduleFleet& fleet);

// Spread constraints of a federated object without an RSP, checked on the
// replicas it renders with on the registry's clusters: "" or the error.
std::string checkSpreadWithoutSchedule(const Repository& repo, const SourceDocument& document);

// The spec's kind rank (section 7): Namespace first, unknown kinds last.
int kindRank(const std::string& kind);

// The built-in federated target table (section 5.1); nullopt when unknown.
std::optional<TargetType> builtinTargetType(const std::string& targetKind);

}  // namespace gitfed::render
