#include "gitfed/sync/engine.h"

#include <algorithm>
#include <cassert>
#include <atomic>
#include <deque>
#include <map>
#include <optional>
#include <set>
#include <thread>
#include <unordered_map>
#if defined(__GLIBC__)
#include <malloc.h>
#endif

#include <spdlog/spdlog.h>

#include "gitfed/sync/circuit_breaker.h"
#include "gitfed/sync/health.h"
#include "gitfed/sync/inventory.h"
#include "gitfed/sync/order.h"
#include "describe.h"
#include "list_pages.h"
#include "parallel.h"
#include "progress_ticker.h"

namespace gitfed::sync {

using nlohmann::json;
using Clock = std::chrono::steady_clock;

std::vector<IgnoreRule> defaultIgnoreRules() {
  std::vector<IgnoreRule> rules;
  for (const char* kind : {"Deployment", "StatefulSet"}) {
    IgnoreRule r;
    r.group = "apps";
    r.kind = kind;
    r.fields.add({"spec", "replicas"});
    r.onlyWhenHpaTargets = true;
    rules.push_back(std::move(r));
  }
  return rules;
}

namespace {

bool isDnsLabel(std::string_view s, std::size_t max) {
  if (s.empty() || s.size() > max) return false;
  auto ok = [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'; };
  return std::all_of(s.begin(), s.end(), ok) && s.front() != '-' && s.back() != '-';
}

}  // namespace

std::string validate(const SyncOptions& o) {
  // gitfed-inventory-<id> must be a valid name; the id is also a label value.
  if (!isDnsLabel(o.inventoryId, 46))
    return "inventory id \"" + o.inventoryId + "\" must be 1-46 lowercase letters, digits or '-', not starting or ending with '-'";
  if (!isDnsLabel(o.inventoryNamespace, 63)) return "inventory namespace \"" + o.inventoryNamespace + "\" is not a namespace name";
  if (!isDnsLabel(o.defaultNamespace, 63)) return "default namespace \"" + o.defaultNamespace + "\" is not a namespace name";
  if (o.parallelism == 0 || o.parallelism > 256) return "parallelism must be 1..256";
  if (o.listPageSize == 0) return "listPageSize must be positive";
  return {};
}

namespace {

std::string stringAt(const json& obj, std::initializer_list<const char*> path) {
  const json* cur = &obj;
  for (const char* k : path) {
    if (!cur->is_object()) return {};
    auto it = cur->find(k);
    if (it == cur->end()) return {};
    cur = &*it;
  }
  return cur->is_string() ? cur->get<std::string>() : std::string();
}

// A 422 that says the change cannot be made in place.
bool isImmutableError(const kube::Error& e) {
  if (e.status != 422) return false;
  return e.message.find("immutable") != std::string::npos || e.message.find("are forbidden") != std::string::npos;
}

// gitfed's own hash annotation is bookkeeping, not a difference to show.
void dropAppliedHash(std::vector<DriftEntry>& drift) {
  const std::string path = "/metadata/annotations/" + escapePointerToken(kAppliedHashAnnotation);
  std::erase_if(drift, [&](DriftEntry& e) {
    if (e.path == path) return true;
    for (auto* side : {&e.desired, &e.live}) {
      if (!*side) continue;
      json* a = e.path == "/metadata/annotations" ? &**side
                : e.path == "/metadata" && (*side)->contains("annotations") ? &(**side)["annotations"]
                                                                             : nullptr;
      if (a && a->is_object()) a->erase(std::string(kAppliedHashAnnotation));
      if (a && a->empty() && e.path == "/metadata/annotations") side->reset();
    }
    return !e.desired && !e.live;
  });
}

enum class Plan { InSync, Apply, Suspect, Drifted, Failed, Skipped };

struct Item {
  render::RenderedObject* obj = nullptr;  // group, kind, name, (defaulted) ns; value freed once done with
  std::string apiVersion;
  const kube::Resource* resource = nullptr;  // null until resolved
  std::optional<std::size_t> crd;           // the CRD item defining this kind, while unresolved
  std::uint64_t hash = 0;                    // of what Git wants (kAppliedHashAnnotation)
  FieldSet ignore;
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
  // Multi-tenancy: the index of its tenant in Round::tenants_ (-1: the
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
KeyView viewOf(const ObjectKey& k) { return KeyView{k.group, k.kind, k.ns, k.name}; }

std::string hex(std::uint64_t h) {
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
  int stage = 0;
  std::string tenant;            // its gitfed.io/tenant label
  bool appliedAsTenant = false;  // gitfed.io/applied-as=tenant
};

// A tenant placed on the cluster, during one round.
struct TenantState {
  std::size_t index = 0;  // in Round::tenants_
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
bool isAuthorizationDenial(const kube::Error& e) {
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

std::string typeKey(const kube::Resource& r) { return r.group + "/" + r.plural; }

}  // namespace

// One sync round: the state of the round and its steps.
class Round {
 public:
  Round(Engine& engine, render::RenderResult& rendered)
      : engine_(engine), client_(engine.client_), o_(engine.options_), rendered_(rendered),
        store_(engine.client_, engine.options_.inventoryNamespace, engine.options_.inventoryId) {}

  SyncReport run() {
    auto start = Clock::now();
    {
      ProgressTicker ticker(o_.progressInterval, [this] { return progressLine(); });
      runSteps();
    }
    report_.objects.reserve(items_.size() + pruneReports_.size());
    for (auto& it : items_) {
      if (!it.error.empty()) report_.errors.push_back(it.error);
      ObjectReport r;
      r.ref = it.ref();
      r.tenant = it.obj->tenant;
      r.asTenant = it.obj->asTenant;
      const auto& src = it.obj->source;
      if (!src.path.empty()) r.source = src.line > 0 ? src.path + ":" + std::to_string(src.line) : src.path;
      r.state = it.state;
      r.health = it.health;
      r.healthMessage = std::move(it.healthMessage);
      r.action = it.action;
      r.drift = std::move(it.drift);
      r.error = std::move(it.error);
      report_.objects.push_back(std::move(r));
    }
    items_.clear();
    for (auto& r : pruneReports_) {
      if (!r.error.empty()) report_.errors.push_back(r.error);
      report_.objects.push_back(std::move(r));
    }
    report_.stats.lists = lists_;
    report_.stats.gets = gets_;
    report_.stats.applies = applies_;
    report_.stats.dryRuns = dryRuns_;
    report_.stats.deletes = deletes_;
    report_.stats.inventoryWrites = inventoryWrites_;
    report_.stats.seconds = std::chrono::duration<double>(Clock::now() - start).count();
    reportTenants();
    finalize(report_);
    if (report_.message.empty()) report_.message = summaryMessage();
    spdlog::info("sync {}: {} ({} objects, {} applied, {} pruned, {} requests in {:.2f}s)", o_.inventoryId,
                 toString(report_.phase), report_.summary.objects, applies_.load(), report_.summary.pruned,
                 lists_ + gets_ + applies_ + dryRuns_ + deletes_ + inventoryWrites_, report_.stats.seconds);
    return std::move(report_);
  }

 private:
  std::string progressLine() const {
    const std::size_t total = toWrite_.load(), done = written_.load(), failed = failed_.load();
    return "sync " + o_.inventoryId + ": in progress (" + step_.load() + "): " + std::to_string(done) + " of " +
           std::to_string(total) + " writes done, " + std::to_string(failed) + " failed, " +
           std::to_string(total > done ? total - done : 0) + " left";
  }

