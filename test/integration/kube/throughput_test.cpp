// How fast the client applies, re-applies (no-op) and lists 1,000
// ConfigMaps against the real apiserver with bounded parallelism. Prints
// the figures; asserts only correctness and a generous floor.

#include "kube_itest.h"

#include <catch2/catch.hpp>

#include <atomic>
#include <cstdio>
#include <thread>
#include <vector>

using namespace gitfed::kube;
using namespace gitfed::kube::itest;

namespace {

// Applies `count` ConfigMaps from `threads` workers; returns the seconds taken.
double applyAll(KubeClient& client, const Resource& cms, const std::string& ns, int count, int threads,
                const std::string& value, std::atomic<int>& failures) {
  std::atomic<int> next{0};
  const auto started = std::chrono::steady_clock::now();
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t)
    workers.emplace_back([&] {
      for (int i = next++; i < count; i = next++) {
        auto r = client.apply(cms, configMap(ns, "cm-" + std::to_string(i), {{"value", value}, {"i", std::to_string(i)}},
                                             {{"bench", "kube"}}),
                              ApplyOptions{});
        if (!r) {
          if (failures++ < 3) std::fprintf(stderr, "%s\n", r.error().format().c_str());
        }
      }
    });
  for (auto& w : workers) w.join();
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
}

}  // namespace

TEST_CASE("throughput: apply 1,000 ConfigMaps with bounded parallelism", "[throughput]") {
  constexpr int kCount = 1000;
  Config config = adminConfig();
  config.maxInFlight = 16;
  config.qps = 0;  // measure the client and the server, not the limiter
  auto client = makeClient(config);
  TestNamespace ns(*client, "gitfed-kube-bench");
  const Resource cms = resource(*client, "v1", "ConfigMap");
  std::atomic<int> failures{0};

  const double create = applyAll(*client, cms, ns.name(), kCount, 16, "v1", failures);
  const double noop = applyAll(*client, cms, ns.name(), kCount, 16, "v1", failures);
  const double change = applyAll(*client, cms, ns.name(), kCount, 16, "v2", failures);
  const double sequential = applyAll(*client, cms, ns.name(), 200, 1, "v3", failures);
  Config limited = adminConfig();  // the defaults (QPS, burst, 16 in flight)
  auto defaultClient = makeClient(limited);
  const double withDefaults = applyAll(*defaultClient, cms, ns.name(), kCount, 16, "v4", failures);
  const auto listStarted = std::chrono::steady_clock::now();
  auto items = client->list(cms, ns.name(), "bench=kube");
  const double list = std::chrono::duration<double>(std::chrono::steady_clock::now() - listStarted).count();
  REQUIRE(failures == 0);
  REQUIRE(items);
  CHECK(items->size() == kCount);

  std::printf("kube client throughput, %d ConfigMaps, 16 in flight, no client rate limit:\n", kCount);
  std::printf("  create (server-side apply)   %6.2f s  %7.0f objects/s\n", create, kCount / create);
  std::printf("  no-op re-apply               %6.2f s  %7.0f objects/s\n", noop, kCount / noop);
  std::printf("  change every object          %6.2f s  %7.0f objects/s\n", change, kCount / change);
  std::printf("  change, 1 in flight (200)    %6.2f s  %7.0f objects/s\n", sequential, 200 / sequential);
  std::printf("  change, default limits       %6.2f s  %7.0f objects/s (QPS %.0f, burst %d)\n", withDefaults,
              kCount / withDefaults, limited.qps, limited.burst);
  std::printf("  list (pages of %d)          %6.2f s\n", config.listPageSize, list);
  CHECK(kCount / create > 50);  // a floor far below what a 2-core machine does
}
