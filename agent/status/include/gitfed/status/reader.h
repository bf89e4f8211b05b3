#pragma once
// Reading the fleet's status: every clusters/*.yaml of the status branch and
// every per-cluster ref refs/gitfed/status/<cluster> (the newer report of the
// two wins; docs/status-spec.md, "Reading the fleet in one round trip"), and
// the newest revision of the config branch to compare with, from a remote
// (one connection: the advertisement, then one fetch of what the cache
// lacks) or from a local clone (its branch and refs), the refs verified
// with the registry's public keys (registry_keys.h). What `gitfed
// status` shows. Plain functions; thread-safe as long as callers do not share
// a cache directory.

#include <chrono>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "gitfed/git/remote.h"
#include "gitfed/status/cluster_ref.h"
#include "gitfed/status/report.h"
#include "gitfed/status/signing.h"

namespace gitfed::status {

// Where a cluster's report was read.
struct ReportOrigin {
  enum class Where { Branch, Ref } where = Where::Branch;
  std::string commit;          // the ref's commit (Ref)
  std::uint64_t sequence = 0;  // its Gitfed-Sequence (Ref)
  SignatureState signature = SignatureState::Unsigned;  // (Ref; the branch is not signed)
  bool hasRef = false;          // the cluster has a ref (also when the branch's report was newer)
};
const char* toString(ReportOrigin::Where w);  // "branch", "ref"

struct FleetStatus {
  std::string statusBranch;
  std::string statusCommit;                   // the status branch's tip
  std::string configBranch;
  std::optional<std::string> configRevision;  // the config branch's newest commit, if it exists
  std::vector<ClusterStatus> clusters;        // sorted by name
  std::vector<std::string> warnings;          // files that are not valid reports
  std::map<std::string, ReportOrigin> origins;  // by cluster name: where its report came from
  std::size_t refs = 0;                         // per-cluster refs advertised
  // Whose public keys verified the refs' signatures: "given" (the caller's),
  // "registry of main at 1a2b3c4 (3 of 4 clusters with a key)", or why there
  // were none; "" when there are no refs.
  std::string keySource;
};

// Takes a per-cluster ref's report into `fleet`: checked (the ref's name,
// the trailer and the report name the same valid cluster), its signature
// verified against `keys` (when given), and kept when it is at least as new
// as the branch's report of the cluster. A ref that fails a check is a
// warning. `clusters` stays sorted by name.
void mergeRefReport(FleetStatus& fleet, const std::string& refName, const RefReport& report, const PublicKeys* keys);

// The refs' signatures are verified with `keys` when given; without them
// (nullptr), with the public keys of the registry (registry_keys.h) at the
// config branch's newest commit; its errors (a bad key: file and line) are
// warnings, and a cluster without a key shows its signed reports as `no key`.

// From a remote: the status branch and the refs are fetched into `cacheDir`
// (a bare repository, created when missing), and so is the config branch
// when its registry is needed (refs advertised, no `keys`).
Result<FleetStatus> readFleetStatus(const git::RemoteOptions& remote, const std::filesystem::path& cacheDir,
                                    const std::string& statusBranch = "gitfed-status",
                                    const std::string& configBranch = "main", const PublicKeys* keys = nullptr);

// From a local clone (bare or not): each branch is looked up as
// refs/remotes/origin/NAME, then refs/heads/NAME; the per-cluster reports are
// the local refs/gitfed/status/* (a server's own repository has them; a
// clone after `git fetch origin 'refs/gitfed/status/*:refs/gitfed/status/*'`).
Result<FleetStatus> readLocalFleetStatus(const std::filesystem::path& clone,
                                         const std::string& statusBranch = "gitfed-status",
                                         const std::string& configBranch = "main", const PublicKeys* keys = nullptr);

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
  std::optional<ClusterStatus::Sync::Suspended> suspended;  // while the cluster is suspended
};

// "1a2b3c4" (the first 7 characters), "-" for none.
std::string shortId(const std::string& id);
// "42s", "5m", "3h", "2d"; "-" for none.
std::string formatAge(const std::optional<std::chrono::seconds>& age);

ClusterRow summarize(const ClusterStatus& report, const std::optional<std::string>& latest, Clock::time_point now,
                     std::chrono::seconds staleAfter);

}  // namespace gitfed::status