  void runSteps() {
    if (auto bad = validate(o_); !bad.empty()) {
      report_.errors.push_back("invalid sync options: " + bad);
      report_.message = "invalid sync options; nothing applied, nothing pruned";
      return;
    }
    if (!rendered_.platformOk()) {
      for (const auto& d : rendered_.errors) report_.errors.push_back(d.format());
      report_.renderErrors = rendered_.errors;
      report_.message = "render failed (" + std::to_string(rendered_.errors.size()) +
                        " error" + (rendered_.errors.size() == 1 ? "" : "s") + "); nothing applied, nothing pruned";
      return;
    }
    setUpTenants();
    prepare();
    auto inv = store_.load();
    ++gets_;
    if (!inv) {
      report_.errors.push_back("inventory " + o_.inventoryNamespace + "/" + store_.configMapName() +
                               ": cannot be read: " + describe(inv.error()));
      report_.message = "inventory unreadable; nothing applied, nothing pruned";
      for (auto& it : items_)
        if (it.plan != Plan::Failed) it.state = State::Missing, it.health = Health::Unknown;
      return;
    }
    stored_ = *inv;
    loadHpaTargets();
    applyIgnoreRules();
    step_ = "listing";
    observe();
    step_ = "confirming drift";
    confirmSuspects();
    if (!o_.dryRun && !inventoryCovers() && !writeInventory(unionInventory(), "before applying")) {
      for (auto& it : items_)
        if (it.plan == Plan::Apply) fail(it, it.identity() + ": not applied: the inventory could not be written");
      report_.pruneSkipped = o_.prune;
      report_.pruneMessage = "the inventory could not be written";
      for (auto& it : items_) finishState(it);
      return;
    }
    step_ = "applying";
    applyAll();
    step_ = "pruning";
    prune();
    writeFinalInventory();
    step_ = "waiting for health";
    waitForHealth();
    for (auto& it : items_) finishState(it);
  }

  // ---- tenants ------------------------------------------------------------------------

  // The tenants placed on the cluster, an impersonating client each, and the
  // render errors of those whose files failed (their own objects are not in
  // rendered_.objects: the renderer withheld them).
  void setUpTenants() {
    for (const auto& info : rendered_.tenants) {
      auto& t = tenants_.emplace_back();
      t.index = tenants_.size() - 1;
      t.info = &info;
      t.namespaces.insert(info.namespaces.begin(), info.namespaces.end());
      tenantIndex_.emplace(info.name, tenants_.size() - 1);
      if (info.namespaces.empty()) {
        t.clientError = "it has no namespace";
        continue;
      }
      auto view = client_.impersonating(info.user());
      if (view)
        t.client = std::move(*view);
      else
        t.clientError = "cannot impersonate " + info.user() + ": " + describe(view.error());
    }
    for (const auto& d : rendered_.errors) {
      report_.errors.push_back(d.format());
      report_.renderErrors.push_back(d);
      if (auto t = tenantIndex_.find(d.tenant); t != tenantIndex_.end()) ++tenants_[t->second].renderErrors;
    }
  }

  // The client that writes `it`: the tenant's impersonating one for a
  // tenant's own objects, else the agent's.
  kube::KubeClient& writer(const Item& it) {
    if (it.obj->asTenant && it.tenant >= 0) {
      auto& t = tenants_[static_cast<std::size_t>(it.tenant)];
      assert(t.client);  // prepare() failed the item otherwise
      return *t.client;
    }
    return client_;
  }

  // The tenant of `it` (prepare), its labels, and whether it is part of the
  // tenant's RBAC. False (and the item failed) when it cannot be written.
  bool prepareTenant(Item& it, json& meta) {
    auto& o = *it.obj;
    // The platform's own objects are left as Git writes them: a tenant label
    // there can only make pruning keep or impersonate (fewer rights), never more.
    if (o.tenant.empty()) return true;
    auto found = tenantIndex_.find(o.tenant);
    if (found == tenantIndex_.end()) {
      fail(it, it.identity() + ": tenant " + o.tenant + " is not placed on this cluster (renderer error)");
      return false;
    }
    it.tenant = static_cast<int>(found->second);
    const TenantState& t = tenants_[found->second];
    if (o.asTenant && !t.client) {
      fail(it, it.identity() + ": not applied as tenant " + o.tenant + ": " + t.clientError);
      return false;
    }
    json& labels = meta["labels"];
    if (!labels.is_object()) labels = json::object();
    labels[std::string(kTenantLabel)] = o.tenant;
    if (o.asTenant)
      labels[std::string(kAppliedAsLabel)] = kAppliedAsTenant;
    else
      labels.erase(std::string(kAppliedAsLabel));
    if (o.asTenant || t.info->namespaces.empty()) return true;
    const std::string& accountNs = t.info->namespaces.front();
    const auto index = static_cast<std::size_t>(&it - items_.data());
    if (o.group.empty() && o.kind == "ServiceAccount" && o.ns == accountNs && o.name == t.info->serviceAccount) {
      it.tenantAccount = true;
      tenantRbacItems_[{it.tenant, ""}].push_back(index);
    }
    if (o.group == "rbac.authorization.k8s.io" && o.kind == "RoleBinding" && o.value.contains("subjects") &&
        o.value["subjects"].is_array())
      for (const auto& subject : o.value["subjects"]) {
        if (!subject.is_object()) continue;
        std::string subjectNs = stringAt(subject, {"namespace"});
        if (subjectNs.empty()) subjectNs = o.ns;
        if (stringAt(subject, {"kind"}) == "ServiceAccount" && stringAt(subject, {"name"}) == t.info->serviceAccount &&
            subjectNs == accountNs && !it.tenantBinding) {
          it.tenantBinding = true;
          tenantRbacItems_[{it.tenant, o.ns}].push_back(index);
        }
      }
    return true;
  }

  // After the platform's stage: which tenants had their RBAC written now.
  void noteFreshRbac() {
    const auto deadline = Clock::now() + o_.rbacPropagationTimeout;
    for (const auto& it : items_) {
      if (it.tenant < 0 || it.obj->asTenant) continue;
      const bool rbac = it.tenantBinding || it.tenantAccount || (it.obj->group.empty() && it.obj->kind == "Namespace");
      const bool written = it.action == Action::Created || it.action == Action::Updated ||
                           it.action == Action::Healed || it.action == Action::Recreated;
      if (!rbac || !written) continue;
      auto& t = tenants_[static_cast<std::size_t>(it.tenant)];
      t.rbacFresh = true;
      t.rbacDeadline = deadline;
    }
  }

  // Why the tenant's own `it` cannot be written because the tenant's
  // ServiceAccount, or its RoleBinding in the object's namespace, failed; "".
  std::string tenantRbacFailed(const Item& it) const {
    if (!it.obj->asTenant || it.tenant < 0) return {};
    for (const Item* other : tenantRbacOf(it))
      if (other->plan == Plan::Failed || other->plan == Plan::Skipped)
        return "skipped: tenant " + it.obj->tenant + "'s " + other->identity() + " could not be applied";
    return {};
  }

  // The tenant's ServiceAccount and its RoleBindings in the object's namespace.
  std::vector<const Item*> tenantRbacOf(const Item& it) const {
    std::vector<const Item*> out;
    for (const std::string& ns : {std::string(), it.obj->ns})
      if (auto f = tenantRbacItems_.find({it.tenant, ns}); f != tenantRbacItems_.end())
        for (auto i : f->second) out.push_back(&items_[i]);
    return out;
  }

  // Dry run: the tenant's ServiceAccount or RoleBinding in the object's
  // namespace does not exist yet (it would be created), so a dry run as the
  // tenant cannot be authorized yet.
  bool tenantRbacPending(const Item& it) const {
    if (!it.obj->asTenant || it.tenant < 0) return false;
    for (const Item* other : tenantRbacOf(it))
      if (!other->listed && other->state == State::Missing) return true;
    return false;
  }

