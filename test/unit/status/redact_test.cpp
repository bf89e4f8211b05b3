// Secrets never leave the cluster: Secret values in drift entries, wherever
// the drift's path points, and learned values in any free text.

#include <catch2/catch.hpp>

#include "gitfed/status/redact.h"

using namespace gitfed::status;
using nlohmann::json;

namespace {

ObjectStatus secretDrift(const std::string& path, json desired, json live, const std::string& kind = "Secret") {
  ObjectStatus o;
  o.apiVersion = "v1";
  o.kind = kind;
  o.ns = "shop";
  o.name = "db";
  o.drift = {{path, std::move(desired), std::move(live)}};
  return o;
}

bool contains(const json& j, const std::string& needle) { return j.dump().find(needle) != std::string::npos; }

}  // namespace

TEST_CASE("a Secret's drift is redacted at any path", "[status][redact]") {
  Redactor none;
  const std::string lastApplied = R"({"data":{"password":"aHVudGVyMg=="}})";
  struct Case {
    std::string path;
    json desired, live;
  };
  std::vector<Case> cases = {
      {"/data/password", "aHVudGVyMg==", "b3RoZXI="},
      {"/data", json{{"password", "aHVudGVyMg=="}}, json{{"password", "b3RoZXI="}}},
      {"/stringData/password", "hunter2", "other"},
      {"", json{{"data", {{"password", "aHVudGVyMg=="}}}, {"metadata", {{"name", "db"}}}}, json::object()},
      {"/metadata/annotations", json{{"kubectl.kubernetes.io/last-applied-configuration", lastApplied}}, json::object()},
      {"/metadata/annotations/kubectl.kubernetes.io~1last-applied-configuration", lastApplied, nullptr},
      {"/data/with~1slash", "aHVudGVyMg==", nullptr},
  };
  for (const auto& c : cases) {
    INFO(c.path);
    ClusterStatus r;
    r.objects = {secretDrift(c.path, c.desired, c.live)};
    none.apply(r);
    const auto& d = r.objects[0].drift[0];
    CHECK_FALSE(contains(d.desired, "aHVudGVyMg=="));
    CHECK_FALSE(contains(d.desired, "hunter2"));
    CHECK_FALSE(contains(d.live, "b3RoZXI="));
    CHECK_FALSE(contains(d.live, "other"));
  }
  // Other fields of a Secret and other kinds are left alone.
  ClusterStatus r;
  r.objects = {secretDrift("/metadata/labels/app", "web", "api"), secretDrift("/data/k", "v1", "v2", "ConfigMap")};
  none.apply(r);
  CHECK(r.objects[0].drift[0].desired == "web");
  CHECK(r.objects[1].drift[0].desired == "v1");
}

TEST_CASE("learned Secret values are cut out of every message", "[status][redact]") {
  Redactor redactor;
  redactor.learn(json::parse(R"({"apiVersion":"v1","kind":"Secret","metadata":{"name":"db"},
      "data":{"password":"aHVudGVyMg=="},"stringData":{"token":"tok-123456"}})"));
  redactor.learn(json::parse(R"({"apiVersion":"v1","kind":"ConfigMap","data":{"k":"not-a-secret"}})"));
  ClusterStatus r;
  r.sync.message = "apply failed: value hunter2 is invalid; token tok-123456; b64 aHVudGVyMg==";
  r.sync.errors = {{"", 0, "v1/Secret/shop/db", "field data.password: \"hunter2\" rejected"}};
  ObjectStatus o = secretDrift("/spec/env/0/value", "hunter2", "x", "Deployment");
  o.apiVersion = "apps/v1";
  o.message = "not-a-secret stays";
  r.objects = {o};
  redactor.apply(r);
  CHECK(r.sync.message == "apply failed: value <redacted> is invalid; token <redacted>; b64 <redacted>");
  CHECK(r.sync.errors[0].message == "field data.password: \"<redacted>\" rejected");
  CHECK(r.objects[0].drift[0].desired == "<redacted>");
  CHECK(r.objects[0].message == "not-a-secret stays");
  CHECK(Redactor::redactObject(json::parse(R"({"apiVersion":"v1","kind":"Secret","data":{"a":"b"}})"))["data"]["a"] ==
        "<redacted>");
}

TEST_CASE("reports equal but for timestamps", "[status][redact]") {
  json a = {{"sync", {{"phase", "Synced"}, {"lastAttemptAt", "2026-01-01T00:00:00Z"}, {"lastSuccessAt", "x"}}}};
  json b = {{"sync", {{"phase", "Synced"}, {"lastAttemptAt", "2026-01-02T00:00:00Z"}}}};
  CHECK(sameExceptTimestamps(a, b));
  b["sync"]["phase"] = "Drifted";
  CHECK_FALSE(sameExceptTimestamps(a, b));
  json c = a;
  c["summary"] = {{"objects", 1}};
  CHECK_FALSE(sameExceptTimestamps(a, c));
}
