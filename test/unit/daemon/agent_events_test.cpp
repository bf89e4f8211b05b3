// The agent's rounds and the Events they write (agent/daemon/README.md,
// "Events"), over an in-memory source, the engine on a fake API server and
// the Events endpoints of another fake: a round that applies writes Applied,
// an unchanged one nothing, a broken commit RenderFailed (counted on
// retries), a failed object SyncFailed without the Secret value its error
// quotes; an Events API that fails never fails or slows a round.

#include <catch2/catch.hpp>

#include <condition_variable>
#include <mutex>
#include <thread>

#include "daemon/fake_events_api.h"
#include "daemon/fakes.h"
#include "gitfed/daemon/agent.h"
#include "support/memory_tree.h"
#include "sync/fake_kube_client.h"

using namespace gitfed;
using namespace gitfed::daemon;
using nlohmann::json;

namespace {

const std::string kSecret = "hunter2-very-secret";

test::MemoryTree fleet(const std::string& value) {
  test::MemoryTree t;
  t.file("clusters/c1.yaml", "apiVersion: gitfed.io/v1alpha1\nkind: Cluster\nmetadata:\n  name: c1\n");
  t.file("ns.yaml", "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: shop\n");
  t.file("cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: web\n  namespace: shop\ndata:\n  v: \"" + value + "\"\n");
  t.file("secret.yaml",
         "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\n  namespace: shop\nstringData:\n  password: " + kSecret + "\n");
  return t;
}

struct Fixture {
  test::FakeKubeClient kube;
  test::FakeEventsApi events;
  test::MemorySource* source = nullptr;
  AgentMetrics metrics;
  std::unique_ptr<Agent> agent;

  Fixture() {
    kube.requireNamespaces = false;
    AgentConfig c;
    c.cluster = "c1";
    c.git.url = "https://h/f.git";
    c.inventoryId = "c1";
    c.httpAddress = "off";
    c.leader.enabled = false;
    c.leader.identity = "agent-0_abcd";
    c.kube.parallelism = 2;
    c.retryMin = std::chrono::milliseconds(1);
    c.retryMax = std::chrono::milliseconds(2);
    AgentParts parts;
    parts.kube = &kube;
    parts.events = &events;
    auto s = std::make_unique<test::MemorySource>();
    source = s.get();
    parts.source = std::move(s);
    agent = std::make_unique<Agent>(std::move(c), std::move(parts), metrics);
  }
  // The Events written, oldest first (runOnce flushes them).
  std::vector<json> written() {
    std::vector<json> out;
    for (const auto& [name, e] : events.events()) out.push_back(e);
    return out;
  }
};

const std::string kA(40, 'a'), kB(40, 'b'), kC(40, 'c');

}  // namespace

TEST_CASE("agent events: applied, unchanged, broken and retried, failed with a Secret in the error",
          "[daemon][events]") {
  Fixture f;
  f.source->revisions[kA] = fleet("1");
  f.source->current = kA;
  CHECK(f.agent->runOnce() == 0);
  auto e = f.written();
  REQUIRE(e.size() == 1);
  CHECK(e[0]["type"] == "Normal");
  CHECK(e[0]["reason"] == "Applied");
  CHECK(e[0]["message"] == "revision aaaaaaaaaaaa: 3 created; 3 objects");
  CHECK(e[0]["metadata"]["namespace"] == "gitfed-system");
  CHECK(e[0]["involvedObject"]["name"] == "gitfed-inventory-c1");
  CHECK(e[0]["source"]["host"] == "agent-0_abcd");

  // Nothing changed: no Event.
  CHECK(f.agent->runOnce() == 0);
  CHECK(f.written().size() == 1);

  // A commit that does not render, and its retry: one Event, count 2.
  auto broken = fleet("2");
  broken.file("apps/bad.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: bad\n  namespace: [shop\n");
  f.source->revisions[kB] = broken;
  f.source->current = kB;
  CHECK(f.agent->runOnce() == 1);
  CHECK(f.agent->runOnce() == 1);
  e = f.written();
  REQUIRE(e.size() == 2);
  const json& failed = e[1];
  CHECK(failed["type"] == "Warning");
  CHECK(failed["reason"] == "RenderFailed");
  CHECK(failed["message"].get<std::string>().starts_with("revision bbbbbbbbbbbb not applied: 1 render error at apps/bad.yaml:"));
  CHECK(failed["count"] == 2);

  // An object the API server refuses with an error that quotes the Secret.
  f.kube.validate = [](const json&, const json& merged) -> std::optional<kube::Error> {
    if (merged.value("kind", "") != "ConfigMap") return std::nullopt;
    return kube::Error{422, "Invalid", "data.v: Invalid value: \"" + kSecret + "\"", "apply v1 ConfigMap shop/web"};
  };
  f.source->revisions[kC] = fleet("3");
  f.source->current = kC;
  CHECK(f.agent->runOnce() == 1);
  e = f.written();
  REQUIRE(e.size() == 3);
  CHECK(e[2]["reason"] == "SyncFailed");
  CHECK(e[2]["message"] == "revision cccccccccccc: 1 object failed (ConfigMap shop/web); 3 objects");
  for (const auto& event : e) CHECK(event.dump().find(kSecret) == std::string::npos);
}

TEST_CASE("agent events: an Events API that fails or hangs neither fails nor holds up a round", "[daemon][events]") {
  // Before the fixture: the recorder's thread may pass the gate until the agent is gone.
  std::mutex mu;
  std::condition_variable cv;
  bool open = false;
  Fixture f;
  f.source->revisions[kA] = fleet("1");
  f.source->current = kA;
  SECTION("refused") {
    f.events.forbidden = true;
    auto r = f.agent->round(false);
    CHECK(r.ok);
    CHECK(r.phase == status::Phase::Synced);
  }
  SECTION("no answer") {
    f.events.gate = [&] {
      std::unique_lock lock(mu);
      cv.wait(lock, [&] { return open; });
    };
    const auto start = std::chrono::steady_clock::now();
    auto r = f.agent->round(false);
    CHECK(r.ok);
    f.source->current = kA;
    f.agent->round(true);
    CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(5));
    {
      std::lock_guard lock(mu);
      open = true;
    }
    cv.notify_all();
  }
}
