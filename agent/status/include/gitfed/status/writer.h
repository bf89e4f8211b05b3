#pragma once
// StatusWriter: writes one cluster's report to the status branch exactly as
// docs/status-spec.md says: only clusters/<name>.yaml of its own cluster;
// Secrets redacted; a commit only when the report changed in more than its
// timestamps (or the heartbeat interval passed); a push refused because other
// agents moved the branch is retried by rebuilding the commit on the new tip
// (its own file replaced, every other file as the tip has it) with jittered
// exponential backoff, so the branch stays linear and no report of another
// cluster is ever overwritten. A report is dropped only when a newer report of
// the same cluster is already on the branch.
//
// With a per-cluster ref (WriterOptions::clusterRef, issue 15) every report
// and heartbeat goes to refs/gitfed/status/<cluster> first (ClusterRefWriter,
// one push), and the branch is written only when the report's headline
// (phase, revision, applied revision) differs from what the branch holds for
// the cluster; a branch write that fails is not an error of the report (the
// ref has it) and is tried again at the next write.
//
// Not thread-safe: one writer per cluster, called from one thread.

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <random>
#include <string>

#include "gitfed/status/cluster_ref_writer.h"
#include "gitfed/status/redact.h"
#include "gitfed/status/report.h"
#include "gitfed/status/store.h"

namespace gitfed::status {

struct WriterOptions {
  std::string cluster;                       // the cluster's name (its file and the commit author)
  std::string email = "gitfed@localhost";    // the commit e-mail
  std::chrono::seconds heartbeat{0};         // commit an unchanged report after this long; 0: never
  int maxAttempts = 40;                      // pushes tried per report
  // A retry waits a random time up to a window that starts at max(backoffBase,
  // the last attempt's time) and doubles at each retry, up to a cap sized for
  // the fleet: (clusters reporting on the branch) x backoffPerCluster, within
  // [backoffMin, backoffMax]. A whole fleet reporting at once then spreads
  // over about as long as its reports take to land one after another; a
  // fixed cap is too long for a few writers and too short for hundreds.
  std::chrono::milliseconds backoffBase{50};
  std::chrono::milliseconds backoffPerCluster{50};
  std::chrono::milliseconds backoffMin{1000};
  std::chrono::milliseconds backoffMax{60000};
  std::chrono::milliseconds deadline{60000};   // give up on one report after this long
  // The per-cluster ref (docs/status-spec.md, "Per-cluster reports"); null:
  // the branch only, as before. `heartbeat` then applies to the ref only.
  std::shared_ptr<ClusterRefStore> clusterRef;
  std::shared_ptr<const ReportSigner> signer;  // signs the ref's reports; null: unsigned
  // With a per-cluster ref, the branch write of a headline change starts
  // after a random wait in [0, clusters x branchSpreadPerCluster] (at most
  // backoffMax): a fleet-wide change (a new revision everywhere) then reaches
  // the branch spread over the fleet's window instead of as one storm that
  // starves the refs' pushes on the same server. 0: no wait.
  std::chrono::milliseconds branchSpreadPerCluster{50};
};

struct WriteOutcome {
  enum class Kind { Committed, Unchanged, Superseded } kind = Kind::Unchanged;
  std::string commit;  // the commit that holds the report (Committed)
  int attempts = 0;    // pushes tried
  std::chrono::milliseconds elapsed{0};
  // With a per-cluster ref, `kind`, `commit` and `attempts` are the ref's;
  // the branch's write is described here.
  std::uint64_t sequence = 0;  // the ref's Gitfed-Sequence
  std::chrono::milliseconds refElapsed{0};  // until the ref's write was done
  Kind branch = Kind::Unchanged;
  std::string branchCommit{};
  int branchAttempts = 0;
  std::optional<Error> branchError{};  // the branch lags: retried at the next write
};

// The headline of a report's JSON: what the branch is written for when a
// per-cluster ref carries the rest (phase, source.revision, sync.appliedRevision).
std::string reportHeadline(const nlohmann::json& doc);

const char* toString(WriteOutcome::Kind kind);

// The window the retry after `attempt` (1, 2, ...) waits in: see WriterOptions.
// `clusters`: reports on the branch as last seen (0: not known yet).
std::chrono::milliseconds backoffWindow(const WriterOptions& options, int attempt, std::chrono::milliseconds lastAttempt,
                                        std::size_t clusters);

class StatusWriter {
 public:
  using NowFn = std::function<Clock::time_point()>;
  using SleepFn = std::function<void(std::chrono::milliseconds)>;

  // `now` and `sleep` default to the system clock and std::this_thread::sleep_for.
  StatusWriter(StatusStore& store, WriterOptions options, NowFn now = {}, SleepFn sleep = {});

  // Writes `report` (its name must be the writer's cluster). `redactor` scrubs
  // learned Secret values out of free text; structural redaction of Secrets
  // always happens.
  Result<WriteOutcome> write(ClusterStatus report, const Redactor& redactor = Redactor{});

  std::string path() const { return "clusters/" + options_.cluster + ".yaml"; }

 private:
  bool heartbeatDue(const nlohmann::json& previous) const;
  std::chrono::milliseconds backoff(int attempt, std::chrono::milliseconds lastAttempt);
  // The branch write; `headlineOnly`: Unchanged when the branch's file has
  // the same headline, and no heartbeats.
  Result<WriteOutcome> writeBranch(const ClusterStatus& report, const nlohmann::json& doc, const std::string& content,
                                   bool headlineOnly);

  StatusStore& store_;
  WriterOptions options_;
  NowFn now_;
  SleepFn sleep_;
  std::mt19937_64 rng_;
  std::optional<nlohmann::json> lastWritten_;  // what the branch holds for us, as far as we know
  std::size_t clusters_ = 0;                   // reports on the branch at the last look
  std::optional<ClusterRefWriter> refWriter_;
  std::optional<std::string> branchHeadline_;  // the headline the branch holds for us, as far as we know
};

}  // namespace gitfed::status
