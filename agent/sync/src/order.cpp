#include "gitfed/sync/order.h"

#include <algorithm>
#include <map>

#include "gitfed/render/renderer.h"

namespace gitfed::sync {

bool isFirstStageKind(const std::string& group, const std::string& kind) {
  return (group.empty() && kind == "Namespace") ||
         (group == "apiextensions.k8s.io" && kind == "CustomResourceDefinition");
}

int stageKey(const std::string& group, const std::string& kind) {
  return isFirstStageKind(group, kind) ? -1 : render::kindRank(kind);
}

std::vector<std::vector<std::size_t>> applyStages(const std::vector<KindOf>& items) {
  std::map<int, std::vector<std::size_t>> byKey;
  for (std::size_t i = 0; i < items.size(); ++i) byKey[stageKey(items[i].group, items[i].kind)].push_back(i);
  std::vector<std::vector<std::size_t>> stages;
  for (auto& [key, indexes] : byKey) stages.push_back(std::move(indexes));
  return stages;
}

std::vector<std::vector<std::size_t>> pruneStages(const std::vector<KindOf>& items) {
  auto stages = applyStages(items);
  std::reverse(stages.begin(), stages.end());
  for (auto& s : stages) std::reverse(s.begin(), s.end());
  return stages;
}

}  // namespace gitfed::sync