  void reportTenants() {
    std::map<std::string, TenantReport*, std::less<>> byName;
    report_.tenants.reserve(tenants_.size());
    for (const auto& t : tenants_) {
      TenantReport r;
      r.name = t.info->name;
      r.namespaces = t.info->namespaces;
      if (!t.info->namespaces.empty()) r.user = t.info->user();
      r.renderFailed = t.info->failed;
      r.pruneSkipped = t.pruneKept;
      report_.tenants.push_back(std::move(r));
    }
    for (auto& r : report_.tenants) byName[r.name] = &r;
    for (const auto& o : report_.objects) {
      if (o.tenant.empty()) continue;
      auto f = byName.find(o.tenant);
      if (f == byName.end()) continue;
      if (o.state != State::Pruned) ++f->second->objects;
      if (o.state == State::Failed) ++f->second->failed;
    }
    for (std::size_t i = 0; i < tenants_.size(); ++i) {
      auto& r = report_.tenants[i];
      const auto& t = tenants_[i];
      std::string m;
      auto add = [&](const std::string& part) { m += (m.empty() ? "" : "; ") + part; };
      if (r.renderFailed)
        add("render failed (" + std::to_string(t.renderErrors) + " error" + (t.renderErrors == 1 ? "" : "s") +
            "): its own objects were neither applied nor pruned");
      if (!t.clientError.empty()) add(t.clientError);
      if (r.failed > 0) add(std::to_string(r.failed) + " object" + (r.failed == 1 ? "" : "s") + " failed");
      if (r.pruneSkipped && !r.renderFailed) add("objects no longer in Git kept this round");
      r.message = std::move(m);
    }
  }

  // ---- prepare: identity, resource type, namespace, labels, hash --------------------

  void prepare() {
    auto& objects = rendered_.objects;
    items_.resize(objects.size());
    // CRDs of this revision, by the (group, kind) they define.
    std::map<std::pair<std::string, std::string>, std::size_t> crds;
    std::map<std::size_t, bool> crdNamespaced;  // read here: the CRD's own tree is released when prepared
    for (std::size_t i = 0; i < objects.size(); ++i) {
      const auto& o = objects[i];
      if (o.group == "apiextensions.k8s.io" && o.kind == "CustomResourceDefinition") {
        const json& spec = o.value.contains("spec") ? o.value["spec"] : json::object();
        crds[{stringAt(spec, {"group"}), stringAt(spec, {"names", "kind"})}] = i;
        crdNamespaced[i] = stringAt(spec, {"scope"}) != "Cluster";
      }
    }
    std::map<std::pair<std::string, std::string>, kube::Result<const kube::Resource*>> resolved;
    for (std::size_t i = 0; i < objects.size(); ++i) {
      auto& o = objects[i];
      Item& it = items_[i];
      it.obj = &o;
      it.apiVersion = stringAt(o.value, {"apiVersion"});
      it.isSecret = o.group.empty() && o.kind == "Secret";

      if (auto a = stringAt(o.value, {"metadata", "annotations", std::string(kIgnoreFieldsAnnotation).c_str()}); !a.empty()) {
        auto set = FieldSet::parse(a);
        if (!set) {
          fail(it, it.identity() + ": annotation " + std::string(kIgnoreFieldsAnnotation) + ": " + set.error());
          continue;
        }
        it.ignore = std::move(*set);
      }

      auto rk = std::make_pair(it.apiVersion, o.kind);
      auto found = resolved.find(rk);
      if (found == resolved.end()) {
        auto r = client_.resourceFor(it.apiVersion, o.kind);
        found = resolved.emplace(rk, r ? kube::Result<const kube::Resource*>(intern(*r))
                                       : kube::Result<const kube::Resource*>(std::unexpected(r.error())))
                    .first;
      }
      bool namespaced = true;
      if (found->second) {
        it.resource = *found->second;
        namespaced = it.resource->namespaced;
      } else if (auto c = crds.find({o.group, o.kind}); c != crds.end() && found->second.error().notFound()) {
        it.crd = c->second;  // resolved once its CRD is Established
        namespaced = crdNamespaced[c->second];
      } else if (found->second.error().notFound()) {
        fail(it, it.identity() + ": the server has no resource type " + it.apiVersion + " " + o.kind +
                     " (is its CustomResourceDefinition installed?)");
        continue;
      } else {
        fail(it, it.identity() + ": discovery failed: " + describe(found->second.error()));
        continue;
      }
      // Namespace: the default for namespaced kinds written without one;
      // none for cluster-scoped kinds. (A tenant's object without one is
      // refused by the renderer; when that check is off, it goes to the
      // default namespace like any other, and RBAC refuses it there.)
      json& meta = o.value["metadata"];
      if (namespaced && o.ns.empty()) {
        o.ns = o_.defaultNamespace;
        meta["namespace"] = o.ns;
      } else if (!namespaced && !o.ns.empty()) {
        o.ns.clear();
        meta.erase("namespace");
      }
      if (auto [pos, inserted] = index_.emplace(KeyView{o.group, o.kind, o.ns, o.name}, i); !inserted) {
        const auto& first = objects[pos->second].source;
        fail(it, it.identity() + ": duplicate object: also defined at " + first.path + ":" + std::to_string(first.line));
        continue;
      }
      if (!prepareTenant(it, meta)) continue;
      // The hash of what Git wants; labels and the hash are added when it is sent.
      it.hash = contentHashValue(o.value);
      if (o_.compactDesired) {
        it.packed = json::to_msgpack(o.value);
        o.value = json();
      }
    }
#ifdef __GLIBC__
    // The trees just packed are free memory now: give it back to the system
    // before the round's own working set grows.
    if (o_.compactDesired) ::malloc_trim(0);
#endif
  }

  // The one copy of each resource type the items point to.
  const kube::Resource* intern(const kube::Resource& r) {
    auto [pos, inserted] = resources_.emplace(typeKey(r) + "/" + r.version, r);
    return &pos->second;
  }

  // ---- cluster-wide ignore rules ------------------------------------------------------

  void loadHpaTargets() {
    bool needed = false;
    for (const auto& rule : o_.ignoreRules)
      if (rule.onlyWhenHpaTargets)
        for (const auto& it : items_)
          if (it.plan != Plan::Failed && it.obj->group == rule.group && it.obj->kind == rule.kind) needed = true;
    if (!needed) return;
    auto hpa = client_.resourceFor("autoscaling/v2", "HorizontalPodAutoscaler");
    if (!hpa) hpa = client_.resourceFor("autoscaling/v1", "HorizontalPodAutoscaler");
    if (!hpa) return;
    ++lists_;
    auto r = listPages(client_, *hpa, "", "", o_.listPageSize, [&](json& item) {
      const json& ref = item.contains("spec") ? item["spec"].value("scaleTargetRef", json::object()) : json::object();
      hpaTargets_.insert(ObjectKey{ObjectRef::groupOf(stringAt(ref, {"apiVersion"})), stringAt(ref, {"kind"}),
                                   stringAt(item, {"metadata", "namespace"}), stringAt(ref, {"name"})});
    });
    if (!r) spdlog::warn("listing HorizontalPodAutoscalers failed ({}); HPA ignore rules do not apply this round", describe(r.error()));
  }

  void applyIgnoreRules() {
    for (auto& it : items_) {
      if (it.plan == Plan::Failed) continue;
      for (const auto& rule : o_.ignoreRules) {
        if (rule.group != it.obj->group || rule.kind != it.obj->kind) continue;
        if (rule.onlyWhenHpaTargets && !hpaTargets_.contains(it.key())) continue;
        it.ignore.merge(rule.fields);
      }
    }
  }

  // ---- observe: one LIST per type, compared locally ------------------------------------

