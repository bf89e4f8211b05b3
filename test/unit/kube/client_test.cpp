// CurlKubeClient's logic (retries, backoff, rate limiting, discovery cache,
// URLs and bodies, redaction, token rotation) over a scripted transport and a
// fake clock: no network, no sleeping.

#include "fakes.h"
#include "gitfed/kube/curl_client.h"
#include "gitfed/kube/status.h"
#include "support/run.h"

#include <catch2/catch.hpp>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <filesystem>
#include <sstream>
#include <thread>

using namespace gitfed::kube;
using namespace gitfed::kube::testing;
using namespace std::chrono_literals;
using nlohmann::json;

namespace {

Config testConfig() {
  Config c;
  c.server = "https://127.0.0.1:1";
  c.caPem = "-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n";
  c.token = "admin-token";
  c.qps = 0;  // unlimited unless a test says otherwise
  return c;
}

Resource configMaps() {
  Resource r;
  r.version = "v1";
  r.kind = "ConfigMap";
  r.plural = "configmaps";
  r.namespaced = true;
  return r;
}

Resource secrets() {
  Resource r = configMaps();
  r.kind = "Secret";
  r.plural = "secrets";
  return r;
}

std::string status(int code, const std::string& reason, const std::string& message) {
  return json{{"kind", "Status"}, {"apiVersion", "v1"}, {"status", "Failure"},
              {"code", code},     {"reason", reason},   {"message", message}}
      .dump();
}

struct Harness {
  explicit Harness(FakeTransport::Handler handler, Config config = testConfig())
      : clock(std::make_shared<FakeClock>()),
        transport(std::make_shared<FakeTransport>(std::move(handler))),
        client(config, transport, clock) {}
  std::shared_ptr<FakeClock> clock;
  std::shared_ptr<FakeTransport> transport;
  CurlKubeClient client;
};

const std::string kConfigMap = R"({"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"a","namespace":"n","resourceVersion":"7"}})";

}  // namespace

TEST_CASE("client: 429 with Retry-After is honoured, then succeeds", "[kube][client][retry]") {
  Harness h([](const HttpRequest&, int call) -> Reply {
    if (call == 1) return reply(429, status(429, "TooManyRequests", "slow down"), "2");
    return reply(200, kConfigMap);
  });
  auto cm = h.client.get(configMaps(), "n", "a");
  REQUIRE(cm);
  CHECK((*cm)["metadata"]["resourceVersion"] == "7");
  CHECK(h.transport->count() == 2);
  REQUIRE(h.clock->sleeps().size() == 1);
  CHECK(h.clock->sleeps()[0] == 2s);  // Retry-After (2 s) beats the backoff (<= 200 ms)
  CHECK(h.client.stats().retries == 1);
}

TEST_CASE("client: Retry-After 0 still backs off (no hot loop)", "[kube][client][retry]") {
  Harness h([](const HttpRequest&, int call) -> Reply {
    if (call < 4) return reply(429, "", "0");
    return reply(200, kConfigMap);
  });
  REQUIRE(h.client.get(configMaps(), "n", "a"));
  auto sleeps = h.clock->sleeps();
  REQUIRE(sleeps.size() == 3);
  // Equal jitter: retry k waits in [base*2^(k-1)/2, base*2^(k-1)].
  CHECK(sleeps[0] >= 100ms);
  CHECK(sleeps[0] <= 200ms);
  CHECK(sleeps[1] >= 200ms);
  CHECK(sleeps[1] <= 400ms);
  CHECK(sleeps[2] >= 400ms);
  CHECK(sleeps[2] <= 800ms);
}

TEST_CASE("client: a burst of 503 longer than the budget gives up after maxAttempts", "[kube][client][retry]") {
  Config c = testConfig();
  c.retry.maxAttempts = 4;
  Harness h([](const HttpRequest&, int) -> Reply { return reply(503, status(503, "ServiceUnavailable", "etcd down")); }, c);
  auto r = h.client.get(configMaps(), "n", "a");
  REQUIRE_FALSE(r);
  CHECK(h.transport->count() == 4);
  CHECK(h.clock->sleeps().size() == 3);
  CHECK(r.error().status == 503);
  CHECK(r.error().reason == "ServiceUnavailable");
  CHECK(r.error().format() == "get v1 ConfigMap n/a: 503 ServiceUnavailable: etcd down (gave up after 4 attempts)");
}

