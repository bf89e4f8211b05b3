#include "dependencies.h"

#include <set>

#include "stages.h"

namespace gitfed::sync {

std::vector<std::size_t> dependencyDepths(const RoundState& s) {
  const std::size_t n = s.items.size();
  constexpr std::size_t kUnknown = SIZE_MAX, kVisiting = SIZE_MAX - 1;
  std::vector<std::size_t> depth(n, kUnknown);
  // (dependency, 1) for an annotation's; (dependency, 0) for the implicit ones:
  // same depth is enough there, the stages of a depth order them.
  auto edges = [&](std::size_t i) {
    const Item& it = s.items[i];
    std::vector<std::pair<std::size_t, std::size_t>> out;
    for (auto d : it.obj->dependsOn) out.emplace_back(d, 1);
    if (it.crd) out.emplace_back(*it.crd, 0);
    if (!it.obj->ns.empty()) {
      auto ns = s.index.find(KeyView{"", "Namespace", "", it.obj->ns});
      if (ns != s.index.end() && ns->second != i) out.emplace_back(ns->second, 0);
    }
    std::erase_if(out, [&](const auto& e) { return e.first >= n; });
    return out;
  };
  // Iterative depth-first search: a long chain must not exhaust the stack.
  for (std::size_t root = 0; root < n; ++root) {
    if (depth[root] != kUnknown) continue;
    std::vector<std::pair<std::size_t, std::vector<std::pair<std::size_t, std::size_t>>>> work;
    work.emplace_back(root, edges(root));
    depth[root] = kVisiting;
    while (!work.empty()) {
      auto& [v, pending] = work.back();
      if (!pending.empty()) {
        const std::size_t w = pending.back().first;
        pending.pop_back();
        if (depth[w] == kUnknown) {
          depth[w] = kVisiting;
          auto e = edges(w);
          work.emplace_back(w, std::move(e));
        }
        continue;
      }
      std::size_t d = 0;
      for (auto [w, step] : edges(v))
        if (depth[w] != kVisiting && depth[w] != kUnknown) d = std::max(d, depth[w] + step);
      depth[v] = d;
      work.pop_back();
    }
  }
  return depth;
}

namespace {

std::string healthText(const Item& dep) {
  if (dep.plan == Plan::Waiting) return "Waiting";
  std::string s(toString(dep.health));
  if (!dep.healthMessage.empty()) s += ": " + dep.healthMessage;
  return s;
}

}  // namespace

void gateOnDependencies(RoundState& s, const std::vector<std::size_t>& indices) {
  std::set<std::size_t> deps;
  for (auto i : indices)
    if (s.items[i].plan == Plan::Apply)
      for (auto d : s.items[i].obj->dependsOn) deps.insert(d);
  if (deps.empty()) return;
  stage::pollHealth(s, {deps.begin(), deps.end()}, Clock::now() + s.options.dependencyTimeout);
  for (auto i : indices) {
    Item& it = s.items[i];
    if (it.plan != Plan::Apply) continue;
    for (auto d : it.obj->dependsOn) {
      const Item& dep = s.items[d];
      if (dep.plan == Plan::Failed || dep.plan == Plan::Skipped) {
        s.skip(it, "skipped: depends on " + dep.identity() + ", which failed");
        break;
      }
      if (dep.plan == Plan::Waiting || dep.health != Health::Healthy) {
        it.plan = Plan::Waiting;
        it.healthMessage = "waiting for " + dep.identity() + ": " + healthText(dep);
        break;
      }
    }
  }
}

}  // namespace gitfed::sync
