#include "gitfed/daemon/schedule.h"

#include <algorithm>

namespace gitfed::daemon {

const char* toString(SyncReason r) {
  switch (r) {
    case SyncReason::None: return "none";
    case SyncReason::Initial: return "initial";
    case SyncReason::NewRevision: return "new-revision";
    case SyncReason::Trigger: return "trigger";
    case SyncReason::Retry: return "retry";
    case SyncReason::Unsettled: return "unsettled";
    case SyncReason::DriftCheck: return "drift-check";
    case SyncReason::Resumed: return "resumed";
  }
  return "?";
}

Schedule::Schedule(ScheduleOptions options, std::uint64_t seed) : options_(options), rng_(seed) {}

SyncReason Schedule::decide(SteadyTime now, const std::string& revision, bool triggered) const {
  if (!everSynced_) return SyncReason::Initial;
  if (triggered) return SyncReason::Trigger;
  if (revision != lastRevision_) return SyncReason::NewRevision;
  if (failures_ > 0) return now >= retryAt_ ? SyncReason::Retry : SyncReason::None;
  if (!settled_) return now >= unsettledAt_ ? SyncReason::Unsettled : SyncReason::None;
  if (now - lastSync_ >= options_.driftInterval) return SyncReason::DriftCheck;
  return SyncReason::None;
}

Millis Schedule::backoff(int failures) const {
  if (failures <= 0) return Millis(0);
  long long d = options_.retryMin.count();
  for (int i = 1; i < failures && d < options_.retryMax.count(); ++i) d *= 2;
  return Millis(std::min(d, static_cast<long long>(options_.retryMax.count())));
}

Millis Schedule::jittered(Millis base) {
  if (options_.jitter <= 0 || base.count() <= 0) return base;
  std::uniform_real_distribution<double> f(1.0 - options_.jitter, 1.0 + options_.jitter);
  return Millis(static_cast<long long>(static_cast<double>(base.count()) * f(rng_)));
}

void Schedule::synced(SteadyTime now, const std::string& revision, bool ok, std::size_t unsettled) {
  const bool settled = unsettled == 0;
  // Still progressing after a follow-up, and no fewer than before: look again
  // after twice as long (interval, 2x, 4x... up to the drift interval), not at
  // every poll forever. Progress (fewer left) keeps the pace at one interval.
  const bool progress = settled_ || unsettled < unsettled_ || revision != lastRevision_;
  unsettledChecks_ = settled || progress ? 0 : unsettledChecks_ + 1;
  everSynced_ = true;
  settled_ = settled;
  unsettled_ = unsettled;
  if (!settled) {
    long long d = options_.interval.count();
    for (int i = 0; i < unsettledChecks_ && d < options_.driftInterval.count(); ++i) d *= 2;
    unsettledAt_ = now + Millis(std::min<long long>(d, options_.driftInterval.count())) - options_.interval / 2;
  }
  lastRevision_ = revision;
  lastSync_ = now;
  if (ok) {
    failures_ = 0;
  } else {
    ++failures_;
    retryAt_ = now + jittered(backoff(failures_));
  }
}

SteadyTime Schedule::nextPoll(SteadyTime now) {
  SteadyTime next = now + jittered(options_.interval);
  if (everSynced_) {
    if (failures_ > 0) next = std::min(next, std::max(now, retryAt_));
    else if (settled_) next = std::min(next, std::max(now, lastSync_ + options_.driftInterval));
    else next = std::min(next, std::max(now, unsettledAt_));
  }
  return next;
}

}  // namespace gitfed::daemon
