// A round's summary and message (agent/sync/src/report.cpp): Degraded
// objects counted and named (docs/status-spec.md, "Degraded objects").

#include <catch2/catch.hpp>

#include "gitfed/sync/report.h"

using namespace gitfed::sync;

namespace {

ObjectReport object(std::string kind, std::string name, State state, Health health, std::string message = "") {
  ObjectReport o;
  o.ref = ObjectRef{"v1", std::move(kind), "shop", std::move(name)};
  o.state = state;
  o.health = health;
  o.healthMessage = std::move(message);
  return o;
}

}  // namespace

TEST_CASE("summary: Degraded objects are counted, named first, and keep the phase at Progressing", "[sync][report]") {
  SyncReport r;
  r.objects.push_back(object("Service", "ok", State::Synced, Health::Healthy));
  r.objects.push_back(object("APIService", "metrics", State::Synced, Health::Degraded, "FailedDiscoveryCheck"));
  finalize(r);
  CHECK(r.summary.objects == 2);
  CHECK(r.summary.synced == 2);
  CHECK(r.summary.degraded == 1);
  CHECK(r.phase == Phase::Progressing);
  CHECK(summaryMessage(r) == "1 degraded: APIService shop/metrics (FailedDiscoveryCheck); no changes");
  CHECK(toJson(r)["summary"]["degraded"] == 1);

  // More than three: three named, the rest counted; a Degraded object that
  // is also drifted counts in both.
  for (int i = 0; i < 4; ++i) r.objects.push_back(object("Job", "j" + std::to_string(i), State::Drifted, Health::Degraded));
  finalize(r);
  CHECK(r.summary.degraded == 5);
  CHECK(r.phase == Phase::Drifted);
  CHECK(summaryMessage(r) ==
        "5 degraded: APIService shop/metrics (FailedDiscoveryCheck), Job shop/j0, Job shop/j1 and 2 more; 4 drifted");
}

TEST_CASE("summary: healthy and progressing objects are not degraded; a pruned one never is", "[sync][report]") {
  SyncReport r;
  r.objects.push_back(object("Deployment", "web", State::Progressing, Health::Progressing));
  r.objects.push_back(object("ConfigMap", "gone", State::Pruned, Health::Degraded));
  finalize(r);
  CHECK(r.summary.degraded == 0);
  CHECK(r.phase == Phase::Progressing);
  CHECK(summaryMessage(r).find("degraded") == std::string::npos);
}
