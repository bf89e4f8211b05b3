// Retries, backoff, rate limiting and bounded parallelism, observed from the
// outside: fault_proxy.py sits between the client and the real apiserver,
// injects 429/503/dropped connections and records every request it sees.

#include "kube_itest.h"

#include <catch2/catch.hpp>

#include <mutex>
#include <thread>
#include <vector>

using namespace gitfed::kube;
using namespace gitfed::kube::itest;

namespace {

FaultProxy& proxy() {
  static FaultProxy p;  // one per test program; reset by each test
  return p;
}

Config viaProxy() {
  Config c = tokenConfig(gitfed::testenv::require("GITFED_TEST_KUBE_TOKEN"), proxy().url());
  c.qps = 0;
  return c;
}

// The proxy's log entries for requests whose path contains `fragment`.
std::vector<json> seen(const std::string& fragment, const std::string& method = "") {
  std::vector<json> out;
  const json log = proxy().log();  // not in the range-for: it would dangle
  for (const auto& r : log["requests"])
    if (r["path"].get<std::string>().find(fragment) != std::string::npos &&
        (method.empty() || r["method"] == method))
      out.push_back(r);
  return out;
}

double gap(const std::vector<json>& rs, size_t i) { return rs[i]["t"].get<double>() - rs[i - 1]["t"].get<double>(); }

}  // namespace

TEST_CASE("faults: 429 with Retry-After is honoured", "[faults][429]") {
  proxy().reset();
  auto client = makeClient(viaProxy());
  TestNamespace ns(*client);
  const Resource cms = resource(*client, "v1", "ConfigMap");
  REQUIRE(client->apply(cms, configMap(ns.name(), "probe", {{"a", "1"}}), {}));
  const std::string path = "/namespaces/" + ns.name() + "/configmaps/probe";
  proxy().setFaults(json::array({{{"method", "GET"}, {"path", path}, {"status", 429}, {"retryAfter", "1"}, {"count", 2}}}));

  auto got = client->get(cms, ns.name(), "probe");
  REQUIRE(got);
  CHECK((*got)["data"]["a"] == "1");
  auto rs = seen(path, "GET");
  REQUIRE(rs.size() == 3);
  CHECK(rs[0]["injected"] == 429);
  CHECK(rs[1]["injected"] == 429);
  CHECK(rs[2]["injected"].is_null());
  CHECK(gap(rs, 1) >= 0.98);  // Retry-After: 1
  CHECK(gap(rs, 2) >= 0.98);
}

TEST_CASE("faults: a burst of 503 is retried with growing backoff", "[faults][503]") {
  proxy().reset();
  auto client = makeClient(viaProxy());
  TestNamespace ns(*client);
  const Resource cms = resource(*client, "v1", "ConfigMap");
  const std::string path = "/namespaces/" + ns.name() + "/configmaps/burst";
  proxy().setFaults(json::array({{{"method", "PATCH"}, {"path", path}, {"status", 503}, {"count", 3}}}));

  auto applied = client->apply(cms, configMap(ns.name(), "burst", {{"a", "1"}}), {});
  REQUIRE(applied);
  auto rs = seen(path, "PATCH");
  REQUIRE(rs.size() == 4);
  // Equal jitter over base 200 ms: retry k waits at least 100 * 2^(k-1) ms.
  CHECK(gap(rs, 1) >= 0.095);
  CHECK(gap(rs, 2) >= 0.195);
  CHECK(gap(rs, 3) >= 0.395);
  CHECK(client->stats().retries == 3);
}

