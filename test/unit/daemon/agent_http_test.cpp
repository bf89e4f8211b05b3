// gitfed::daemon::Agent::run(): the HTTP endpoints, /trigger, a standby that
// takes over, stop(); and MeteredKubeClient's counting. Over fakes (an
// in-memory source, the sync engine on a fake client, a fake Lease API); the
// e2e suite does the same against real servers.

#include <catch2/catch.hpp>

#include <thread>

#include "daemon/fakes.h"
#include "gitfed/daemon/agent.h"
#include "gitfed/daemon/metered_client.h"
#include "sync/fake_kube_client.h"

using namespace gitfed;
using namespace gitfed::daemon;
using namespace std::chrono_literals;
using nlohmann::json;

namespace {

test::MemoryTree smallFleet() {
  test::MemoryTree t;
  t.file("cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: web\n  namespace: default\ndata:\n  k: v\n");
  return t;
}

AgentConfig httpConfig() {
  AgentConfig c;
  c.cluster = "c1";
  c.git.url = "https://h/f.git";
  c.inventoryId = "c1";
  c.httpAddress = "127.0.0.1:0";
  c.interval = 100ms;
  c.driftInterval = 1h;
  c.leader.enabled = false;
  c.kube.parallelism = 2;
  return c;
}

std::string get(Agent& a, const std::string& path) {
  return test::httpExchange(a.httpPort(), "GET " + path + " HTTP/1.1\r\nHost: x\r\n\r\n");
}
std::string post(Agent& a, const std::string& path) {
  return test::httpExchange(a.httpPort(), "POST " + path + " HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n");
}
bool waitFor(const std::function<bool()>& cond, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (cond()) return true;
    std::this_thread::sleep_for(20ms);
  }
  return cond();
}
std::string body(const std::string& response) {
  auto p = response.find("\r\n\r\n");
  return p == std::string::npos ? std::string() : response.substr(p + 4);
}

}  // namespace

TEST_CASE("agent http: run() serves the probes, metrics, status and /trigger; stop() ends it", "[daemon]") {
  test::FakeKubeClient kube;
  kube.requireNamespaces = false;
  AgentMetrics metrics;
  AgentParts parts;
  parts.kube = &kube;
  auto source = std::make_unique<test::MemorySource>();
  source->revisions[std::string(40, 'a')] = smallFleet();
  source->current = std::string(40, 'a');
  parts.source = std::move(source);
  Agent agent(httpConfig(), std::move(parts), metrics);
  int rc = -1;
  std::thread runner([&] { rc = agent.run(); });
  REQUIRE(waitFor([&] { return agent.httpPort() > 0; }, 5s));
  REQUIRE(waitFor([&] { return get(agent, "/readyz").starts_with("HTTP/1.1 200 "); }, 5s));
  CHECK(get(agent, "/healthz").starts_with("HTTP/1.1 200 "));
  std::string m = body(get(agent, "/metrics"));
  CHECK(m.find("gitfed_reconciles_total{phase=\"Synced\",reason=\"initial\"} 1\n") != std::string::npos);
  CHECK(m.find("gitfed_leader 1\n") != std::string::npos);
  CHECK(m.find("gitfed_objects{state=\"Synced\"} 1\n") != std::string::npos);
  CHECK(m.find("# TYPE gitfed_reconcile_duration_seconds histogram\n") != std::string::npos);
  CHECK(m.find("gitfed_git_fetch_duration_seconds_count{result=\"unchanged\"}") != std::string::npos);
  CHECK(m.find("process_resident_memory_bytes ") != std::string::npos);
  auto status = json::parse(body(get(agent, "/status")));
  CHECK(status["leader"] == true);
  CHECK(status["report"]["sync"]["phase"] == "Synced");
  auto trig = post(agent, "/trigger");
  CHECK(trig.starts_with("HTTP/1.1 202 "));
  CHECK(waitFor([&] { return metrics.reconciles.value({"Synced", "trigger"}) == 1; }, 5s));
  CHECK(get(agent, "/trigger").starts_with("HTTP/1.1 405 "));
  CHECK(get(agent, "/nothing").starts_with("HTTP/1.1 404 "));
  agent.stop();
  runner.join();
  CHECK(rc == 0);
}

