// Core/v1 Events (kube/events.h): the object and the count patch as the API
// server takes them.

#include <catch2/catch.hpp>

#include "gitfed/kube/events.h"

using namespace gitfed::kube;
using nlohmann::json;

TEST_CASE("events: a core/v1 Event with client-go's legacy fields", "[kube]") {
  Event e;
  e.ns = "gitfed-system";
  e.name = "gitfed-inventory-c1.18f2a";
  e.involved = {"v1", "ConfigMap", "gitfed-system", "gitfed-inventory-c1", ""};
  e.type = "Normal";
  e.reason = "Applied";
  e.message = "revision 1a2b3c4d5e6f: 1 created; 1 object";
  e.component = "gitfed-agent";
  e.instance = std::string(200, 'i');
  e.count = 3;
  e.firstSeen = std::chrono::system_clock::time_point{} + std::chrono::seconds(1'800'000'000);
  e.lastSeen = e.firstSeen + std::chrono::milliseconds(61'500);
  const json o = eventObject(e);
  CHECK(o["metadata"] == json{{"name", "gitfed-inventory-c1.18f2a"}, {"namespace", "gitfed-system"}});
  CHECK_FALSE(o["involvedObject"].contains("uid"));  // unknown: left out, not ""
  CHECK(o["count"] == 3);
  CHECK(o["firstTimestamp"] == "2027-01-15T08:00:00Z");
  CHECK(o["lastTimestamp"] == "2027-01-15T08:01:01Z");  // whole seconds
  CHECK_FALSE(o.contains("eventTime"));  // would bring the events.k8s.io rules
  CHECK(o["reportingInstance"].get<std::string>().size() == 128);
  CHECK(o["source"]["host"] == o["reportingInstance"]);
  CHECK(eventCountPatch(e) == json{{"count", 3}, {"lastTimestamp", "2027-01-15T08:01:01Z"}, {"message", e.message}});
}
