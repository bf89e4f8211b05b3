#pragma once
// The fleet's history from the status branch (docs/status-spec.md, "History
// and convergence"): every report of every cluster within a time window, read
// from the branch's first-parent commits, and what it says about each config
// revision's rollout (how long the fleet took to converge on it).
// readHistory reads a local repository; the rest are pure functions on values.

#include <chrono>
#include <cstddef>
#include <filesystem>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "gitfed/status/report.h"

namespace gitfed::status {

// One report of one cluster, as far as the history needs it.
struct HistoryPoint {
  Clock::time_point at;  // sync.lastAttemptAt, or the commit's time
  Phase phase = Phase::Synced;
  std::string revision;         // source.revision
  std::string appliedRevision;  // sync.appliedRevision
};

struct FleetHistory {
  Clock::time_point since;  // the window's start (no earlier than the branch's first report)
  // Per cluster, oldest first. A cluster's first point may be older than
  // `since` (its report in force when the window opened).
  std::map<std::string, std::vector<HistoryPoint>> clusters;
  std::size_t commits = 0;  // commits whose changes were read (the boundary's tree not counted)
  bool truncated = false;   // stopped at maxCommits before reaching `since`
  std::vector<std::string> warnings;  // reports that could not be read (commit, file, why)
};

struct HistoryOptions {
  Clock::time_point since;
  std::size_t maxCommits = 100000;
};

// Reads the first-parent history of `statusCommit` in the repository at
// `repository` (a bare cache or a clone), newest first, until the first
// commit older than `options.since` (or the one beyond maxCommits): that
// commit's whole tree gives each cluster's report in force when the window
// opened.
Result<FleetHistory> readHistory(const std::filesystem::path& repository, const std::string& statusCommit,
                                 const HistoryOptions& options);

// One config revision's rollout.
struct Convergence {
  std::string revision;
  Clock::time_point firstSeen;
  std::size_t fleet = 0;    // clusters that reported at or after firstSeen
  std::size_t reached = 0;  // applied it
  std::size_t skipped = 0;  // never applied it, but applied a later revision
  std::optional<Clock::time_point> lastReached;
  // Every cluster of its fleet reached or skipped it (skipped by all: a
  // revision the fleet went past, e.g. a broken commit and its fix).
  bool converged() const { return fleet > 0 && reached + skipped == fleet; }
  // lastReached - firstSeen, when converged and reached by some.
  std::optional<std::chrono::seconds> duration() const;
};

// The revisions seen in the reports of the `current` clusters (those on the
// branch's tip; empty: every cluster of the history), newest first
// appearance first, at most `limit`.
std::vector<Convergence> convergence(const FleetHistory& history, const std::set<std::string>& current = {},
                                     std::size_t limit = 20);

}  // namespace gitfed::status