TEST_CASE("agent http: a standby is ready, refuses /trigger, takes over a free Lease and releases it on stop",
          "[daemon]") {
  test::FakeKubeClient kube;
  kube.requireNamespaces = false;
  test::FakeLeaseApi leases;
  leases.lease = json{{"apiVersion", "coordination.k8s.io/v1"},
                      {"kind", "Lease"},
                      {"metadata", {{"name", "gitfed-c1"}, {"namespace", "gitfed-system"}, {"resourceVersion", "1"}}},
                      {"spec", {{"holderIdentity", "other"}, {"leaseDurationSeconds", 1}}}};
  AgentMetrics metrics;
  AgentParts parts;
  parts.kube = &kube;
  auto source = std::make_unique<test::MemorySource>();
  source->revisions[std::string(40, 'a')] = smallFleet();
  source->current = std::string(40, 'a');
  parts.source = std::move(source);
  LeaseOptions lease{"gitfed-c1", "gitfed-system", "me", 1500ms, 1000ms, 200ms};
  parts.elector = std::make_unique<LeaderElector>(leases, lease);
  auto config = httpConfig();
  config.leader.enabled = true;
  Agent agent(config, std::move(parts), metrics);
  int rc = -1;
  std::thread runner([&] { rc = agent.run(); });
  REQUIRE(waitFor([&] { return agent.httpPort() > 0; }, 5s));
  // The other holder's lease is fresh: a standby, ready (it reaches the API).
  REQUIRE(waitFor([&] { return get(agent, "/readyz").starts_with("HTTP/1.1 200 "); }, 5s));
  auto status = json::parse(body(get(agent, "/status")));
  if (status["leader"] == false) {
    CHECK(status["holder"] == "other");
    auto trig = post(agent, "/trigger");
    CHECK(trig.starts_with("HTTP/1.1 503 "));
    CHECK(json::parse(body(trig))["reason"] == "not the leader");
    CHECK(body(get(agent, "/metrics")).find("gitfed_leader 0\n") != std::string::npos);
  }
  // "other" never renews: after its 1 s the Lease is ours, and a round runs.
  REQUIRE(waitFor([&] { return agent.leading(); }, 5s));
  REQUIRE(waitFor([&] { return metrics.reconciles.value({"Synced", "initial"}) == 1; }, 5s));
  CHECK(leases.holder() == "me");
  CHECK(body(get(agent, "/metrics")).find("gitfed_leader 1\n") != std::string::npos);
  agent.stop();
  runner.join();
  CHECK(rc == 0);
  CHECK(leases.holder().empty());  // released on the way out
}

TEST_CASE("metered client: calls counted by verb and status", "[daemon]") {
  test::FakeLeaseApi api;
  std::map<std::pair<std::string, std::string>, int> seen;
  MeteredKubeClient metered(api, [&](const std::string& verb, const std::string& code) { ++seen[{verb, code}]; });
  const std::string item = "/apis/coordination.k8s.io/v1/namespaces/gitfed-system/leases/gitfed-c1";
  CHECK_FALSE(metered.request("GET", item, nullptr, "application/json"));  // 404
  json body = {{"metadata", {{"name", "gitfed-c1"}}}, {"spec", json::object()}};
  CHECK(metered.request("POST", "/apis/coordination.k8s.io/v1/namespaces/gitfed-system/leases", &body, "application/json"));
  CHECK(metered.request("GET", item, nullptr, "application/json"));
  api.down = true;
  CHECK_FALSE(metered.request("GET", item, nullptr, "application/json"));  // no response
  CHECK_FALSE(metered.list(kube::Resource{}, "", ""));                      // 501 from the fake
  CHECK(seen == std::map<std::pair<std::string, std::string>, int>{
                    {{"get", "404"}, 1}, {{"post", "200"}, 1}, {{"get", "200"}, 1}, {{"get", "error"}, 1}, {{"list", "501"}, 1}});
}
