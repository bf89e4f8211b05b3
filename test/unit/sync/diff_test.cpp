// The comparison logic: what counts as "in sync" locally, what a dry-run
// result differs in, quantities, ignored fields, Secret redaction, hashing.

#include <catch2/catch.hpp>

#include "gitfed/sync/diff.h"

using namespace gitfed::sync;
using nlohmann::json;

namespace {
FieldSet fields(const char* text) {
  auto f = FieldSet::parse(text);
  REQUIRE(f);
  return *f;
}
}  // namespace

TEST_CASE("coversDesired compares only the fields Git sets", "[sync][diff]") {
  json desired = json::parse(R"({"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"a","labels":{"x":"1"}},"data":{"k":"v"}})");
  json live = desired;
  live["metadata"]["uid"] = "u";
  live["metadata"]["labels"]["added-by-someone"] = "y";
  live["data"]["other"] = "z";  // a key gitfed does not set
  live["metadata"]["managedFields"] = json::array({{{"manager", "gitfed"}}});
  CHECK(coversDesired(desired, live));

  live["data"]["k"] = "changed";
  CHECK_FALSE(coversDesired(desired, live));
  live["data"]["k"] = "v";
  live["metadata"]["labels"].erase("x");
  CHECK_FALSE(coversDesired(desired, live));
}

TEST_CASE("coversDesired: absent, null, {} and [] are the same; status and bookkeeping are skipped", "[sync][diff]") {
  json desired = json::parse(R"({"metadata":{"name":"a","creationTimestamp":null,"annotations":{}},
                                 "spec":{"list":[],"map":{},"gone":null},"status":{"x":1}})");
  json live = json::parse(R"({"metadata":{"name":"a","creationTimestamp":"2026-01-01T00:00:00Z"},"spec":{}})");
  CHECK(coversDesired(desired, live));
  live["spec"]["gone"] = 3;  // Git says it must not be there
  CHECK_FALSE(coversDesired(desired, live));
}

TEST_CASE("coversDesired: lists compare item by item over desired fields; length differences are suspects", "[sync][diff]") {
  json desired = json::parse(R"({"spec":{"containers":[{"name":"web","image":"nginx:1"}]}})");
  json live = json::parse(R"({"spec":{"containers":[{"name":"web","image":"nginx:1","imagePullPolicy":"IfNotPresent",
                                  "terminationMessagePath":"/dev/termination-log"}]}})");
  CHECK(coversDesired(desired, live));
  live["spec"]["containers"].push_back({{"name", "sidecar"}});
  CHECK_FALSE(coversDesired(desired, live));  // the dry run decides
  live["spec"]["containers"].erase(1);
  live["spec"]["containers"][0]["image"] = "nginx:2";
  CHECK_FALSE(coversDesired(desired, live));
}

TEST_CASE("coversDesired: numbers by value; quantities only where quantities live", "[sync][diff]") {
  json desired = json::parse(R"({"spec":{"replicas":3,"ratio":1.0,
      "resources":{"requests":{"cpu":"1000m","memory":"1Gi"},"limits":{"cpu":2}}},
      "data":{"cpu":"1000m"}})");
  json live = json::parse(R"({"spec":{"replicas":3,"ratio":1,
      "resources":{"requests":{"cpu":"1","memory":"1073741824"},"limits":{"cpu":"2"}}},
      "data":{"cpu":"1000m"}})");
  CHECK(coversDesired(desired, live));
  live["data"]["cpu"] = "1";  // a ConfigMap value is text, not a quantity
  CHECK_FALSE(coversDesired(desired, live));
  live["data"]["cpu"] = "1000m";
  live["spec"]["resources"]["requests"]["cpu"] = "1001m";
  CHECK_FALSE(coversDesired(desired, live));
  live["spec"]["resources"]["requests"]["cpu"] = "1";
  live["spec"]["replicas"] = "3";  // a string is not the number 3
  CHECK_FALSE(coversDesired(desired, live));
}