  void observe() {
    std::map<std::string, TypeEntry> types;
    for (auto& it : items_) {
      if (it.plan == Plan::Failed || !it.resource) continue;
      auto& t = types[typeKey(*it.resource)];
      t.resource = *it.resource;
      t.namespaces.insert(it.obj->ns);
    }
    // Types only the inventory remembers (objects removed from Git).
    std::map<std::pair<std::string, std::string>, std::optional<kube::Resource>> invTypes;
    for (const auto& [key, ref] : stored_.entries()) {
      auto k = std::make_pair(ref.apiVersion, ref.kind);
      auto f = invTypes.find(k);
      if (f == invTypes.end()) {
        auto r = client_.resourceFor(ref.apiVersion, ref.kind);
        f = invTypes.emplace(k, r ? std::optional<kube::Resource>(*r) : std::nullopt).first;
        if (!r && !r.error().notFound()) listFailed_ = true;  // cannot tell: keep it, do not prune this round
      }
      if (!f->second) continue;  // the type is gone (its CRD was deleted): so are its objects
      auto& t = types[typeKey(*f->second)];
      if (t.resource.plural.empty()) t.resource = *f->second;
      t.namespaces.insert(ref.ns);
    }
    std::vector<TypeEntry*> list;
    for (auto& [k, t] : types) list.push_back(&t);
    std::string selector = std::string(kInventoryLabel) + "=" + o_.inventoryId;
    // One LIST at a time, on this thread: memory holds one page (and what a
    // page frees is reused by the next one); the server is the bottleneck anyway.
    for (auto* t : list) listType(*t, selector);

    for (auto& [k, t] : types) {
      if (!t.ok) {
        listFailed_ = true;
        report_.errors.push_back("list " + t.resource.apiVersion() + " " + t.resource.kind + ": " + t.error);
      }
      listedTypes_[k] = t;
    }
    // Desired objects the LIST did not return: new, not yet labelled, or unknown.
    for (auto& it : items_) {
      if (it.plan == Plan::Failed || it.listed) continue;
      if (it.resource) {
        const auto& t = listedTypes_[typeKey(*it.resource)];
        it.liveKnown = t.ok && !t.failedNamespaces.contains(it.obj->ns);
      }
      it.plan = Plan::Apply;
      it.applyAction = it.liveKnown || !it.resource ? Action::Created : Action::Updated;
    }
  }

  void listType(TypeEntry& t, const std::string& selector) {
    auto onItem = [&](json& live) { observeLive(t.resource, live); };
    ++lists_;
    auto r = listPages(client_, t.resource, "", selector, o_.listPageSize, onItem);
    // 404: the type is no longer served (its CRD was deleted; discovery was
    // stale): none of its objects exist.
    if (r || r.error().status == 404) return;
    if (r.error().status == 403 && t.resource.namespaced) {
      // No cluster-wide LIST: one per namespace we care about.
      for (const auto& ns : t.namespaces) {
        if (ns.empty()) continue;
        ++lists_;
        auto rn = listPages(client_, t.resource, ns, selector, o_.listPageSize, onItem);
        if (!rn) {
          t.failedNamespaces.insert(ns);
          t.ok = false;
          t.error = describe(rn.error());
        }
      }
      return;
    }
    t.ok = false;
    t.error = describe(r.error());
  }

  // One live object this inventory owns.
  void observeLive(const kube::Resource& resource, json& live) {
    if (!live.contains("kind")) live["kind"] = resource.kind;
    if (!live.contains("apiVersion")) live["apiVersion"] = resource.apiVersion();
    ObjectKey key{resource.group, resource.kind, stringAt(live, {"metadata", "namespace"}),
                  stringAt(live, {"metadata", "name"})};
    auto found = index_.find(viewOf(key));
    if (found == index_.end()) {
      Candidate c;
      c.ref = ObjectRef{resource.apiVersion(), resource.kind, key.ns, key.name};
      c.resource = resource;
      c.uid = stringAt(live, {"metadata", "uid"});
      c.pruneDisabled = stringAt(live, {"metadata", "annotations", std::string(kPruneAnnotation).c_str()}) == "disabled";
      c.stage = stageKey(resource.group, resource.kind);
      c.tenant = stringAt(live, {"metadata", "labels", std::string(kTenantLabel).c_str()});
      c.appliedAsTenant = stringAt(live, {"metadata", "labels", std::string(kAppliedAsLabel).c_str()}) == kAppliedAsTenant;
      std::lock_guard lock(mutex_);
      candidates_.push_back(std::move(c));
      return;
    }
    Item& it = items_[found->second];
    if (it.plan == Plan::Failed) return;  // desired, failed in prepare: not a prune candidate either
    try {
      classify(it, live);
    } catch (const std::exception& e) {
      fail(it, it.identity() + ": cannot compare with the live object: " + e.what());
    }
  }

  void classify(Item& it, json& live) {
    it.listed = true;
    it.liveKnown = true;
    it.liveUid = stringAt(live, {"metadata", "uid"});
    it.liveRv = stringAt(live, {"metadata", "resourceVersion"});
    for (const auto& p : it.ignore.pointers())
      if (const json* v = findAt(live, p)) it.ignoredLive.emplace_back(p, *v);
    bool labelled = stringAt(live, {"metadata", "labels", std::string(kManagedByLabel).c_str()}) == kManagedByValue;
    bool sameHash = stringAt(live, {"metadata", "annotations", std::string(kAppliedHashAnnotation).c_str()}) == hex(it.hash);
    auto health = assessHealth(live);
    it.health = health.health;
    it.healthMessage = health.message;
    if (!labelled || !sameHash) {
      it.plan = Plan::Apply;
      it.applyAction = Action::Updated;
      if (o_.dryRun) it.live = std::move(live);
      return;
    }
    // Unchanged (same uid and resourceVersion) since a round found it in
    // sync with what Git still wants (same hash): in sync, nothing to compare.
    const std::uint64_t cacheKey = inSyncKey(it);
    {
      std::lock_guard lock(engine_.cacheMutex_);
      if (engine_.knownInSync(cacheKey)) {
        engine_.seenThisRound_.push_back(cacheKey);
        markInSync(it);
        return;
      }
    }
    const json& desired = desiredTree(it);
    bool covered = it.isSecret && desired.contains("stringData") ? coversDesired(foldStringData(desired), live, it.ignore)
                                                                 : coversDesired(desired, live, it.ignore);
    if (covered) {
      {
        std::lock_guard lock(engine_.cacheMutex_);
        engine_.seenThisRound_.push_back(cacheKey);
      }
      markInSync(it);
      return;
    }
    it.plan = Plan::Suspect;
    it.live = std::move(live);
  }

  // Nothing more will be sent for this object this round: its desired JSON
  // is freed now (at 10,000 objects that is most of the memory).
  void markInSync(Item& it) {
    it.plan = Plan::InSync;
    it.obj->value = json();
    std::vector<std::uint8_t>().swap(it.packed);
  }

  // The in-sync cache's key: FNV-1a of "uid/resourceVersion/hash".
  static std::uint64_t inSyncKey(const Item& it) {
    std::uint64_t h = 14695981039346656037ull;
    auto mix = [&](std::string_view s) {
      for (char c : s) h = (h ^ static_cast<unsigned char>(c)) * 1099511628211ull;
      h = (h ^ '/') * 1099511628211ull;
    };
    mix(it.liveUid);
    mix(it.liveRv);
    mix(hex(it.hash));
    return h;
  }

  // The desired object as a tree, decoded from `packed` when it was released
  // (without the labels body() adds: they are added again when sent).
  json& desiredTree(Item& it) {
    if (it.obj->value.is_null() && !it.packed.empty()) {
      it.obj->value = json::from_msgpack(it.packed);
      it.labelled = false;
    }
    return it.obj->value;
  }

  // ---- confirm suspected drift with a server-side dry run ---------------------------------

