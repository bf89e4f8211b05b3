// Stage: prune (stages.h, agent/sync/README.md "A round", step 7): owned
// objects no longer in Git, deleted in reverse stage order, never when
// anything failed this round; inventory entries that are gone forgotten.

#include <algorithm>
#include <map>
#include <set>
#include <thread>

#include <spdlog/spdlog.h>

#include "describe.h"
#include "gitfed/sync/order.h"
#include "parallel.h"
#include "stages.h"

namespace gitfed::sync::stage {

using nlohmann::json;

// Why nothing may be pruned this round; "" when pruning may go ahead. A
// tenant's own failures (its render errors, its objects) are not the
// platform's: keepTenantsObjects() confines them to that tenant.
std::string pruneBlocker(const RoundState& s) {
  std::size_t failed = 0;
  for (const auto& it : s.items)
    if ((it.plan == Plan::Failed || it.plan == Plan::Skipped) && !(it.obj->asTenant && it.tenant >= 0)) ++failed;
  if (failed > 0) return std::to_string(failed) + " object" + (failed == 1 ? "" : "s") + " failed this round";
  if (s.listFailed) return "a LIST failed this round: the set of owned objects is not known";
  if (s.report.errors.size() > s.report.renderErrors.size()) return "errors this round";
  if (s.index.empty() && !s.options.allowEmptyPrune && !s.candidates.empty())
    return "the revision renders to no objects: refusing to prune all " + std::to_string(s.candidates.size()) +
           " owned objects (allow it explicitly to do so)";
  return {};
}

// ---- prune ------------------------------------------------------------------------------------

namespace {

// The candidates by depth of their live depends-on among themselves (one
// level when none depends on another), and who depends on whom.
struct PruneOrder {
  std::vector<std::vector<std::size_t>> levels;    // by depth, shallowest first
  std::vector<std::vector<std::size_t>> dependents;  // candidates depending on each
  std::vector<char> waitedFor;                       // depends on another candidate, which waits until it is gone
  std::vector<char> gone;                            // pruned and confirmed gone
};

PruneOrder pruneOrder(const RoundState& s) {
  const std::size_t n = s.candidates.size();
  PruneOrder o;
  o.dependents.resize(n);
  o.gone.assign(n, 0);
  o.waitedFor.assign(n, 0);
  std::map<ObjectKey, std::size_t> byKey;
  for (std::size_t i = 0; i < n; ++i) byKey.emplace(s.candidates[i].ref.key(), i);
  std::vector<std::vector<std::size_t>> deps(n);
  bool any = false;
  for (std::size_t i = 0; i < n; ++i)
    for (const auto& k : s.candidates[i].dependsOn) {
      auto f = byKey.find(k);
      // Written without a namespace (the 3-field form), defaulted when applied.
      if (f == byKey.end() && k.ns.empty())
        f = byKey.find(ObjectKey{k.group, k.kind, s.options.defaultNamespace, k.name});
      if (f == byKey.end() || f->second == i) continue;
      deps[i].push_back(f->second);
      any = true;
    }
  if (!any) {
    o.levels.emplace_back(n);
    for (std::size_t i = 0; i < n; ++i) o.levels[0][i] = i;
    return o;
  }
  // Depth by relaxation, at most n passes: a cycle (hand-edited
  // annotations) stops growing there and adds no order among its objects.
  std::vector<std::size_t> depth(n, 0);
  for (std::size_t pass = 0; pass < n; ++pass) {
    bool changed = false;
    for (std::size_t i = 0; i < n; ++i)
      for (auto d : deps[i])
        if (depth[i] < depth[d] + 1 && depth[d] + 1 < n) depth[i] = depth[d] + 1, changed = true;
    if (!changed) break;
  }
  for (std::size_t i = 0; i < n; ++i)
    for (auto d : deps[i])
      if (depth[d] < depth[i]) o.dependents[d].push_back(i), o.waitedFor[i] = 1;  // edges of a cycle are dropped
  const std::size_t deepest = *std::max_element(depth.begin(), depth.end());
  o.levels.resize(deepest + 1);
  for (std::size_t i = 0; i < n; ++i) o.levels[depth[i]].push_back(i);
  return o;
}

// A dependent of candidate `i` that is not known to be gone; "".
std::string dependentStillThere(const RoundState& s, const PruneOrder& o, std::size_t i) {
  for (auto d : o.dependents[i])
    if (!o.gone[d]) return s.candidates[d].ref.identity();
  return {};
}

// The pruned of `indices` that something still to be pruned depends on,
// polled until NotFound (or another uid) or the deadline (deleteTimeout);
// those confirmed gone are marked.
void awaitGone(RoundState& s, PruneOrder& o, const std::vector<std::size_t>& indices) {
  std::vector<std::size_t> waiting;
  for (auto i : indices)
    if (s.pruneReports[i].action == Action::Pruned && o.waitedFor[i]) waiting.push_back(i);
  const auto deadline = Clock::now() + s.options.deleteTimeout;
  while (!waiting.empty()) {
    std::vector<char> goneNow(waiting.size(), 0);
    parallelFor(waiting.size(), s.options.parallelism, [&](std::size_t k) {
      const Candidate& c = s.candidates[waiting[k]];
      ++s.gets;
      auto live = s.client.get(c.resource, c.ref.ns, c.ref.name);
      goneNow[k] = (!live && live.error().notFound()) || (live && stringAt(*live, {"metadata", "uid"}) != c.uid);
    });
    std::vector<std::size_t> still;
    for (std::size_t k = 0; k < waiting.size(); ++k) {
      if (goneNow[k])
        o.gone[waiting[k]] = 1;
      else
        still.push_back(waiting[k]);
    }
    waiting = std::move(still);
    if (waiting.empty() || Clock::now() >= deadline) break;
    std::this_thread::sleep_for(s.options.pollInterval);
  }
}

}  // namespace


void prune(RoundState& s) {
  // Inventory entries not wanted and not found by a LIST that worked: gone
  // already, or no longer ours (label removed): forget them.
  std::set<ObjectKey> candidateKeys;
  for (const auto& c : s.candidates) candidateKeys.insert(c.ref.key());
  for (const auto& [key, ref] : s.stored.entries()) {
    if (s.index.contains(viewOf(key)) || candidateKeys.contains(key)) continue;
    auto r = s.client.resourceFor(ref.apiVersion, ref.kind);
    if (!r) {
      if (r.error().notFound()) s.dropFromInventory.push_back(key);
      continue;
    }
    auto t = s.listedTypes.find(typeKey(*r));
    if (t != s.listedTypes.end() && t->second.ok && !t->second.failedNamespaces.contains(ref.ns))
      s.dropFromInventory.push_back(key);
  }
  if (!s.options.prune) return;
  keepTenantsObjects(s);
  if (!s.keptForTenants.empty()) {
    std::string names;
    for (const auto& n : s.keptForTenants) names += (names.empty() ? "" : ", ") + n;
    s.report.pruneSkipped = true;
    s.report.pruneMessage = "objects of tenant " + names + " kept (its files failed to render, or its objects failed)";
  }
  std::string blocked = pruneBlocker(s);
  if (!blocked.empty()) {
    // Said only when there may be something to prune.
    bool somethingToPrune = !s.candidates.empty() || s.listFailed;
    for (const auto& [key, ref] : s.stored.entries())
      if (!s.index.contains(viewOf(key))) somethingToPrune = true;
    if (somethingToPrune) {
      s.report.pruneSkipped = true;
      s.report.pruneMessage = blocked;
      if (blocked.starts_with("the revision renders to no objects")) s.report.errors.push_back("prune refused: " + blocked);
      spdlog::warn("prune skipped: {}", blocked);
    }
    return;
  }
  if (s.candidates.empty()) return;

  std::sort(s.candidates.begin(), s.candidates.end(), [](const Candidate& a, const Candidate& b) {
    return std::tie(a.stage, a.ref.apiVersion, a.ref.kind, a.ref.ns, a.ref.name) <
           std::tie(b.stage, b.ref.apiVersion, b.ref.kind, b.ref.ns, b.ref.name);
  });
  // A LIST that started over (expired continue token) reports some twice.
  s.candidates.erase(std::unique(s.candidates.begin(), s.candidates.end(),
                                [](const Candidate& a, const Candidate& b) { return a.ref.key() == b.ref.key(); }),
                    s.candidates.end());
  std::vector<KindOf> kinds;
  for (const auto& c : s.candidates) kinds.push_back(KindOf{c.resource.group, c.resource.kind});
  s.pruneReports.resize(s.candidates.size());
  std::vector<std::size_t> reportIndex(s.candidates.size());
  for (std::size_t i = 0; i < s.candidates.size(); ++i) {
    auto& r = s.pruneReports[i];
    r.ref = s.candidates[i].ref;
    r.health = Health::Unknown;
    r.state = State::Pruned;
    r.tenant = s.candidates[i].tenant;
    r.asTenant = pruneAsTenant(s, s.candidates[i]) != nullptr;
  }
  auto pruneOne = [&](std::size_t i) {
    const Candidate& c = s.candidates[i];
    ObjectReport& r = s.pruneReports[i];
    if (c.suspended) {
      r.state = State::Suspended;
      r.healthMessage = "not in Git; kept: " + std::string(kReconcileAnnotation) + ": disabled";
      return;
    }
    if (c.pruneDisabled) {
      r.state = State::Synced;
      r.action = Action::Retained;
      r.healthMessage = "not in Git; kept: " + std::string(kPruneAnnotation) + ": disabled";
      return;
    }
    if (s.options.dryRun) {
      r.state = State::Drifted;
      r.action = Action::WouldPrune;
      return;
    }
    ++s.deletes;
    const TenantState* as = pruneAsTenant(s, c);
    kube::KubeClient& deleter = as != nullptr ? *as->client : s.client;
    auto d = deleter.remove(c.resource, c.ref.ns, c.ref.name, kube::Propagation::Background, c.uid);
    if (!d && !d.error().notFound()) {
      r.state = State::Failed;
      r.error = c.ref.identity() + ": prune failed: " + describe(d.error());
      return;
    }
    r.action = Action::Pruned;
    std::lock_guard lock(s.mutex);
    s.dropFromInventory.push_back(c.ref.key());
    spdlog::debug("pruned {}", c.ref.identity());
  };
  // Reverse dependency order (agent/sync/README.md, "Dependencies"): deepest
  // first; each depth in reverse stage order.
  auto order = pruneOrder(s);
  for (auto level = order.levels.rbegin(); level != order.levels.rend(); ++level) {
    std::vector<std::size_t> now;
    for (auto i : *level) {
      if (auto blocker = dependentStillThere(s, order, i); !blocker.empty()) {
        ObjectReport& r = s.pruneReports[i];
        r.state = State::Synced;
        r.action = Action::Retained;
        r.healthMessage = "not in Git; kept until " + blocker + " is deleted";
        continue;
      }
      now.push_back(i);
    }
    std::vector<KindOf> levelKinds;
    for (auto i : now) levelKinds.push_back(kinds[i]);
    for (const auto& stage : pruneStages(levelKinds))
      parallelFor(stage.size(), s.options.parallelism, [&](std::size_t k) { pruneOne(now[stage[k]]); });
    if (std::next(level) != order.levels.rend()) awaitGone(s, order, now);
  }
}

}  // namespace gitfed::sync::stage
