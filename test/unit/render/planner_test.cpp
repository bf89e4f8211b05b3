// KubeFed's planner_test.go (pkg/controller/util/planner), every case, with
// the key those tests use (""), plus the FNV-1 hash order they depend on.
#include <catch2/catch.hpp>

#include "gitfed/render/planner.h"

using gitfed::render::ClusterPreference;
using gitfed::render::fnv1Hash32;
using gitfed::render::planReplicas;
using gitfed::render::PlannerInput;
using Counts = std::map<std::string, std::int64_t>;
using Prefs = std::map<std::string, ClusterPreference>;

namespace {

ClusterPreference w(std::int64_t weight) { return ClusterPreference{0, std::nullopt, weight, 0}; }
ClusterPreference wmax(std::int64_t weight, std::int64_t max) { return ClusterPreference{0, max, weight, 0}; }
ClusterPreference mw(std::int64_t min, std::int64_t weight) { return ClusterPreference{min, std::nullopt, weight, 0}; }

PlannerInput input(Prefs prefs, std::int64_t total, std::vector<std::string> clusters, Counts existing = {},
                   Counts capacity = {}, bool rebalance = false) {
  PlannerInput in;
  in.preferences = std::move(prefs);
  in.totalReplicas = total;
  in.availableClusters = std::move(clusters);
  in.currentReplicas = std::move(existing);
  in.estimatedCapacity = std::move(capacity);
  in.rebalance = rebalance;
  return in;
}

void doCheck(Prefs prefs, std::int64_t total, std::vector<std::string> clusters, const Counts& expected) {
  auto plan = planReplicas(input(std::move(prefs), total, std::move(clusters)));
  CHECK(plan.replicas == expected);
  CHECK(plan.overflow.empty());
}

void doCheckWithExisting(Prefs prefs, std::int64_t total, std::vector<std::string> clusters, Counts existing,
                         const Counts& expected) {
  auto plan = planReplicas(input(std::move(prefs), total, std::move(clusters), std::move(existing)));
  CHECK(plan.overflow.empty());
  CHECK(plan.replicas == expected);
}

void doCheckWithExistingAndCapacity(bool rebalance, Prefs prefs, std::int64_t total, std::vector<std::string> clusters,
                                    Counts existing, Counts capacity, const Counts& expected,
                                    const Counts& expectedOverflow) {
  auto plan = planReplicas(input(std::move(prefs), total, std::move(clusters), std::move(existing), std::move(capacity),
                                 rebalance));
  CHECK(plan.replicas == expected);
  CHECK(plan.overflow == expectedOverflow);
}

}  // namespace

TEST_CASE("fnv1Hash32 is Go's fnv.New32 (FNV-1, not FNV-1a)", "[render][planner]") {
  CHECK(fnv1Hash32("", "") == 2166136261u);
  CHECK(fnv1Hash32("a", "") == 0x050c5d7eu);  // FNV-1 of "a" (FNV-1a would be 0xe40c292c)
  CHECK(fnv1Hash32("foo", "") == 0x408f5e13u);
  CHECK(fnv1Hash32("fo", "o") == fnv1Hash32("foo", ""));  // name then key, no separator
  // The order the "hash dependent" cases rely on: with key "", E < D < C < B < A.
  CHECK(fnv1Hash32("A", "") == 84696414u);
  CHECK(fnv1Hash32("E", "") < fnv1Hash32("D", ""));
  CHECK(fnv1Hash32("D", "") < fnv1Hash32("C", ""));
  CHECK(fnv1Hash32("C", "") < fnv1Hash32("B", ""));
  CHECK(fnv1Hash32("B", "") < fnv1Hash32("A", ""));
}

TEST_CASE("KubeFed TestEqual", "[render][planner]") {
  doCheck({{"*", w(1)}}, 50, {"A", "B", "C"}, {{"A", 16}, {"B", 17}, {"C", 17}});
  doCheck({{"*", w(1)}}, 50, {"A", "B"}, {{"A", 25}, {"B", 25}});
  doCheck({{"*", w(1)}}, 1, {"A", "B"}, {{"A", 0}, {"B", 1}});
  doCheck({{"*", w(1)}}, 1, {"A", "B", "C", "D"}, {{"A", 0}, {"B", 0}, {"C", 0}, {"D", 1}});
  doCheck({{"*", w(1)}}, 1, {"A"}, {{"A", 1}});
  doCheck({{"*", w(1)}}, 1, {}, {});
}

