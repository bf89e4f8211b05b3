// Stage: server-side apply (stages.h, agent/sync/README.md "A round",
// step 6): depth by depth of config.kubernetes.io/depends-on (each depth
// gated on its dependencies' health: dependencies.cpp); within a depth
// Namespaces and CRDs first, custom resources once their CRD is
// Established, then the renderer's kind order; up to `parallelism` requests
// in flight within a stage; a failure skips only what depends on it. In a
// dry run (`gitfed diff`), what an apply would change.

#include <map>
#include <set>
#include <thread>

#include <spdlog/spdlog.h>

#include "dependencies.h"
#include "describe.h"
#include "gitfed/sync/health.h"
#include "gitfed/sync/order.h"
#include "parallel.h"
#include "stages.h"

namespace gitfed::sync::stage {

using nlohmann::json;

// Why `it` cannot be applied because something it depends on failed; "" when it can.
std::string blockedBy(const RoundState& s, const Item& it) {
  if (auto why = tenantRbacFailed(s, it); !why.empty()) return why;
  if (it.crd) {
    const Item& crd = s.items[*it.crd];
    if (crd.plan == Plan::Failed || crd.plan == Plan::Skipped)
      return "skipped: its CustomResourceDefinition " + crd.obj->name + " failed";
    if (crd.health == Health::Healthy)
      return "skipped: its CustomResourceDefinition " + crd.obj->name + " is Established but the server does not serve " +
             it.apiVersion + " " + it.obj->kind;
    return "skipped: its CustomResourceDefinition " + crd.obj->name + " is not Established";
  }
  if (!it.obj->ns.empty()) {
    auto ns = s.index.find(KeyView{"", "Namespace", "", it.obj->ns});
    if (ns != s.index.end()) {
      const Item& n = s.items[ns->second];
      if ((n.plan == Plan::Failed || n.plan == Plan::Skipped) && !n.listed)
        return "skipped: Namespace " + it.obj->ns + " could not be created";
    }
  }
  return {};
}

namespace {

void waitForCrds(RoundState& s) {
  // CRDs with custom resources waiting for them.
  // Not those still to be applied (a later depth of the dependencies).
  std::set<std::size_t> needed;
  for (const auto& it : s.items)
    if (it.crd && it.plan != Plan::Failed && s.items[*it.crd].plan != Plan::Apply) needed.insert(*it.crd);
  if (needed.empty()) return;
  auto deadline = Clock::now() + s.options.crdEstablishedTimeout;
  for (auto c : needed) {
    Item& crd = s.items[c];
    if (crd.plan == Plan::Failed || crd.plan == Plan::Skipped) continue;
    bool established = crd.health == Health::Healthy;
    while (!established && !s.options.dryRun) {
      ++s.gets;
      auto live = s.client.get(*crd.resource, "", crd.obj->name);
      if (live) {
        auto h = assessHealth(*live);
        crd.health = h.health;
        crd.healthMessage = h.message;
        established = h.health == Health::Healthy;
        if (h.health == Health::Degraded) break;
      }
      if (established || Clock::now() >= deadline) break;
      std::this_thread::sleep_for(s.options.pollInterval);
    }
    if (!established) continue;
    // Discovery learns the new kind (the client refreshes on a miss); a
    // version the CRD does not serve never appears: give up soon.
    auto served = std::min(deadline, Clock::now() + std::chrono::seconds(10));
    for (auto& it : s.items) {
      if (it.crd != c || it.plan == Plan::Failed) continue;
      for (;;) {
        auto r = s.client.resourceFor(it.apiVersion, it.obj->kind);
        if (r) {
          it.resource = s.intern(*r);
          it.crd.reset();
          break;
        }
        if (!r.error().notFound() || Clock::now() >= served) break;
        std::this_thread::sleep_for(s.options.pollInterval);
      }
    }
  }
  if (s.options.dryRun) {
    for (auto& it : s.items)
      if (it.crd && it.plan == Plan::Apply) {
        it.plan = Plan::InSync;  // reported below as Missing
        it.applyAction = Action::WouldApply;
        it.state = State::Missing;
        it.healthMessage = "its CustomResourceDefinition is not installed yet";
      }
  }
}

// Deletes the live object and waits until it is gone; an error message or "".
std::string recreate(RoundState& s, Item& it) {
  std::string uid = it.liveUid;
  if (uid.empty()) {
    ++s.gets;
    auto live = s.client.get(*it.resource, it.obj->ns, it.obj->name);
    if (!live) return live.error().notFound() ? std::string() : describe(live.error());
    uid = stringAt(*live, {"metadata", "uid"});
  }
  ++s.deletes;
  auto d = s.writer(it).remove(*it.resource, it.obj->ns, it.obj->name, kube::Propagation::Foreground, uid);
  if (!d && !d.error().notFound() && d.error().status != 409) return "delete: " + describe(d.error());
  auto deadline = Clock::now() + s.options.deleteTimeout;
  for (;;) {
    ++s.gets;
    auto live = s.client.get(*it.resource, it.obj->ns, it.obj->name);
    if (!live && live.error().notFound()) return {};
    if (live && stringAt(*live, {"metadata", "uid"}) != uid) return {};
    if (Clock::now() >= deadline) return "the old object was not gone after " + seconds(s.options.deleteTimeout);
    std::this_thread::sleep_for(s.options.pollInterval);
  }
}

void dryRunOne(RoundState& s, Item& it) {
  // In a Namespace this revision creates: the server cannot dry-run it
  // before the Namespace exists; it would be created.
  if (!it.listed && !it.obj->ns.empty()) {
    auto ns = s.index.find(KeyView{"", "Namespace", "", it.obj->ns});
    if (ns != s.index.end() && !s.items[ns->second].listed && s.items[ns->second].state == State::Missing) {
      it.action = Action::WouldApply;
      it.state = State::Missing;
      it.plan = Plan::Drifted;
      return;
    }
  }
  // A tenant's object whose RoleBinding this revision creates: the server
  // cannot authorize a dry run as the tenant yet; it would be created.
  if (!it.listed && tenantRbacPending(s, it)) {
    it.action = Action::WouldApply;
    it.state = State::Missing;
    it.plan = Plan::Drifted;
    return;
  }
  // The live object to compare with: from the LIST, or (not ours yet) a GET.
  if (!it.live && !it.listed) {
    ++s.gets;
    auto live = s.client.get(*it.resource, it.obj->ns, it.obj->name);
    if (live) it.live = std::move(*live);
  }
  ++s.dryRuns;
  auto gate = s.breaker.gate(typeKey(*it.resource), it.identity());
  auto r = s.writer(it).apply(*it.resource, s.body(it), kube::ApplyOptions{"gitfed", true, true, &gate});
  it.action = Action::WouldApply;
  if (!r) {
    std::string msg = s.redact(it, describe(r.error()));
    if (isImmutableError(r.error()) &&
        stringAt(s.desiredTree(it), {"metadata", "annotations", std::string(kForceAnnotation).c_str()}) == "true") {
      it.healthMessage = "would be deleted and recreated (immutable field; " + std::string(kForceAnnotation) + ")";
      it.state = State::Drifted;
      it.plan = Plan::Drifted;
      return;
    }
    s.fail(it, it.identity() + ": dry-run apply failed: " + msg);
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

void applyOne(RoundState& s, Item& it) {
  const std::string identity = it.identity();
  if (s.options.dryRun) {
    dryRunOne(s, it);
    return;
  }
  // Objects with ignored fields that we did not see: learn the live values first.
  if (!it.ignore.empty() && !it.listed) {
    ++s.gets;
    if (auto live = s.client.get(*it.resource, it.obj->ns, it.obj->name))
      for (const auto& p : it.ignore.pointers())
        if (const json* v = findAt(*live, p)) it.ignoredLive.emplace_back(p, *v);
  }
  // A persistent error of this type opened its circuit: not sent.
  if (auto open = s.breaker.openFor(typeKey(*it.resource))) {
    s.fail(it, identity + ": apply failed: " + s.redact(it, describe(*open)));
    return;
  }
  auto gate = s.breaker.gate(typeKey(*it.resource), identity);
  kube::ApplyOptions gated;
  gated.retryGate = &gate;
  ++s.applies;
  kube::KubeClient& writer = s.writer(it);
  auto r = writer.apply(*it.resource, s.body(it), gated);
  while (!r && rbacMayLag(s, it, r.error())) {
    std::this_thread::sleep_for(s.options.pollInterval);
    ++s.applies;
    r = writer.apply(*it.resource, s.body(it), gated);
  }
  if (!r && isImmutableError(r.error())) {
    if (stringAt(s.desiredTree(it), {"metadata", "annotations", std::string(kForceAnnotation).c_str()}) != "true") {
      s.fail(it, identity + ": apply failed: " + s.redact(it, describe(r.error())) +
                   " (an immutable field changed: set annotation " + std::string(kForceAnnotation) +
                   ": \"true\" on the object to delete and recreate it)");
      return;
    }
    if (auto err = recreate(s, it); !err.empty()) {
      s.fail(it, identity + ": recreate failed: " + err);
      return;
    }
    ++s.applies;
    r = writer.apply(*it.resource, s.body(it), gated);
    if (r) it.applyAction = Action::Recreated;
  }
  if (!r) {
    s.fail(it, identity + ": apply failed: " + s.redact(it, describe(r.error())));
    return;
  }
  auto h = assessHealth(*r);
  it.health = h.health;
  it.healthMessage = h.message;
  it.action = it.applyAction;
  s.markInSync(it);
  if (!it.warnDrift.empty()) {  // applied with the live values of its warn fields, which still differ
    it.drift = std::move(it.warnDrift);
    it.plan = Plan::Drifted;
  }
  spdlog::debug("{} {}", toString(it.action), identity);
}

// `indices` in apply stages; up to `workers` requests at once. The CRDs
// that custom resources wait for are awaited before the first stage after
// Namespaces and CRDs (the platform's pass does it for everyone).
void applyStaged(RoundState& s, const std::vector<std::size_t>& indices, unsigned workers, bool waitCrds) {
  std::vector<KindOf> kinds;
  kinds.reserve(indices.size());
  for (auto i : indices) kinds.push_back(KindOf{s.items[i].obj->group, s.items[i].obj->kind});
  auto stages = applyStages(kinds);
  bool crdsWaited = !waitCrds;
  for (const auto& stage : stages) {
    bool first = !stage.empty() && isFirstStageKind(s.items[indices[stage.front()]].obj->group,
                                                    s.items[indices[stage.front()]].obj->kind);
    if (!first && !crdsWaited) {
      waitForCrds(s);
      crdsWaited = true;
    }
    std::vector<std::size_t> todo;
    for (auto k : stage) {
      const std::size_t i = indices[k];
      Item& it = s.items[i];
      if (it.plan != Plan::Apply) continue;
      if (auto why = blockedBy(s, it); !why.empty()) {
        s.skip(it, why);
        continue;
      }
      todo.push_back(i);
    }
    s.toWrite += todo.size();
    parallelFor(todo.size(), workers, [&](std::size_t k) {
      Item& it = s.items[todo[k]];
      try {
        applyOne(s, it);
      } catch (const std::exception& e) {
        s.fail(it, it.identity() + ": apply failed: " + e.what());
      }
      ++s.written;
    });
  }
  if (!crdsWaited) waitForCrds(s);
}

// `indices` depth by depth of their dependencies (agent/sync/README.md,
// "Dependencies"), each depth gated and then applied in stages; all at once
// when nothing depends on anything, and in a dry run.
void applyInOrder(RoundState& s, const std::vector<std::size_t>& indices, const std::vector<std::size_t>& depth,
                  unsigned workers, bool waitCrds) {
  std::map<std::size_t, std::vector<std::size_t>> byDepth;
  for (auto i : indices) byDepth[s.options.dryRun ? 0 : depth[i]].push_back(i);
  for (const auto& [d, group] : byDepth) {
    if (d > 0) gateOnDependencies(s, group);
    applyStaged(s, group, workers, waitCrds);
  }
}

}  // namespace

// The platform's objects (with everything Tenants expand to) first, stage
// by stage; then each tenant's own objects, stage by stage, as the tenant,
// tenants side by side. A tenant's failures stay its own.
void apply(RoundState& s) {
  std::vector<std::size_t> platform;
  std::map<int, std::vector<std::size_t>> byTenant;
  for (std::size_t i = 0; i < s.items.size(); ++i) {
    if (s.items[i].obj->asTenant && s.items[i].tenant >= 0)
      byTenant[s.items[i].tenant].push_back(i);
    else
      platform.push_back(i);
  }
  const auto depth = dependencyDepths(s);
  applyInOrder(s, platform, depth, s.options.parallelism, /*waitCrds=*/true);
  if (byTenant.empty()) return;
  noteFreshRbac(s);
  std::vector<const std::vector<std::size_t>*> groups;
  for (const auto& [t, indices] : byTenant) groups.push_back(&indices);
  const auto tenantsAtOnce = static_cast<unsigned>(std::min<std::size_t>(groups.size(), s.options.parallelism));
  const unsigned each = std::max(1u, s.options.parallelism / std::max(1u, tenantsAtOnce));
  parallelFor(groups.size(), tenantsAtOnce, [&](std::size_t g) {
    try {
      applyInOrder(s, *groups[g], depth, each, /*waitCrds=*/false);
    } catch (const std::exception& e) {
      // applyOne catches its own; this is what is left (e.g. allocation).
      for (auto i : *groups[g])
        if (s.items[i].plan == Plan::Apply) s.fail(s.items[i], s.items[i].identity() + ": apply failed: " + e.what());
    }
  });
}

}  // namespace gitfed::sync::stage
