#pragma once
// ClusterRefWriter: writes one cluster's report to its own ref,
// refs/gitfed/status/<cluster> (docs/status-spec.md, "A report on the
// per-cluster ref"): read what the server holds, drop the report when the
// server's is newer (Superseded) or the same but for timestamps with no
// heartbeat due (Unchanged), else push a parentless commit with the next
// Gitfed-Sequence (signed when a signer is given) as a force-with-lease of
// what was read; a push refused because the ref moved (another agent of the
// same cluster) is retried after a short jittered wait. One push per report
// when the cluster has one agent.
//
// Not thread-safe: one writer per cluster, called from one thread.

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <random>
#include <string>

#include "gitfed/status/cluster_ref.h"
#include "gitfed/status/redact.h"
#include "gitfed/status/report.h"
#include "gitfed/status/signing.h"

namespace gitfed::status {

struct RefWriteOutcome {
  enum class Kind { Committed, Unchanged, Superseded } kind = Kind::Unchanged;
  std::string commit;          // what the ref holds for us now (the pushed commit, or the newer one)
  std::uint64_t sequence = 0;  // its Gitfed-Sequence
  int attempts = 0;            // pushes tried
};

// sync.lastAttemptAt of a report's JSON document, if any.
std::optional<Clock::time_point> reportAttemptTime(const nlohmann::json& doc);

class ClusterRefWriter {
 public:
  using NowFn = std::function<Clock::time_point()>;
  using SleepFn = std::function<void(std::chrono::milliseconds)>;

  struct Options {
    std::string cluster;
    std::chrono::seconds heartbeat{0};  // push an unchanged report after this long; 0: never
    int maxAttempts = 20;
    std::chrono::milliseconds deadline{60000};
    std::chrono::milliseconds retryBase{50};   // a refused push waits up to this, doubling...
    std::chrono::milliseconds retryMax{1000};  // ...up to this
  };

  ClusterRefWriter(ClusterRefStore& store, Options options, std::shared_ptr<const ReportSigner> signer, NowFn now,
                   SleepFn sleep);

  // `doc` and `content`: the report (redacted, bounded) as JSON and as the
  // YAML text; `summary`: the commit message's first line.
  Result<RefWriteOutcome> write(const nlohmann::json& doc, const std::string& content, const std::string& summary,
                                const git::Signature& author);

  // True when the ref holds, as far as this writer knows, `doc` but for its
  // timestamps and no heartbeat is due: write() would not push.
  bool knownUnchanged(const nlohmann::json& doc) const;

 private:
  bool heartbeatDue(const nlohmann::json& previous) const;

  ClusterRefStore& store_;
  Options options_;
  std::shared_ptr<const ReportSigner> signer_;
  NowFn now_;
  SleepFn sleep_;
  std::mt19937_64 rng_;
  std::optional<nlohmann::json> lastWritten_;  // what the ref holds for us, as far as we know
};

}  // namespace gitfed::status
