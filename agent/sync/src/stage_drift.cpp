// Stage: what differs from Git (stages.h, agent/sync/README.md "A round",
// step 4): one paged LIST per resource type with the ownership selector,
// each live object compared locally; suspected drift confirmed by a
// server-side dry-run apply.

#include <map>

#include "describe.h"
#include "gitfed/render/depends_on.h"
#include "gitfed/sync/health.h"
#include "gitfed/sync/order.h"
#include "list_pages.h"
#include "parallel.h"
#include "stages.h"

namespace gitfed::sync::stage {

using nlohmann::json;

namespace {

// The warn fields (drift rules, docs/render-spec.md 7.2) compared on their
// own, each as a desired object holding only that field: the comparison
// keeps its path (quantities where quantities live).
void compareWarnFields(RoundState& s, Item& it, const json& live) {
  it.warnDrift.clear();
  const json& tree = s.desiredTree(it);
  const json desired = it.isSecret && tree.contains("stringData") ? foldStringData(tree) : json();
  const json& want = desired.is_null() ? tree : desired;
  for (const auto& p : it.warn.pointers()) {
    const json* d = findAt(want, p);
    if (!d) continue;  // Git does not set it: nothing to differ from
    json only;
    only[json::json_pointer(toPointer(p))] = *d;
    if (coversDesired(only, live)) continue;
    DriftEntry e;
    e.path = toPointer(p);
    e.desired = *d;
    if (const json* l = findAt(live, p)) e.live = *l;
    it.warnDrift.push_back(std::move(e));
  }
  if (it.isSecret) redactSecretDrift(it.warnDrift);
}

void classify(RoundState& s, Item& it, json& live) {
  it.listed = true;
  it.liveKnown = true;
  it.liveUid = stringAt(live, {"metadata", "uid"});
  it.liveRv = stringAt(live, {"metadata", "resourceVersion"});
  // Suspended (in Git, or by an annotation on the live object): its health
  // is reported, nothing is compared or sent.
  if (it.plan == Plan::Suspended ||
      stringAt(live, {"metadata", "annotations", std::string(kReconcileAnnotation).c_str()}) == "disabled") {
    auto health = assessHealth(live);
    it.health = health.health;
    it.healthMessage = health.message;
    s.markInSync(it);
    it.plan = Plan::Suspended;
    return;
  }
  for (const auto& p : it.ignore.pointers())
    if (const json* v = findAt(live, p)) it.ignoredLive.emplace_back(p, *v);
  if (!it.warn.empty()) compareWarnFields(s, it, live);
  bool labelled = stringAt(live, {"metadata", "labels", std::string(kManagedByLabel).c_str()}) == kManagedByValue;
  bool sameHash = stringAt(live, {"metadata", "annotations", std::string(kAppliedHashAnnotation).c_str()}) == hex(it.hash);
  auto health = assessHealth(live);
  it.health = health.health;
  it.healthMessage = health.message;
  if (!labelled || !sameHash) {
    it.plan = Plan::Apply;
    it.applyAction = Action::Updated;
    if (s.options.dryRun) it.live = std::move(live);
    return;
  }
  // Unchanged (same uid and resourceVersion) since a round found it in
  // sync with what Git still wants (same hash): in sync, nothing to compare.
  const std::uint64_t cacheKey = RoundState::inSyncKey(it);
  if (s.cache.known(cacheKey)) {  // never noted with warn drift
    s.markInSync(it);
    return;
  }
  const json& desired = s.desiredTree(it);
  bool covered = it.isSecret && desired.contains("stringData") ? coversDesired(foldStringData(desired), live, it.ignore)
                                                               : coversDesired(desired, live, it.ignore);
  if (covered) {
    if (!it.warnDrift.empty()) {  // reported, never healed
      it.drift = std::move(it.warnDrift);
      it.plan = Plan::Drifted;
      return;
    }
    s.cache.note(cacheKey);
    s.markInSync(it);
    return;
  }
  it.plan = Plan::Suspect;
  it.live = std::move(live);
}

// One live object this inventory owns.
void observeLive(RoundState& s, const kube::Resource& resource, json& live) {
  if (!live.contains("kind")) live["kind"] = resource.kind;
  if (!live.contains("apiVersion")) live["apiVersion"] = resource.apiVersion();
  ObjectKey key{resource.group, resource.kind, stringAt(live, {"metadata", "namespace"}),
                stringAt(live, {"metadata", "name"})};
  auto found = s.index.find(viewOf(key));
  if (found == s.index.end()) {
    Candidate c;
    c.ref = ObjectRef{resource.apiVersion(), resource.kind, key.ns, key.name};
    c.resource = resource;
    c.uid = stringAt(live, {"metadata", "uid"});
    c.pruneDisabled = stringAt(live, {"metadata", "annotations", std::string(kPruneAnnotation).c_str()}) == "disabled";
    c.suspended = stringAt(live, {"metadata", "annotations", std::string(kReconcileAnnotation).c_str()}) == "disabled";
    c.stage = stageKey(resource.group, resource.kind);
    c.tenant = stringAt(live, {"metadata", "labels", std::string(kTenantLabel).c_str()});
    c.appliedAsTenant = stringAt(live, {"metadata", "labels", std::string(kAppliedAsLabel).c_str()}) == kAppliedAsTenant;
    static const std::string dependsOnKey(render::kDependsOnAnnotation);
    if (auto deps = stringAt(live, {"metadata", "annotations", dependsOnKey.c_str()}); !deps.empty())
      if (auto refs = render::parseDependsOn(deps))
        for (auto& r : *refs) c.dependsOn.push_back(ObjectKey{r.group, r.kind, r.ns, r.name});
    std::lock_guard lock(s.mutex);
    s.candidates.push_back(std::move(c));
    return;
  }
  Item& it = s.items[found->second];
  if (it.plan == Plan::Failed) return;  // desired, failed in prepare: not a prune candidate either
  try {
    classify(s, it, live);
  } catch (const std::exception& e) {
    s.fail(it, it.identity() + ": cannot compare with the live object: " + e.what());
  }
}

void listType(RoundState& s, TypeEntry& t, const std::string& selector) {
  auto onItem = [&](json& live) { observeLive(s, t.resource, live); };
  ++s.lists;
  auto r = listPages(s.client, t.resource, "", selector, s.options.listPageSize, onItem);
  // 404: the type is no longer served (its CRD was deleted; discovery was
  // stale): none of its objects exist.
  if (r || r.error().status == 404) return;
  if (r.error().status == 403 && t.resource.namespaced) {
    // No cluster-wide LIST: one per namespace we care about.
    for (const auto& ns : t.namespaces) {
      if (ns.empty()) continue;
      ++s.lists;
      auto rn = listPages(s.client, t.resource, ns, selector, s.options.listPageSize, onItem);
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

}  // namespace

void observe(RoundState& s) {
  std::map<std::string, TypeEntry> types;
  for (auto& it : s.items) {
    if (it.plan == Plan::Failed || !it.resource) continue;
    auto& t = types[typeKey(*it.resource)];
    t.resource = *it.resource;
    t.namespaces.insert(it.obj->ns);
  }
  // Types only the inventory remembers (objects removed from Git).
  std::map<std::pair<std::string, std::string>, std::optional<kube::Resource>> invTypes;
  for (const auto& [key, ref] : s.stored.entries()) {
    auto k = std::make_pair(ref.apiVersion, ref.kind);
    auto f = invTypes.find(k);
    if (f == invTypes.end()) {
      auto r = s.client.resourceFor(ref.apiVersion, ref.kind);
      f = invTypes.emplace(k, r ? std::optional<kube::Resource>(*r) : std::nullopt).first;
      if (!r && !r.error().notFound()) s.listFailed = true;  // cannot tell: keep it, do not prune this round
    }
    if (!f->second) continue;  // the type is gone (its CRD was deleted): so are its objects
    auto& t = types[typeKey(*f->second)];
    if (t.resource.plural.empty()) t.resource = *f->second;
    t.namespaces.insert(ref.ns);
  }
  std::vector<TypeEntry*> list;
  for (auto& [k, t] : types) list.push_back(&t);
  std::string selector = std::string(kInventoryLabel) + "=" + s.options.inventoryId;
  // One LIST at a time, on this thread: memory holds one page (and what a
  // page frees is reused by the next one); the server is the bottleneck anyway.
  for (auto* t : list) listType(s, *t, selector);

  for (auto& [k, t] : types) {
    if (!t.ok) {
      s.listFailed = true;
      s.report.errors.push_back("list " + t.resource.apiVersion() + " " + t.resource.kind + ": " + t.error);
    }
    s.listedTypes[k] = t;
  }
  // Desired objects the LIST did not return: new, not yet labelled, or unknown.
  for (auto& it : s.items) {
    if (it.plan == Plan::Failed || it.plan == Plan::Suspended || it.listed) continue;
    if (it.resource) {
      const auto& t = s.listedTypes[typeKey(*it.resource)];
      it.liveKnown = t.ok && !t.failedNamespaces.contains(it.obj->ns);
    }
    it.plan = Plan::Apply;
    it.applyAction = it.liveKnown || !it.resource ? Action::Created : Action::Updated;
  }
}

void confirmDrift(RoundState& s) {
  std::vector<std::size_t> suspects;
  for (std::size_t i = 0; i < s.items.size(); ++i)
    if (s.items[i].plan == Plan::Suspect) suspects.push_back(i);
  s.toWrite += suspects.size();
  parallelFor(suspects.size(), s.options.parallelism, [&](std::size_t k) {
    Item& it = s.items[suspects[k]];
    struct Done {
      std::atomic<std::size_t>& n;
      ~Done() { ++n; }
    } done{s.written};
    const std::uint64_t cacheKey = RoundState::inSyncKey(it);
    if (s.cache.known(cacheKey)) {
      s.markInSync(it);
      it.live.reset();
      return;
    }
    auto gate = s.breaker.gate(typeKey(*it.resource), it.identity());
    kube::Result<json> r = std::unexpected(kube::Error{});
    if (auto open = s.breaker.openFor(typeKey(*it.resource))) {
      r = std::unexpected(std::move(*open));
    } else {
      ++s.dryRuns;
      r = s.writer(it).apply(*it.resource, s.body(it), kube::ApplyOptions{"gitfed", true, true, &gate});
    }
    if (!r) {
      // The real apply will say what is wrong (self-heal), or report it.
      if (s.options.driftMode == DriftMode::SelfHeal && !s.options.dryRun) {
        it.plan = Plan::Apply;
        it.applyAction = Action::Healed;
      } else {
        s.fail(it, it.identity() + ": dry-run apply failed: " + s.redact(it, describe(r.error())));
      }
      it.live.reset();
      return;
    }
    auto drift = diffObjects(*r, *it.live, it.ignore);
    it.live.reset();
    if (drift.empty() && !it.warnDrift.empty()) {  // only warn fields differ: reported, never healed
      it.drift = std::move(it.warnDrift);
      it.plan = Plan::Drifted;
      return;
    }
    if (drift.empty()) {
      s.markInSync(it);
      s.cache.note(cacheKey);
      return;
    }
    if (it.isSecret) redactSecretDrift(drift);
    it.drift = std::move(drift);
    if (s.options.driftMode == DriftMode::SelfHeal && !s.options.dryRun) {
      it.plan = Plan::Apply;
      it.applyAction = Action::Healed;
    } else {
      it.plan = Plan::Drifted;
    }
  });
}

}  // namespace gitfed::sync::stage
