// EventCorrelator (events.h): identical events are one Event counting them,
// new Events are limited per window, the memory is bounded; on a fake clock.

#include <catch2/catch.hpp>

#include "daemon/fakes.h"
#include "gitfed/daemon/events.h"

using namespace gitfed;
using namespace gitfed::daemon;
using namespace std::chrono_literals;

namespace {

EventSource source() {
  EventSource s;
  s.involved = {"v1", "ConfigMap", "gitfed-system", "gitfed-inventory-c1", ""};
  s.instance = "agent-0_1234abcd";
  return s;
}

RoundEvent warning(const std::string& message) { return {EventType::Warning, "SyncFailed", message}; }

}  // namespace

TEST_CASE("events: a new event, then the same again: one Event, counted", "[daemon][events]") {
  auto clock = std::make_shared<test::FakeClock>();
  EventCorrelator c(source(), clock);
  auto first = c.observe(warning("revision abc: 1 object failed (Deployment shop/web); 3 objects"));
  REQUIRE(first);
  CHECK_FALSE(first->update);
  const auto& e = first->event;
  CHECK(e.ns == "gitfed-system");
  CHECK(e.name.starts_with("gitfed-inventory-c1."));
  CHECK(e.involved.kind == "ConfigMap");
  CHECK(e.involved.name == "gitfed-inventory-c1");
  CHECK(e.type == "Warning");
  CHECK(e.reason == "SyncFailed");
  CHECK(e.count == 1);
  CHECK(e.component == "gitfed-agent");
  CHECK(e.instance == "agent-0_1234abcd");
  CHECK(e.firstSeen == e.lastSeen);

  clock->advance(30s);
  auto again = c.observe(warning("revision abc: 1 object failed (Deployment shop/web); 3 objects"));
  REQUIRE(again);
  CHECK(again->update);
  CHECK(again->event.name == e.name);
  CHECK(again->event.count == 2);
  CHECK(again->event.firstSeen == e.firstSeen);
  CHECK(again->event.lastSeen - e.lastSeen == 30s);

  // Another message (a new revision, another count) or type or reason: a new Event.
  auto other = c.observe(warning("revision def: 1 object failed (Deployment shop/web); 3 objects"));
  REQUIRE(other);
  CHECK_FALSE(other->update);
  CHECK(other->event.name != e.name);
  auto normal = c.observe({EventType::Normal, "SyncFailed", "revision abc: 1 object failed (Deployment shop/web); 3 objects"});
  REQUIRE(normal);
  CHECK_FALSE(normal->update);
}

TEST_CASE("events: at most 10 new Events in any minute; repeats are not limited", "[daemon][events]") {
  auto clock = std::make_shared<test::FakeClock>();
  EventCorrelator c(source(), clock);
  for (int i = 0; i < 10; ++i) {
    auto w = c.observe(warning("m" + std::to_string(i)));
    REQUIRE(w);
    CHECK_FALSE(w->update);
    clock->advance(1s);
  }
  CHECK_FALSE(c.observe(warning("m10")));  // the 11th new one within 60 s
  CHECK(c.dropped() == 1);
  auto repeat = c.observe(warning("m3"));  // a count update is no new object
  REQUIRE(repeat);
  CHECK(repeat->update);
  CHECK(repeat->event.count == 2);
  // 60 s after the first, one slot is free again; the dropped one was not
  // remembered, so it is created now.
  clock->advance(50s);
  auto later = c.observe(warning("m10"));
  REQUIRE(later);
  CHECK_FALSE(later->update);
  CHECK(later->event.count == 1);
  CHECK_FALSE(c.observe(warning("m11")));
  CHECK(c.dropped() == 2);
}

TEST_CASE("events: the least recently seen are forgotten first", "[daemon][events]") {
  auto clock = std::make_shared<test::FakeClock>();
  CorrelatorOptions o;
  o.remembered = 2;
  EventCorrelator c(source(), clock, o);
  REQUIRE(c.observe(warning("a")));
  REQUIRE(c.observe(warning("b")));
  REQUIRE(c.observe(warning("a"))->update);  // a is the most recent now
  REQUIRE_FALSE(c.observe(warning("c"))->update);  // b goes
  CHECK(c.observe(warning("a"))->update);
  CHECK_FALSE(c.observe(warning("b"))->update);  // a new Event again
}

TEST_CASE("events: names are unique even at the same instant", "[daemon][events]") {
  auto clock = std::make_shared<test::FakeClock>();
  EventCorrelator c(source(), clock);
  auto a = c.observe(warning("a")), b = c.observe(warning("b"));
  REQUIRE(a);
  REQUIRE(b);
  CHECK(a->event.name != b->event.name);
  CHECK(a->event.firstSeen == b->event.firstSeen);
}
