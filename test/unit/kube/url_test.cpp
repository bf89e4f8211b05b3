#include "gitfed/kube/url.h"

#include <catch2/catch.hpp>

using namespace gitfed::kube;

namespace {
Resource res(std::string group, std::string version, std::string plural, bool namespaced) {
  Resource r;
  r.group = std::move(group);
  r.version = std::move(version);
  r.plural = std::move(plural);
  r.namespaced = namespaced;
  return r;
}
}  // namespace

TEST_CASE("paths: core vs named groups, namespaced vs cluster-scoped", "[kube][url]") {
  const Resource cm = res("", "v1", "configmaps", true);
  const Resource ns = res("", "v1", "namespaces", false);
  const Resource deploy = res("apps", "v1", "deployments", true);
  const Resource crd = res("apiextensions.k8s.io", "v1", "customresourcedefinitions", false);
  CHECK(resourcePath(cm, "shop", "web") == "/api/v1/namespaces/shop/configmaps/web");
  CHECK(resourcePath(cm, "shop") == "/api/v1/namespaces/shop/configmaps");
  CHECK(resourcePath(cm, "") == "/api/v1/configmaps");  // all namespaces
  CHECK(resourcePath(ns, "", "shop") == "/api/v1/namespaces/shop");
  CHECK(resourcePath(ns, "ignored", "shop") == "/api/v1/namespaces/shop");
  CHECK(resourcePath(deploy, "shop", "web") == "/apis/apps/v1/namespaces/shop/deployments/web");
  CHECK(resourcePath(crd, "", "widgets.example.com") ==
        "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/widgets.example.com");
  CHECK(groupVersionPath("", "v1") == "/api/v1");
  CHECK(groupVersionPath("rbac.authorization.k8s.io", "v1") == "/apis/rbac.authorization.k8s.io/v1");
}

TEST_CASE("paths: names are escaped, ':' kept", "[kube][url]") {
  const Resource cr = res("rbac.authorization.k8s.io", "v1", "clusterroles", false);
  CHECK(resourcePath(cr, "", "system:controller:job-controller") ==
        "/apis/rbac.authorization.k8s.io/v1/clusterroles/system:controller:job-controller");
  const Resource cm = res("", "v1", "configmaps", true);
  CHECK(resourcePath(cm, "a b", "x/../y?z#w") == "/api/v1/namespaces/a%20b/configmaps/x%2F..%2Fy%3Fz%23w");
  CHECK(resourcePath(cm, "ns", "..") == "/api/v1/namespaces/ns/configmaps/%2E%2E");
  CHECK(escapePathSegment("caf\xc3\xa9") == "caf%C3%A9");
}

TEST_CASE("query strings: values escaped, empty values dropped", "[kube][url]") {
  CHECK(queryString({}) == "");
  CHECK(queryString({{"limit", "500"}, {"continue", ""}}) == "?limit=500");
  CHECK(queryString({{"labelSelector", "app in (a,b),tier!=db,!legacy"}}) ==
        "?labelSelector=app%20in%20%28a%2Cb%29%2Ctier%21%3Ddb%2C%21legacy");
  CHECK(queryString({{"labelSelector", "gitfed.io/owner=c1"}, {"limit", "10"}}) ==
        "?labelSelector=gitfed.io%2Fowner%3Dc1&limit=10");
  CHECK(queryString({{"continue", "eyJ2IjoibWV0YS5rOHMuaW8vdjEiLCJydiI6MTAsInN0YXJ0IjoiYVx1MDAwMCJ9+/="}}) ==
        "?continue=eyJ2IjoibWV0YS5rOHMuaW8vdjEiLCJydiI6MTAsInN0YXJ0IjoiYVx1MDAwMCJ9%2B%2F%3D");
  CHECK(escapeQueryValue("a-b_c.d~e") == "a-b_c.d~e");
  CHECK(escapeQueryValue("&=+") == "%26%3D%2B");
}
