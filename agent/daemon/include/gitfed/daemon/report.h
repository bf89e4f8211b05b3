#pragma once
// How one reconcile becomes the cluster's report on the status branch
// (docs/status-spec.md): the sync engine's SyncReport, a failed render, or a
// source that could not be read, each turned into a status::ClusterStatus.
// The previous report carries what outlives a round: the last revision fully
// applied and the last success time. Pure functions; thread-safe.

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "gitfed/render/diagnostic.h"
#include "gitfed/status/report.h"
#include "gitfed/sync/report.h"

namespace gitfed::daemon {

struct ReportContext {
  std::string cluster;
  std::map<std::string, std::string> labels;  // effective (registry overlaid by local)
  std::string url;                            // never with credentials (gitfed::git refuses such URLs)
  std::string ref;
  std::string revision;                       // the commit this round is about
  std::string agentVersion;
  status::Clock::time_point now;
};

// A finished sync round.
status::ClusterStatus fromSync(const sync::SyncReport& report, const ReportContext& context,
                               const std::optional<status::ClusterStatus>& previous);

// A revision that did not render: Failed, every error with its file and line;
// nothing was applied, so the summary and objects are the previous round's.
status::ClusterStatus fromRenderErrors(const std::vector<render::Diagnostic>& errors, const ReportContext& context,
                                       const std::optional<status::ClusterStatus>& previous);

// The source could not be read: the last report (or an empty one) marked
// Stale, with the reason as its message.
status::ClusterStatus asStale(const std::optional<status::ClusterStatus>& last, const ReportContext& context,
                              const std::string& reason);

status::Phase toStatusPhase(sync::Phase p);

}  // namespace gitfed::daemon
