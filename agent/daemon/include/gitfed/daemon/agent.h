#pragma once
// Agent: the reconcile loop of `gitfed agent`, and what it needs to run
// unattended. One round is the pipeline of design.md:
//
//   source (poll; stale keeps the last good revision) -> render (from the
//   commit's tree; an error stops here: nothing applied, nothing pruned) ->
//   sync (sync::Engine) -> report (status branch, metrics, one log line)
//
// scheduled by Schedule (interval with jitter, drift checks, backoff after a
// failure, POST /trigger), only while this agent leads (LeaderElector; a
// standby waits). run() serves /healthz, /readyz, /metrics, /status and
// POST /trigger, and returns after stop(): the round in progress finishes,
// the last report is flushed to the status branch (bounded), the Lease is
// released.
//
// Threads: run() is the reconcile thread; the elector, the HTTP server,
// the status publisher and the event recorder have their own. stop(), trigger() and the probes are
// thread-safe; everything else belongs to the reconcile thread. No exception
// leaves a thread.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "gitfed/daemon/config.h"
#include "gitfed/daemon/event_recorder.h"
#include "gitfed/daemon/http_server.h"
#include "gitfed/daemon/leader.h"
#include "gitfed/daemon/metered_client.h"
#include "gitfed/daemon/metrics.h"
#include "gitfed/daemon/revision_lag.h"
#include "gitfed/daemon/schedule.h"
#include "gitfed/daemon/source_stage.h"
#include "gitfed/daemon/status_publisher.h"
#include "gitfed/kube/client.h"
#include "gitfed/status/report.h"
#include "gitfed/sync/engine.h"

namespace gitfed::daemon {

// The agent's metrics (one registry per process).
struct AgentMetrics {
  AgentMetrics();
  Registry registry;
  Histogram& reconcileDuration;  // {phase}
  Counter& reconciles;           // {phase, reason}
  Gauge& lastSuccess;            // unix seconds
  Gauge& lastAttempt;
  Gauge& objects;                // {state}
  Histogram& gitFetchDuration;   // {result}: changed, unchanged, stale, error
  Counter& kubeRequests;         // {verb, code}
  Gauge& leader;
  Gauge& sourceStale;
  Counter& statusWrites;         // {outcome}
  Gauge& info;                   // {version, cluster}
  Gauge& phase;                  // {phase}: 1 for the last report's phase, 0 for the others
  Gauge& revisionBehind;         // 1 while the newest revision is not applied
  Gauge& revisionBehindSince;    // unix seconds; 0 when not behind
  Gauge& pollInterval;           // seconds (the configured interval)
  Gauge& driftMode;              // {mode}: 1 for the configured mode, 0 for the other
  Gauge& suspended;              // 1 while the last sync round was suspended
  Gauge& residentMemory;
  Counter& cpuSeconds;
  Gauge& startTime;              // unix seconds
};

// What a round did.
struct RoundResult {
  SyncReason reason = SyncReason::None;  // None: polled, nothing to sync
  std::string revision;
  status::Phase phase = status::Phase::Synced;
  bool synced = false;       // a sync ran
  bool ok = true;            // no render error, no failed object
  bool stale = false;        // the source was not read
  bool noRevision = false;   // ... and there was no revision to fall back on
  double seconds = 0;
};

// What the agent runs on: real implementations in `gitfed agent`, fakes in
// unit tests.
struct AgentParts {
  kube::KubeClient* kube = nullptr;          // required; thread-safe (the engine uses several threads)
  std::unique_ptr<SourceStage> source;       // required
  std::unique_ptr<StatusSink> status;        // null: no status branch
  std::unique_ptr<LeaderElector> elector;    // null: always active (no election)
  // Where Kubernetes Events go (README "Events"): a client of its own, with
  // a short timeout; thread-safe. Null: no Events.
  kube::KubeClient* events = nullptr;
  std::string contextNamespace;              // the kube context's namespace (default for objects)
  std::string agentVersion = "0.0.0";
};

class Agent {
 public:
  Agent(AgentConfig config, AgentParts parts, AgentMetrics& metrics);
  ~Agent();
  Agent(const Agent&) = delete;
  Agent& operator=(const Agent&) = delete;

  // One round: poll, and sync when the schedule says so (`triggered` forces
  // it). Reconcile thread only.
  RoundResult round(bool triggered);

  // --once: one forced round, the report flushed; the exit status
  // (0 applied, 1 failed, 3 source unavailable, 4 status not written).
  int runOnce(std::chrono::milliseconds flushTimeout = std::chrono::seconds(60));

  // Runs until stop(); returns the exit status (0, or 2 when the HTTP
  // address cannot be bound).
  int run();

  void stop();     // thread-safe; idempotent
  void trigger();  // thread-safe: a round as soon as possible

  // The reconcile thread is not stuck: outside a step, or a request
  // completed (or the step began) less than livenessTimeout ago.
  bool healthy() const;
  bool ready() const;    // leading and one round done, or a standby in touch with the API server
  bool leading() const;
  int httpPort() const { return http_.port(); }

  // The last report (Secrets redacted), as JSON; null before the first.
  nlohmann::json lastReport() const;
  const Schedule& schedule() const { return schedule_; }

 private:
  status::ClusterStatus syncRevision(const SourcePoll& poll, SyncReason reason, RoundResult& result);
  void record(const status::ClusterStatus& report, const status::Redactor& redactor);
  void measureLag(const std::string& newest, std::chrono::system_clock::time_point now);
  void emit(std::optional<RoundEvent> event, const status::Redactor& redactor);
  void setUpHttp();
  bool waitUntil(SteadyTime deadline);  // true when woken by stop
  std::string effectiveLeaseNamespace() const;

  AgentConfig config_;
  AgentParts parts_;
  AgentMetrics& metrics_;
  // parts_.kube as the engine sees it: every completed request is progress
  // (healthy()). Before engine_, which refers to it.
  std::atomic<std::int64_t> lastProgressMs_{0};  // steady clock, ms
  MeteredKubeClient progressClient_;
  sync::Engine engine_;
  Schedule schedule_;
  HttpServer http_;

  std::optional<status::ClusterStatus> lastReport_;  // reconcile thread
  std::optional<status::ClusterStatus> lastSyncReport_;
  bool lastPublishedStale_ = false;
  bool suspendedByConfigMap_ = false;  // the last sync round was suspended by ConfigMap gitfed-suspend
  std::map<std::string, std::string> effectiveLabels_;
  RevisionLag lag_;
  std::unique_ptr<EventRecorder> events_;  // null without parts_.events

  mutable std::mutex mu_;  // guards the members below and the condition
  std::condition_variable cv_;
  bool stopping_ = false;
  bool triggered_ = false;
  nlohmann::json lastReportJson_;

  std::atomic<bool> roundDone_{false};
  std::atomic<bool> inStep_{false};
  std::atomic<std::int64_t> stepStartedMs_{0};  // steady clock, ms
  std::thread electorThread_;
};

}  // namespace gitfed::daemon
