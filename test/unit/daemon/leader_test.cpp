// gitfed::daemon::LeaderElector over a fake Lease API (resourceVersion
// checks, 404, 409) and a fake clock: acquisition, expiry judged on the
// observer's clock, renewal deadline, release, races.

#include <catch2/catch.hpp>

#include <map>
#include <mutex>

#include "daemon/fakes.h"
#include "gitfed/daemon/leader.h"

using namespace gitfed;
using namespace gitfed::daemon;
using gitfed::test::FakeClock;
using gitfed::test::FakeLeaseApi;
using namespace std::chrono_literals;
using nlohmann::json;

namespace {

LeaseOptions lease(const std::string& identity) {
  return LeaseOptions{"gitfed-c1", "gitfed-system", identity, 15s, 10s, 2s};
}

}  // namespace

TEST_CASE("leader: the first candidate creates the Lease and leads; the second waits", "[daemon]") {
  FakeLeaseApi api;
  auto clock = std::make_shared<FakeClock>();
  LeaderElector a(api, lease("a"), clock, 1), b(api, lease("b"), clock, 2);
  std::vector<bool> changes;
  a.onChange = [&](bool leading) { changes.push_back(leading); };
  a.step();
  CHECK(a.isLeader());
  CHECK(changes == std::vector<bool>{true});
  CHECK(api.holder() == "a");
  const auto& spec = (*api.lease)["spec"];
  CHECK(spec["leaseDurationSeconds"] == 15);
  CHECK(spec["leaseTransitions"] == 0);
  CHECK(spec["renewTime"].get<std::string>().size() == std::string("2026-11-21T10:00:00.123456Z").size());
  auto wait = b.step();
  CHECK_FALSE(b.isLeader());
  CHECK(b.observedHolder() == "a");
  // A standby reads every retryPeriod/2, jittered by up to 20%.
  CHECK(wait >= 1s);
  CHECK(wait <= 1200ms);
}

TEST_CASE("leader: a standby following its own waits takes over at most leaseDuration + its read interval after the "
          "last renewal", "[daemon]") {
  for (std::uint64_t seed = 1; seed <= 20; ++seed) {
    FakeLeaseApi api;
    auto clock = std::make_shared<FakeClock>();
    LeaderElector a(api, lease("a"), clock, seed), b(api, lease("b"), clock, seed + 100);
    // Event loop on the fake clock: a renews every 2 s until it dies at
    // t = 9.x s; b steps whenever its own returned wait has passed.
    auto start = clock->now();
    auto nextA = start, nextB = start + 10ms;
    auto death = start + 9s + std::chrono::milliseconds(seed * 37);
    std::chrono::steady_clock::time_point lastRenewal{};
    std::optional<std::chrono::steady_clock::time_point> takeover;
    while (!takeover && clock->now() < start + 60s) {
      bool aNext = nextA <= nextB && nextA < death;
      auto t = aNext ? nextA : nextB;
      if (t > clock->now()) clock->advance(std::chrono::duration_cast<std::chrono::milliseconds>(t - clock->now()));
      if (aNext) {
        nextA = clock->now() + a.step();
        lastRenewal = clock->now();
      } else {
        nextB = clock->now() + b.step();
        if (b.isLeader()) takeover = clock->now();
      }
    }
    REQUIRE(takeover);
    INFO("seed " << seed);
    auto after = std::chrono::duration_cast<std::chrono::milliseconds>(*takeover - lastRenewal);
    CHECK(after >= 15s);  // never before the Lease expired on b's clock
    CHECK(after <= 15s + 1200ms + 2ms);
  }
}