  void confirmSuspects() {
    std::vector<std::size_t> suspects;
    for (std::size_t i = 0; i < items_.size(); ++i)
      if (items_[i].plan == Plan::Suspect) suspects.push_back(i);
    toWrite_ += suspects.size();
    parallelFor(suspects.size(), o_.parallelism, [&](std::size_t k) {
      Item& it = items_[suspects[k]];
      struct Done {
        std::atomic<std::size_t>& n;
        ~Done() { ++n; }
      } done{written_};
      const std::uint64_t cacheKey = inSyncKey(it);
      {
        std::lock_guard lock(engine_.cacheMutex_);
        if (engine_.knownInSync(cacheKey)) {
          engine_.seenThisRound_.push_back(cacheKey);
          markInSync(it);
          it.live.reset();
          return;
        }
      }
      auto gate = breaker_.gate(typeKey(*it.resource), it.identity());
      kube::Result<json> r = std::unexpected(kube::Error{});
      if (auto open = breaker_.openFor(typeKey(*it.resource))) {
        r = std::unexpected(std::move(*open));
      } else {
        ++dryRuns_;
        r = writer(it).apply(*it.resource, body(it), kube::ApplyOptions{"gitfed", true, true, &gate});
      }
      if (!r) {
        // The real apply will say what is wrong (self-heal), or report it.
        if (o_.driftMode == DriftMode::SelfHeal && !o_.dryRun) {
          it.plan = Plan::Apply;
          it.applyAction = Action::Healed;
        } else {
          fail(it, it.identity() + ": dry-run apply failed: " + redact(it, describe(r.error())));
        }
        it.live.reset();
        return;
      }
      auto drift = diffObjects(*r, *it.live, it.ignore);
      it.live.reset();
      if (drift.empty()) {
        markInSync(it);
        std::lock_guard lock(engine_.cacheMutex_);
        engine_.seenThisRound_.push_back(cacheKey);
        return;
      }
      if (it.isSecret) redactSecretDrift(drift);
      it.drift = std::move(drift);
      if (o_.driftMode == DriftMode::SelfHeal && !o_.dryRun) {
        it.plan = Plan::Apply;
        it.applyAction = Action::Healed;
      } else {
        it.plan = Plan::Drifted;
      }
    });
  }

  // ---- inventory -----------------------------------------------------------------------------

  Inventory unionInventory() const {
    Inventory inv = stored_;
    for (const auto& it : items_)
      if (it.resource || it.crd) inv.add(it.ref());
    return inv;
  }

  // Whether the stored inventory already names every desired object (the
  // usual case: no copy, no write).
  bool inventoryCovers() const {
    const auto& entries = stored_.entries();
    for (const auto& it : items_) {
      if (!it.resource && !it.crd) continue;
      auto e = entries.find(it.key());
      if (e == entries.end() || e->second.apiVersion != it.apiVersion) return false;
    }
    return true;
  }

  // After pruning: what is stored (the union, written before applying)
  // without what was pruned or is no longer ours.
  void writeFinalInventory() {
    if (o_.dryRun || dropFromInventory_.empty()) return;
    Inventory inv = stored_;
    for (const auto& k : dropFromInventory_) inv.remove(k);
    writeInventory(std::move(inv), "after pruning");
  }

  bool writeInventory(Inventory inv, const char* when) {
    if (inv == stored_) return true;
    ++inventoryWrites_;
    auto r = store_.save(inv);
    if (!r) {
      report_.errors.push_back("inventory " + o_.inventoryNamespace + "/" + store_.configMapName() + ": write " + when +
                               " failed: " + describe(r.error()));
      return false;
    }
    stored_ = std::move(inv);
    return true;
  }

  // ---- apply ------------------------------------------------------------------------------------

  // What is sent: the desired object with the ownership labels and the
  // hash, and the live values of ignored fields (another controller owns
  // them). Changed in place: nothing else reads it afterwards.
  const json& body(Item& it) {
    json& v = desiredTree(it);
    if (!it.labelled) {
      json& meta = v["metadata"];
      json& labels = meta["labels"];
      if (!labels.is_object()) labels = json::object();
      labels[std::string(kManagedByLabel)] = kManagedByValue;
      labels[std::string(kInventoryLabel)] = o_.inventoryId;
      json& annotations = meta["annotations"];
      if (!annotations.is_object()) annotations = json::object();
      annotations[std::string(kAppliedHashAnnotation)] = hex(it.hash);
      it.labelled = true;
    }
    for (const auto& [p, val] : it.ignoredLive) setAt(v, p, val);
    return v;
  }

  // The platform's objects (with everything Tenants expand to) first, stage
  // by stage; then each tenant's own objects, stage by stage, as the tenant,
  // tenants side by side. A tenant's failures stay its own.
  void applyAll() {
    std::vector<std::size_t> platform;
    std::map<int, std::vector<std::size_t>> byTenant;
    for (std::size_t i = 0; i < items_.size(); ++i) {
      if (items_[i].obj->asTenant && items_[i].tenant >= 0)
        byTenant[items_[i].tenant].push_back(i);
      else
        platform.push_back(i);
    }
    applyStaged(platform, o_.parallelism, /*waitCrds=*/true);
    if (byTenant.empty()) return;
    noteFreshRbac();
    std::vector<const std::vector<std::size_t>*> groups;
    for (const auto& [t, indices] : byTenant) groups.push_back(&indices);
    const auto tenantsAtOnce = static_cast<unsigned>(std::min<std::size_t>(groups.size(), o_.parallelism));
    const unsigned each = std::max(1u, o_.parallelism / std::max(1u, tenantsAtOnce));
    parallelFor(groups.size(), tenantsAtOnce, [&](std::size_t g) {
      try {
        applyStaged(*groups[g], each, /*waitCrds=*/false);
      } catch (const std::exception& e) {
        // applyOne catches its own; this is what is left (e.g. allocation).
        for (auto i : *groups[g])
          if (items_[i].plan == Plan::Apply) fail(items_[i], items_[i].identity() + ": apply failed: " + e.what());
      }
    });
  }

  // `indices` in apply stages; up to `workers` requests at once. The CRDs
  // that custom resources wait for are awaited before the first stage after
  // Namespaces and CRDs (the platform's pass does it for everyone).
  void applyStaged(const std::vector<std::size_t>& indices, unsigned workers, bool waitCrds) {
    std::vector<KindOf> kinds;
    kinds.reserve(indices.size());
    for (auto i : indices) kinds.push_back(KindOf{items_[i].obj->group, items_[i].obj->kind});
    auto stages = applyStages(kinds);
    bool crdsWaited = !waitCrds;
    for (const auto& stage : stages) {
      bool first = !stage.empty() && isFirstStageKind(items_[indices[stage.front()]].obj->group,
                                                      items_[indices[stage.front()]].obj->kind);
      if (!first && !crdsWaited) {
        waitForCrds();
        crdsWaited = true;
      }
      std::vector<std::size_t> todo;
      for (auto k : stage) {
        const std::size_t i = indices[k];
        Item& it = items_[i];
        if (it.plan != Plan::Apply) continue;
        if (auto why = blockedBy(it); !why.empty()) {
          skip(it, why);
          continue;
        }
        todo.push_back(i);
      }
      toWrite_ += todo.size();
      parallelFor(todo.size(), workers, [&](std::size_t k) {
        Item& it = items_[todo[k]];
        try {
          applyOne(it);
        } catch (const std::exception& e) {
          fail(it, it.identity() + ": apply failed: " + e.what());
        }
        ++written_;
      });
    }
    if (!crdsWaited) waitForCrds();
  }

