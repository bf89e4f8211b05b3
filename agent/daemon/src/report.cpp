#include "gitfed/daemon/report.h"

#include <set>

#include "gitfed/sync/error_groups.h"

namespace gitfed::daemon {
namespace {

status::ClusterStatus base(const ReportContext& c, const std::optional<status::ClusterStatus>& previous) {
  status::ClusterStatus r;
  r.name = c.cluster;
  r.labels = c.labels;
  r.source = {c.url, c.ref, c.revision};
  r.agentVersion = c.agentVersion;
  r.sync.lastAttemptAt = c.now;
  if (previous) {
    r.sync.appliedRevision = previous->sync.appliedRevision;
    r.sync.lastSuccessAt = previous->sync.lastSuccessAt;
  }
  return r;
}

status::Health toStatusHealth(sync::Health h) {
  switch (h) {
    case sync::Health::Healthy: return status::Health::Healthy;
    case sync::Health::Progressing: return status::Health::Progressing;
    case sync::Health::Degraded: return status::Health::Degraded;
    case sync::Health::Unknown: return status::Health::Unknown;
  }
  return status::Health::Unknown;
}

}  // namespace

status::Phase toStatusPhase(sync::Phase p) {
  switch (p) {
    case sync::Phase::Synced: return status::Phase::Synced;
    case sync::Phase::Progressing: return status::Phase::Progressing;
    case sync::Phase::Drifted: return status::Phase::Drifted;
    case sync::Phase::Failed: return status::Phase::Failed;
  }
  return status::Phase::Failed;
}

status::ClusterStatus fromSync(const sync::SyncReport& report, const ReportContext& context,
                               const std::optional<status::ClusterStatus>& previous) {
  status::ClusterStatus r = base(context, previous);
  r.sync.phase = toStatusPhase(report.phase);
  r.sync.message = report.message;
  if (report.ok()) {
    r.sync.appliedRevision = context.revision;
    r.sync.lastSuccessAt = context.now;
  }
  std::set<std::string> objectErrors;
  // Render errors first (a tenant's files), with their file, line and tenant.
  for (const auto& d : report.renderErrors) {
    r.sync.errors.push_back(status::ReportError{d.path, d.line, {}, d.message, d.tenant});
    objectErrors.insert(d.format());
  }
  // Failed objects: one entry per group of the same error (error_groups.h).
  for (const auto& g : sync::groupErrors(report.objects)) {
    const sync::ObjectReport& first = report.objects[g.members.front()];
    if (g.count == 1) {
      r.sync.errors.push_back(status::ReportError{{}, 0, first.ref.id(), first.error, first.tenant});
      continue;
    }
    status::ReportError e{{}, 0, {}, g.message, g.tenant, g.count, {}};
    for (std::size_t k = 0; k < g.members.size() && k < sync::kGroupExamples; ++k)
      e.examples.push_back(report.objects[g.members[k]].ref.id());
    r.sync.errors.push_back(std::move(e));
  }
  for (const auto& o : report.objects)
    if (o.state == sync::State::Failed && !o.error.empty()) objectErrors.insert(o.error);
  // Errors not about one object (a LIST that failed, the inventory...).
  for (const auto& e : report.errors)
    if (!objectErrors.contains(e)) r.sync.errors.push_back(status::ReportError{{}, 0, {}, e});
  const auto& s = report.summary;
  r.summary = status::Summary{s.objects, s.synced, s.drifted, s.missing, s.failed, s.progressing, s.pruned, s.degraded, s.suspended,
                               s.waiting};
  for (const auto& o : report.objects) {
    status::ObjectStatus os;
    os.apiVersion = o.ref.apiVersion;
    os.kind = o.ref.kind;
    os.ns = o.ref.ns;
    os.name = o.ref.name;
    os.tenant = o.tenant;
    os.health = toStatusHealth(o.health);
    switch (o.state) {
      case sync::State::Synced:
        // Only what is not synced and healthy is listed.
        if (o.health != sync::Health::Progressing && o.health != sync::Health::Degraded) continue;
        os.state = status::ObjectState::Progressing;
        break;
      case sync::State::Drifted: os.state = status::ObjectState::Drifted; break;
      case sync::State::Missing: os.state = status::ObjectState::Missing; break;
      case sync::State::Failed: os.state = status::ObjectState::Failed; break;
      case sync::State::Progressing: os.state = status::ObjectState::Progressing; break;
      case sync::State::Pruned: os.state = status::ObjectState::Pruned; break;
      case sync::State::Suspended: os.state = status::ObjectState::Suspended; break;
      case sync::State::Waiting: os.state = status::ObjectState::Waiting; break;
    }
    os.message = !o.error.empty() ? o.error : o.healthMessage;
    for (const auto& d : o.drift)
      os.drift.push_back(status::Drift{d.path, d.desired.value_or(nlohmann::json()), d.live.value_or(nlohmann::json())});
    r.objects.push_back(std::move(os));
  }
  status::limitSize(r);
  return r;
}

status::ClusterStatus fromRenderErrors(const std::vector<render::Diagnostic>& errors, const ReportContext& context,
                                       const std::optional<status::ClusterStatus>& previous) {
  status::ClusterStatus r = base(context, previous);
  r.sync.phase = status::Phase::Failed;
  r.sync.message = std::to_string(errors.size()) + (errors.size() == 1 ? " render error" : " render errors") +
                   "; nothing applied, nothing pruned";
  for (const auto& e : errors) r.sync.errors.push_back(status::ReportError{e.path, e.line, {}, e.message, e.tenant});
  if (previous) {
    // The cluster is as the last applied round left it.
    r.summary = previous->summary;
    r.objects = previous->objects;
    r.truncated = previous->truncated;
  }
  status::limitSize(r);
  return r;
}

status::ClusterStatus asStale(const std::optional<status::ClusterStatus>& last, const ReportContext& context,
                              const std::string& reason) {
  status::ClusterStatus r = last ? *last : base(context, std::nullopt);
  r.name = context.cluster;
  r.labels = last ? last->labels : context.labels;
  r.source = {context.url, context.ref, context.revision};
  r.agentVersion = context.agentVersion;
  r.sync.phase = status::Phase::Stale;
  r.sync.lastAttemptAt = context.now;
  r.sync.message = "source not read: " + reason;
  return r;
}

}  // namespace gitfed::daemon
