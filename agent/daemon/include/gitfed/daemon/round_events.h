#pragma once
// Which round writes which Kubernetes Event, and its message
// (agent/daemon/README.md, "Events"): a source that could not be read, a
// revision that did not render, and what a sync did (failed objects, drift
// left alone in report-only mode, applies, heals, prunes; nothing when it
// changed nothing and nothing failed).
//
// Messages are built from counts, the revision, file:line of render errors,
// tenant names and object identities ("Kind ns/name") only: never from an
// error's text or an object's data, so no Secret value can reach them. At
// most kEventExamples names or locations each, at most kMaxEventMessage
// bytes. Pure functions; thread-safe.

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "gitfed/render/diagnostic.h"
#include "gitfed/sync/report.h"

namespace gitfed::daemon {

enum class EventType { Normal, Warning };
std::string_view toString(EventType t);

// What a round tells `kubectl get events`: type, reason, message.
struct RoundEvent {
  EventType type = EventType::Normal;
  std::string reason;   // SourceStale, RenderFailed, SyncFailed, DriftDetected, Applied, DriftHealed, Pruned
  std::string message;
  bool operator==(const RoundEvent&) const = default;
};

inline constexpr std::size_t kEventExamples = 3;
inline constexpr std::size_t kMaxEventMessage = 1024;

// A poll that could not read the source; `keptRevision` is the revision the
// agent goes on with ("" when none is cached).
RoundEvent sourceStaleEvent(const std::string& keptRevision);

// A revision whose platform files did not render (or could not be read):
// nothing applied.
RoundEvent renderFailedEvent(const std::string& revision, const std::vector<render::Diagnostic>& errors);

// A sync of `revision`: what it did, or nullopt when it changed nothing and
// nothing failed. `selfHeal` false: drift is reported, not healed.
std::optional<RoundEvent> syncEvent(const std::string& revision, const sync::SyncReport& report, bool selfHeal);

// The first 12 characters of a commit id.
std::string shortRevision(const std::string& revision);

}  // namespace gitfed::daemon
