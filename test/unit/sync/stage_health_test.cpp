// The health stage on its own (agent/sync/src/stage_health.cpp).

#include "stage_fixture.h"

using namespace gitfed::test::sync;

TEST_CASE("health: the final state follows the plan and the health", "[sync][stage][health]") {
  struct Case {
    Plan plan;
    State before;
    Health health;
    State after;
  };
  for (const auto& c : std::vector<Case>{
           {Plan::Failed, State::Synced, Health::Healthy, State::Failed},
           {Plan::Skipped, State::Synced, Health::Unknown, State::Failed},
           {Plan::Drifted, State::Synced, Health::Healthy, State::Drifted},
           {Plan::Drifted, State::Missing, Health::Unknown, State::Missing},
           {Plan::Suspect, State::Synced, Health::Unknown, State::Missing},
           {Plan::InSync, State::Synced, Health::Progressing, State::Progressing},
           {Plan::InSync, State::Synced, Health::Degraded, State::Synced},
           {Plan::InSync, State::Missing, Health::Unknown, State::Missing},
       }) {
    Item it;
    it.plan = c.plan;
    it.state = c.before;
    it.health = c.health;
    stage::finishState(it);
    CHECK(it.state == c.after);
  }
}

TEST_CASE("health: Progressing objects are polled until the deadline, then Degraded", "[sync][stage][health]") {
  StageRound r;
  r.options.healthTimeout = std::chrono::milliseconds(50);
  const std::string job =
      "---\napiVersion: batch/v1\nkind: Job\nmetadata: {name: j, namespace: shop}\n"
      "spec: {template: {spec: {restartPolicy: Never, containers: [{name: c, image: i}]}}}\n";
  auto& s = r.throughObserve(ns("shop") + job);
  stage::apply(s);
  REQUIRE(r.item("Job", "j").health == Health::Progressing);
  const auto gets = r.fake.gets.load();
  stage::waitForHealth(s);
  CHECK(r.item("Job", "j").health == Health::Degraded);
  CHECK(r.item("Job", "j").healthMessage.starts_with("not healthy after 50ms: "));
  CHECK(r.fake.gets > gets);
}