  // Why `it` cannot be applied because something it depends on failed; "" when it can.
  std::string blockedBy(const Item& it) const {
    if (auto why = tenantRbacFailed(it); !why.empty()) return why;
    if (it.crd) {
      const Item& crd = items_[*it.crd];
      if (crd.plan == Plan::Failed || crd.plan == Plan::Skipped)
        return "skipped: its CustomResourceDefinition " + crd.obj->name + " failed";
      if (crd.health == Health::Healthy)
        return "skipped: its CustomResourceDefinition " + crd.obj->name + " is Established but the server does not serve " +
               it.apiVersion + " " + it.obj->kind;
      return "skipped: its CustomResourceDefinition " + crd.obj->name + " is not Established";
    }
    if (!it.obj->ns.empty()) {
      auto ns = index_.find(KeyView{"", "Namespace", "", it.obj->ns});
      if (ns != index_.end()) {
        const Item& n = items_[ns->second];
        if ((n.plan == Plan::Failed || n.plan == Plan::Skipped) && !n.listed)
          return "skipped: Namespace " + it.obj->ns + " could not be created";
      }
    }
    return {};
  }

  void waitForCrds() {
    // CRDs with custom resources waiting for them.
    std::set<std::size_t> needed;
    for (const auto& it : items_)
      if (it.crd && it.plan != Plan::Failed) needed.insert(*it.crd);
    if (needed.empty()) return;
    auto deadline = Clock::now() + o_.crdEstablishedTimeout;
    for (auto c : needed) {
      Item& crd = items_[c];
      if (crd.plan == Plan::Failed || crd.plan == Plan::Skipped) continue;
      bool established = crd.health == Health::Healthy;
      while (!established && !o_.dryRun) {
        ++gets_;
        auto live = client_.get(*crd.resource, "", crd.obj->name);
        if (live) {
          auto h = assessHealth(*live);
          crd.health = h.health;
          crd.healthMessage = h.message;
          established = h.health == Health::Healthy;
          if (h.health == Health::Degraded) break;
        }
        if (established || Clock::now() >= deadline) break;
        std::this_thread::sleep_for(o_.pollInterval);
      }
      if (!established) continue;
      // Discovery learns the new kind (the client refreshes on a miss); a
      // version the CRD does not serve never appears: give up soon.
      auto served = std::min(deadline, Clock::now() + std::chrono::seconds(10));
      for (auto& it : items_) {
        if (it.crd != c || it.plan == Plan::Failed) continue;
        for (;;) {
          auto r = client_.resourceFor(it.apiVersion, it.obj->kind);
          if (r) {
            it.resource = intern(*r);
            it.crd.reset();
            break;
          }
          if (!r.error().notFound() || Clock::now() >= served) break;
          std::this_thread::sleep_for(o_.pollInterval);
        }
      }
    }
    if (o_.dryRun) {
      for (auto& it : items_)
        if (it.crd && it.plan == Plan::Apply) {
          it.plan = Plan::InSync;  // reported below as Missing
          it.applyAction = Action::WouldApply;
          it.state = State::Missing;
          it.healthMessage = "its CustomResourceDefinition is not installed yet";
        }
    }
  }

  void applyOne(Item& it) {
    const std::string identity = it.identity();
    if (o_.dryRun) {
      dryRunOne(it);
      return;
    }
    // Objects with ignored fields that we did not see: learn the live values first.
    if (!it.ignore.empty() && !it.listed) {
      ++gets_;
      if (auto live = client_.get(*it.resource, it.obj->ns, it.obj->name))
        for (const auto& p : it.ignore.pointers())
          if (const json* v = findAt(*live, p)) it.ignoredLive.emplace_back(p, *v);
    }
    // A persistent error of this type opened its circuit: not sent.
    if (auto open = breaker_.openFor(typeKey(*it.resource))) {
      fail(it, identity + ": apply failed: " + redact(it, describe(*open)));
      return;
    }
    auto gate = breaker_.gate(typeKey(*it.resource), identity);
    kube::ApplyOptions gated;
    gated.retryGate = &gate;
    ++applies_;
    kube::KubeClient& writer = this->writer(it);
    auto r = writer.apply(*it.resource, body(it), gated);
    while (!r && rbacMayLag(it, r.error())) {
      std::this_thread::sleep_for(o_.pollInterval);
      ++applies_;
      r = writer.apply(*it.resource, body(it), gated);
    }
    if (!r && isImmutableError(r.error())) {
      if (stringAt(desiredTree(it), {"metadata", "annotations", std::string(kForceAnnotation).c_str()}) != "true") {
        fail(it, identity + ": apply failed: " + redact(it, describe(r.error())) +
                     " (an immutable field changed: set annotation " + std::string(kForceAnnotation) +
                     ": \"true\" on the object to delete and recreate it)");
        return;
      }
      if (auto err = recreate(it); !err.empty()) {
        fail(it, identity + ": recreate failed: " + err);
        return;
      }
      ++applies_;
      r = writer.apply(*it.resource, body(it), gated);
      if (r) it.applyAction = Action::Recreated;
    }
    if (!r) {
      fail(it, identity + ": apply failed: " + redact(it, describe(r.error())));
      return;
    }
    auto h = assessHealth(*r);
    it.health = h.health;
    it.healthMessage = h.message;
    it.action = it.applyAction;
    markInSync(it);
    spdlog::debug("{} {}", toString(it.action), identity);
  }

  // A 403 from RBAC for a tenant's own object in one of its namespaces while
  // the tenant's RBAC written this round may not be known to the authorizer
  // yet (its cache follows a watch): worth another try until the deadline.
  bool rbacMayLag(const Item& it, const kube::Error& e) const {
    if (!it.obj->asTenant || it.tenant < 0 || !isAuthorizationDenial(e)) return false;
    const auto& t = tenants_[static_cast<std::size_t>(it.tenant)];
    if (!t.rbacFresh || !t.namespaces.contains(it.obj->ns)) return false;
    if (Clock::now() >= t.rbacDeadline) return false;
    spdlog::debug("{}: 403 as tenant {} right after its RBAC was written; trying again", it.identity(), it.obj->tenant);
    return true;
  }

  // Deletes the live object and waits until it is gone; an error message or "".
  std::string recreate(Item& it) {
    std::string uid = it.liveUid;
    if (uid.empty()) {
      ++gets_;
      auto live = client_.get(*it.resource, it.obj->ns, it.obj->name);
      if (!live) return live.error().notFound() ? std::string() : describe(live.error());
      uid = stringAt(*live, {"metadata", "uid"});
    }
    ++deletes_;
    auto d = writer(it).remove(*it.resource, it.obj->ns, it.obj->name, kube::Propagation::Foreground, uid);
    if (!d && !d.error().notFound() && d.error().status != 409) return "delete: " + describe(d.error());
    auto deadline = Clock::now() + o_.deleteTimeout;
    for (;;) {
      ++gets_;
      auto live = client_.get(*it.resource, it.obj->ns, it.obj->name);
      if (!live && live.error().notFound()) return {};
      if (live && stringAt(*live, {"metadata", "uid"}) != uid) return {};
      if (Clock::now() >= deadline) return "the old object was not gone after " + seconds(o_.deleteTimeout);
      std::this_thread::sleep_for(o_.pollInterval);
    }
  }