TEST_CASE("client: 4xx other than 429 is never retried", "[kube][client][retry]") {
  for (int code : {400, 401, 403, 404, 409, 410, 422}) {
    Harness h([code](const HttpRequest&, int) -> Reply { return reply(code, status(code, "X", "no")); });
    auto r = h.client.get(configMaps(), "n", "a");
    REQUIRE_FALSE(r);
    CHECK(r.error().status == code);
    CHECK(h.transport->count() == 1);
    CHECK(h.clock->sleeps().empty());
  }
}

TEST_CASE("client: 500 is retried for idempotent methods only", "[kube][client][retry]") {
  Harness get([](const HttpRequest&, int call) -> Reply { return call == 1 ? reply(500, "") : reply(200, "{}"); });
  CHECK(get.client.request("GET", "/version"));
  CHECK(get.transport->count() == 2);
  Harness post([](const HttpRequest&, int call) -> Reply { return call == 1 ? reply(500, "") : reply(201, "{}"); });
  json body = json::object();
  CHECK_FALSE(post.client.request("POST", "/api/v1/namespaces/n/configmaps", &body));
  CHECK(post.transport->count() == 1);
}

TEST_CASE("client: connection refused is retried for any method, a lost connection only when idempotent",
          "[kube][client][retry]") {
  json body = json::object();
  Harness refused([](const HttpRequest&, int call) -> Reply {
    return call < 3 ? fail(TransportFailure::Connect, "Connection refused") : reply(201, "{}");
  });
  CHECK(refused.client.request("POST", "/api/v1/namespaces", &body));
  CHECK(refused.transport->count() == 3);

  Harness lostPost([](const HttpRequest&, int) -> Reply { return fail(TransportFailure::Io, "Recv failure"); });
  auto r = lostPost.client.request("POST", "/api/v1/namespaces", &body);
  REQUIRE_FALSE(r);
  CHECK(lostPost.transport->count() == 1);
  CHECK(r.error().status == 0);
  CHECK(r.error().format() == "POST /api/v1/namespaces: ConnectionLost: Recv failure");

  Harness lostGet([](const HttpRequest&, int call) -> Reply {
    return call == 1 ? fail(TransportFailure::Timeout, "timed out") : reply(200, "{}");
  });
  CHECK(lostGet.client.request("GET", "/api"));
  CHECK(lostGet.transport->count() == 2);
}

TEST_CASE("client: a TLS verification failure fails closed at once", "[kube][client][retry]") {
  Harness h([](const HttpRequest&, int) -> Reply { return fail(TransportFailure::Tls, "SSL certificate problem"); });
  auto r = h.client.request("GET", "/version");
  REQUIRE_FALSE(r);
  CHECK(r.error().reason == "TLSError");
  CHECK(h.transport->count() == 1);
}

TEST_CASE("client: Retry-After is capped, and a wait past the operation deadline gives up", "[kube][client][retry]") {
  Config c = testConfig();
  c.retry.maxRetryAfter = 5s;
  Harness capped([](const HttpRequest&, int call) -> Reply { return call == 1 ? reply(429, "", "3600") : reply(200, "{}"); }, c);
  REQUIRE(capped.client.request("GET", "/x"));
  CHECK(capped.clock->sleeps() == std::vector<std::chrono::nanoseconds>{5s});

  c.retry.maxRetryAfter = 60s;
  c.operationTimeout = 10s;
  Harness late([](const HttpRequest&, int) -> Reply { return reply(429, "", "30"); }, c);
  auto r = late.client.request("GET", "/x");
  REQUIRE_FALSE(r);
  CHECK(late.transport->count() == 1);
  CHECK(late.clock->sleeps().empty());
  CHECK(r.error().message.find("deadline") != std::string::npos);
}

TEST_CASE("client: every attempt takes a rate-limiter token", "[kube][client][ratelimit]") {
  Config c = testConfig();
  c.qps = 10;
  c.burst = 2;
  Harness h([](const HttpRequest&, int) -> Reply { return reply(200, "{}"); }, c);
  for (int i = 0; i < 5; ++i) REQUIRE(h.client.request("GET", "/x"));
  // 2 free, then one per 100 ms (the fake clock advances only by sleeping).
  CHECK(h.clock->sleeps() == std::vector<std::chrono::nanoseconds>{100ms, 100ms, 100ms});
  CHECK(h.client.stats().throttled == 300ms);
}

