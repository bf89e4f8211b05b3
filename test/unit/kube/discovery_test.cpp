#include "gitfed/kube/discovery.h"

#include <catch2/catch.hpp>

using namespace gitfed::kube;
using nlohmann::json;

namespace {

// Shaped like kube-apiserver 1.36's /apis answer (trimmed).
const char* kAggregated = R"({
  "kind": "APIGroupDiscoveryList", "apiVersion": "apidiscovery.k8s.io/v2", "metadata": {},
  "items": [
    {"metadata": {"name": "apps"}, "versions": [{"version": "v1", "freshness": "Current", "resources": [
      {"resource": "deployments", "responseKind": {"group": "", "version": "", "kind": "Deployment"},
       "scope": "Namespaced", "singularResource": "deployment", "verbs": ["create","delete","get","list","patch"],
       "subresources": [{"subresource": "status", "responseKind": {"kind": "Deployment"}, "verbs": ["get"]}]}]}]},
    {"metadata": {"name": "example.com"}, "versions": [
      {"version": "v2", "resources": [
        {"resource": "widgets", "responseKind": {"kind": "Widget"}, "scope": "Cluster", "verbs": ["get","list"]}]},
      {"version": "v1", "resources": [
        {"resource": "widgets", "responseKind": {"kind": "Widget"}, "scope": "Cluster", "verbs": ["get"]},
        {"resource": "gadgets", "responseKind": {"kind": "Gadget"}, "scope": "Namespaced", "verbs": ["list"]}]}]}
  ]})";

}  // namespace

TEST_CASE("aggregated discovery: groups, versions in preference order, kinds, scope, verbs", "[kube][discovery]") {
  CHECK(isAggregatedDiscovery("application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"));
  CHECK_FALSE(isAggregatedDiscovery("application/json"));
  auto groups = parseAggregatedDiscovery(json::parse(kAggregated));
  REQUIRE(groups);
  REQUIRE(groups->size() == 2);
  const auto& apps = (*groups)[0];
  CHECK(apps.name == "apps");
  REQUIRE(apps.resources.size() == 1);  // the status subresource is not a resource
  const Resource& d = apps.resources[0];
  CHECK(d.group == "apps");
  CHECK(d.version == "v1");
  CHECK(d.kind == "Deployment");
  CHECK(d.plural == "deployments");
  CHECK(d.namespaced);
  CHECK(d.apiVersion() == "apps/v1");
  CHECK(d.verbs == std::vector<std::string>{"create", "delete", "get", "list", "patch"});
  const auto& ex = (*groups)[1];
  CHECK(ex.versions == std::vector<std::string>{"v2", "v1"});
  CHECK(ex.resources.size() == 3);
  CHECK_FALSE(ex.resources[0].namespaced);
}

TEST_CASE("preferred resources: each once, from the most preferred version serving it", "[kube][discovery]") {
  auto groups = parseAggregatedDiscovery(json::parse(kAggregated));
  REQUIRE(groups);
  auto preferred = preferredResources(*groups);
  REQUIRE(preferred.size() == 3);
  CHECK(preferred[0].kind == "Deployment");
  CHECK(preferred[1].kind == "Widget");
  CHECK(preferred[1].version == "v2");  // not v1 too
  CHECK(preferred[2].kind == "Gadget");
  CHECK(preferred[2].version == "v1");  // only served there
}

TEST_CASE("aggregated discovery: malformed documents are errors", "[kube][discovery]") {
  CHECK_FALSE(parseAggregatedDiscovery(json::parse(R"({"kind":"APIGroupList"})")));
  CHECK_FALSE(parseAggregatedDiscovery(json::parse(R"({"kind":"APIGroupDiscoveryList"})")));
  auto noScope = parseAggregatedDiscovery(json::parse(R"({"kind":"APIGroupDiscoveryList","items":[
    {"metadata":{"name":"g"},"versions":[{"version":"v1","resources":[{"resource":"xs","responseKind":{"kind":"X"}}]}]}]})"));
  REQUIRE_FALSE(noScope);
  CHECK(noScope.error().message.find("g/v1") != std::string::npos);
}

TEST_CASE("legacy discovery: APIVersions, APIGroupList (preferred first), APIResourceList", "[kube][discovery]") {
  auto versions = parseApiVersions(json::parse(R"({"kind":"APIVersions","versions":["v1"]})"));
  REQUIRE(versions);
  CHECK(*versions == std::vector<std::string>{"v1"});

  auto groups = parseApiGroupList(json::parse(R"({"kind":"APIGroupList","groups":[
    {"name":"autoscaling","versions":[{"groupVersion":"autoscaling/v2","version":"v2"},{"groupVersion":"autoscaling/v1","version":"v1"}],
     "preferredVersion":{"groupVersion":"autoscaling/v1","version":"v1"}}]})"));
  REQUIRE(groups);
  REQUIRE(groups->size() == 1);
  CHECK((*groups)[0].versions == std::vector<std::string>{"v1", "v2"});

  auto resources = parseApiResourceList(json::parse(R"({"kind":"APIResourceList","groupVersion":"v1","resources":[
    {"name":"pods","singularName":"pod","namespaced":true,"kind":"Pod","verbs":["get","list"]},
    {"name":"pods/status","namespaced":true,"kind":"Pod","verbs":["get"]},
    {"name":"nodes","namespaced":false,"kind":"Node","verbs":["get"]}]})"), "", "v1");
  REQUIRE(resources);
  REQUIRE(resources->size() == 2);
  CHECK((*resources)[0].kind == "Pod");
  CHECK((*resources)[0].namespaced);
  CHECK((*resources)[0].apiVersion() == "v1");
  CHECK((*resources)[1].kind == "Node");
  CHECK_FALSE((*resources)[1].namespaced);

  CHECK_FALSE(parseApiVersions(json::parse(R"({"kind":"APIVersions","versions":[]})")));
  CHECK_FALSE(parseApiGroupList(json::parse(R"({"kind":"APIGroupList","groups":[{"versions":[]}]})")));
  CHECK_FALSE(parseApiResourceList(json::parse(R"({"kind":"Status"})"), "", "v1"));
}
