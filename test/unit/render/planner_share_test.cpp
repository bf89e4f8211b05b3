// planShareIndexed (one cluster's share, no sort) against the full planner
// (planReplicasIndexed, which passes KubeFed's own tests): the same number for
// every cluster of many seeded random fleets, including the edges the short
// way depends on (minimums that exhaust the total, maximums that fill, weight 0,
// ties on weight and score, clusters with no entry).
#include <catch2/catch.hpp>

#include <map>
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

namespace {

using gitfed::render::fnv1Hash32;
using gitfed::render::fnv1Prefix;
using gitfed::render::GroupedFleet;
using gitfed::render::planShareGrouped;

// A fleet as a render sees an RSP: a few entries naming clusters, and one
// preference ("*", or none) for every other cluster.
struct Grouped {
  std::vector<std::string> storage;
  std::vector<const std::string*> names;
  std::vector<std::uint32_t> prefixes;
  std::vector<std::pair<std::size_t, ClusterPreference>> entries;
  std::optional<ClusterPreference> others;
  std::int64_t total = 0;
  std::string key;
  std::vector<std::optional<ClusterPreference>> expanded() const {
    std::vector<std::optional<ClusterPreference>> prefs(names.size(), others);
    for (const auto& [i, p] : entries) prefs[i] = p;
    return prefs;
  }
};

Grouped randomGrouped(std::mt19937& rng) {
  auto pick = [&](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); };
  auto preference = [&] {
    ClusterPreference p;
    p.weight = pick(0, 5) == 0 ? 0 : pick(1, 3);  // few distinct weights: entries tie with the others
    p.minReplicas = pick(0, 2) == 0 ? pick(0, 5) : 0;
    if (pick(0, 1)) p.maxReplicas = p.minReplicas + pick(0, 8);
    if (pick(0, 60) == 0) p.maxReplicas = p.minReplicas - 1;  // refused by validate: the fallback
    p.preferredScore = pick(0, 4) == 0 ? pick(1, 2) * 50 : 0;
    return p;
  };
  Grouped f;
  const int n = pick(1, 60);
  f.storage.reserve(static_cast<std::size_t>(n));
  for (int i = 0; i < n; ++i) f.storage.push_back("c" + std::to_string(pick(0, 9)) + "-" + std::to_string(i));
  for (const auto& s : f.storage) {
    f.names.push_back(&s);
    f.prefixes.push_back(fnv1Prefix(s));
  }
  if (pick(0, 7) != 0) f.others = preference();
  const int entryOdds = pick(0, 3) == 0 ? 2 : 8;
  for (std::size_t i = 0; i < f.names.size(); ++i)
    if (pick(0, entryOdds) == 0) f.entries.emplace_back(i, preference());
  f.total = pick(0, 3) == 0 ? pick(0, 10) : pick(0, 400);
  f.key = pick(0, 1) ? "" : "ns" + std::to_string(pick(0, 99)) + "/app";
  return f;
}

}  // namespace

TEST_CASE("fnv1Continue from a name's prefix is the hash of name + key", "[render][planner]") {
  for (std::string name : {"", "a", "prod-a", "c0500"})
    for (std::string key : {"", "shop/web", "ns7/app0007"})
      CHECK(gitfed::render::fnv1Continue(fnv1Prefix(name), key) == fnv1Hash32(name, key));
  CHECK(fnv1Hash32("", "") == 2166136261u);  // Go's New32 offset basis
}