TEST_CASE("client: apply is a server-side apply PATCH", "[kube][client][apply]") {
  Harness h([](const HttpRequest& req, int) -> Reply { return reply(200, req.body); });
  json cm = {{"metadata", {{"name", "web"}, {"namespace", "shop"}}}, {"data", {{"k", "v"}}}};
  auto r = h.client.apply(configMaps(), cm, ApplyOptions{});
  REQUIRE(r);
  auto req = h.transport->requests().at(0);
  CHECK(req.method == "PATCH");
  CHECK(req.path == "/api/v1/namespaces/shop/configmaps/web?fieldManager=gitfed&force=true");
  CHECK(req.contentType == "application/apply-patch+yaml");
  CHECK(req.bearerToken == "admin-token");
  auto sent = json::parse(req.body);
  CHECK(sent["apiVersion"] == "v1");  // filled in from the Resource
  CHECK(sent["kind"] == "ConfigMap");
  CHECK(sent["data"]["k"] == "v");

  ApplyOptions dry;
  dry.dryRun = true;
  dry.force = false;
  dry.fieldManager = "other manager";
  REQUIRE(h.client.apply(configMaps(), cm, dry));
  CHECK(h.transport->requests().at(1).path == "/api/v1/namespaces/shop/configmaps/web?fieldManager=other%20manager&dryRun=All");
}

TEST_CASE("client: apply refuses objects it cannot address", "[kube][client][apply]") {
  Harness h([](const HttpRequest&, int) -> Reply { return reply(200, "{}"); });
  CHECK_FALSE(h.client.apply(configMaps(), json{{"metadata", {{"namespace", "n"}}}}, {}));
  CHECK_FALSE(h.client.apply(configMaps(), json{{"metadata", {{"name", "a"}}}}, {}));
  Resource ns;
  ns.version = "v1";
  ns.kind = "Namespace";
  ns.plural = "namespaces";
  ns.namespaced = false;
  CHECK_FALSE(h.client.apply(ns, json{{"metadata", {{"name", "a"}, {"namespace", "b"}}}}, {}));
  CHECK(h.client.apply(ns, json{{"metadata", {{"name", "a"}}}}, {}));
  CHECK(h.transport->count() == 1);
}

TEST_CASE("client: a Secret's values never reach the error of its apply", "[kube][client][redact]") {
  const std::string value = "correct horse battery staple";
  Harness h([&](const HttpRequest&, int) -> Reply {
    // An admission policy that echoes the object, both spellings.
    return reply(422, status(422, "Invalid", "denied: password \"" + value + "\" (" + base64Encode(value) + ") is weak"));
  });
  json secret = {{"apiVersion", "v1"},
                 {"kind", "Secret"},
                 {"metadata", {{"name", "db"}, {"namespace", "shop"}}},
                 {"data", {{"password", base64Encode(value)}}}};
  auto r = h.client.apply(secrets(), secret, {});
  REQUIRE_FALSE(r);
  const std::string text = r.error().format();
  CHECK(text.find(value) == std::string::npos);
  CHECK(text.find(base64Encode(value)) == std::string::npos);
  CHECK(text == "apply v1 Secret shop/db: 422 Invalid: denied: password \"<redacted>\" (<redacted>) is weak");
}

TEST_CASE("client: list follows continue tokens, escapes the selector, fills kind", "[kube][client][list]") {
  Harness h([](const HttpRequest& req, int call) -> Reply {
    json page = {{"kind", "ConfigMapList"}, {"apiVersion", "v1"}, {"metadata", json::object()}};
    page["items"] = json::array({json{{"metadata", {{"name", "cm" + std::to_string(call)}}}}});
    if (call < 3) page["metadata"]["continue"] = "tok+" + std::to_string(call);
    (void)req;
    return reply(200, page.dump());
  });
  auto items = h.client.list(configMaps(), "shop", "app=web,tier in (a,b)");
  REQUIRE(items);
  REQUIRE(items->size() == 3);
  CHECK((*items)[2]["metadata"]["name"] == "cm3");
  CHECK((*items)[0]["kind"] == "ConfigMap");
  CHECK((*items)[0]["apiVersion"] == "v1");
  auto reqs = h.transport->requests();
  REQUIRE(reqs.size() == 3);
  CHECK(reqs[0].path == "/api/v1/namespaces/shop/configmaps?limit=500&labelSelector=app%3Dweb%2Ctier%20in%20%28a%2Cb%29");
  CHECK(reqs[1].path ==
        "/api/v1/namespaces/shop/configmaps?limit=500&continue=tok%2B1&labelSelector=app%3Dweb%2Ctier%20in%20%28a%2Cb%29");
  CHECK(reqs[2].path.find("continue=tok%2B2") != std::string::npos);
}

