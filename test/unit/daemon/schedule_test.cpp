// gitfed::daemon::Schedule: when the agent syncs, and backoff.

#include <catch2/catch.hpp>

#include "gitfed/daemon/schedule.h"

using namespace gitfed::daemon;
using namespace std::chrono_literals;

namespace {
ScheduleOptions options() {
  ScheduleOptions o;
  o.interval = 60s;
  o.jitter = 0.1;
  o.driftInterval = 300s;
  o.retryMin = 5s;
  o.retryMax = 80s;
  return o;
}
const SteadyTime t0 = SteadyTime{} + 1000h;
}  // namespace

TEST_CASE("schedule: first round, new revision, trigger, drift check", "[daemon]") {
  Schedule s(options(), 1);
  CHECK(s.decide(t0, "a", false) == SyncReason::Initial);
  s.synced(t0, "a", true);
  CHECK(s.decide(t0 + 60s, "a", false) == SyncReason::None);
  CHECK(s.decide(t0 + 60s, "b", false) == SyncReason::NewRevision);
  CHECK(s.decide(t0 + 60s, "a", true) == SyncReason::Trigger);
  CHECK(s.decide(t0 + 299s, "a", false) == SyncReason::None);
  CHECK(s.decide(t0 + 300s, "a", false) == SyncReason::DriftCheck);
}

TEST_CASE("schedule: backoff doubles from retryMin up to retryMax", "[daemon]") {
  Schedule s(options(), 1);
  CHECK(s.backoff(1) == 5s);
  CHECK(s.backoff(2) == 10s);
  CHECK(s.backoff(3) == 20s);
  CHECK(s.backoff(5) == 80s);
  CHECK(s.backoff(50) == 80s);
}

TEST_CASE("schedule: a failed round is retried after the backoff, a new revision at once", "[daemon]") {
  Schedule s(options(), 7);
  s.synced(t0, "a", false);
  REQUIRE(s.retryAt());
  auto wait = *s.retryAt() - t0;
  CHECK(wait >= 4500ms);
  CHECK(wait <= 5500ms);
  CHECK(s.decide(t0 + 1s, "a", false) == SyncReason::None);
  CHECK(s.decide(*s.retryAt(), "a", false) == SyncReason::Retry);
  // The fix is not held back by the backoff.
  CHECK(s.decide(t0 + 1s, "b", false) == SyncReason::NewRevision);
  // Failures pile up: the second retry waits about twice as long.
  s.synced(*s.retryAt(), "a", false);
  CHECK(s.failures() == 2);
  s.synced(t0 + 100s, "b", true);
  CHECK(s.failures() == 0);
  CHECK_FALSE(s.retryAt());
}

TEST_CASE("schedule: polls every interval +- jitter, sooner when a retry or drift check is due", "[daemon]") {
  Schedule s(options(), 3);
  for (int i = 0; i < 200; ++i) {
    auto next = s.nextPoll(t0) - t0;
    CHECK(next >= 54s);
    CHECK(next <= 66s);
  }
  s.synced(t0, "a", false);
  CHECK(s.nextPoll(t0) <= *s.retryAt());
  s.synced(t0, "a", true);
  // Drift check due in 10 s: the poll comes then.
  auto next = s.nextPoll(t0 + 290s);
  CHECK(next == t0 + 300s);
}

TEST_CASE("schedule: a round that left objects progressing is followed up, less often once it stalls", "[daemon]") {
  Schedule s(options(), 3);
  s.synced(t0, "a", true, /*unsettled=*/5);
  CHECK(s.decide(t0 + 60s, "a", false) == SyncReason::Unsettled);  // the next poll
  s.synced(t0 + 60s, "a", true, 3);                                 // progress: the next poll again
  CHECK(s.decide(t0 + 120s, "a", false) == SyncReason::Unsettled);
  s.synced(t0 + 120s, "a", true, 3);                                // stalled: after 2 intervals
  CHECK(s.decide(t0 + 180s, "a", false) == SyncReason::None);
  CHECK(s.decide(t0 + 240s, "a", false) == SyncReason::Unsettled);
  s.synced(t0 + 240s, "a", true, 3);                                // 4 intervals
  CHECK(s.decide(t0 + 420s, "a", false) == SyncReason::None);
  CHECK(s.decide(t0 + 480s, "a", false) == SyncReason::Unsettled);
  s.synced(t0 + 480s, "a", true, 3);                                // capped by the drift interval (300 s)
  CHECK(s.decide(t0 + 740s, "a", false) == SyncReason::None);
  CHECK(s.decide(t0 + 780s, "a", false) == SyncReason::Unsettled);
  s.synced(t0 + 780s, "a", true, 0);
  CHECK(s.decide(t0 + 840s, "a", false) == SyncReason::None);
  // A new revision starts over.
  s.synced(t0 + 900s, "b", true, 2);
  CHECK(s.decide(t0 + 960s, "b", false) == SyncReason::Unsettled);
}

TEST_CASE("schedule: no jitter gives exact intervals", "[daemon]") {
  auto o = options();
  o.jitter = 0;
  Schedule s(o, 3);
  CHECK(s.nextPoll(t0) == t0 + 60s);
}