TEST_CASE("KubeFed TestEqualWithExisting", "[render][planner]") {
  doCheckWithExisting({{"*", w(1)}}, 50, {"A", "B", "C"}, {{"C", 30}}, {{"A", 10}, {"B", 10}, {"C", 30}});
  doCheckWithExisting({{"*", w(1)}}, 50, {"A", "B"}, {{"A", 30}}, {{"A", 30}, {"B", 20}});
  doCheckWithExisting({{"*", w(1)}}, 15, {"A", "B"}, {{"A", 0}, {"B", 8}}, {{"A", 7}, {"B", 8}});
  doCheckWithExisting({{"*", w(1)}}, 15, {"A", "B"}, {{"A", 1}, {"B", 8}}, {{"A", 7}, {"B", 8}});
  doCheckWithExisting({{"*", w(1)}}, 15, {"A", "B"}, {{"A", 4}, {"B", 8}}, {{"A", 7}, {"B", 8}});
  doCheckWithExisting({{"*", w(1)}}, 15, {"A", "B"}, {{"A", 5}, {"B", 8}}, {{"A", 7}, {"B", 8}});
  doCheckWithExisting({{"*", w(1)}}, 15, {"A", "B"}, {{"A", 6}, {"B", 8}}, {{"A", 7}, {"B", 8}});
  doCheckWithExisting({{"*", w(1)}}, 15, {"A", "B"}, {{"A", 7}, {"B", 8}}, {{"A", 7}, {"B", 8}});
  doCheckWithExisting({{"*", w(1)}}, 500000, {"A", "B"}, {{"A", 300000}}, {{"A", 300000}, {"B", 200000}});
  doCheckWithExisting({{"*", w(1)}}, 50, {"A", "B"}, {{"A", 10}}, {{"A", 25}, {"B", 25}});
  // KubeFed's own TODO: should be 10:40 (kubernetes/kubernetes#31816).
  doCheckWithExisting({{"*", w(1)}}, 50, {"A", "B"}, {{"A", 10}, {"B", 70}}, {{"A", 0}, {"B", 50}});
  doCheckWithExisting({{"*", w(1)}}, 1, {"A", "B"}, {{"A", 30}}, {{"A", 1}, {"B", 0}});
  doCheckWithExisting({{"*", w(1)}}, 50, {"A", "B"}, {{"A", 10}, {"B", 20}}, {{"A", 25}, {"B", 25}});
}

TEST_CASE("KubeFed TestWithExistingAndCapacity", "[render][planner]") {
  doCheckWithExistingAndCapacity(true, {{"*", w(1)}}, 50, {"A", "B", "C"}, {}, {{"C", 10}},
                                 {{"A", 20}, {"B", 20}, {"C", 10}}, {{"C", 7}});
  doCheckWithExistingAndCapacity(true, {{"A", w(10000)}, {"B", w(1)}}, 50, {"B", "C"}, {}, {{"B", 10}},
                                 {{"B", 10}, {"C", 0}}, {{"B", 40}});
  doCheckWithExistingAndCapacity(true, {{"A", w(1)}, {"B", w(2)}}, 60, {"A", "B", "C"}, {}, {{"B", 10}},
                                 {{"A", 50}, {"B", 10}, {"C", 0}}, {{"B", 30}});
  doCheckWithExistingAndCapacity(true,
                                 {{"A", wmax(10000, 10)}, {"B", w(1)}, {"C", wmax(1, 21)}, {"D", wmax(1, 10)}}, 71,
                                 {"A", "B", "C", "D"}, {}, {{"C", 10}},
                                 {{"A", 10}, {"B", 41}, {"C", 10}, {"D", 10}}, {{"C", 11}});
  doCheckWithExistingAndCapacity(false, {{"A", w(1)}, {"B", w(1)}}, 60, {"A", "B", "C"}, {},
                                 {{"A", 10}, {"B", 10}}, {{"A", 10}, {"B", 10}, {"C", 0}}, {{"A", 20}, {"B", 20}});
  doCheckWithExistingAndCapacity(false, {{"A", w(1)}, {"B", w(5)}}, 60, {"A", "B", "C"}, {}, {{"B", 10}},
                                 {{"A", 50}, {"B", 10}, {"C", 0}}, {});
  doCheckWithExistingAndCapacity(false, {{"*", mw(20, 0)}}, 50, {"A", "B", "C"}, {}, {{"B", 10}},
                                 {{"A", 20}, {"B", 10}, {"C", 20}}, {});
  doCheckWithExistingAndCapacity(true, {{"*", mw(20, 1)}}, 60, {"A", "B"}, {}, {{"B", 10}}, {{"A", 50}, {"B", 10}},
                                 {{"B", 15}});
}

TEST_CASE("KubeFed TestMin", "[render][planner]") {
  doCheck({{"*", mw(2, 0)}}, 50, {"A", "B", "C"}, {{"A", 2}, {"B", 2}, {"C", 2}});
  doCheck({{"*", mw(20, 0)}}, 50, {"A", "B", "C"}, {{"A", 10}, {"B", 20}, {"C", 20}});
  doCheck({{"*", mw(20, 0)}, {"A", mw(100, 1)}}, 50, {"A", "B", "C"}, {{"A", 50}, {"B", 0}, {"C", 0}});
  doCheck({{"*", ClusterPreference{10, 12, 1, 0}}}, 50, {"A", "B", "C"}, {{"A", 12}, {"B", 12}, {"C", 12}});
}