TEST_CASE("client: an expired continue token restarts the list once", "[kube][client][list]") {
  Harness h([](const HttpRequest& req, int) -> Reply {
    json page = {{"metadata", json::object()}, {"items", json::array({json{{"metadata", {{"name", "x"}}}}})}};
    if (req.path.find("continue=") != std::string::npos) return reply(410, status(410, "Expired", "too old"));
    page["metadata"]["continue"] = "t";
    return reply(200, page.dump());
  });
  auto items = h.client.list(configMaps(), "", "");
  REQUIRE_FALSE(items);  // expired again after the restart: an error, not a loop
  CHECK(items.error().status == 410);
  CHECK(h.transport->count() == 4);
  CHECK(h.transport->requests()[0].path == "/api/v1/configmaps?limit=500");
}

TEST_CASE("client: delete sends propagation and the uid precondition", "[kube][client][delete]") {
  Harness h([](const HttpRequest&, int) -> Reply { return reply(200, "{}"); });
  REQUIRE(h.client.remove(configMaps(), "shop", "web", Propagation::Foreground, "uid-1"));
  auto req = h.transport->requests().at(0);
  CHECK(req.method == "DELETE");
  CHECK(req.path == "/api/v1/namespaces/shop/configmaps/web");
  auto body = json::parse(req.body);
  CHECK(body["kind"] == "DeleteOptions");
  CHECK(body["propagationPolicy"] == "Foreground");
  CHECK(body["preconditions"]["uid"] == "uid-1");
  REQUIRE(h.client.remove(configMaps(), "shop", "web"));
  auto plain = json::parse(h.transport->requests().at(1).body);
  CHECK(plain["propagationPolicy"] == "Background");
  CHECK_FALSE(plain.contains("preconditions"));
}

namespace {

std::string aggregated(const std::vector<std::tuple<std::string, std::string, std::string, std::string, bool>>& rs) {
  json items = json::array();
  for (const auto& [group, version, kind, plural, namespaced] : rs) {
    items.push_back({{"metadata", {{"name", group}}},
                     {"versions",
                      json::array({{{"version", version},
                                    {"resources", json::array({{{"resource", plural},
                                                                {"responseKind", {{"kind", kind}}},
                                                                {"scope", namespaced ? "Namespaced" : "Cluster"},
                                                                {"verbs", {"get", "list"}}}})}}})}});
  }
  return json{{"kind", "APIGroupDiscoveryList"}, {"apiVersion", "apidiscovery.k8s.io/v2"}, {"items", items}}.dump();
}

HttpResponse discoveryReply(std::string body, std::string etag) {
  HttpResponse r = reply(200, std::move(body));
  r.contentType = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList";
  r.etag = std::move(etag);
  return r;
}

}  // namespace

