// The round's circuit breaker and retry budget (agent/sync/README.md,
// "Persistent errors and bounded rounds"), as pure logic, and the engine
// using it against the fake client (which retries like the real one when
// maxAttempts > 1).

#include <catch2/catch.hpp>

#include <atomic>
#include <mutex>
#include <set>
#include <thread>

#include "fake_kube_client.h"
#include "gitfed/render/renderer.h"
#include "gitfed/sync/circuit_breaker.h"
#include "gitfed/sync/engine.h"
#include "gitfed/sync/error_groups.h"
#include "support/memory_tree.h"

using namespace gitfed::sync;
using gitfed::kube::Error;
using std::chrono::milliseconds;

namespace {

const Error kRangeFull{500, "InternalError", "Internal error occurred: failed to allocate a serviceIP: range is full", ""};

}  // namespace

TEST_CASE("messageShape: quoted runs and numbers are placeholders, retry notes are dropped", "[sync][breaker]") {
  CHECK(messageShape("configmaps \"c-7\" is forbidden: exceeded quota: q, requested: count/configmaps=1, used: 5") ==
        "configmaps \"*\" is forbidden: exceeded quota: q, requested: count/configmaps=#, used: #");
  CHECK(messageShape("configmaps \"c-7\" is forbidden: exceeded quota: q, requested: count/configmaps=1, used: 5") ==
        messageShape("configmaps \"c-812\" is forbidden: exceeded quota: q, requested: count/configmaps=1, used: 17"));
  CHECK(messageShape("policy 'deny-cm' with binding 'b' denied") == "policy '*' with binding '*' denied");
  CHECK(messageShape("unterminated \"quote") == "unterminated \"*");
  CHECK(messageShape("range is full (gave up after 6 attempts)") == "range is full");
  CHECK(messageShape("range is full (not retried: 3 objects of this type failed with this error this round)") ==
        "range is full");
  CHECK(messageShape("range is full (not sent: 3 objects of this type failed with this error this round)") ==
        "range is full");
  CHECK(messageShape("a note of its own (kept)") == "a note of its own (kept)");
  CHECK(messageShape("range is full") != messageShape("quota exceeded"));
  // Only the first 300 bytes are looked at.
  CHECK(messageShape(std::string(400, 'x')).size() == 300);
}

TEST_CASE("persistentCandidate: 500/502/504 and timeouts; never 429, 503 or connection failures", "[sync][breaker]") {
  CHECK(persistentCandidate(kRangeFull));
  CHECK(persistentCandidate(Error{502, "BadGateway", "", ""}));
  CHECK(persistentCandidate(Error{504, "Timeout", "", ""}));
  CHECK(persistentCandidate(Error{0, "Timeout", "operation timed out", ""}));
  CHECK_FALSE(persistentCandidate(Error{429, "TooManyRequests", "", ""}));
  CHECK_FALSE(persistentCandidate(Error{503, "ServiceUnavailable", "", ""}));
  CHECK_FALSE(persistentCandidate(Error{0, "ConnectionFailed", "", ""}));
  CHECK_FALSE(persistentCandidate(Error{0, "ConnectionLost", "", ""}));
  CHECK_FALSE(persistentCandidate(Error{403, "Forbidden", "", ""}));
}

