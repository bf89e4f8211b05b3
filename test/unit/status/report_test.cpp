// The report model: YAML text in the spec's layout that reads back as the same
// report, commit messages, times, cluster names, the 1000-object limit.

#include <catch2/catch.hpp>

#include "gitfed/status/report.h"

using namespace gitfed::status;
using nlohmann::json;

namespace {

ClusterStatus sample() {
  ClusterStatus r;
  r.name = "eu-west-1";
  r.labels = {{"region", "eu-west"}, {"environment", "production"}};
  r.source = {"https://git.example.com/fleet.git", "main", "1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d"};
  r.sync.phase = Phase::Failed;
  r.sync.appliedRevision = "0000000000000000000000000000000000000001";
  r.sync.lastAttemptAt = parseTime("2026-11-21T10:00:00Z");
  r.sync.lastSuccessAt = parseTime("2026-11-21T09:00:00Z");
  r.sync.message = "2 render errors";
  r.sync.errors = {{"apps/web.yaml", 14, "", "override path /spec/x: missing"},
                   {"", 0, "apps/v1/Deployment/shop/web", "422 ... is immutable"}};
  r.summary = {412, 409, 1, 0, 1, 1, 3};
  ObjectStatus o;
  o.apiVersion = "apps/v1";
  o.kind = "Deployment";
  o.ns = "shop";
  o.name = "web";
  o.state = ObjectState::Drifted;
  o.health = Health::Healthy;
  o.drift = {{"/spec/replicas", 3, 5}, {"/metadata/labels/yes", "true", true}};
  r.objects = {o};
  r.agentVersion = "0.1.0";
  return r;
}

}  // namespace

TEST_CASE("a report's YAML reads back as the same report", "[status][report]") {
  ClusterStatus r = sample();
  std::string text = toYamlText(r);
  auto back = parseReport(text);
  REQUIRE(back);
  CHECK(toJson(*back) == toJson(r));
  // The spec's key order at the top level.
  auto pos = [&](const char* key) { return text.find(std::string("\n") + key + ":"); };
  CHECK(text.starts_with("apiVersion: gitfed.io/v1alpha1\nkind: ClusterStatus\nmetadata:"));
  CHECK(pos("metadata") < pos("source"));
  CHECK(pos("source") < pos("sync"));
  CHECK(pos("sync") < pos("summary"));
  CHECK(pos("summary") < pos("objects"));
  CHECK(pos("objects") < pos("agent"));
  // Strings that YAML 1.1 would read as something else stay strings.
  CHECK(back->objects[0].drift[1].desired == "true");
  CHECK(back->objects[0].drift[1].live == true);
  bool timeWritten = text.find("lastAttemptAt: \"2026-11-21T10:00:00Z\"") != std::string::npos ||
                     text.find("lastAttemptAt: 2026-11-21T10:00:00Z") != std::string::npos;
  CHECK(timeWritten);
}

TEST_CASE("reports that are not ClusterStatus documents are refused", "[status][report]") {
  CHECK_FALSE(parseReport("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n"));
  CHECK_FALSE(parseReport("apiVersion: gitfed.io/v1alpha1\nkind: ClusterStatus\nmetadata: {name: ../x}\nsync: {phase: Synced}\n"));
  CHECK_FALSE(parseReport("apiVersion: gitfed.io/v1alpha1\nkind: ClusterStatus\nmetadata: {name: x}\nsync: {phase: Great}\n"));
  CHECK_FALSE(parseReport("a: [\n"));
  CHECK_FALSE(parseReport("a: 1\n---\nb: 2\n"));
}