TEST_CASE("client: discovery is cached, refreshed on a miss (conditionally), NotFound after", "[kube][client][discovery]") {
  std::atomic<bool> crdCreated{false};
  Harness h([&](const HttpRequest& req, int) -> Reply {
    if (req.path == "/api") {
      if (req.ifNoneMatch == "\"core1\"") return reply(304, "");
      return discoveryReply(aggregated({{"", "v1", "ConfigMap", "configmaps", true}}), "\"core1\"");
    }
    if (req.path == "/apis") {
      if (!crdCreated) return discoveryReply(aggregated({{"apps", "v1", "Deployment", "deployments", true}}), "\"apis1\"");
      if (req.ifNoneMatch == "\"apis2\"") return reply(304, "");
      return discoveryReply(aggregated({{"apps", "v1", "Deployment", "deployments", true},
                                        {"example.com", "v1", "Widget", "widgets", false}}),
                            "\"apis2\"");
    }
    return reply(404, "");
  });
  auto cm = h.client.resourceFor("v1", "ConfigMap");
  REQUIRE(cm);
  CHECK(cm->plural == "configmaps");
  CHECK(cm->namespaced);
  CHECK(h.transport->count() == 2);
  REQUIRE(h.client.resourceFor("apps/v1", "Deployment"));
  CHECK(h.transport->count() == 2);  // cached

  crdCreated = true;
  auto widget = h.client.resourceFor("example.com/v1", "Widget");
  REQUIRE(widget);
  CHECK(widget->group == "example.com");
  CHECK_FALSE(widget->namespaced);
  auto reqs = h.transport->requests();
  REQUIRE(reqs.size() == 4);
  CHECK(reqs[2].ifNoneMatch == "\"core1\"");
  CHECK(reqs[2].accept.find("as=APIGroupDiscoveryList") != std::string::npos);

  auto missing = h.client.resourceFor("example.com/v1", "Gizmo");
  REQUIRE_FALSE(missing);
  CHECK(missing.error().notFound());
  CHECK(missing.error().message == "the server does not serve Gizmo in example.com/v1");
  CHECK(h.transport->count() == 6);  // exactly one refresh (two 304s) for the miss

  auto all = h.client.resources();
  REQUIRE(all);
  CHECK(all->size() == 3);
}

TEST_CASE("client: legacy discovery when the server has no aggregated form", "[kube][client][discovery]") {
  Harness h([](const HttpRequest& req, int) -> Reply {
    if (req.path == "/api") return reply(200, R"({"kind":"APIVersions","versions":["v1"]})");
    if (req.path == "/apis")
      return reply(200, R"({"kind":"APIGroupList","groups":[{"name":"apps","versions":[{"version":"v1"}],"preferredVersion":{"version":"v1"}},
                                                             {"name":"broken.io","versions":[{"version":"v1"}]}]})");
    if (req.path == "/api/v1")
      return reply(200, R"({"kind":"APIResourceList","resources":[{"name":"configmaps","namespaced":true,"kind":"ConfigMap"}]})");
    if (req.path == "/apis/apps/v1")
      return reply(200, R"({"kind":"APIResourceList","resources":[{"name":"deployments","namespaced":true,"kind":"Deployment"},
                                                                    {"name":"deployments/scale","namespaced":true,"kind":"Scale"}]})");
    return reply(503, status(503, "ServiceUnavailable", "aggregated API down"));
  });
  auto d = h.client.resourceFor("apps/v1", "Deployment");
  REQUIRE(d);
  CHECK(d->plural == "deployments");
  REQUIRE(h.client.resourceFor("v1", "ConfigMap"));
  CHECK_FALSE(h.client.resourceFor("apps/v1", "Scale"));
}

TEST_CASE("client: a rotated token file is used by the next request, a 401 re-reads it at once", "[kube][client][token]") {
  gitfed::test::TempDir dir;
  auto tokenPath = dir.write("token", "first-token\n");
  Config c = testConfig();
  c.token.clear();
  c.tokenFile = tokenPath.string();
  std::string valid = "first-token";
  Harness h([&](const HttpRequest& req, int) -> Reply {
    return req.bearerToken == valid ? reply(200, "{}") : reply(401, status(401, "Unauthorized", "Unauthorized"));
  }, c);
  REQUIRE(h.client.request("GET", "/x"));

  // Rotation the way kubelet does it: a new file renamed over the old.
  dir.write("token.new", "second-token-longer\n");
  std::filesystem::rename(dir.path() / "token.new", tokenPath);
  valid = "second-token-longer";
  REQUIRE(h.client.request("GET", "/x"));
  CHECK(h.transport->requests().back().bearerToken == "second-token-longer");
  CHECK(h.transport->count() == 2);

  // The server stops accepting the token before we noticed a change (same
  // size, same mtime tick): the 401 makes the client re-read the file.
  valid = "third--token-longer";
  {
    auto before = std::filesystem::last_write_time(tokenPath);
    dir.write("token", "third--token-longer\n");  // in place, same size
    std::filesystem::last_write_time(tokenPath, before);
  }
  const size_t sent = h.transport->count();
  REQUIRE(h.client.request("GET", "/x"));
  CHECK(h.transport->count() == sent + 2);  // the 401, then the retry with the new token
  CHECK(h.transport->requests().back().bearerToken == "third--token-longer");

  // A token that is simply wrong: one 401, no loop.
  valid = "nobody-has-this";
  auto r = h.client.request("GET", "/x");
  REQUIRE_FALSE(r);
  CHECK(r.error().status == 401);
}

