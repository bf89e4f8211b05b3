// The apiserver stopped and started again under the client (test/env's
// `service` script; the same port, certificates and data). RUN_SERIAL: it
// takes the shared apiserver away from every other test.

#include "kube_itest.h"

#include <catch2/catch.hpp>

#include <set>
#include <thread>

using namespace gitfed::kube;
using namespace gitfed::kube::itest;

namespace {

Shell service(const std::string& action) {
  return sh(quote(gitfed::testenv::require("GITFED_TEST_ENV_SCRIPTS") + "/service") + " " +
            quote(gitfed::testenv::require("GITFED_TEST_KUBE_DIR")) + " apiserver " + action);
}

// Whatever happens in the test, the apiserver is running afterwards.
struct ApiserverBack {
  ~ApiserverBack() {
    if (service("status").status != 0) service("start");
  }
};

}  // namespace

TEST_CASE("restart: requests fail cleanly while the apiserver is down and recover when it is back", "[restart]") {
  ApiserverBack guard;
  auto client = makeClient(adminConfig());  // client certificate
  const Resource cms = resource(*client, "v1", "ConfigMap");
  TestNamespace ns(*client);
  REQUIRE(client->apply(cms, configMap(ns.name(), "before", {{"a", "1"}}), {}));

  REQUIRE(service("stop").status == 0);

  // Down: a short retry budget ends in a transport error naming the cause.
  Config shortBudget = adminConfig();
  shortBudget.retry.maxAttempts = 3;
  shortBudget.retry.baseDelay = std::chrono::milliseconds(50);
  auto impatient = makeClient(shortBudget);
  auto down = impatient->get(cms, ns.name(), "before");
  REQUIRE_FALSE(down);
  CHECK(down.error().status == 0);
  CHECK(down.error().reason == "ConnectionFailed");
  CHECK(down.error().format().find("(gave up after 3 attempts)") != std::string::npos);
  CHECK(impatient->stats().attempts == 3);

  // Back in a moment: a client with pooled (now dead) connections keeps
  // retrying with backoff and succeeds once the apiserver serves again.
  Config patient = adminConfig();
  patient.retry.maxAttempts = 15;
  patient.retry.maxDelay = std::chrono::milliseconds(1000);
  auto recovering = makeClient(patient);
  Shell started;
  std::thread restarter([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(800));
    started = service("start");
  });
  auto applied = recovering->apply(cms, configMap(ns.name(), "during", {{"a", "2"}}), {});
  restarter.join();
  REQUIRE(started.status == 0);
  REQUIRE(applied);
  CHECK((*applied)["data"]["a"] == "2");
  CHECK(recovering->stats().retries >= 1);
  CHECK(recovering->stats().attempts < 30);  // backoff, not a hot loop

  // The first client's pooled connection died with the old apiserver; it reconnects.
  auto before = client->get(cms, ns.name(), "before");
  REQUIRE(before);
  CHECK((*before)["data"]["a"] == "1");
  auto items = client->list(cms, ns.name(), "");
  REQUIRE(items);
  std::set<std::string> names;
  for (const auto& item : *items) names.insert(item["metadata"]["name"].get<std::string>());
  CHECK(names.count("before") == 1);
  CHECK(names.count("during") == 1);
}
