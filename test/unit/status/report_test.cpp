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