TEST_CASE("planShareGrouped gives every cluster exactly the full planner's share", "[render][planner]") {
  std::mt19937 rng(20261207);  // fixed seed: the same fleets on every run
  int compared = 0, runOut = 0, minimumsRunOut = 0;
  for (int round = 0; round < 4000; ++round) {
    Grouped f = randomGrouped(rng);
    auto prefs = f.expanded();
    auto full = planReplicasIndexed(f.names, prefs, f.total, false, f.key);
    GroupedFleet fleet{f.names, f.prefixes, f.entries, f.others};
    // The key's namespace part hashed into the prefixes beforehand (what a render caches per namespace).
    const std::size_t slash = f.key.find('/');
    const std::string keyPrefix = slash == std::string::npos ? "" : f.key.substr(0, slash + 1);
    std::vector<std::uint32_t> after;
    for (std::uint32_t p : f.prefixes) after.push_back(gitfed::render::fnv1Continue(p, keyPrefix));
    GroupedFleet fleetAfter{f.names, after, f.entries, f.others, keyPrefix};
    std::int64_t placed = 0, sumMin = 0;
    for (std::size_t i = 0; i < f.names.size(); ++i) {
      INFO("round " << round << ", cluster " << *f.names[i] << ", total " << f.total << ", key '" << f.key << "'");
      CHECK(planShareGrouped(fleet, f.total, f.key, i) == full.replicas[i]);
      CHECK(planShareGrouped(fleetAfter, f.total, std::string_view(f.key).substr(keyPrefix.size()), i) == full.replicas[i]);
      placed += full.replicas[i];
      if (prefs[i]) sumMin += prefs[i]->minReplicas;
      ++compared;
    }
    CHECK(planShareGrouped(fleet, f.total, f.key, f.names.size()) == 0);
    if (placed == f.total && f.total > 0) ++runOut;
    if (sumMin >= f.total && f.total > 0) ++minimumsRunOut;
  }
  // Both regimes, and minimums alone exhausting the total, are reached.
  CHECK(compared > 80000);
  CHECK(runOut > 1500);
  CHECK(runOut < 4000);
  CHECK(minimumsRunOut > 100);
}

TEST_CASE("planShareGrouped ranks exact hash ties by name", "[render][planner]") {
  // Two names with the same FNV-1 hash (key ""), found by search: the
  // planner orders them by name, and so must the grouped share.
  std::vector<std::string> s;
  std::map<std::uint32_t, std::string> seen;
  for (int i = 0; s.empty(); ++i) {
    std::string name = "c" + std::to_string(i);
    auto [it, fresh] = seen.emplace(fnv1Hash32(name, ""), name);
    if (!fresh) s = {name, it->second};  // the later one first: the index order is not the name order
  }
  REQUIRE(fnv1Hash32(s[0], "") == fnv1Hash32(s[1], ""));
  {
    std::vector<const std::string*> names{&s[0], &s[1]};
    std::vector<std::uint32_t> prefixes{fnv1Prefix(s[0]), fnv1Prefix(s[1])};
    std::vector<std::pair<std::size_t, ClusterPreference>> none;
    ClusterPreference star{0, std::nullopt, 1, 0};
    GroupedFleet fleet{names, prefixes, none, star};
    std::vector<std::optional<ClusterPreference>> prefs(2, star);
    auto full = planReplicasIndexed(names, prefs, 1, false, "");
    CHECK(full.replicas[s[0] < s[1] ? 0 : 1] == 1);  // the smaller name comes first and takes the one replica
    for (std::size_t i = 0; i < 2; ++i) {
      CHECK(planShareGrouped(fleet, 1, "", i) == full.replicas[i]);
      CHECK(planShareIndexed(names, prefs, 1, "", i) == full.replicas[i]);
    }
  }
  // The pair in different blocks of the grouped ranking (eight at a time),
  // among other clusters, with and without an entry in either block; in the
  // bigger fleet, the second of the pair is in a run of sixteen ranked at once.
  for (std::size_t size : {std::size_t{20}, std::size_t{40}}) {
    std::vector<std::string> storage;
    for (std::size_t i = 0; i < size; ++i) storage.push_back("filler-" + std::to_string(i));
    storage[2] = s[0];
    storage[size == 20 ? 13 : 29] = s[1];
    std::vector<const std::string*> names;
    std::vector<std::uint32_t> prefixes;
    for (const auto& n : storage) {
      names.push_back(&n);
      prefixes.push_back(fnv1Prefix(n));
    }
    ClusterPreference star{0, std::nullopt, 1, 0};
    for (bool withEntry : {false, true}) {
      std::vector<std::pair<std::size_t, ClusterPreference>> entries;
      if (withEntry) entries.emplace_back(5, ClusterPreference{0, std::nullopt, 1, 0});
      GroupedFleet fleet{names, prefixes, entries, star};
      std::vector<std::optional<ClusterPreference>> prefs(names.size(), star);
      for (const auto& [i, p] : entries) prefs[i] = p;
      for (std::int64_t total = 0; total <= 45; ++total) {
        auto full = planReplicasIndexed(names, prefs, total, false, "");
        for (std::size_t i = 0; i < names.size(); ++i) {
          INFO("fleet of " << size << ", total " << total << ", cluster " << *names[i] << (withEntry ? ", with an entry" : ""));
          CHECK(planShareGrouped(fleet, total, "", i) == full.replicas[i]);
        }
      }
    }
  }
}
