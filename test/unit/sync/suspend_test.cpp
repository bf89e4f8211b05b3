// Suspended objects (agent/sync/README.md, "Suspended objects"):
// gitfed.io/reconcile: disabled, in Git or on the live object.

#include "fake_kube_client.h"
#include "gitfed/sync/inventory.h"
#include "sync_test_support.h"

using namespace gitfed::test::sync;
using nlohmann::json;

namespace {

const std::string kSuspended = "\n  annotations: {gitfed.io/reconcile: disabled}";

}  // namespace

TEST_CASE("suspended in Git: not created, not updated, not healed; reported Suspended", "[sync][suspend]") {
  FakeKubeClient fake;
  Engine engine(fake, options());
  // Missing and suspended: not created.
  auto first = engine.sync(render(ns("shop") + cm("a", "shop", "v", kSuspended) + cm("b", "shop")));
  INFO(toJson(first).dump(2));
  CHECK(first.phase == Phase::Synced);
  CHECK(find(first, "ConfigMap", "a").state == State::Suspended);
  CHECK(first.summary.suspended == 1);
  CHECK_FALSE(fake.object("v1", "ConfigMap", "shop", "a"));
  CHECK(fake.object("v1", "ConfigMap", "shop", "b"));
  CHECK(first.message.find("1 suspended") != std::string::npos);

  // Created while reconciled, then suspended: a hand edit and a Git change are both left alone.
  REQUIRE(engine.sync(render(ns("shop") + cm("a", "shop") + cm("b", "shop"))).ok());
  fake.edit("v1", "ConfigMap", "shop", "a", [](json& o) { o["data"]["k"] = "by hand"; });
  fake.resetCounters();
  auto suspended = engine.sync(render(ns("shop") + cm("a", "shop", "changed in git", kSuspended) + cm("b", "shop")));
  INFO(toJson(suspended).dump(2));
  CHECK(find(suspended, "ConfigMap", "a").state == State::Suspended);
  CHECK(find(suspended, "ConfigMap", "a").drift.empty());
  CHECK(fake.applies == 0);
  CHECK(fake.dryRuns == 0);
  CHECK((*fake.object("v1", "ConfigMap", "shop", "a"))["data"]["k"] == "by hand");
  CHECK(suspended.phase == Phase::Synced);

  // Resumed: the next round applies Git's value.
  auto resumed = engine.sync(render(ns("shop") + cm("a", "shop", "changed in git") + cm("b", "shop")));
  CHECK(find(resumed, "ConfigMap", "a").state == State::Synced);
  CHECK((*fake.object("v1", "ConfigMap", "shop", "a"))["data"]["k"] == "changed in git");
}

TEST_CASE("suspended on the live object only: left alone, and not pruned when it leaves Git", "[sync][suspend]") {
  FakeKubeClient fake;
  Engine engine(fake, options());
  REQUIRE(engine.sync(render(ns("shop") + cm("a", "shop") + cm("b", "shop"))).ok());
  fake.edit("v1", "ConfigMap", "shop", "a", [](json& o) {
    o["metadata"]["annotations"]["gitfed.io/reconcile"] = "disabled";
    o["data"]["k"] = "by hand";
  });
  fake.resetCounters();
  auto r = engine.sync(render(ns("shop") + cm("a", "shop", "new") + cm("b", "shop")));
  INFO(toJson(r).dump(2));
  CHECK(find(r, "ConfigMap", "a").state == State::Suspended);
  CHECK(fake.applies == 0);
  CHECK((*fake.object("v1", "ConfigMap", "shop", "a"))["data"]["k"] == "by hand");

  // Removed from Git: kept (live and in the inventory), reported Suspended; b is pruned.
  auto gone = engine.sync(render(ns("shop")));
  INFO(toJson(gone).dump(2));
  CHECK(gone.phase == Phase::Synced);
  CHECK(find(gone, "ConfigMap", "a").state == State::Suspended);
  CHECK(find(gone, "ConfigMap", "a").healthMessage == "not in Git; kept: gitfed.io/reconcile: disabled");
  CHECK(find(gone, "ConfigMap", "b").state == State::Pruned);
  CHECK(fake.object("v1", "ConfigMap", "shop", "a"));
  CHECK_FALSE(fake.object("v1", "ConfigMap", "shop", "b"));
  auto inv = Inventory::decode(inventoryText(fake));
  REQUIRE(inv);
  CHECK(inv->contains(ObjectKey{"", "ConfigMap", "shop", "a"}));
}

TEST_CASE("suspended in a dry run: shown Suspended, nothing compared", "[sync][suspend]") {
  FakeKubeClient fake;
  Engine engine(fake, options());
  REQUIRE(engine.sync(render(ns("shop") + cm("a", "shop"))).ok());
  auto o = options();
  o.dryRun = true;
  Engine diff(fake, o);
  fake.resetCounters();
  auto r = diff.sync(render(ns("shop") + cm("a", "shop", "changed", kSuspended)));
  CHECK(find(r, "ConfigMap", "a").state == State::Suspended);
  CHECK(find(r, "ConfigMap", "a").action == Action::None);
  CHECK(fake.dryRuns == 0);
}

TEST_CASE("suspension: only the value \"disabled\" suspends; any other value is reconciled as usual", "[sync][suspend]") {
  for (const std::string value : {"Disabled", "off", "true", "\"\""}) {
    FakeKubeClient fake;
    Engine engine(fake, options());
    auto r = engine.sync(render(ns("shop") + cm("a", "shop", "v", "\n  annotations: {gitfed.io/reconcile: " + value + "}")));
    INFO(value << ": " << toJson(r).dump(2));
    CHECK(find(r, "ConfigMap", "a").state == State::Synced);
    CHECK(find(r, "ConfigMap", "a").action == Action::Created);
    CHECK(r.summary.suspended == 0);
    CHECK(fake.object("v1", "ConfigMap", "shop", "a"));
  }
}
