// Apply and prune order: Namespaces and CRDs first, then the renderer's kind
// ranks, each rank one parallel stage; pruning in reverse.

#include <catch2/catch.hpp>

#include "gitfed/sync/order.h"

using namespace gitfed::sync;

namespace {
std::vector<std::vector<std::string>> kinds(const std::vector<KindOf>& items,
                                            const std::vector<std::vector<std::size_t>>& stages) {
  std::vector<std::vector<std::string>> out;
  for (const auto& s : stages) {
    out.emplace_back();
    for (auto i : s) out.back().push_back(items[i].kind + std::to_string(i));
  }
  return out;
}
}  // namespace

TEST_CASE("applyStages: Namespaces and CRDs first, then kind rank, input order kept", "[sync][order]") {
  // In renderer order: CRDs come after ConfigMaps there; the engine moves them up.
  std::vector<KindOf> items = {{"", "Namespace"},
                               {"", "ServiceAccount"},
                               {"", "ConfigMap"},
                               {"", "ConfigMap"},
                               {"apiextensions.k8s.io", "CustomResourceDefinition"},
                               {"", "Service"},
                               {"apps", "Deployment"},
                               {"example.com", "Widget"},
                               {"example.com", "Gadget"}};
  auto stages = applyStages(items);
  using V = std::vector<std::vector<std::string>>;
  CHECK(kinds(items, stages) == V{{"Namespace0", "CustomResourceDefinition4"},
                                  {"ServiceAccount1"},
                                  {"ConfigMap2", "ConfigMap3"},
                                  {"Service5"},
                                  {"Deployment6"},
                                  {"Widget7", "Gadget8"}});
  auto prune = pruneStages(items);
  CHECK(kinds(items, prune) == V{{"Gadget8", "Widget7"},
                                 {"Deployment6"},
                                 {"Service5"},
                                 {"ConfigMap3", "ConfigMap2"},
                                 {"ServiceAccount1"},
                                 {"CustomResourceDefinition4", "Namespace0"}});
}

TEST_CASE("a Namespace kind in another group is not first", "[sync][order]") {
  CHECK(isFirstStageKind("", "Namespace"));
  CHECK_FALSE(isFirstStageKind("example.com", "Namespace"));
  CHECK(isFirstStageKind("apiextensions.k8s.io", "CustomResourceDefinition"));
  CHECK(stageKey("", "Namespace") < stageKey("", "NetworkPolicy"));
  CHECK(stageKey("", "Secret") < stageKey("apps", "Deployment"));
  CHECK(stageKey("apps", "Deployment") < stageKey("example.com", "Widget"));
  CHECK(applyStages({}).empty());
}
