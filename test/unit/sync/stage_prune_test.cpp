// The prune and inventory stages on their own (agent/sync/src/stage_prune.cpp,
// stage_inventory.cpp).

#include "stage_fixture.h"

using namespace gitfed::test::sync;

TEST_CASE("prune: blocked by a failed object, by an empty revision; allowed otherwise", "[sync][stage][prune]") {
  StageRound r;
  REQUIRE(r.syncAll(ns("shop") + cm("a", "shop") + cm("b", "shop")).ok());
  {
    auto& s = r.throughObserve(ns("shop") + cm("a", "shop"));
    CHECK(stage::pruneBlocker(s).empty());
    s.fail(r.item("ConfigMap", "a"), "x");
    CHECK(stage::pruneBlocker(s) == "1 object failed this round");
    stage::prune(s);
    CHECK(s.report.pruneSkipped);
    CHECK(s.report.pruneMessage == "1 object failed this round");
    CHECK(r.fake.object("v1", "ConfigMap", "shop", "b"));
  }
  {
    auto& s = r.throughObserve("");
    CHECK(stage::pruneBlocker(s) ==
          "the revision renders to no objects: refusing to prune all 3 owned objects (allow it explicitly to do so)");
  }
}

TEST_CASE("prune: candidates deleted, prune-disabled ones retained, the inventory follows",
          "[sync][stage][prune][inventory]") {
  StageRound r;
  REQUIRE(r.syncAll(ns("old") + cm("x", "old") + ns("shop") + cm("a", "shop") +
                    cm("kept", "shop", "v", "\n  annotations: {gitfed.io/prune: disabled}"))
              .ok());
  auto& s = r.throughObserve(ns("shop") + cm("a", "shop"));
  CHECK(stage::inventoryCovers(s));
  stage::prune(s);
  REQUIRE(s.pruneReports.size() == 3);
  // Reported in apply order (the Namespace first); deleted in reverse.
  CHECK(s.pruneReports.front().ref.kind == "Namespace");
  for (const auto& p : s.pruneReports) {
    if (p.ref.name == "kept") {
      CHECK(p.action == Action::Retained);
      CHECK(p.healthMessage == "not in Git; kept: gitfed.io/prune: disabled");
    } else {
      CHECK(p.action == Action::Pruned);
    }
  }
  CHECK_FALSE(r.fake.object("v1", "ConfigMap", "old", "x"));
  CHECK(r.fake.object("v1", "ConfigMap", "shop", "kept"));
  stage::writeFinalInventory(s);
  CHECK(s.inventoryWrites == 1);
  CHECK_FALSE(s.stored.contains(ObjectKey{"", "ConfigMap", "old", "x"}));
  CHECK(s.stored.contains(ObjectKey{"", "ConfigMap", "shop", "kept"}));
  CHECK(s.stored.contains(ObjectKey{"", "ConfigMap", "shop", "a"}));
}

TEST_CASE("inventory: written before applying only when the revision adds to it", "[sync][stage][inventory]") {
  StageRound r;
  REQUIRE(r.syncAll(ns("shop") + cm("a", "shop")).ok());
  auto& s = r.throughObserve(ns("shop") + cm("a", "shop") + cm("new", "shop"));
  CHECK_FALSE(stage::inventoryCovers(s));
  auto inv = stage::unionInventory(s);
  CHECK(inv.contains(ObjectKey{"", "ConfigMap", "shop", "new"}));
  CHECK(stage::writeInventory(s, inv, "before applying"));
  CHECK(s.inventoryWrites == 1);
  CHECK(stage::inventoryCovers(s));
  CHECK(stage::writeInventory(s, stage::unionInventory(s), "again"));
  CHECK(s.inventoryWrites == 1);  // unchanged: not written
  CHECK(Inventory::decode(inventoryText(r.fake))->contains(ObjectKey{"", "ConfigMap", "shop", "new"}));
}
