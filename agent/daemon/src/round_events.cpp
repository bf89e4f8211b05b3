// Which round writes which Event (round_events.h).

#include "gitfed/daemon/round_events.h"

namespace gitfed::daemon {

namespace {

std::string plural(std::size_t n, std::string_view one, std::string_view many) {
  return std::to_string(n) + " " + std::string(n == 1 ? one : many);
}

// "A, B, C and 2 more".
std::string examples(const std::vector<std::string>& names) {
  std::string s;
  for (std::size_t i = 0; i < names.size() && i < kEventExamples; ++i) s += (i ? ", " : "") + names[i];
  if (names.size() > kEventExamples) s += " and " + std::to_string(names.size() - kEventExamples) + " more";
  return s;
}

// "apps/web.yaml:14 (tenant blog)": where, never what.
std::vector<std::string> locations(const std::vector<render::Diagnostic>& errors) {
  std::vector<std::string> out;
  for (const auto& e : errors) {
    if (e.path.empty()) continue;
    std::string l = e.path;
    if (e.line > 0) l += ":" + std::to_string(e.line);
    if (!e.tenant.empty()) l += " (tenant " + e.tenant + ")";
    out.push_back(std::move(l));
  }
  return out;
}

// At most kMaxEventMessage bytes, cut on a UTF-8 character boundary.
std::string bounded(std::string s) {
  if (s.size() <= kMaxEventMessage) return s;
  std::size_t cut = kMaxEventMessage - 3;
  while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80) --cut;
  s.resize(cut);
  return s + "...";
}

RoundEvent make(EventType type, std::string reason, std::string message) {
  return RoundEvent{type, std::move(reason), bounded(std::move(message))};
}

// What a sync did, counted from the objects' actions and states.
struct Tally {
  std::size_t created = 0, updated = 0, recreated = 0, healed = 0, pruned = 0;
  std::vector<std::string> failed, drifted, healedNames;

  explicit Tally(const sync::SyncReport& r) {
    for (const auto& o : r.objects) {
      switch (o.action) {
        case sync::Action::Created: ++created; break;
        case sync::Action::Updated: ++updated; break;
        case sync::Action::Recreated: ++recreated; break;
        case sync::Action::Healed: ++healed, healedNames.push_back(o.ref.identity()); break;
        case sync::Action::Pruned: ++pruned; break;
        default: break;
      }
      if (o.state == sync::State::Failed) failed.push_back(o.ref.identity());
      if (o.state == sync::State::Drifted || o.state == sync::State::Missing) drifted.push_back(o.ref.identity());
    }
  }
  std::size_t applied() const { return created + updated + recreated; }

  // "2 created, 1 updated, 1 healed (ConfigMap shop/web), 1 pruned"; "" for none.
  std::string changes(bool nameHealed) const {
    std::string s;
    auto add = [&](std::size_t n, const std::string& what) {
      if (n) s += (s.empty() ? "" : ", ") + std::to_string(n) + " " + what;
    };
    add(created, "created");
    add(updated, "updated");
    add(recreated, "recreated");
    add(healed, nameHealed ? "healed (" + examples(healedNames) + ")" : "healed");
    add(pruned, "pruned");
    return s;
  }
};

}  // namespace

std::string_view toString(EventType t) { return t == EventType::Warning ? "Warning" : "Normal"; }

std::string shortRevision(const std::string& revision) { return revision.substr(0, 12); }

RoundEvent sourceStaleEvent(const std::string& keptRevision) {
  return make(EventType::Warning, "SourceStale",
              keptRevision.empty() ? "source not read; no revision cached"
                                   : "source not read; keeping revision " + shortRevision(keptRevision));
}

RoundEvent renderFailedEvent(const std::string& revision, const std::vector<render::Diagnostic>& errors) {
  std::string m = "revision " + shortRevision(revision) + " not applied: " +
                  plural(errors.size(), "render error", "render errors");
  if (auto where = locations(errors); !where.empty()) m += " at " + examples(where);
  return make(EventType::Warning, "RenderFailed", std::move(m));
}

std::optional<RoundEvent> syncEvent(const std::string& revision, const sync::SyncReport& report, bool selfHeal) {
  const Tally t(report);
  const std::string head = "revision " + shortRevision(revision) + ": ";
  const std::string objects = plural(report.summary.objects, "object", "objects");
  auto tail = [&](bool nameHealed = false) {
    const std::string c = t.changes(nameHealed);
    return (c.empty() ? "" : "; " + c) + "; " + objects;
  };

  if (!report.renderErrors.empty()) {
    // Only tenants' files failed (a platform failure never reaches a sync).
    std::string m = head + plural(report.renderErrors.size(), "render error", "render errors");
    if (auto where = locations(report.renderErrors); !where.empty()) m += " at " + examples(where);
    if (!t.failed.empty()) m += "; " + plural(t.failed.size(), "object", "objects") + " failed";
    return make(EventType::Warning, "RenderFailed", m + tail());
  }
  if (report.phase == sync::Phase::Failed) {
    std::string m = head;
    if (!t.failed.empty())
      m += plural(t.failed.size(), "object", "objects") + " failed (" + examples(t.failed) + ")";
    else
      m += plural(report.errors.size(), "error", "errors");
    if (report.pruneSkipped) m += "; prune skipped";
    return make(EventType::Warning, "SyncFailed", m + tail());
  }
  if (!selfHeal && !t.drifted.empty())
    return make(EventType::Warning, "DriftDetected",
                head + plural(t.drifted.size(), "object", "objects") + " drifted, not healed (report-only): " +
                    examples(t.drifted) + tail());
  if (t.applied() > 0) return make(EventType::Normal, "Applied", head + t.changes(false) + "; " + objects);
  if (t.healed > 0) return make(EventType::Normal, "DriftHealed", head + t.changes(true) + "; " + objects);
  if (t.pruned > 0) return make(EventType::Normal, "Pruned", head + t.changes(false) + "; " + objects);
  return std::nullopt;
}

}  // namespace gitfed::daemon
