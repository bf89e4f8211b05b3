// Stage: prune (stages.h, agent/sync/README.md "A round", step 7): owned
// objects no longer in Git, deleted in reverse stage order, never when
// anything failed this round; inventory entries that are gone forgotten.

#include <algorithm>
#include <set>

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
  for (const auto& stage : pruneStages(kinds)) {
    parallelFor(stage.size(), s.options.parallelism, [&](std::size_t k) {
      std::size_t i = stage[k];
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
    });
  }
}

}  // namespace gitfed::sync::stage