TEST_CASE("faults: 503 without end: bounded attempts, no hot loop", "[faults][503]") {
  proxy().reset();
  Config c = viaProxy();
  c.retry.maxAttempts = 4;
  auto client = makeClient(c);
  const Resource cms = resource(*client, "v1", "ConfigMap");
  proxy().setFaults(json::array({{{"path", "/configmaps/never"}, {"status", 503}, {"count", -1},
                                  {"message", "etcd is having a bad day"}}}));
  const auto started = std::chrono::steady_clock::now();
  auto r = client->get(cms, "default", "never");
  const double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  REQUIRE_FALSE(r);
  CHECK(r.error().status == 503);
  CHECK(r.error().format() ==
        "get v1 ConfigMap default/never: 503 InjectedFault: etcd is having a bad day (gave up after 4 attempts)");
  auto rs = seen("/configmaps/never");
  CHECK(rs.size() == 4);
  CHECK(took >= 0.1 + 0.2 + 0.4 - 0.02);
  CHECK(took < 10);
}

TEST_CASE("faults: other 4xx and a 500 on POST are not retried", "[faults][4xx]") {
  proxy().reset();
  auto client = makeClient(viaProxy());
  const Resource cms = resource(*client, "v1", "ConfigMap");
  proxy().setFaults(json::array({{{"path", "/configmaps/conflicted"}, {"status", 409}, {"count", -1}},
                                 {{"method", "POST"}, {"path", "selfsubjectreviews"}, {"status", 500}, {"count", -1}}}));
  auto r = client->get(cms, "default", "conflicted");
  REQUIRE_FALSE(r);
  CHECK(r.error().status == 409);
  CHECK(seen("/configmaps/conflicted").size() == 1);

  json review = {{"apiVersion", "authentication.k8s.io/v1"}, {"kind", "SelfSubjectReview"}};
  auto post = client->request("POST", "/apis/authentication.k8s.io/v1/selfsubjectreviews", &review);
  REQUIRE_FALSE(post);
  CHECK(post.error().status == 500);
  CHECK(seen("selfsubjectreviews").size() == 1);
}

TEST_CASE("faults: a dropped connection is retried for a GET", "[faults][drop]") {
  proxy().reset();
  auto client = makeClient(viaProxy());
  const Resource nss = resource(*client, "v1", "Namespace");
  proxy().setFaults(json::array({{{"path", "/api/v1/namespaces/default"}, {"action", "close"}, {"count", 1}}}));
  auto r = client->get(nss, "", "default");
  REQUIRE(r);
  auto rs = seen("/api/v1/namespaces/default");
  REQUIRE(rs.size() == 2);
  CHECK(rs[0]["injected"] == "close");
}

TEST_CASE("faults: never more than maxInFlight requests in flight", "[faults][parallel]") {
  proxy().reset();
  Config c = viaProxy();
  c.maxInFlight = 4;
  auto client = makeClient(c);
  const Resource nss = resource(*client, "v1", "Namespace");
  proxy().reset();
  proxy().setFaults(json::array({{{"path", "/api/v1/namespaces/default"}, {"delayMs", 150}, {"count", -1}}}));
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  const auto started = std::chrono::steady_clock::now();
  for (int i = 0; i < 24; ++i)
    threads.emplace_back([&] {
      if (client->get(nss, "", "default")) ++ok;
    });
  for (auto& t : threads) t.join();
  const double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  CHECK(ok == 24);
  CHECK(proxy().log()["peakInFlight"] == 4);
  CHECK(took >= 24 / 4 * 0.15 - 0.02);
}

TEST_CASE("faults: the client-side rate limit (QPS/burst) holds", "[faults][ratelimit]") {
  proxy().reset();
  Config c = viaProxy();
  c.qps = 20;
  c.burst = 5;
  auto client = makeClient(c);
  const Resource nss = resource(*client, "v1", "Namespace");  // discovery: 2 tokens
  for (int i = 0; i < 25; ++i) REQUIRE(client->get(nss, "", "default"));
  auto rs = seen("/api/v1/namespaces/default");
  REQUIRE(rs.size() == 25);
  // 5 tokens at start, 2 used by discovery: the 25 GETs need 22 more at 20/s.
  const double span = rs.back()["t"].get<double>() - rs.front()["t"].get<double>();
  CHECK(span >= (25 - 3) / 20.0 - 0.1);
}
