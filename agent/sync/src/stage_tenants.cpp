// Stage: the tenants placed on the cluster (stages.h; docs/render-spec.md
// section 10, agent/sync/README.md "Tenants").

#include <cassert>

#include <spdlog/spdlog.h>

#include "describe.h"
#include "stages.h"

namespace gitfed::sync::stage {

using nlohmann::json;

namespace {

// The tenant's ServiceAccount and its RoleBindings in the object's namespace.
std::vector<const Item*> tenantRbacOf(const RoundState& s, const Item& it) {
  std::vector<const Item*> out;
  for (const std::string& ns : {std::string(), it.obj->ns})
    if (auto f = s.tenantRbacItems.find({it.tenant, ns}); f != s.tenantRbacItems.end())
      for (auto i : f->second) out.push_back(&s.items[i]);
  return out;
}

// The placed tenant a candidate belongs to, by its label, or by its
// namespace when it has no label (objects applied before tenants were).
const TenantState* ownerOf(const RoundState& s, const Candidate& c) {
  if (!c.tenant.empty()) {
    auto f = s.tenantIndex.find(c.tenant);
    return f == s.tenantIndex.end() ? nullptr : &s.tenants[f->second];
  }
  if (c.ref.ns.empty()) return nullptr;
  for (const auto& t : s.tenants)
    if (t.namespaces.contains(c.ref.ns)) return &t;
  return nullptr;
}

}  // namespace

// The tenants placed on the cluster, an impersonating client each, and the
// render errors of those whose files failed (their own objects are not in
// s.rendered.objects: the renderer withheld them).
void setUpTenants(RoundState& s) {
  for (const auto& info : s.rendered.tenants) {
    auto& t = s.tenants.emplace_back();
    t.index = s.tenants.size() - 1;
    t.info = &info;
    t.namespaces.insert(info.namespaces.begin(), info.namespaces.end());
    s.tenantIndex.emplace(info.name, s.tenants.size() - 1);
    if (info.namespaces.empty()) {
      t.clientError = "it has no namespace";
      continue;
    }
    auto view = s.client.impersonating(info.user());
    if (view)
      t.client = std::move(*view);
    else
      t.clientError = "cannot impersonate " + info.user() + ": " + describe(view.error());
  }
  for (const auto& d : s.rendered.errors) {
    s.report.errors.push_back(d.format());
    s.report.renderErrors.push_back(d);
    if (auto t = s.tenantIndex.find(d.tenant); t != s.tenantIndex.end()) ++s.tenants[t->second].renderErrors;
  }
}

// The client that writes `it`: the tenant's impersonating one for a
// tenant's own objects, else the agent's.
// The tenant of `it` (prepare), its labels, and whether it is part of the
// tenant's RBAC. False (and the item failed) when it cannot be written.
bool prepareTenant(RoundState& s, Item& it, json& meta) {
  auto& o = *it.obj;
  // The platform's own objects are left as Git writes them: a tenant label
  // there can only make pruning keep or impersonate (fewer rights), never more.
  if (o.tenant.empty()) return true;
  auto found = s.tenantIndex.find(o.tenant);
  if (found == s.tenantIndex.end()) {
    s.fail(it, it.identity() + ": tenant " + o.tenant + " is not placed on this cluster (renderer error)");
    return false;
  }
  it.tenant = static_cast<int>(found->second);
  const TenantState& t = s.tenants[found->second];
  if (o.asTenant && !t.client) {
    s.fail(it, it.identity() + ": not applied as tenant " + o.tenant + ": " + t.clientError);
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
  const auto index = static_cast<std::size_t>(&it - s.items.data());
  if (o.group.empty() && o.kind == "ServiceAccount" && o.ns == accountNs && o.name == t.info->serviceAccount) {
    it.tenantAccount = true;
    s.tenantRbacItems[{it.tenant, ""}].push_back(index);
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
        s.tenantRbacItems[{it.tenant, o.ns}].push_back(index);
      }
    }
  return true;
}

// After the platform's stage: which tenants had their RBAC written now.
void noteFreshRbac(RoundState& s) {
  const auto deadline = Clock::now() + s.options.rbacPropagationTimeout;
  for (const auto& it : s.items) {
    if (it.tenant < 0 || it.obj->asTenant) continue;
    const bool rbac = it.tenantBinding || it.tenantAccount || (it.obj->group.empty() && it.obj->kind == "Namespace");
    const bool written = it.action == Action::Created || it.action == Action::Updated ||
                         it.action == Action::Healed || it.action == Action::Recreated;
    if (!rbac || !written) continue;
    auto& t = s.tenants[static_cast<std::size_t>(it.tenant)];
    t.rbacFresh = true;
    t.rbacDeadline = deadline;
  }
}

// Why the tenant's own `it` cannot be written because the tenant's
// ServiceAccount, or its RoleBinding in the object's namespace, failed; "".
std::string tenantRbacFailed(const RoundState& s, const Item& it) {
  if (!it.obj->asTenant || it.tenant < 0) return {};
  for (const Item* other : tenantRbacOf(s, it))
    if (other->plan == Plan::Failed || other->plan == Plan::Skipped)
      return "skipped: tenant " + it.obj->tenant + "'s " + other->identity() + " could not be applied";
  return {};
}

// Dry run: the tenant's ServiceAccount or RoleBinding in the object's
// namespace does not exist yet (it would be created), so a dry run as the
// tenant cannot be authorized yet.
bool tenantRbacPending(const RoundState& s, const Item& it) {
  if (!it.obj->asTenant || it.tenant < 0) return false;
  for (const Item* other : tenantRbacOf(s, it))
    if (!other->listed && other->state == State::Missing) return true;
  return false;
}

void reportTenants(RoundState& s) {
  std::map<std::string, TenantReport*, std::less<>> byName;
  s.report.tenants.reserve(s.tenants.size());
  for (const auto& t : s.tenants) {
    TenantReport r;
    r.name = t.info->name;
    r.namespaces = t.info->namespaces;
    if (!t.info->namespaces.empty()) r.user = t.info->user();
    r.renderFailed = t.info->failed;
    r.pruneSkipped = t.pruneKept;
    s.report.tenants.push_back(std::move(r));
  }
  for (auto& r : s.report.tenants) byName[r.name] = &r;
  for (const auto& o : s.report.objects) {
    if (o.tenant.empty()) continue;
    auto f = byName.find(o.tenant);
    if (f == byName.end()) continue;
    if (o.state != State::Pruned) ++f->second->objects;
    if (o.state == State::Failed) ++f->second->failed;
  }
  for (std::size_t i = 0; i < s.tenants.size(); ++i) {
    auto& r = s.report.tenants[i];
    const auto& t = s.tenants[i];
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
// A 403 from RBAC for a tenant's own object in one of its namespaces while
// the tenant's RBAC written this round may not be known to the authorizer
// yet (its cache follows a watch): worth another try until the deadline.
bool rbacMayLag(const RoundState& s, const Item& it, const kube::Error& e) {
  if (!it.obj->asTenant || it.tenant < 0 || !isAuthorizationDenial(e)) return false;
  const auto& t = s.tenants[static_cast<std::size_t>(it.tenant)];
  if (!t.rbacFresh || !t.namespaces.contains(it.obj->ns)) return false;
  if (Clock::now() >= t.rbacDeadline) return false;
  spdlog::debug("{}: 403 as tenant {} right after its RBAC was written; trying again", it.identity(), it.obj->tenant);
  return true;
}

// The tenant as which a candidate is deleted: its own objects (applied as
// the tenant), while the tenant is placed here, healthy, and still owns
// the namespace. Everything else — the platform's objects, what a Tenant
// expanded to, and whatever is left of a tenant removed from Git or from
// this cluster (its namespaces go too) — is deleted by the agent.
const TenantState* pruneAsTenant(const RoundState& s, const Candidate& c) {
  if (!c.appliedAsTenant || c.tenant.empty()) return nullptr;
  auto f = s.tenantIndex.find(c.tenant);
  if (f == s.tenantIndex.end()) return nullptr;
  const TenantState& t = s.tenants[f->second];
  if (!t.namespaces.contains(c.ref.ns)) return nullptr;
  return &t;
}

// Candidates that must stay this round whatever else happens: those of a
// tenant whose files failed to render (the renderer withheld its objects:
// they are not "removed from Git"), and a tenant's own objects while some
// of that tenant's objects failed this round. They are neither pruned nor
// reported, and stay in the inventory.
void keepTenantsObjects(RoundState& s) {
  std::vector<char> tenantFailed(s.tenants.size(), 0);
  for (const auto& it : s.items)
    if (it.tenant >= 0 && it.obj->asTenant && (it.plan == Plan::Failed || it.plan == Plan::Skipped))
      tenantFailed[static_cast<std::size_t>(it.tenant)] = 1;
  std::erase_if(s.candidates, [&](const Candidate& c) {
    const TenantState* owner = ownerOf(s, c);
    if (owner == nullptr) return false;
    const std::size_t index = owner->index;
    bool keep = owner->info->failed || (pruneAsTenant(s, c) != nullptr && (tenantFailed[index] || !owner->client));
    if (keep) {
      s.tenants[index].pruneKept = true;
      s.keptForTenants.insert(owner->info->name);
    }
    return keep;
  });
}

// Why nothing may be pruned this round; "" when pruning may go ahead. A

}  // namespace gitfed::sync::stage
