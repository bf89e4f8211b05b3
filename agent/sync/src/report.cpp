#include "gitfed/sync/report.h"

#include <map>

namespace gitfed::sync {

std::string_view toString(State s) {
  switch (s) {
    case State::Synced: return "Synced";
    case State::Drifted: return "Drifted";
    case State::Missing: return "Missing";
    case State::Failed: return "Failed";
    case State::Progressing: return "Progressing";
    case State::Pruned: return "Pruned";
    case State::Suspended: return "Suspended";
    case State::Waiting: return "Waiting";
  }
  return "Unknown";
}

std::string_view toString(Health h) {
  switch (h) {
    case Health::Healthy: return "Healthy";
    case Health::Progressing: return "Progressing";
    case Health::Degraded: return "Degraded";
    case Health::Unknown: return "Unknown";
  }
  return "Unknown";
}

std::string_view toString(Phase p) {
  switch (p) {
    case Phase::Synced: return "Synced";
    case Phase::Progressing: return "Progressing";
    case Phase::Drifted: return "Drifted";
    case Phase::Failed: return "Failed";
  }
  return "Failed";
}

std::string_view toString(Action a) {
  switch (a) {
    case Action::None: return "none";
    case Action::Created: return "created";
    case Action::Updated: return "updated";
    case Action::Healed: return "healed";
    case Action::Recreated: return "recreated";
    case Action::Pruned: return "pruned";
    case Action::Retained: return "retained";
    case Action::Skipped: return "skipped";
    case Action::WouldApply: return "would-apply";
    case Action::WouldPrune: return "would-prune";
  }
  return "none";
}

void finalize(SyncReport& report) {
  Summary s;
  bool unhealthy = false;
  for (const auto& o : report.objects) {
    switch (o.state) {
      case State::Synced: ++s.synced; break;
      case State::Drifted: ++s.drifted; break;
      case State::Missing: ++s.missing; break;
      case State::Failed: ++s.failed; break;
      case State::Progressing: ++s.progressing; break;
      case State::Pruned: ++s.pruned; break;
      case State::Suspended: ++s.suspended; break;
      case State::Waiting: ++s.waiting; break;
    }
    if (o.state != State::Pruned && o.action != Action::Retained && o.action != Action::WouldPrune) {
      ++s.objects;
      if (o.health == Health::Progressing || o.health == Health::Degraded) unhealthy = true;
      if (o.health == Health::Degraded) ++s.degraded;
    }
  }
  report.summary = s;
  if (!report.errors.empty() || s.failed > 0)
    report.phase = Phase::Failed;
  else if (s.drifted > 0 || s.missing > 0)
    report.phase = Phase::Drifted;
  else if (s.progressing > 0 || s.waiting > 0 || unhealthy)
    report.phase = Phase::Progressing;
  else
    report.phase = Phase::Synced;
}

nlohmann::json toJson(const ObjectReport& o) {
  nlohmann::json j = {{"apiVersion", o.ref.apiVersion}, {"kind", o.ref.kind}};
  if (!o.ref.ns.empty()) j["namespace"] = o.ref.ns;
  j["name"] = o.ref.name;
  if (!o.tenant.empty()) {
    j["tenant"] = o.tenant;
    if (o.asTenant) j["asTenant"] = true;
  }
  j["state"] = toString(o.state);
  j["health"] = toString(o.health);
  if (!o.healthMessage.empty()) j["healthMessage"] = o.healthMessage;
  j["action"] = toString(o.action);
  if (!o.source.empty()) j["source"] = o.source;
  if (!o.drift.empty()) {
    auto& d = j["drift"] = nlohmann::json::array();
    for (const auto& e : o.drift)
      d.push_back({{"path", e.path}, {"desired", e.desired ? *e.desired : nlohmann::json()},
                   {"live", e.live ? *e.live : nlohmann::json()}});
  }
  if (!o.error.empty()) j["error"] = o.error;
  return j;
}

nlohmann::json toJson(const SyncReport& r) {
  nlohmann::json j;
  j["phase"] = toString(r.phase);
  j["message"] = r.message;
  j["errors"] = r.errors;
  j["summary"] = {{"objects", r.summary.objects}, {"synced", r.summary.synced},   {"drifted", r.summary.drifted},
                  {"missing", r.summary.missing}, {"failed", r.summary.failed},   {"progressing", r.summary.progressing},
                  {"degraded", r.summary.degraded}, {"suspended", r.summary.suspended},
                  {"waiting", r.summary.waiting}, {"pruned", r.summary.pruned}};
  if (r.pruneSkipped) j["pruneSkipped"] = r.pruneMessage;
  if (!r.renderErrors.empty()) {
    auto& errors = j["renderErrors"] = nlohmann::json::array();
    for (const auto& d : r.renderErrors) {
      nlohmann::json e = {{"message", d.message}};
      if (!d.path.empty()) e["file"] = d.path;
      if (d.line > 0) e["line"] = d.line;
      if (!d.tenant.empty()) e["tenant"] = d.tenant;
      errors.push_back(std::move(e));
    }
  }
  if (!r.tenants.empty()) {
    auto& tenants = j["tenants"] = nlohmann::json::array();
    for (const auto& t : r.tenants) {
      nlohmann::json e = {{"name", t.name},          {"namespaces", t.namespaces}, {"user", t.user},
                          {"renderFailed", t.renderFailed}, {"objects", t.objects}, {"failed", t.failed}};
      if (t.pruneSkipped) e["pruneSkipped"] = true;
      if (!t.message.empty()) e["message"] = t.message;
      tenants.push_back(std::move(e));
    }
  }
  j["stats"] = {{"lists", r.stats.lists},     {"gets", r.stats.gets},       {"applies", r.stats.applies},
                {"dryRuns", r.stats.dryRuns}, {"deletes", r.stats.deletes}, {"inventoryWrites", r.stats.inventoryWrites},
                {"seconds", r.stats.seconds}};
  auto& objects = j["objects"] = nlohmann::json::array();
  for (const auto& o : r.objects) objects.push_back(toJson(o));
  return j;
}

namespace {

// "2 degraded: Deployment shop/web (progress deadline exceeded), Job shop/j
// (BackoffLimitExceeded); " or "": at most kDegradedNamed objects named.
constexpr std::size_t kDegradedNamed = 3;

// "N WORD: A (its message), B; " naming the first kDegradedNamed objects that `pick` picks.
template <class Pick>
std::string namedPart(const SyncReport& report, std::size_t count, const char* word, Pick pick) {
  if (count == 0) return {};
  std::string s = std::to_string(count) + " " + word + ": ";
  std::size_t named = 0;
  for (const auto& o : report.objects) {
    if (!pick(o) || named == kDegradedNamed) continue;
    s += (named++ ? ", " : "") + o.ref.identity();
    if (!o.healthMessage.empty()) s += " (" + o.healthMessage + ")";
  }
  if (count > named) s += " and " + std::to_string(count - named) + " more";
  return s + "; ";
}

std::string degradedPart(const SyncReport& report) {
  return namedPart(report, report.summary.degraded, "degraded",
                   [](const ObjectReport& o) { return o.health == Health::Degraded && o.state != State::Pruned; });
}

std::string waitingPart(const SyncReport& report) {
  return namedPart(report, report.summary.waiting, "waiting",
                   [](const ObjectReport& o) { return o.state == State::Waiting; });
}

}  // namespace

std::string summaryMessage(const SyncReport& report) {
  std::map<Action, std::size_t> counts;
  for (const auto& o : report.objects) ++counts[o.action];
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
  if (report.summary.suspended) s += (s.empty() ? "" : ", ") + std::to_string(report.summary.suspended) + " suspended";
  add(Action::WouldApply, "would change");
  add(Action::WouldPrune, "would be pruned");
  if (report.summary.failed) s += (s.empty() ? "" : ", ") + std::to_string(report.summary.failed) + " failed";
  if (report.summary.drifted) s += (s.empty() ? "" : ", ") + std::to_string(report.summary.drifted) + " drifted";
  if (s.empty()) s = "no changes";
  if (report.pruneSkipped) s += "; prune skipped: " + report.pruneMessage;
  // Tenants that failed come first, then the degraded and the waiting objects: the rest of
  // the line is about what did converge.
  std::string tenants;
  for (const auto& t : report.tenants)
    if (t.renderFailed || t.failed > 0) tenants += "tenant " + t.name + ": " + t.message + "; ";
  return tenants + degradedPart(report) + waitingPart(report) + s;
}

}  // namespace gitfed::sync