TEST_CASE("leader: a standby takes over leaseDuration after it last saw the record change", "[daemon]") {
  FakeLeaseApi api;
  auto clock = std::make_shared<FakeClock>();
  LeaderElector a(api, lease("a"), clock, 1), b(api, lease("b"), clock, 2);
  a.step();
  b.step();  // b sees a's record now
  clock->advance(2s);
  a.step();  // renewal: the record changes
  clock->advance(2s);
  b.step();  // b sees the change at t=4s
  CHECK_FALSE(b.isLeader());
  // a dies. b's expiry counts from t=4s (when it saw the last change), not
  // from the timestamps in the record.
  clock->advance(14s);  // t = 18s: 14 s since b saw the change
  b.step();
  CHECK_FALSE(b.isLeader());
  clock->advance(1s);  // t = 19s: 15 s
  b.step();
  CHECK(b.isLeader());
  CHECK(api.holder() == "b");
  CHECK((*api.lease)["spec"]["leaseTransitions"] == 1);
}

TEST_CASE("leader: the leader renews; it stops leading when no renewal succeeds for renewDeadline", "[daemon]") {
  FakeLeaseApi api;
  auto clock = std::make_shared<FakeClock>();
  LeaderElector a(api, lease("a"), clock, 1);
  std::vector<bool> changes;
  a.onChange = [&](bool leading) { changes.push_back(leading); };
  a.step();
  REQUIRE(a.isLeader());
  const std::string acquired = (*api.lease)["spec"]["acquireTime"];
  clock->advance(2s);
  a.step();
  CHECK(a.isLeader());
  CHECK((*api.lease)["spec"]["acquireTime"] == acquired);  // a renewal keeps the acquire time
  CHECK((*api.lease)["spec"]["renewTime"] != acquired);
  api.down = true;
  for (int i = 0; i < 4; ++i) {
    clock->advance(2s);
    a.step();
    CHECK(a.isLeader());  // 8 s without renewal: still within the deadline
  }
  clock->advance(2s);
  a.step();  // 10 s
  CHECK_FALSE(a.isLeader());
  CHECK(changes == std::vector<bool>{true, false});
  api.down = false;
  clock->advance(2s);
  a.step();  // nobody else took it: a leads again
  CHECK(a.isLeader());
}

TEST_CASE("leader: release hands the Lease over at the standby's next attempt", "[daemon]") {
  FakeLeaseApi api;
  auto clock = std::make_shared<FakeClock>();
  LeaderElector a(api, lease("a"), clock, 1), b(api, lease("b"), clock, 2);
  a.step();
  b.step();
  a.release();
  CHECK_FALSE(a.isLeader());
  CHECK(api.holder().empty());
  CHECK((*api.lease)["spec"]["leaseDurationSeconds"] == 1);
  clock->advance(2s);
  b.step();
  CHECK(b.isLeader());
  // Releasing when not leading writes nothing.
  int writes = api.writes;
  a.release();
  CHECK(api.writes == writes);
}

TEST_CASE("leader: of two candidates racing for an expired Lease, exactly one wins", "[daemon]") {
  FakeLeaseApi api;
  auto clock = std::make_shared<FakeClock>();
  api.lease = json{{"apiVersion", "coordination.k8s.io/v1"},
                   {"kind", "Lease"},
                   {"metadata", {{"name", "gitfed-c1"}, {"namespace", "gitfed-system"}, {"resourceVersion", "77"}}},
                   {"spec", {{"holderIdentity", "dead"}, {"leaseDurationSeconds", 15}}}};
  LeaderElector a(api, lease("a"), clock, 1), b(api, lease("b"), clock, 2);
  a.step();
  b.step();
  clock->advance(16s);
  // a reads the expired record; before a writes, b reads and writes.
  bool bWon = false;
  api.afterGet = [&] { bWon = b.tryAcquireOrRenew(); };
  bool aWon = a.tryAcquireOrRenew();
  CHECK(bWon);
  CHECK_FALSE(aWon);  // a's update carried the resourceVersion it read: 409
  CHECK(api.holder() == "b");
}

TEST_CASE("leader: MicroTime format", "[daemon]") {
  auto t = std::chrono::system_clock::time_point{} + std::chrono::seconds(1795307420) + std::chrono::microseconds(123456);
  CHECK(formatMicroTime(t) == "2026-11-22T00:30:20.123456Z");
  CHECK(defaultIdentity().size() > 9);
}
