#pragma once
// Reading the fleet's status: every clusters/*.yaml of the status branch, and
// the newest revision of the config branch to compare with, from a remote
// (fetched into a cache directory) or from a local clone. What `gitfed
// status` shows. Plain functions; thread-safe as long as callers do not share
// a cache directory.

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "gitfed/git/remote.h"
#include "gitfed/status/report.h"

namespace gitfed::status {

struct FleetStatus {
  std::string statusBranch;
  std::string statusCommit;                   // the status branch's tip
  std::string configBranch;
  std::optional<std::string> configRevision;  // the config branch's newest commit, if it exists
  std::vector<ClusterStatus> clusters;        // sorted by name
  std::vector<std::string> warnings;          // files that are not valid reports
};

// From a remote: the status branch is fetched into `cacheDir` (a bare
// repository, created when missing); the config branch is only listed.
Result<FleetStatus> readFleetStatus(const git::RemoteOptions& remote, const std::filesystem::path& cacheDir,
                                    const std::string& statusBranch = "gitfed-status",
                                    const std::string& configBranch = "main");

// From a local clone (bare or not): each branch is looked up as
// refs/remotes/origin/NAME, then refs/heads/NAME.
Result<FleetStatus> readLocalFleetStatus(const std::filesystem::path& clone,
                                         const std::string& statusBranch = "gitfed-status",
                                         const std::string& configBranch = "main");

// One row of the fleet table.
struct ClusterRow {
  std::string name;
  Phase phase = Phase::Synced;
  std::string appliedRevision;  // the last revision fully applied
  std::string revision;         // the revision the report is about
  std::optional<std::string> latest;  // the config branch's newest revision
  bool upToDate = false;              // appliedRevision == latest
  std::size_t drifted = 0, failed = 0;
  std::optional<std::chrono::seconds> age;  // since sync.lastAttemptAt
  bool stale = false;                       // phase Stale, or no report for longer than staleAfter
};

// "1a2b3c4" (the first 7 characters), "-" for none.
std::string shortId(const std::string& id);
// "42s", "5m", "3h", "2d"; "-" for none.
std::string formatAge(const std::optional<std::chrono::seconds>& age);

ClusterRow summarize(const ClusterStatus& report, const std::optional<std::string>& latest, Clock::time_point now,
                     std::chrono::seconds staleAfter);

}  // namespace gitfed::status