TEST_CASE("client: many threads at once: shared discovery, one token bucket, no lost requests", "[kube][client][threads]") {
  std::atomic<int> discoveryFetches{0};
  Config c = testConfig();
  c.qps = 1000;
  c.burst = 10;
  Harness h([&](const HttpRequest& req, int) -> Reply {
    if (req.path == "/api" || req.path == "/apis") {
      ++discoveryFetches;
      return discoveryReply(aggregated({{"", "v1", "ConfigMap", "configmaps", true}}), "");
    }
    return reply(200, kConfigMap);
  }, c);
  std::vector<std::thread> threads;
  std::atomic<int> ok{0}, notFound{0};
  for (int t = 0; t < 8; ++t)
    threads.emplace_back([&] {
      for (int i = 0; i < 25; ++i) {
        auto r = h.client.resourceFor("v1", "ConfigMap");
        if (r && h.client.get(*r, "n", "a")) ++ok;
        auto miss = h.client.resourceFor("example.com/v1", "Nope");
        if (!miss && miss.error().notFound()) ++notFound;
      }
    });
  for (auto& t : threads) t.join();
  CHECK(ok == 200);
  CHECK(notFound == 200);
  // Every miss refreshes at most once (concurrent misses share a refresh).
  CHECK(discoveryFetches <= 2 * (1 + 200));
  CHECK(h.client.stats().attempts == static_cast<std::uint64_t>(200 + discoveryFetches.load()));
  // 10 free tokens, then 1000/s: the fake clock advanced by the queue's waits.
  CHECK(h.clock->slept() > std::chrono::nanoseconds::zero());
}

TEST_CASE("client: an impersonating view sends Impersonate-User on every object request, discovery as itself",
          "[kube][client][impersonate]") {
  const std::string user = "system:serviceaccount:team-a:gitfed-tenant";
  Harness h([](const HttpRequest& req, int) -> Reply {
    if (req.path == "/api") return discoveryReply(aggregated({{"", "v1", "ConfigMap", "configmaps", true}}), "\"c\"");
    if (req.path == "/apis") return discoveryReply(aggregated({}), "\"a\"");
    if (req.method == "PATCH") return reply(200, req.body);
    if (req.method == "GET" && req.path.find("?") != std::string::npos) return reply(200, R"({"items":[]})");
    return reply(200, kConfigMap);
  });
  auto view = h.client.impersonating(user);
  REQUIRE(view);
  KubeClient& as = **view;
  CHECK(as.impersonatedUser() == user);
  CHECK(h.client.impersonatedUser().empty());
  REQUIRE(as.resourceFor("v1", "ConfigMap"));
  json cm = {{"metadata", {{"name", "web"}, {"namespace", "team-a"}}}};
  REQUIRE(as.apply(configMaps(), cm, ApplyOptions{}));
  ApplyOptions dry;
  dry.dryRun = true;
  REQUIRE(as.apply(configMaps(), cm, dry));
  REQUIRE(as.get(configMaps(), "team-a", "web"));
  REQUIRE(as.list(configMaps(), "team-a", ""));
  REQUIRE(as.remove(configMaps(), "team-a", "web"));
  REQUIRE(as.request("GET", "/api/v1/namespaces/team-a/configmaps/web"));
  // The client itself, after the view was made: no header.
  REQUIRE(h.client.get(configMaps(), "team-a", "web"));

  auto requests = h.transport->requests();
  REQUIRE(requests.size() == 9);
  for (std::size_t i = 0; i < requests.size(); ++i) {
    const auto& req = requests[i];
    INFO(i << ": " << req.method << " " << req.path);
    const bool discovery = req.path == "/api" || req.path == "/apis";
    const bool last = i + 1 == requests.size();
    CHECK(req.impersonateUser == (discovery || last ? std::string() : user));
    CHECK(req.bearerToken == "admin-token");  // the client's own credential authenticates
  }
  CHECK(requests[3].path.find("dryRun=All") != std::string::npos);
  CHECK(requests[5].path.find("/api/v1/namespaces/team-a/configmaps?") == 0);
  CHECK(requests[6].method == "DELETE");
}