  void dryRunOne(Item& it) {
    // In a Namespace this revision creates: the server cannot dry-run it
    // before the Namespace exists; it would be created.
    if (!it.listed && !it.obj->ns.empty()) {
      auto ns = index_.find(KeyView{"", "Namespace", "", it.obj->ns});
      if (ns != index_.end() && !items_[ns->second].listed && items_[ns->second].state == State::Missing) {
        it.action = Action::WouldApply;
        it.state = State::Missing;
        it.plan = Plan::Drifted;
        return;
      }
    }
    // A tenant's object whose RoleBinding this revision creates: the server
    // cannot authorize a dry run as the tenant yet; it would be created.
    if (!it.listed && tenantRbacPending(it)) {
      it.action = Action::WouldApply;
      it.state = State::Missing;
      it.plan = Plan::Drifted;
      return;
    }
    // The live object to compare with: from the LIST, or (not ours yet) a GET.
    if (!it.live && !it.listed) {
      ++gets_;
      auto live = client_.get(*it.resource, it.obj->ns, it.obj->name);
      if (live) it.live = std::move(*live);
    }
    ++dryRuns_;
    auto gate = breaker_.gate(typeKey(*it.resource), it.identity());
    auto r = writer(it).apply(*it.resource, body(it), kube::ApplyOptions{"gitfed", true, true, &gate});
    it.action = Action::WouldApply;
    if (!r) {
      std::string msg = redact(it, describe(r.error()));
      if (isImmutableError(r.error()) &&
          stringAt(desiredTree(it), {"metadata", "annotations", std::string(kForceAnnotation).c_str()}) == "true") {
        it.healthMessage = "would be deleted and recreated (immutable field; " + std::string(kForceAnnotation) + ")";
        it.state = State::Drifted;
        it.plan = Plan::Drifted;
        return;
      }
      fail(it, it.identity() + ": dry-run apply failed: " + msg);
      return;
    }
    if (!it.live) {
      it.state = State::Missing;
      it.plan = Plan::Drifted;
      return;
    }
    auto drift = diffObjects(*r, *it.live, it.ignore);
    it.live.reset();
    dropAppliedHash(drift);
    if (it.isSecret) redactSecretDrift(drift);
    if (drift.empty()) {
      it.action = Action::None;  // only the hash or labels would change
      it.plan = Plan::InSync;
      return;
    }
    it.drift = std::move(drift);
    it.plan = Plan::Drifted;
  }

  // ---- prune ------------------------------------------------------------------------------------

  void prune() {
    // Inventory entries not wanted and not found by a LIST that worked: gone
    // already, or no longer ours (label removed): forget them.
    std::set<ObjectKey> candidateKeys;
    for (const auto& c : candidates_) candidateKeys.insert(c.ref.key());
    for (const auto& [key, ref] : stored_.entries()) {
      if (index_.contains(viewOf(key)) || candidateKeys.contains(key)) continue;
      auto r = client_.resourceFor(ref.apiVersion, ref.kind);
      if (!r) {
        if (r.error().notFound()) dropFromInventory_.push_back(key);
        continue;
      }
      auto t = listedTypes_.find(typeKey(*r));
      if (t != listedTypes_.end() && t->second.ok && !t->second.failedNamespaces.contains(ref.ns))
        dropFromInventory_.push_back(key);
    }
    if (!o_.prune) return;
    keepTenantsObjects();
    if (!keptForTenants_.empty()) {
      std::string names;
      for (const auto& n : keptForTenants_) names += (names.empty() ? "" : ", ") + n;
      report_.pruneSkipped = true;
      report_.pruneMessage = "objects of tenant " + names + " kept (its files failed to render, or its objects failed)";
    }
    std::string blocked = pruneBlocker();
    if (!blocked.empty()) {
      // Said only when there may be something to prune.
      bool somethingToPrune = !candidates_.empty() || listFailed_;
      for (const auto& [key, ref] : stored_.entries())
        if (!index_.contains(viewOf(key))) somethingToPrune = true;
      if (somethingToPrune) {
        report_.pruneSkipped = true;
        report_.pruneMessage = blocked;
        if (blocked.starts_with("the revision renders to no objects")) report_.errors.push_back("prune refused: " + blocked);
        spdlog::warn("prune skipped: {}", blocked);
      }
      return;
    }
    if (candidates_.empty()) return;

    std::sort(candidates_.begin(), candidates_.end(), [](const Candidate& a, const Candidate& b) {
      return std::tie(a.stage, a.ref.apiVersion, a.ref.kind, a.ref.ns, a.ref.name) <
             std::tie(b.stage, b.ref.apiVersion, b.ref.kind, b.ref.ns, b.ref.name);
    });
    // A LIST that started over (expired continue token) reports some twice.
    candidates_.erase(std::unique(candidates_.begin(), candidates_.end(),
                                  [](const Candidate& a, const Candidate& b) { return a.ref.key() == b.ref.key(); }),
                      candidates_.end());
    std::vector<KindOf> kinds;
    for (const auto& c : candidates_) kinds.push_back(KindOf{c.resource.group, c.resource.kind});
    pruneReports_.resize(candidates_.size());
    std::vector<std::size_t> reportIndex(candidates_.size());
    for (std::size_t i = 0; i < candidates_.size(); ++i) {
      auto& r = pruneReports_[i];
      r.ref = candidates_[i].ref;
      r.health = Health::Unknown;
      r.state = State::Pruned;
      r.tenant = candidates_[i].tenant;
      r.asTenant = pruneAsTenant(candidates_[i]) != nullptr;
    }
    for (const auto& stage : pruneStages(kinds)) {
      parallelFor(stage.size(), o_.parallelism, [&](std::size_t k) {
        std::size_t i = stage[k];
        const Candidate& c = candidates_[i];
        ObjectReport& r = pruneReports_[i];
        if (c.pruneDisabled) {
          r.state = State::Synced;
          r.action = Action::Retained;
          r.healthMessage = "not in Git; kept: " + std::string(kPruneAnnotation) + ": disabled";
          return;
        }
        if (o_.dryRun) {
          r.state = State::Drifted;
          r.action = Action::WouldPrune;
          return;
        }
        ++deletes_;
        const TenantState* as = pruneAsTenant(c);
        kube::KubeClient& deleter = as != nullptr ? *as->client : client_;
        auto d = deleter.remove(c.resource, c.ref.ns, c.ref.name, kube::Propagation::Background, c.uid);
        if (!d && !d.error().notFound()) {
          r.state = State::Failed;
          r.error = c.ref.identity() + ": prune failed: " + describe(d.error());
          return;
        }
        r.action = Action::Pruned;
        std::lock_guard lock(mutex_);
        dropFromInventory_.push_back(c.ref.key());
        spdlog::debug("pruned {}", c.ref.identity());
      });
    }
  }

  // The placed tenant a candidate belongs to, by its label, or by its
  // namespace when it has no label (objects applied before tenants were).
  const TenantState* ownerOf(const Candidate& c) const {
    if (!c.tenant.empty()) {
      auto f = tenantIndex_.find(c.tenant);
      return f == tenantIndex_.end() ? nullptr : &tenants_[f->second];
    }
    if (c.ref.ns.empty()) return nullptr;
    for (const auto& t : tenants_)
      if (t.namespaces.contains(c.ref.ns)) return &t;
    return nullptr;
  }

  // The tenant as which a candidate is deleted: its own objects (applied as
  // the tenant), while the tenant is placed here, healthy, and still owns
  // the namespace. Everything else — the platform's objects, what a Tenant
  // expanded to, and whatever is left of a tenant removed from Git or from
  // this cluster (its namespaces go too) — is deleted by the agent.
  const TenantState* pruneAsTenant(const Candidate& c) const {
    if (!c.appliedAsTenant || c.tenant.empty()) return nullptr;
    auto f = tenantIndex_.find(c.tenant);
    if (f == tenantIndex_.end()) return nullptr;
    const TenantState& t = tenants_[f->second];
    if (!t.namespaces.contains(c.ref.ns)) return nullptr;
    return &t;
  }

  // Candidates that must stay this round whatever else happens: those of a
  // tenant whose files failed to render (the renderer withheld its objects:
  // they are not "removed from Git"), and a tenant's own objects while some
  // of that tenant's objects failed this round. They are neither pruned nor
  // reported, and stay in the inventory.
  void keepTenantsObjects() {
    std::vector<char> tenantFailed(tenants_.size(), 0);
    for (const auto& it : items_)
      if (it.tenant >= 0 && it.obj->asTenant && (it.plan == Plan::Failed || it.plan == Plan::Skipped))
        tenantFailed[static_cast<std::size_t>(it.tenant)] = 1;
    std::erase_if(candidates_, [&](const Candidate& c) {
      const TenantState* owner = ownerOf(c);
      if (owner == nullptr) return false;
      const std::size_t index = owner->index;
      bool keep = owner->info->failed || (pruneAsTenant(c) != nullptr && (tenantFailed[index] || !owner->client));
      if (keep) {
        tenants_[index].pruneKept = true;
        keptForTenants_.insert(owner->info->name);
      }
      return keep;
    });
  }