TEST_CASE("the circuit opens once 3 objects failed twice with a class, for that type only", "[sync][breaker]") {
  CircuitBreaker b(BreakerOptions{3, milliseconds(60'000)});
  const milliseconds d(200);
  // First attempts never count: a blip.
  for (std::string o : {"s1", "s2", "s3", "s4"}) CHECK(b.beforeRetry("/services", o, kRangeFull, 1, d).empty());
  CHECK_FALSE(b.openFor("/services"));
  // Second failures of two objects: still closed, still retried.
  CHECK(b.beforeRetry("/services", "s1", kRangeFull, 2, d).empty());
  CHECK(b.beforeRetry("/services", "s1", kRangeFull, 3, d).empty());  // the same object again: still one
  CHECK(b.beforeRetry("/services", "s2", kRangeFull, 2, d).empty());
  CHECK_FALSE(b.openFor("/services"));
  // The third object: open; it is not retried, nor anything failing with the class after it.
  auto why = b.beforeRetry("/services", "s3", kRangeFull, 2, d);
  CHECK(why == "not retried: 3 objects of this type failed with this error this round");
  CHECK_FALSE(b.beforeRetry("/services", "s4", kRangeFull, 1, d).empty());
  CHECK_FALSE(b.beforeRetry("/services", "s1", kRangeFull, 4, d).empty());
  auto open = b.openFor("/services");
  REQUIRE(open);
  CHECK(open->status == 500);
  CHECK(open->reason == "InternalError");
  CHECK(open->message == kRangeFull.message + " (not sent: 3 objects of this type failed with this error this round)");
  CHECK(messageShape(open->message) == messageShape(kRangeFull.message));
  // Other types, and other errors of the same type, go on as before.
  CHECK_FALSE(b.openFor("/configmaps"));
  CHECK(b.beforeRetry("/configmaps", "c1", kRangeFull, 2, d).empty());
  CHECK(b.beforeRetry("/services", "s9", Error{500, "InternalError", "etcdserver: leader changed", ""}, 2, d).empty());
  REQUIRE(b.opened().size() == 1);
  CHECK(b.opened()[0].cls.type == "/services");
}

TEST_CASE("transient errors never open a circuit", "[sync][breaker]") {
  CircuitBreaker b(BreakerOptions{3, milliseconds(600'000)});
  for (int o = 0; o < 20; ++o)
    for (int attempt = 1; attempt <= 5; ++attempt) {
      CHECK(b.beforeRetry("/configmaps", "c" + std::to_string(o), Error{503, "ServiceUnavailable", "x", ""}, attempt,
                          milliseconds(100))
                .empty());
      CHECK(b.beforeRetry("/configmaps", "c" + std::to_string(o), Error{429, "TooManyRequests", "x", ""}, attempt,
                          milliseconds(100))
                .empty());
      CHECK(b.beforeRetry("/configmaps", "c" + std::to_string(o), Error{0, "ConnectionFailed", "x", ""}, attempt,
                          milliseconds(100))
                .empty());
    }
  CHECK_FALSE(b.openFor("/configmaps"));
  CHECK(b.opened().empty());
}

TEST_CASE("the retry budget bounds the round's summed backoff, whatever the error", "[sync][breaker]") {
  CircuitBreaker b(BreakerOptions{3, milliseconds(1'000)});
  const Error busy{503, "ServiceUnavailable", "x", ""};
  CHECK(b.beforeRetry("/configmaps", "a", busy, 1, milliseconds(400)).empty());
  CHECK(b.beforeRetry("/configmaps", "b", busy, 1, milliseconds(600)).empty());  // exactly the budget
  CHECK(b.granted() == milliseconds(1'000));
  CHECK(b.beforeRetry("/configmaps", "c", busy, 1, milliseconds(1)) ==
        "not retried: the round's retry budget of 1s is spent");
  CHECK(b.granted() == milliseconds(1'000));  // refused waits are not counted
}

TEST_CASE("the circuit is safe to share between threads", "[sync][breaker]") {
  CircuitBreaker b(BreakerOptions{3, milliseconds(1'000'000)});
  std::vector<std::thread> threads;
  std::atomic<int> refused{0};
  for (int t = 0; t < 8; ++t)
    threads.emplace_back([&, t] {
      for (int i = 0; i < 200; ++i)
        if (!b.beforeRetry("/services", "s" + std::to_string(t * 1000 + i), kRangeFull, 2, milliseconds(1)).empty())
          ++refused;
    });
  for (auto& th : threads) th.join();
  CHECK(b.opened().size() == 1);
  CHECK(refused == 8 * 200 - 2);  // all but the first two objects to fail twice
}

namespace {

gitfed::render::RenderResult renderYaml(const std::string& yaml) {
  gitfed::test::MemoryTree tree;
  tree.file("all.yaml", yaml);
  auto repo = gitfed::render::loadRepository(tree);
  return gitfed::render::renderCluster(repo, "c1");
}

std::string objects(int services, int configMaps) {
  std::string y = "---\napiVersion: v1\nkind: Namespace\nmetadata: {name: shop}\n";
  for (int i = 0; i < services; ++i)
    y += "---\napiVersion: v1\nkind: Service\nmetadata: {name: s" + std::to_string(i) +
         ", namespace: shop}\nspec: {ports: [{port: 80}]}\n";
  for (int i = 0; i < configMaps; ++i)
    y += "---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: c" + std::to_string(i) +
         ", namespace: shop}\ndata: {k: v}\n";
  return y;
}

SyncOptions breakerOptions() {
  SyncOptions o;
  o.inventoryId = "c1";
  o.parallelism = 4;
  o.pollInterval = milliseconds(1);
  return o;
}

}  // namespace

TEST_CASE("engine: a persistent error of one type fails the rest of that type at once; the rest is applied",
          "[sync][breaker][engine]") {
  gitfed::test::FakeKubeClient fake;
  fake.maxAttempts = 6;
  std::atomic<int> serviceAttempts{0};
  fake.validate = [&](const nlohmann::json&, const nlohmann::json& merged) -> std::optional<Error> {
    if (merged["kind"] != "Service") return std::nullopt;
    ++serviceAttempts;
    return kRangeFull;
  };
  Engine engine(fake, breakerOptions());
  auto report = engine.sync(renderYaml(objects(100, 20)));
  CHECK(report.phase == Phase::Failed);
  CHECK(report.summary.failed == 100);
  // Every ConfigMap and the Namespace are applied.
  CHECK(fake.object("v1", "Namespace", "", "shop"));
  for (int i = 0; i < 20; ++i) CHECK(fake.object("v1", "ConfigMap", "shop", "c" + std::to_string(i)));
  // Few Service requests. The fake answers at once, so an object may run
  // through all its 6 attempts before the circuit opens; but at most the
  // threshold - 1 objects that completed before it and the 4 in flight when
  // it opens are ever sent: (3 - 1 + 4) x 6. Without the breaker: 100 x 6.
  INFO("service attempts: " << serviceAttempts);
  CHECK(serviceAttempts >= 3 * 2);  // the threshold's objects, twice each
  CHECK(serviceAttempts <= (3 - 1 + 4) * 6);
  std::size_t notSent = 0;
  for (const auto& o : report.objects) notSent += o.error.find("(not sent: ") != std::string::npos;
  CHECK(notSent >= 100 - (3 - 1 + 4));
  // One group of 100 in the report.
  auto groups = groupErrors(report.objects);
  REQUIRE(groups.size() == 1);
  CHECK(groups[0].count == 100);
  CHECK(groups[0].members.size() == 100);
  CHECK(groups[0].message ==
        "apply failed: 500 InternalError: Internal error occurred: failed to allocate a serviceIP: range is full");
  // Prune never runs in a round with failures (nothing else to check here);
  // the next round tries again from a closed circuit.
  fake.validate = nullptr;
  auto next = engine.sync(renderYaml(objects(100, 20)));
  CHECK(next.phase == Phase::Synced);
  CHECK(next.summary.failed == 0);
}

TEST_CASE("engine: an error that clears on its retry opens nothing", "[sync][breaker][engine]") {
  gitfed::test::FakeKubeClient fake;
  fake.maxAttempts = 6;
  std::mutex m;
  std::set<std::string> failedOnce;
  fake.validate = [&](const nlohmann::json&, const nlohmann::json& merged) -> std::optional<Error> {
    std::lock_guard lock(m);
    if (merged["kind"] == "Service" && failedOnce.insert(merged["metadata"]["name"].get<std::string>()).second)
      return Error{500, "InternalError", "etcdserver: leader changed", ""};
    return std::nullopt;
  };
  Engine engine(fake, breakerOptions());
  auto report = engine.sync(renderYaml(objects(50, 0)));
  CHECK(report.phase == Phase::Synced);
  CHECK(report.summary.failed == 0);
  CHECK(failedOnce.size() == 50);
}

TEST_CASE("engine: a dry run of a type with an open circuit is not sent either", "[sync][breaker][engine]") {
  gitfed::test::FakeKubeClient fake;
  fake.maxAttempts = 6;
  Engine engine(fake, breakerOptions());
  REQUIRE(engine.sync(renderYaml(objects(10, 0))).phase == Phase::Synced);
  // Drift on every Service, then every write of a Service fails: the dry runs
  // that confirm the drift open the circuit, the heal applies are not sent.
  for (int i = 0; i < 10; ++i)
    fake.edit("v1", "Service", "shop", "s" + std::to_string(i),
              [](nlohmann::json& o) { o["spec"]["ports"][0]["port"] = 81; });
  fake.validate = [](const nlohmann::json&, const nlohmann::json& merged) -> std::optional<Error> {
    if (merged["kind"] == "Service") return kRangeFull;
    return std::nullopt;
  };
  fake.resetCounters();
  auto report = engine.sync(renderYaml(objects(10, 0)));
  CHECK(report.summary.failed == 10);
  CHECK(fake.dryRuns <= (3 - 1 + 4) * 6);  // as above
  std::size_t notSent = 0;
  for (const auto& o : report.objects) notSent += o.error.find("(not sent: ") != std::string::npos;
  CHECK(notSent >= 10 - (3 - 1 + 4));
}