TEST_CASE("coversDesired skips ignored fields", "[sync][diff]") {
  json desired = json::parse(R"({"spec":{"replicas":3,"template":{"x":1},"list":[{"a":1},{"b":2}]}})");
  json live = json::parse(R"({"spec":{"replicas":7,"template":{"x":1},"list":[{"a":1},{"b":5}]}})");
  CHECK_FALSE(coversDesired(desired, live));
  CHECK_FALSE(coversDesired(desired, live, fields("/spec/replicas")));
  CHECK(coversDesired(desired, live, fields("/spec/replicas, /spec/list/1")));
  CHECK(coversDesired(desired, live, fields("/spec/replicas /spec/list/1/b")));
}

TEST_CASE("FieldSet parses pointers and refuses what is not one", "[sync][diff]") {
  auto f = FieldSet::parse(" /spec/replicas,,/metadata/labels/app.kubernetes.io~1name ");
  REQUIRE(f);
  CHECK(f->covers({"spec", "replicas"}));
  CHECK(f->covers({"spec", "replicas", "x"}));
  CHECK(f->covers({"metadata", "labels", "app.kubernetes.io/name"}));
  CHECK_FALSE(f->covers({"spec"}));
  auto bad = FieldSet::parse("spec/replicas");
  REQUIRE_FALSE(bad);
  CHECK(bad.error().find("spec/replicas") != std::string::npos);
  CHECK_FALSE(FieldSet::parse("/a~2b"));
}

TEST_CASE("parseQuantity reads Kubernetes quantities", "[sync][diff]") {
  CHECK(quantitiesEqual("1000m", "1"));
  CHECK(quantitiesEqual("0.5", "500m"));
  CHECK(quantitiesEqual("0.1", "100m"));
  CHECK(quantitiesEqual("1Ki", "1024"));
  CHECK(quantitiesEqual("1Gi", "1024Mi"));
  CHECK(quantitiesEqual("1k", "1000"));
  CHECK(quantitiesEqual("1e3", "1k"));
  CHECK(quantitiesEqual("1.5Gi", "1536Mi"));
  CHECK(quantitiesEqual("1M", "1000k"));
  CHECK(quantitiesEqual("-1", "-1000m"));
  CHECK(quantitiesEqual("1n", "0.000000001"));
  CHECK_FALSE(quantitiesEqual("1", "1001m"));
  CHECK_FALSE(quantitiesEqual("1Ki", "1k"));
  CHECK_FALSE(parseQuantity("abc"));
  CHECK_FALSE(parseQuantity("1X"));
  CHECK_FALSE(parseQuantity(""));
  CHECK_FALSE(parseQuantity("m"));
}

TEST_CASE("diffObjects lists every differing leaf of a dry-run result against live", "[sync][diff]") {
  json want = json::parse(R"({"metadata":{"name":"a","resourceVersion":"9","managedFields":[1],"labels":{"x":"1"}},
                              "spec":{"replicas":3,"ports":[{"port":80},{"port":81}],"new":{"a":1}},"status":{"r":1}})");
  json live = json::parse(R"({"metadata":{"name":"a","resourceVersion":"8","managedFields":[2],"labels":{"x":"2"}},
                              "spec":{"replicas":5,"ports":[{"port":80}],"old":true},"status":{"r":2}})");
  auto d = diffObjects(want, live);
  REQUIRE(d.size() == 5);
  std::map<std::string, DriftEntry> byPath;
  for (auto& e : d) byPath[e.path] = e;
  CHECK(*byPath["/metadata/labels/x"].desired == "1");
  CHECK(*byPath["/metadata/labels/x"].live == "2");
  CHECK(*byPath["/spec/replicas"].desired == 3);
  CHECK(*byPath["/spec/replicas"].live == 5);
  CHECK(byPath["/spec/ports"].desired->size() == 2);  // lengths differ: the whole list
  CHECK(*byPath["/spec/new"].desired == json{{"a", 1}});
  CHECK_FALSE(byPath["/spec/new"].live);
  CHECK_FALSE(byPath["/spec/old"].desired);
  CHECK(diffObjects(want, want).empty());
  CHECK(diffObjects(want, live, fields("/spec /metadata/labels")).empty());
}

