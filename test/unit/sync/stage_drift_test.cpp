// The drift stage on its own (agent/sync/src/stage_drift.cpp): what the
// ownership LIST finds, compared locally, and suspects confirmed by a dry run.

#include "stage_fixture.h"

using namespace gitfed::test::sync;
using nlohmann::json;

TEST_CASE("drift: new objects are applied, unchanged ones in sync without a request each", "[sync][stage][drift]") {
  StageRound r;
  REQUIRE(r.syncAll(ns("shop") + cm("a", "shop")).ok());
  r.fake.resetCounters();
  auto& s = r.throughObserve(ns("shop") + cm("a", "shop") + cm("b", "shop"));
  CHECK(r.item("ConfigMap", "a").plan == Plan::InSync);
  CHECK(r.item("ConfigMap", "a").listed);
  CHECK(r.item("Namespace", "shop").plan == Plan::InSync);
  CHECK(r.item("ConfigMap", "b").plan == Plan::Apply);
  CHECK(r.item("ConfigMap", "b").applyAction == Action::Created);
  CHECK(r.fake.dryRuns == 0);
  CHECK(r.fake.gets == 1);  // the inventory
  CHECK(s.candidates.empty());
}

TEST_CASE("drift: a changed hash is an update; an object no longer desired is a prune candidate", "[sync][stage][drift]") {
  StageRound r;
  REQUIRE(r.syncAll(ns("shop") + cm("a", "shop") + cm("gone", "shop")).ok());
  auto& s = r.throughObserve(ns("shop") + cm("a", "shop", "changed"));
  CHECK(r.item("ConfigMap", "a").plan == Plan::Apply);
  CHECK(r.item("ConfigMap", "a").applyAction == Action::Updated);
  REQUIRE(s.candidates.size() == 1);
  CHECK(s.candidates[0].ref.name == "gone");
  CHECK(s.candidates[0].uid != "");
}

TEST_CASE("drift: a live edit is confirmed by a dry run: Drifted in report-only mode, Apply (healed) in self-heal",
          "[sync][stage][drift]") {
  for (auto mode : {DriftMode::ReportOnly, DriftMode::SelfHeal}) {
    StageRound r;
    r.options.driftMode = mode;
    REQUIRE(r.syncAll(ns("shop") + cm("a", "shop")).ok());
    r.fake.edit("v1", "ConfigMap", "shop", "a", [](json& o) { o["data"]["k"] = "edited"; });
    r.fake.resetCounters();
    r.throughObserve(ns("shop") + cm("a", "shop"));
    const Item& a = r.item("ConfigMap", "a");
    CHECK(r.fake.dryRuns == 1);
    REQUIRE(a.drift.size() == 1);
    CHECK(a.drift[0].path == "/data/k");
    if (mode == DriftMode::ReportOnly) {
      CHECK(a.plan == Plan::Drifted);
    } else {
      CHECK(a.plan == Plan::Apply);
      CHECK(a.applyAction == Action::Healed);
    }
  }
}

TEST_CASE("drift: server normalisation is not drift, and the in-sync cache skips the next dry run", "[sync][stage][drift]") {
  StageRound r;
  r.fake.normalize = [](json& o) {
    if (o.contains("data") && o["data"].contains("k") && o["data"]["k"] == "1000m") o["data"]["k"] = "1";
  };
  REQUIRE(r.syncAll(ns("shop") + cm("a", "shop", "1000m")).ok());
  r.fake.resetCounters();
  r.throughObserve(ns("shop") + cm("a", "shop", "1000m"));
  CHECK(r.item("ConfigMap", "a").plan == Plan::InSync);
  CHECK(r.fake.dryRuns == 1);
  r.cache.endRound();
  CHECK(r.cache.size() == 2);  // the Namespace (compared locally) and the ConfigMap (by the dry run)
  r.throughObserve(ns("shop") + cm("a", "shop", "1000m"));
  CHECK(r.item("ConfigMap", "a").plan == Plan::InSync);
  CHECK(r.fake.dryRuns == 1);  // not again
}

TEST_CASE("drift: a failed LIST marks the round (no prune) and says which type", "[sync][stage][drift]") {
  StageRound r;
  REQUIRE(r.syncAll(ns("shop") + cm("a", "shop")).ok());
  r.fake.failList["configmaps"] = gitfed::kube::Error{500, "InternalError", "etcd is sad", ""};
  auto& s = r.throughObserve(ns("shop") + cm("a", "shop"));
  CHECK(s.listFailed);
  REQUIRE_FALSE(s.report.errors.empty());
  CHECK(s.report.errors[0].find("list v1 ConfigMap: 500 InternalError: etcd is sad") != std::string::npos);
  CHECK(stage::pruneBlocker(s) == "a LIST failed this round: the set of owned objects is not known");
}