TEST_CASE("client: impersonation refuses users that are not one header value", "[kube][client][impersonate]") {
  Harness h([](const HttpRequest&, int) -> Reply { return reply(200, "{}"); });
  for (std::string bad : {std::string(), std::string("a\r\nAuthorization: Bearer x"), std::string("tab\there"),
                          std::string(600, 'u')}) {
    auto view = h.client.impersonating(bad);
    REQUIRE_FALSE(view);
    CHECK(view.error().reason == "BadRequest");
    CHECK(view.error().format().find("impersonate") != std::string::npos);
  }
  CHECK(h.transport->count() == 0);
  CHECK(checkImpersonatedUser("system:serviceaccount:a:b").empty());
}

TEST_CASE("client: a 403 as the impersonated user is returned, not retried", "[kube][client][impersonate]") {
  const std::string denial = "configmaps \"x\" is forbidden: User \"system:serviceaccount:team-a:gitfed-tenant\" "
                             "cannot patch resource \"configmaps\" in API group \"\" in the namespace \"kube-system\"";
  Harness h([&](const HttpRequest&, int) -> Reply { return reply(403, status(403, "Forbidden", denial)); });
  auto view = h.client.impersonating("system:serviceaccount:team-a:gitfed-tenant");
  REQUIRE(view);
  auto r = (*view)->apply(configMaps(), json{{"metadata", {{"name", "x"}, {"namespace", "kube-system"}}}}, {});
  REQUIRE_FALSE(r);
  CHECK(r.error().status == 403);
  CHECK(r.error().reason == "Forbidden");
  CHECK(r.error().message == denial);
  CHECK(h.transport->count() == 1);
}

TEST_CASE("client: a view of a view impersonates from the client's own identity", "[kube][client][impersonate]") {
  Harness h([](const HttpRequest&, int) -> Reply { return reply(200, kConfigMap); });
  auto a = h.client.impersonating("system:serviceaccount:a:gitfed-tenant");
  REQUIRE(a);
  auto b = (*a)->impersonating("system:serviceaccount:b:gitfed-tenant");
  REQUIRE(b);
  REQUIRE((*b)->get(configMaps(), "b", "x"));
  CHECK(h.transport->requests().at(0).impersonateUser == "system:serviceaccount:b:gitfed-tenant");
}

TEST_CASE("client: clients that cannot impersonate say so", "[kube][client][impersonate]") {
  struct Minimal final : KubeClient {
    Result<Resource> resourceFor(std::string_view, std::string_view) override { return Resource{}; }
    Result<std::vector<Resource>> resources() override { return std::vector<Resource>{}; }
    Result<json> get(const Resource&, std::string_view, std::string_view) override { return json(); }
    Result<std::vector<json>> list(const Resource&, std::string_view, std::string_view) override {
      return std::vector<json>{};
    }
    Result<json> apply(const Resource&, const json&, const ApplyOptions&) override { return json(); }
    Result<void> remove(const Resource&, std::string_view, std::string_view, Propagation,
                        std::optional<std::string>) override {
      return {};
    }
    Result<json> request(std::string_view, std::string_view, const json*, std::string_view) override { return json(); }
  } minimal;
  auto view = minimal.impersonating("system:serviceaccount:a:gitfed-tenant");
  REQUIRE_FALSE(view);
  CHECK(view.error().reason == "NotSupported");
}

TEST_CASE("client: debug logs name the impersonated user, never the token", "[kube][client][impersonate]") {
  std::ostringstream out;
  auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(out);
  auto logger = std::make_shared<spdlog::logger>("impersonation-test", sink);
  logger->set_level(spdlog::level::debug);
  auto previous = spdlog::default_logger();
  spdlog::set_default_logger(logger);
  Config config = testConfig();
  config.token = "s3cr3t-token-value";
  Harness h([](const HttpRequest&, int) -> Reply { return reply(403, status(403, "Forbidden", "no")); }, config);
  auto view = h.client.impersonating("system:serviceaccount:team-a:gitfed-tenant");
  REQUIRE(view);
  CHECK_FALSE((*view)->get(configMaps(), "team-a", "x"));
  spdlog::set_default_logger(previous);
  CHECK(h.transport->requests().at(0).bearerToken == "s3cr3t-token-value");
  CHECK(out.str().find("as system:serviceaccount:team-a:gitfed-tenant") != std::string::npos);
  CHECK(out.str().find("s3cr3t") == std::string::npos);
}