TEST_CASE("Secret values are redacted in drift and in messages", "[sync][diff][secret]") {
  std::vector<DriftEntry> drift = {
      {"/data/password", json("c2VjcmV0LXZhbHVl"), json("b3RoZXI=")},
      {"/data", json{{"a", "YQ=="}, {"b", "Yg=="}}, std::nullopt},
      {"/metadata/annotations",
       json{{"kubectl.kubernetes.io/last-applied-configuration", "{\"data\":{\"password\":\"c2Vj\"}}"}, {"team", "x"}},
       json::object()},
      {"/metadata/labels/app", json("web"), json("api")},
  };
  redactSecretDrift(drift);
  CHECK(*drift[0].desired == "<redacted>");
  CHECK(*drift[0].live == "<redacted>");
  CHECK(*drift[1].desired == json{{"a", "<redacted>"}, {"b", "<redacted>"}});
  CHECK((*drift[2].desired)["kubectl.kubernetes.io/last-applied-configuration"] == "<redacted>");
  CHECK((*drift[2].desired)["team"] == "x");
  CHECK(*drift[3].desired == "web");

  json secret = json::parse(R"({"kind":"Secret","data":{"token":"c2VjcmV0LXZhbHVl"},"stringData":{"pw":"hunter22"}})");
  std::string msg = "denied: token secret-value (c2VjcmV0LXZhbHVl), pw hunter22 or aHVudGVyMjI=, ok";
  std::string red = redactSecretText(msg, secret);
  CHECK(red.find("secret-value") == std::string::npos);
  CHECK(red.find("c2VjcmV0LXZhbHVl") == std::string::npos);
  CHECK(red.find("hunter22") == std::string::npos);
  CHECK(red.find("aHVudGVyMjI=") == std::string::npos);
  CHECK(red.find("denied: token <redacted>") == 0);
}

TEST_CASE("foldStringData folds stringData into data as the server does", "[sync][diff][secret]") {
  json s = json::parse(R"({"kind":"Secret","data":{"a":"YQ==","b":"eA=="},"stringData":{"b":"b"}})");
  json f = foldStringData(s);
  CHECK_FALSE(f.contains("stringData"));
  CHECK(f["data"] == json{{"a", "YQ=="}, {"b", "Yg=="}});
}

TEST_CASE("base64, pointers and the content hash", "[sync][diff]") {
  for (const std::string& s : std::vector<std::string>{"", "a", "ab", "abc", "abcd", std::string("\0\xff\x10", 3)}) {
    auto back = base64Decode(base64Encode(s));
    REQUIRE(back);
    CHECK(*back == s);
  }
  CHECK(base64Encode("hunter22") == "aHVudGVyMjI=");
  CHECK_FALSE(base64Decode("a"));
  CHECK_FALSE(base64Decode("a=bc"));
  CHECK(toPointer({"metadata", "labels", "a/b~c"}) == "/metadata/labels/a~1b~0c");
  json doc = json::parse(R"({"a":{"b":[{"c":1}]}})");
  REQUIRE(findAt(doc, {"a", "b", "0", "c"}));
  CHECK(*findAt(doc, {"a", "b", "0", "c"}) == 1);
  CHECK_FALSE(findAt(doc, {"a", "b", "1"}));
  CHECK(setAt(doc, {"a", "x", "y"}, 2));
  CHECK(doc["a"]["x"]["y"] == 2);
  CHECK_FALSE(setAt(doc, {"a", "b", "5", "c"}, 2));
  json a = json::parse(R"({"x":1,"y":[1,2]})");
  json b = json::parse(R"({"y":[1,2],"x":1})");
  CHECK(contentHash(a) == contentHash(b));
  CHECK(contentHash(a).size() == 16);
  b["x"] = 2;
  CHECK(contentHash(a) != contentHash(b));
}