TEST_CASE("commit messages say what changed in one line, from counts only", "[status][report]") {
  ClusterStatus r = sample();
  CHECK(commitMessage(r) == "eu-west-1: Failed 1a2b3c4: 1 render error");
  r.sync.errors = {{"", 0, "apps/v1/Deployment/shop/web", "secret-ish text"}};
  CHECK(commitMessage(r) == "eu-west-1: Failed 1a2b3c4: 1 failed");
  r.sync.phase = Phase::Synced;
  CHECK(commitMessage(r) == "eu-west-1: Synced 1a2b3c4 (412 objects)");
  r.sync.phase = Phase::Drifted;
  CHECK(commitMessage(r) == "eu-west-1: Drifted 1a2b3c4 (1 drifted)");
  r.sync.phase = Phase::Progressing;
  CHECK(commitMessage(r) == "eu-west-1: Progressing 1a2b3c4 (1 progressing)");
  r.sync.phase = Phase::Stale;
  CHECK(commitMessage(r) == "eu-west-1: Stale 1a2b3c4 (source not fetched)");
  r.sync.message = "password=hunter2";
  CHECK(commitMessage(r).find("hunter2") == std::string::npos);
}

TEST_CASE("times, cluster names, the object limit", "[status][report]") {
  auto t = parseTime("2026-11-21T10:00:00Z");
  REQUIRE(t);
  CHECK(formatTime(*t) == "2026-11-21T10:00:00Z");
  CHECK(parseTime("2026-11-21T10:00:00.123Z"));
  CHECK_FALSE(parseTime("2026-11-21 10:00:00"));
  CHECK_FALSE(parseTime("2026-11-21T10:00:00+02:00"));
  CHECK_FALSE(parseTime(""));

  for (const char* ok : {"eu-west-1", "a", "c1.example", "0abc"}) CHECK(isValidClusterName(ok));
  for (const char* bad : {"", "-a", "a-", "A", "a/b", "..", "a..b", "a_b", "a b", ".a"}) {
    INFO(bad);
    CHECK_FALSE(isValidClusterName(bad));
  }
  ClusterStatus r = sample();
  r.objects.assign(1234, r.objects[0]);
  limitObjects(r);
  CHECK(r.objects.size() == kMaxObjects);
  CHECK(r.truncated == 234);
  CHECK(toJson(r)["truncated"] == 234);
}

TEST_CASE("report: the tenant of an error and of an object is written when set and read back", "[status][tenant]") {
  ClusterStatus r = sample();
  r.sync.errors.push_back({"tenants/blog/site.yaml", 7, "", "Deployment blog/web: image not allowed", "blog"});
  r.sync.errors.push_back({"", 0, "v1/ConfigMap/kube-system/x", "403 Forbidden", "blog"});
  ObjectStatus o = r.objects.front();
  o.name = "site";
  o.ns = "blog";
  o.state = ObjectState::Failed;
  o.tenant = "blog";
  r.objects.push_back(o);
  std::string text = toYamlText(r);
  CHECK(text.find("tenant: blog") != std::string::npos);
  auto back = parseReport(text);
  REQUIRE(back);
  REQUIRE(back->sync.errors.size() == 4);
  CHECK(back->sync.errors[0].tenant.empty());
  CHECK(back->sync.errors[2].tenant == "blog");
  CHECK(back->sync.errors[2].file == "tenants/blog/site.yaml");
  CHECK(back->sync.errors[3].tenant == "blog");
  REQUIRE(back->objects.size() == 2);
  CHECK(back->objects[0].tenant.empty());
  CHECK(back->objects[1].tenant == "blog");
  CHECK(toJson(*back) == toJson(r));
  // Without tenants nothing is added (reports of clusters without tenants are unchanged).
  CHECK(toYamlText(sample()).find("tenant") == std::string::npos);
}

