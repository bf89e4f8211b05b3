// planShareIndexed (one cluster's share, no sort) against the full planner
// (planReplicasIndexed, which passes KubeFed's own tests): the same number for
// every cluster of many seeded random fleets, including the edges the short
// way depends on (minimums that exhaust the total, maximums that fill, weight 0,
// ties on weight and score, clusters with no entry).
#include <catch2/catch.hpp>

#include <random>

#include "gitfed/render/planner.h"

using gitfed::render::ClusterPreference;
using gitfed::render::planReplicasIndexed;
using gitfed::render::planShareIndexed;

namespace {

struct Fleet {
  std::vector<std::string> storage;
  std::vector<const std::string*> names;
  std::vector<std::optional<ClusterPreference>> prefs;
  std::int64_t total = 0;
  std::string key;
};

Fleet randomFleet(std::mt19937& rng) {
  auto pick = [&](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); };
  Fleet f;
  const int n = pick(1, 40);
  f.storage.reserve(static_cast<std::size_t>(n));
  for (int i = 0; i < n; ++i) f.storage.push_back("c" + std::to_string(pick(0, 9)) + "-" + std::to_string(i));
  for (const auto& s : f.storage) {
    f.names.push_back(&s);
    if (pick(0, 9) == 0) {
      f.prefs.emplace_back(std::nullopt);  // no entry and no "*"
      continue;
    }
    ClusterPreference p;
    p.weight = pick(0, 4) == 0 ? 0 : pick(1, 3);  // few distinct weights: many ties
    p.minReplicas = pick(0, 2) == 0 ? pick(0, 5) : 0;
    if (pick(0, 1)) p.maxReplicas = p.minReplicas + pick(0, 8);
    p.preferredScore = pick(0, 3) == 0 ? pick(1, 2) * 50 : 0;
    f.prefs.emplace_back(p);
  }
  f.total = pick(0, 3) == 0 ? pick(0, 10) : pick(0, 300);
  f.key = pick(0, 1) ? "" : "ns" + std::to_string(pick(0, 99)) + "/app";
  return f;
}

}  // namespace

TEST_CASE("planShareIndexed gives every cluster exactly the full planner's share", "[render][planner]") {
  std::mt19937 rng(20261206);  // fixed seed: the same fleets on every run
  int compared = 0, runOut = 0;
  for (int round = 0; round < 3000; ++round) {
    Fleet f = randomFleet(rng);
    auto full = planReplicasIndexed(f.names, f.prefs, f.total, false, f.key);
    std::int64_t placed = 0;
    for (std::size_t i = 0; i < f.names.size(); ++i) {
      INFO("round " << round << ", cluster " << *f.names[i] << ", total " << f.total << ", key '" << f.key << "'");
      CHECK(planShareIndexed(f.names, f.prefs, f.total, f.key, i) == full.replicas[i]);
      placed += full.replicas[i];
      ++compared;
    }
    if (placed == f.total && f.total > 0) ++runOut;
  }
  // The generator reaches both regimes: fleets where the replicas run out
  // (the order decides) and fleets whose maximums leave some unplaced.
  CHECK(compared > 30000);
  CHECK(runOut > 1000);
  CHECK(runOut < 3000);
}

TEST_CASE("planShareIndexed: the order decides only where the replicas run out", "[render][planner]") {
  std::vector<std::string> s{"a", "b", "c"};
  std::vector<const std::string*> names{&s[0], &s[1], &s[2]};
  std::vector<std::optional<ClusterPreference>> prefs(3, ClusterPreference{0, std::nullopt, 1, 0});
  // 4 replicas over 3 equal clusters: shares 2, 1, 1 in hash order (key "").
  auto full = planReplicasIndexed(names, prefs, 4, false, "");
  std::int64_t sum = 0;
  for (std::size_t i = 0; i < 3; ++i) {
    CHECK(planShareIndexed(names, prefs, 4, "", i) == full.replicas[i]);
    sum += planShareIndexed(names, prefs, 4, "", i);
  }
  CHECK(sum == 4);
  // A cluster with no entry gets 0; an index past the end too.
  prefs[1] = std::nullopt;
  CHECK(planShareIndexed(names, prefs, 4, "", 1) == 0);
  CHECK(planShareIndexed(names, prefs, 4, "", 7) == 0);
  // min > max (validate refuses it) is left to the full planner.
  prefs[0] = ClusterPreference{5, 2, 1, 0};
  CHECK(planShareIndexed(names, prefs, 4, "", 0) == planReplicasIndexed(names, prefs, 4, false, "").replicas[0]);
}
