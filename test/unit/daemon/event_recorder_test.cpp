// EventRecorder (event_recorder.h) over the Events endpoints of a fake API
// server: creates with the involved object's uid, count updates, an expired
// Event created again, a taken name updated, queued writes coalesced, a
// slow or failing server that never blocks the caller.

#include <catch2/catch.hpp>

#include <atomic>
#include <condition_variable>
#include <mutex>

#include "daemon/fake_events_api.h"
#include "daemon/fakes.h"
#include "gitfed/daemon/event_recorder.h"

using namespace gitfed;
using namespace gitfed::daemon;
using namespace std::chrono_literals;
using nlohmann::json;

namespace {

EventCorrelator correlator(std::shared_ptr<test::FakeClock> clock) {
  EventSource s;
  s.involved = {"v1", "ConfigMap", "gitfed-system", "gitfed-inventory-c1", ""};
  s.instance = "agent-0";
  return EventCorrelator(s, std::move(clock));
}

const RoundEvent kFailed{EventType::Warning, "RenderFailed", "revision 1a2b3c4d5e6f not applied: 1 render error at a.yaml:3"};

// Holds every request until open() (a server that does not answer).
struct Gate {
  std::mutex mu;
  std::condition_variable cv;
  bool opened = false;
  std::atomic<int> waiting{0};
  void pass() {
    std::unique_lock lock(mu);
    ++waiting;
    cv.wait(lock, [&] { return opened; });
  }
  void open() {
    {
      std::lock_guard lock(mu);
      opened = true;
    }
    cv.notify_all();
  }
};

}  // namespace

TEST_CASE("event recorder: a new Event with the involved object's uid, then its count", "[daemon][events]") {
  test::FakeEventsApi api;
  api.configMapUid = "uid-123";
  auto clock = std::make_shared<test::FakeClock>();
  EventRecorder recorder(api, correlator(clock));
  recorder.record(kFailed);
  REQUIRE(recorder.flush(5s));
  auto events = api.events();
  REQUIRE(events.size() == 1);
  const json e = events.begin()->second;
  CHECK(e["apiVersion"] == "v1");
  CHECK(e["kind"] == "Event");
  CHECK(e["metadata"]["namespace"] == "gitfed-system");
  CHECK(e["involvedObject"] == json{{"apiVersion", "v1"}, {"kind", "ConfigMap"}, {"namespace", "gitfed-system"},
                                    {"name", "gitfed-inventory-c1"}, {"uid", "uid-123"}});
  CHECK(e["type"] == "Warning");
  CHECK(e["reason"] == "RenderFailed");
  CHECK(e["message"] == kFailed.message);
  CHECK(e["count"] == 1);
  CHECK(e["source"] == json{{"component", "gitfed-agent"}, {"host", "agent-0"}});
  CHECK(e["reportingComponent"] == "gitfed-agent");
  CHECK(e["reportingInstance"] == "agent-0");
  CHECK(e["firstTimestamp"] == e["lastTimestamp"]);
  CHECK(e["firstTimestamp"].get<std::string>().ends_with("Z"));

  clock->advance(90s);
  recorder.record(kFailed);
  REQUIRE(recorder.flush(5s));
  events = api.events();
  REQUIRE(events.size() == 1);
  const json& updated = events.begin()->second;
  CHECK(updated["count"] == 2);
  CHECK(updated["lastTimestamp"] != updated["firstTimestamp"]);
  auto calls = api.calls();
  REQUIRE(calls.size() == 3);  // GET the ConfigMap, POST, PATCH
  CHECK(calls[0].method == "GET");
  CHECK(calls[1].method == "POST");
  CHECK(calls[2].method == "PATCH");
  CHECK(calls[2].body == json{{"count", 2}, {"lastTimestamp", updated["lastTimestamp"]}, {"message", kFailed.message}});
  CHECK(recorder.stats().written == 2);
}