TEST_CASE("report: a group of objects with the same error is written and read back", "[status][report]") {
  ClusterStatus r = sample();
  r.sync.errors.push_back(ReportError{{}, 0, {}, "apply failed: 500 InternalError: range is full", "blog", 3080,
                                      {"v1/Service/shop/s0", "v1/Service/shop/s1"}});
  auto text = toYamlText(r);
  CHECK(text.find("count: 3080") != std::string::npos);
  auto back = parseReport(text);
  REQUIRE(back);
  REQUIRE(back->sync.errors.size() == 3);
  CHECK(back->sync.errors[2].count == 3080);
  CHECK(back->sync.errors[2].examples == std::vector<std::string>{"v1/Service/shop/s0", "v1/Service/shop/s1"});
  CHECK(back->sync.errors[2].tenant == "blog");
  CHECK(back->sync.errors[2].object.empty());
  CHECK(back->sync.errors[0].count == 0);  // single errors carry no count
  CHECK(toJson(*back) == toJson(r));
}

namespace {

ObjectStatus failedObject(std::size_t i, std::size_t messageBytes, std::size_t driftBytes) {
  ObjectStatus o;
  o.apiVersion = "v1";
  o.kind = "ConfigMap";
  o.ns = "shop";
  o.name = "c" + std::to_string(i);
  o.state = ObjectState::Drifted;
  o.health = Health::Healthy;
  o.message = std::string(messageBytes, 'm');
  if (driftBytes > 0) o.drift = {{"/data/big", std::string(driftBytes, 'd'), std::string(driftBytes, 'l')}};
  return o;
}

}  // namespace

TEST_CASE("limitSize: the report's text stays within 64 KiB whatever it holds", "[status][report][size]") {
  SECTION("a small report is unchanged") {
    ClusterStatus r = sample();
    const auto before = toJson(r);
    limitSize(r);
    CHECK(toJson(r) == before);
  }
  SECTION("5,000 errors, 3,000 objects with long messages and huge drift values") {
    ClusterStatus r = sample();
    for (int i = 0; i < 5000; ++i)
      r.sync.errors.push_back(ReportError{"f" + std::to_string(i) + ".yaml", i + 1, {}, std::string(3000, 'e')});
    r.objects.clear();
    for (std::size_t i = 0; i < 3000; ++i) r.objects.push_back(failedObject(i, 5000, 1'000'000));
    limitSize(r);
    const auto text = toYamlText(r);
    CHECK(text.size() <= kMaxReportBytes);
    // What was cut is said: the errors' trailer, the objects' count.
    REQUIRE(!r.sync.errors.empty());
    CHECK(r.sync.errors.size() <= kMaxErrors);
    CHECK(r.objects.size() + r.truncated == 3000);
    CHECK(r.summary.objects == 412);  // counts untouched
    auto back = parseReport(text);
    REQUIRE(back);
    CHECK(back->truncated == r.truncated);
  }
  SECTION("errors and objects both fit when short: the errors' trailer counts what is left out") {
    ClusterStatus r = sample();
    r.sync.errors.clear();
    for (int i = 0; i < 150; ++i) r.sync.errors.push_back(ReportError{{}, 0, "v1/ConfigMap/shop/c" + std::to_string(i), "x"});
    limitSize(r);
    REQUIRE(r.sync.errors.size() == kMaxErrors);
    CHECK(r.sync.errors.back().message == "51 more errors not shown");
    CHECK(r.sync.errors.back().count == 51);
    CHECK(r.objects.size() == 1);
  }
  SECTION("long values are replaced, messages cut at a character boundary") {
    ClusterStatus r = sample();
    r.objects = {failedObject(0, 0, 2000)};
    r.objects[0].message = std::string(998, 'a') + "\xc3\xa9\xc3\xa9";  // 1,002 bytes, "é" at 998..1001
    limitSize(r);
    CHECK(r.objects[0].drift[0].desired == "<2002 bytes: not shown>");
    CHECK(r.objects[0].message.size() <= kMaxMessageBytes);
    CHECK(r.objects[0].message.ends_with("..."));
    CHECK(r.objects[0].message.find('\xc3') == std::string::npos);  // no half character left
    CHECK(r.objects[0].drift[0].path == "/data/big");
  }
}
