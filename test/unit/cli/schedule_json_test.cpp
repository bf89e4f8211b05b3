// gitfed schedule's streamed JSON (cli/schedule_json.h) is byte for byte the
// document nlohmann::json's dump(2) writes of the same plans (what the command
// printed before it streamed).
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include <cstdio>
#include <map>
#include <random>
#include <string>

#include "cli/schedule_json.h"
#include "support/run.h"

namespace {

struct Plan {
  std::string ns, name, kind;
  std::int64_t total = 0;
  std::map<std::string, std::int64_t> clusters;  // sorted by name, as the writer wants them
};

std::string streamed(const std::vector<Plan>& plans) {
  char* data = nullptr;
  std::size_t size = 0;
  std::FILE* f = open_memstream(&data, &size);
  REQUIRE(f);
  gitfed::cli::ScheduleJsonWriter w(f);
  for (const auto& p : plans) {
    std::vector<std::pair<const std::string*, std::int64_t>> clusters;
    for (const auto& [c, n] : p.clusters) clusters.emplace_back(&c, n);
    w.item(p.ns, p.name, p.kind, p.total, clusters);
  }
  w.finish();
  std::fclose(f);
  std::string out(data, size);
  std::free(data);
  return out;
}

std::string whole(const std::vector<Plan>& plans) {
  nlohmann::json list = nlohmann::json::array();
  for (const auto& p : plans) {
    nlohmann::json clusters = nlohmann::json::object();
    for (const auto& [c, n] : p.clusters) clusters[c] = n;
    list.push_back({{"namespace", p.ns}, {"name", p.name}, {"targetKind", p.kind}, {"totalReplicas", p.total},
                    {"clusters", std::move(clusters)}});
  }
  return nlohmann::json{{"items", std::move(list)}}.dump(2) + "\n";
}

}  // namespace

TEST_CASE("schedule --output json streams the bytes of the whole document", "[cli][schedule]") {
  CHECK(streamed({}) == whole({}));
  CHECK(streamed({}) == "{\n  \"items\": []\n}\n");
  // Names that need escaping, non-ASCII, empty strings, no clusters, big numbers.
  const std::vector<std::string> odd{"", "a\"b", "back\\slash", "tab\there", "new\nline", "\x01\x1f", "del\x7f",
                                     "caf\xc3\xa9", "\xe4\xb8\x8a\xe6\xb5\xb7", "prod-a", "Z", "a"};
  std::mt19937 rng(7);
  auto pick = [&](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); };
  for (int round = 0; round < 200; ++round) {
    std::vector<Plan> plans(static_cast<std::size_t>(pick(0, 4)));
    for (auto& p : plans) {
      p.ns = pick(0, 3) ? "ns" + std::to_string(pick(0, 9)) : odd[static_cast<std::size_t>(pick(0, 11))];
      p.name = pick(0, 3) ? "app" + std::to_string(pick(0, 99)) : odd[static_cast<std::size_t>(pick(0, 11))];
      p.kind = pick(0, 1) ? "FederatedDeployment" : "FederatedStatefulSet";
      p.total = pick(0, 5) == 0 ? 2147483647 : pick(0, 3000);
      for (int c = pick(0, 8); c > 0; --c)
        p.clusters[pick(0, 2) ? "c" + std::to_string(pick(0, 99)) : odd[static_cast<std::size_t>(pick(0, 11))]] =
            pick(0, 9) == 0 ? 2147483647 : pick(0, 20);
    }
    INFO("round " << round);
    REQUIRE(streamed(plans) == whole(plans));
  }
}

TEST_CASE("gitfed schedule --output json is a dump(2) document, clusters by name", "[cli][schedule]") {
  // A registry out of name order, two RSPs (one with no entry for some
  // clusters), --cluster filters: the streamed output parses back to the same bytes.
  using gitfed::test::gitfedBinary;
  using gitfed::test::run;
  using gitfed::test::shellQuote;
  gitfed::test::TempDir d;
  std::string registry;
  for (const char* name : {"zeta", "alpha", "m\u00fcnchen", "beta-2", "beta-10"})
    registry += std::string("---\napiVersion: gitfed.io/v1alpha1\nkind: Cluster\nmetadata: {name: \"") + name + "\"}\n";
  d.write("clusters.yaml", registry);
  auto app = [&](const std::string& ns, const std::string& name, const std::string& clusters, int total) {
    d.write(ns + "-" + name + ".yaml",
            "apiVersion: types.kubefed.io/v1beta1\nkind: FederatedDeployment\nmetadata: {name: " + name + ", namespace: " + ns +
                "}\nspec:\n  template: {spec: {replicas: 1}}\n  placement: {clusterSelector: {}}\n---\n"
                "apiVersion: scheduling.kubefed.io/v1alpha1\nkind: ReplicaSchedulingPreference\nmetadata: {name: " + name +
                ", namespace: " + ns + "}\nspec:\n  targetKind: FederatedDeployment\n  totalReplicas: " + std::to_string(total) +
                "\n" + clusters);
  };
  app("shop", "web", "  clusters: {zeta: {weight: 2}, \"*\": {weight: 1, maxReplicas: 3}}\n", 11);
  app("a", "api", "  clusters: {alpha: {weight: 1}, beta-10: {weight: 1}}\n", 5);
  for (std::string filter : {"", " --cluster beta-10 --cluster zeta", " --cluster nowhere"}) {
    INFO("filter '" << filter << "'");
    auto r = run(gitfedBinary() + " schedule --output json" + filter + " " + shellQuote(d.path().string()));
    REQUIRE(r.status == 0);
    CHECK(r.err.empty());
    auto doc = nlohmann::json::parse(r.out);
    CHECK(r.out == doc.dump(2) + "\n");
    REQUIRE(doc["items"].size() == 2);
    CHECK(doc["items"][0]["name"] == "api");  // sorted by namespace and name
    if (filter.empty()) {
      CHECK(doc["items"][1]["clusters"].size() == 5);
      CHECK(doc["items"][0]["clusters"]["zeta"] == 0);  // no entry, no "*": 0, and listed
    }
  }
}