TEST_CASE("event recorder: an Event the API server removed is created again with its count", "[daemon][events]") {
  test::FakeEventsApi api;  // no ConfigMap yet: no uid
  auto clock = std::make_shared<test::FakeClock>();
  EventRecorder recorder(api, correlator(clock));
  recorder.record(kFailed);
  REQUIRE(recorder.flush(5s));
  const std::string name = api.events().begin()->first;
  CHECK_FALSE(api.events().begin()->second["involvedObject"].contains("uid"));
  api.forget(name);
  recorder.record(kFailed);
  REQUIRE(recorder.flush(5s));
  auto events = api.events();
  REQUIRE(events.size() == 1);
  CHECK(events.begin()->first == name);
  CHECK(events.begin()->second["count"] == 2);
}

TEST_CASE("event recorder: a taken name (another recorder's, same instant) becomes a count update",
          "[daemon][events]") {
  test::FakeEventsApi api;
  auto clock = std::make_shared<test::FakeClock>();
  {
    EventRecorder first(api, correlator(clock));
    first.record(kFailed);
    REQUIRE(first.flush(5s));
  }
  EventRecorder second(api, correlator(clock));
  second.record(kFailed);
  REQUIRE(second.flush(5s));
  CHECK(api.events().size() == 1);
  CHECK(second.stats().written == 1);
  CHECK(api.calls().back().method == "PATCH");
}

TEST_CASE("event recorder: a slow server never blocks a round; queued repeats are one write", "[daemon][events]") {
  test::FakeEventsApi api;
  Gate gate;
  api.gate = [&] { gate.pass(); };
  auto clock = std::make_shared<test::FakeClock>();
  {
    EventRecorder recorder(api, correlator(clock));
    recorder.record(kFailed);  // its POST hangs...
    const auto start = std::chrono::steady_clock::now();
    recorder.record({EventType::Normal, "Applied", "revision b: 1 created; 1 object"});
    recorder.record({EventType::Normal, "Applied", "revision b: 1 created; 1 object"});
    recorder.record({EventType::Normal, "Applied", "revision b: 1 created; 1 object"});
    CHECK(std::chrono::steady_clock::now() - start < 1s);  // ...and record() does not wait for it
    CHECK_FALSE(recorder.flush(50ms));
    gate.open();
    REQUIRE(recorder.flush(5s));
    auto events = api.events();
    REQUIRE(events.size() == 2);
    int posts = 0;
    for (const auto& c : api.calls()) posts += c.method == "POST";
    CHECK(posts == 2);  // the three Applied: one create carrying count 3
    bool counted = false;
    for (const auto& [name, e] : events) counted |= e["reason"] == "Applied" && e["count"] == 3;
    CHECK(counted);
  }
}

TEST_CASE("event recorder: a failing server: writes fail, are counted, and the next one works", "[daemon][events]") {
  test::FakeEventsApi api;
  api.forbidden = true;
  auto clock = std::make_shared<test::FakeClock>();
  EventRecorder recorder(api, correlator(clock));
  recorder.record(kFailed);
  recorder.record({EventType::Normal, "Applied", "x"});
  REQUIRE(recorder.flush(5s));
  CHECK(recorder.stats().failed == 2);
  CHECK(api.events().empty());
  api.forbidden = false;
  api.down = false;
  recorder.record({EventType::Normal, "Pruned", "y"});
  REQUIRE(recorder.flush(5s));
  CHECK(recorder.stats().written == 1);
  CHECK(api.events().size() == 1);
}

TEST_CASE("event recorder: over the rate limit, dropped and counted", "[daemon][events]") {
  test::FakeEventsApi api;
  auto clock = std::make_shared<test::FakeClock>();
  EventRecorder recorder(api, correlator(clock));
  for (int i = 0; i < 12; ++i) recorder.record({EventType::Warning, "SyncFailed", "m" + std::to_string(i)});
  REQUIRE(recorder.flush(5s));
  CHECK(api.events().size() == 10);
  CHECK(recorder.stats().dropped == 2);
}
