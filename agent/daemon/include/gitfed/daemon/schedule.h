#pragma once
// Schedule: when the agent polls its source and when it syncs. Pure logic over
// time points handed in by the caller (unit-tested without a clock):
//
// - the source is polled every `interval`, randomised by +- `jitter`, so a
//   new commit is seen within one interval and a fleet of agents does not
//   poll in lockstep;
// - a sync runs when a poll finds a new revision, when /trigger asked for
//   one, when the last round failed and its retry is due (exponential backoff
//   from retryMin, doubling up to retryMax, jittered), while the last round
//   left objects progressing (at every poll while their number goes down;
//   once it stops going down, after 2, 4... intervals up to the drift
//   interval: the report follows a rollout to Synced, without a full sync at
//   every poll for something that never settles), or when
//   `driftInterval` passed since the last sync (the drift check);
// - a new revision or a trigger is never held back by the backoff: a fix
//   pushed after a bad commit is applied at the next poll.
//
// Not thread-safe: owned by the reconcile loop.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <random>
#include <string>

namespace gitfed::daemon {

using SteadyTime = std::chrono::steady_clock::time_point;
using Millis = std::chrono::milliseconds;

// Resumed: the ConfigMap that suspended the cluster is gone (agent.cpp).
enum class SyncReason { None, Initial, NewRevision, Trigger, Retry, Unsettled, DriftCheck, Resumed };
const char* toString(SyncReason r);

struct ScheduleOptions {
  Millis interval{60'000};
  double jitter = 0.1;
  Millis driftInterval{300'000};
  Millis retryMin{5'000};
  Millis retryMax{300'000};
};

class Schedule {
 public:
  explicit Schedule(ScheduleOptions options, std::uint64_t seed = std::random_device{}());

  // Whether a poll that found `revision` (at `now`) should be followed by a sync.
  SyncReason decide(SteadyTime now, const std::string& revision, bool triggered) const;

  // Records a finished sync of `revision`: resets the backoff on success, or
  // sets the next retry after a failure. `unsettled`: how many objects it
  // left progressing (0: settled).
  void synced(SteadyTime now, const std::string& revision, bool ok, std::size_t unsettled = 0);

  // When to poll next, after a poll at `now`: the jittered interval, or sooner
  // when a retry or a drift check is due before it.
  SteadyTime nextPoll(SteadyTime now);

  // The backoff after `failures` consecutive failures (1 = the first), before jitter.
  Millis backoff(int failures) const;

  int failures() const { return failures_; }
  std::optional<SteadyTime> retryAt() const { return failures_ > 0 ? std::optional(retryAt_) : std::nullopt; }
  const std::string& lastRevision() const { return lastRevision_; }
  const ScheduleOptions& options() const { return options_; }

 private:
  Millis jittered(Millis base);

  ScheduleOptions options_;
  std::mt19937_64 rng_;
  bool everSynced_ = false;
  std::string lastRevision_;
  SteadyTime lastSync_{};
  bool settled_ = true;
  std::size_t unsettled_ = 0;
  int unsettledChecks_ = 0;
  SteadyTime unsettledAt_{};
  int failures_ = 0;
  SteadyTime retryAt_{};
};

}  // namespace gitfed::daemon
