// The inventory's text form and its ConfigMap.

#include <catch2/catch.hpp>

#include "fake_kube_client.h"
#include "gitfed/sync/inventory.h"

using namespace gitfed::sync;

TEST_CASE("inventory text round-trips, grouped by type and namespace", "[sync][inventory]") {
  Inventory inv;
  inv.add({"apps/v1", "Deployment", "shop", "web"});
  inv.add({"apps/v1", "Deployment", "shop", "api"});
  inv.add({"apps/v1", "Deployment", "bank", "ledger"});
  inv.add({"v1", "Namespace", "", "shop"});
  inv.add({"rbac.authorization.k8s.io/v1", "ClusterRole", "", "system:odd name"});
  auto text = inv.encode();
  CHECK(text ==
        "# gitfed inventory v1\n"
        "T v1 Namespace\nN \nO shop\n"
        "T apps/v1 Deployment\nN bank\nO ledger\nN shop\nO api\nO web\n"
        "T rbac.authorization.k8s.io/v1 ClusterRole\nN \nO system:odd name\n");
  auto back = Inventory::decode(text);
  REQUIRE(back);
  CHECK(*back == inv);
  CHECK(back->contains(ObjectKey{"apps", "Deployment", "shop", "web"}));
  CHECK(Inventory::decode("")->empty());
  auto bad = Inventory::decode("T v1 ConfigMap\nN a\nX b\n");
  REQUIRE_FALSE(bad);
  CHECK(bad.error() == "inventory line 3: expected \"T \", \"N \" or \"O \"");
  CHECK_FALSE(Inventory::decode("O orphan\n"));
}

TEST_CASE("inventory of 10,000 objects fits a ConfigMap easily", "[sync][inventory]") {
  Inventory inv;
  for (int n = 0; n < 50; ++n)
    for (int i = 0; i < 200; ++i)
      inv.add({i % 3 ? "v1" : "apps/v1", i % 3 ? "ConfigMap" : "Deployment", "team-" + std::to_string(n),
               "app-" + std::to_string(i)});
  CHECK(inv.size() == 10000);
  CHECK(inv.encode().size() < 150'000);
}

TEST_CASE("InventoryStore: absent is empty; save creates the namespace; load reads it back", "[sync][inventory]") {
  gitfed::test::FakeKubeClient fake;
  InventoryStore store(fake, "gitfed-system", "c1");
  auto empty = store.load();
  REQUIRE(empty);
  CHECK(empty->empty());
  Inventory inv;
  inv.add({"v1", "ConfigMap", "a", "b"});
  REQUIRE(store.save(inv));
  CHECK(fake.object("v1", "Namespace", "", "gitfed-system"));
  auto cm = fake.object("v1", "ConfigMap", "gitfed-system", "gitfed-inventory-c1");
  REQUIRE(cm);
  CHECK_FALSE((*cm)["metadata"]["labels"].contains("gitfed.io/inventory"));  // never a prune candidate
  auto back = store.load();
  REQUIRE(back);
  CHECK(*back == inv);
}