TEST_CASE("KubeFed TestMax", "[render][planner]") {
  doCheck({{"*", wmax(1, 2)}}, 50, {"A", "B", "C"}, {{"A", 2}, {"B", 2}, {"C", 2}});
  doCheck({{"*", wmax(0, 2)}}, 50, {"A", "B", "C"}, {{"A", 0}, {"B", 0}, {"C", 0}});
}

TEST_CASE("KubeFed TestWeight", "[render][planner]") {
  doCheck({{"A", w(1)}, {"B", w(2)}}, 60, {"A", "B", "C"}, {{"A", 20}, {"B", 40}, {"C", 0}});
  doCheck({{"A", w(10000)}, {"B", w(1)}}, 50, {"A", "B", "C"}, {{"A", 50}, {"B", 0}, {"C", 0}});
  doCheck({{"A", w(10000)}, {"B", w(1)}}, 50, {"B", "C"}, {{"B", 50}, {"C", 0}});
  doCheck({{"A", wmax(10000, 10)}, {"B", w(1)}, {"C", w(1)}}, 50, {"A", "B", "C"}, {{"A", 10}, {"B", 20}, {"C", 20}});
  doCheck({{"A", wmax(10000, 10)}, {"B", w(1)}, {"C", wmax(1, 10)}}, 50, {"A", "B", "C"},
          {{"A", 10}, {"B", 30}, {"C", 10}});
  doCheck({{"A", wmax(10000, 10)}, {"B", w(1)}, {"C", wmax(1, 21)}, {"D", wmax(1, 10)}}, 71, {"A", "B", "C", "D"},
          {{"A", 10}, {"B", 30}, {"C", 21}, {"D", 10}});
  doCheck({{"A", wmax(10000, 10)}, {"B", w(1)}, {"C", wmax(1, 21)}, {"D", wmax(1, 10)}, {"E", w(1)}}, 91,
          {"A", "B", "C", "D", "E"}, {{"A", 10}, {"B", 25}, {"C", 21}, {"D", 10}, {"E", 25}});
}

TEST_CASE("planner edge cases read off planner.go", "[render][planner]") {
  // min > max: the loop caps at max and the rest stays unplaced.
  doCheck({{"*", ClusterPreference{15, 12, 1, 0}}}, 50, {"A", "B", "C"}, {{"A", 12}, {"B", 12}, {"C", 12}});
  // min > max with weight 0: the loop never runs, the minimum wins.
  doCheck({{"*", ClusterPreference{15, 12, 0, 0}}}, 45, {"A", "B", "C"}, {{"A", 15}, {"B", 15}, {"C", 15}});
  // Weights split what is left after the minimums (kubefed#319).
  doCheck({{"c1", mw(2, 2)}, {"c2", mw(4, 3)}}, 10, {"c1", "c2"}, {{"c1", 3}, {"c2", 7}});
  // Empty preferences: all zeros (the controller's "*" default is the caller's).
  doCheck({}, 10, {"A", "B"}, {{"A", 0}, {"B", 0}});
  // The input order of the clusters does not matter.
  doCheck({{"*", w(1)}}, 50, {"C", "A", "B"}, {{"A", 16}, {"B", 17}, {"C", 17}});
}

TEST_CASE("the key changes the tie order (namespace/name in production)", "[render][planner]") {
  PlannerInput in = input({{"*", w(1)}}, 1, {"A", "B"});
  in.key = "";
  CHECK(planReplicas(in).replicas.at("B") == 1);
  // With a key, the cluster whose hash of name+key is lower wins the single replica.
  in.key = "shop/web";
  std::string winner = fnv1Hash32("A", in.key) < fnv1Hash32("B", in.key) ? "A" : "B";
  CHECK(planReplicas(in).replicas.at(winner) == 1);
}

TEST_CASE("preferred-affinity score orders clusters of equal weight only", "[render][planner]") {
  // Without scores B wins the single replica (hash order); a score on A wins it back.
  Prefs prefs{{"A", ClusterPreference{0, std::nullopt, 1, 10}}, {"B", w(1)}};
  auto plan = planReplicas(input(prefs, 1, {"A", "B"}));
  CHECK(plan.replicas == Counts{{"A", 1}, {"B", 0}});
  // A higher weight still beats any score.
  prefs["B"] = w(2);
  plan = planReplicas(input(prefs, 1, {"A", "B"}));
  CHECK(plan.replicas == Counts{{"A", 0}, {"B", 1}});
}