  // Why nothing may be pruned this round; "" when pruning may go ahead. A
  // tenant's own failures (its render errors, its objects) are not the
  // platform's: keepTenantsObjects() confines them to that tenant.
  std::string pruneBlocker() const {
    std::size_t failed = 0;
    for (const auto& it : items_)
      if ((it.plan == Plan::Failed || it.plan == Plan::Skipped) && !(it.obj->asTenant && it.tenant >= 0)) ++failed;
    if (failed > 0) return std::to_string(failed) + " object" + (failed == 1 ? "" : "s") + " failed this round";
    if (listFailed_) return "a LIST failed this round: the set of owned objects is not known";
    if (report_.errors.size() > report_.renderErrors.size()) return "errors this round";
    if (index_.empty() && !o_.allowEmptyPrune && !candidates_.empty())
      return "the revision renders to no objects: refusing to prune all " + std::to_string(candidates_.size()) +
             " owned objects (allow it explicitly to do so)";
    return {};
  }

  // ---- health ---------------------------------------------------------------------------------------

  void waitForHealth() {
    if (o_.dryRun || o_.healthTimeout.count() <= 0) return;
    auto deadline = Clock::now() + o_.healthTimeout;
    for (;;) {
      std::vector<std::size_t> waiting;
      for (std::size_t i = 0; i < items_.size(); ++i)
        if (items_[i].plan == Plan::InSync && items_[i].health == Health::Progressing) waiting.push_back(i);
      if (waiting.empty()) return;
      if (Clock::now() >= deadline) {
        for (auto i : waiting) {
          auto& r = items_[i];
          r.health = Health::Degraded;
          r.healthMessage = "not healthy after " + seconds(o_.healthTimeout) + ": " + r.healthMessage;
        }
        return;
      }
      std::this_thread::sleep_for(o_.pollInterval);
      parallelFor(waiting.size(), o_.parallelism, [&](std::size_t k) {
        Item& it = items_[waiting[k]];
        ++gets_;
        auto live = client_.get(*it.resource, it.obj->ns, it.obj->name);
        if (!live) return;
        auto h = assessHealth(*live);
        it.health = h.health;
        it.healthMessage = h.message;
      });
    }
  }

  // ---- states ---------------------------------------------------------------------------------------

  void finishState(Item& it) {
    auto& r = it;
    switch (it.plan) {
      case Plan::Failed:
      case Plan::Skipped:
        r.state = State::Failed;
        return;
      case Plan::Drifted:
        if (r.state != State::Missing) r.state = State::Drifted;
        return;
      case Plan::Apply:  // not reached: applyAll decides every Apply
      case Plan::Suspect:
        r.state = State::Missing;
        return;
      case Plan::InSync:
        if (r.state == State::Missing) return;  // dry run: custom resource of a CRD not installed yet
        r.state = r.health == Health::Progressing ? State::Progressing : State::Synced;
        return;
    }
  }

  void fail(Item& it, std::string message) {
    if (it.plan != Plan::Failed) ++failed_;
    it.plan = Plan::Failed;
    it.state = State::Failed;
    it.error = std::move(message);
    spdlog::debug("{}", it.error);
  }

  void skip(Item& it, const std::string& why) {
    it.plan = Plan::Skipped;
    it.state = State::Failed;
    it.action = Action::Skipped;
    it.error = it.identity() + ": " + why;
  }

  // Error text about a Secret never carries its values.
  std::string redact(const Item& it, std::string text) const {
    if (!it.isSecret) return text;
    if (it.obj->value.is_null() && !it.packed.empty())
      return redactSecretText(std::move(text), json::from_msgpack(it.packed));
    return redactSecretText(std::move(text), it.obj->value);
  }

  std::string summaryMessage() const {
    std::map<Action, std::size_t> counts;
    for (const auto& o : report_.objects) ++counts[o.action];
    std::string s;
    auto add = [&](Action a, const char* word) {
      if (auto c = counts[a]) s += (s.empty() ? "" : ", ") + std::to_string(c) + " " + word;
    };
    add(Action::Created, "created");
    add(Action::Updated, "updated");
    add(Action::Healed, "healed");
    add(Action::Recreated, "recreated");
    add(Action::Pruned, "pruned");
    add(Action::Retained, "retained");
    add(Action::WouldApply, "would change");
    add(Action::WouldPrune, "would be pruned");
    if (report_.summary.failed) s += (s.empty() ? "" : ", ") + std::to_string(report_.summary.failed) + " failed";
    if (report_.summary.drifted) s += (s.empty() ? "" : ", ") + std::to_string(report_.summary.drifted) + " drifted";
    if (s.empty()) s = "no changes";
    if (report_.pruneSkipped) s += "; prune skipped: " + report_.pruneMessage;
    // Tenants that failed come first: the rest of the line is about what did converge.
    std::string tenants;
    for (const auto& t : report_.tenants)
      if (t.renderFailed || t.failed > 0) tenants += "tenant " + t.name + ": " + t.message + "; ";
    return tenants + s;
  }

  Engine& engine_;
  kube::KubeClient& client_;
  const SyncOptions& o_;
  render::RenderResult& rendered_;
  InventoryStore store_;
  SyncReport report_;
  std::vector<Item> items_;
  std::unordered_map<KeyView, std::size_t, KeyViewHash> index_;
  std::map<std::string, kube::Resource> resources_;
  std::set<ObjectKey> hpaTargets_;
  Inventory stored_;
  std::map<std::string, TypeEntry> listedTypes_;
  std::vector<Candidate> candidates_;
  std::vector<ObjectReport> pruneReports_;
  std::vector<ObjectKey> dropFromInventory_;
  std::deque<TenantState> tenants_;  // deque: TenantState does not move
  std::map<std::string, std::size_t, std::less<>> tenantIndex_;
  std::set<std::string> keptForTenants_;
  // Items of each tenant's ServiceAccount (namespace "") and of its
  // RoleBindings by namespace: what its own objects depend on.
  std::map<std::pair<int, std::string>, std::vector<std::size_t>> tenantRbacItems_;
  bool listFailed_ = false;
  std::mutex mutex_;
  std::atomic<std::size_t> lists_{0}, gets_{0}, applies_{0}, dryRuns_{0}, deletes_{0}, inventoryWrites_{0};
  // The round's circuit breaker and retry budget (circuit_breaker.h).
  CircuitBreaker breaker_{BreakerOptions{o_.breakerThreshold, o_.retryBudget}};
  // For the progress line: writes (applies and drift dry runs) planned and
  // done, objects failed, the step.
  std::atomic<std::size_t> toWrite_{0}, written_{0}, failed_{0};
  std::atomic<const char*> step_{"preparing"};
};

Engine::Engine(kube::KubeClient& client, SyncOptions options) : client_(client), options_(std::move(options)) {}

SyncReport Engine::sync(render::RenderResult rendered) {
  Round round(*this, rendered);
  auto report = round.run();
  // Objects not seen this round (changed, deleted) leave the cache. One
  // sorted array of 64-bit keys (80 kB at 10,000 objects), allocated after
  // the round's own memory is freed: nothing small pins its heap pages.
  std::sort(seenThisRound_.begin(), seenThisRound_.end());
  seenThisRound_.erase(std::unique(seenThisRound_.begin(), seenThisRound_.end()), seenThisRound_.end());
  confirmedInSync_.assign(seenThisRound_.begin(), seenThisRound_.end());
  std::vector<std::uint64_t>().swap(seenThisRound_);
  return report;
}

}  // namespace gitfed::sync
