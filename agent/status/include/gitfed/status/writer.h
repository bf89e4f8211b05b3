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
// Not thread-safe: one writer per cluster, called from one thread.

#include <chrono>
#include <functional>
#include <optional>
#include <random>
#include <string>

#include "gitfed/status/redact.h"
#include "gitfed/status/report.h"
#include "gitfed/status/store.h"

namespace gitfed::status {

struct WriterOptions {
  std::string cluster;                       // the cluster's name (its file and the commit author)
  std::string email = "gitfed@localhost";    // the commit e-mail
  std::chrono::seconds heartbeat{0};         // commit an unchanged report after this long; 0: never
  int maxAttempts = 40;                      // pushes tried per report
  std::chrono::milliseconds backoffBase{50};   // a retry waits up to max(this, the last attempt's time), doubling
  std::chrono::milliseconds backoffMax{8000};  // ...up to this
  std::chrono::milliseconds deadline{60000};   // give up on one report after this long
};

struct WriteOutcome {
  enum class Kind { Committed, Unchanged, Superseded } kind = Kind::Unchanged;
  std::string commit;  // the commit that holds the report (Committed)
  int attempts = 0;    // pushes tried
  std::chrono::milliseconds elapsed{0};
};

const char* toString(WriteOutcome::Kind kind);

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

  StatusStore& store_;
  WriterOptions options_;
  NowFn now_;
  SleepFn sleep_;
  std::mt19937_64 rng_;
  std::optional<nlohmann::json> lastWritten_;  // what the branch holds for us, as far as we know
};

}  // namespace gitfed::status
