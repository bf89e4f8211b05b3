// `gitfed status --cluster` on a local clone: which tenant each failing
// object and error belongs to.

#include <catch2/catch.hpp>

#include "gitfed/status/report.h"
#include "support/run.h"

using gitfed::test::gitfedBinary;
using gitfed::test::run;
using gitfed::test::shellQuote;
using gitfed::test::TempDir;
namespace status = gitfed::status;

namespace {

// A clone whose branch gitfed-status holds clusters/<name>.yaml.
void commitReport(const TempDir& d, const status::ClusterStatus& report) {
  const std::string dir = shellQuote(d.path().string());
  d.write("clusters/" + report.name + ".yaml", status::toYamlText(report));
  auto r = run("git -C " + dir + " init -q -b gitfed-status && git -C " + dir + " add clusters && git -C " + dir +
               " -c user.name=t -c user.email=t@example.com commit -q -m report");
  INFO(r.err);
  REQUIRE(r.status == 0);
}

}  // namespace

TEST_CASE("status --cluster names the tenant of failing objects and errors", "[cli][status][tenant]") {
  status::ClusterStatus c;
  c.name = "eu";
  c.source = {"https://git.example.com/fleet.git", "main", std::string(40, 'a')};
  c.sync.phase = status::Phase::Failed;
  c.sync.message = "tenant blog: render failed (1 error)";
  c.sync.errors.push_back({"tenants/blog/site.yaml", 7, "", "Pod blog/web: image not allowed", "blog"});
  c.sync.errors.push_back({"", 0, "v1/ConfigMap/kube-system/x", "ConfigMap kube-system/x: apply failed: 403", "shop"});
  c.sync.errors.push_back({"", 0, "", "list v1 ConfigMap: 500"});
  status::ObjectStatus o;
  o.apiVersion = "v1";
  o.kind = "ConfigMap";
  o.ns = "kube-system";
  o.name = "x";
  o.state = status::ObjectState::Failed;
  o.message = "ConfigMap kube-system/x: apply failed: 403";
  o.tenant = "shop";
  c.objects.push_back(o);
  o.ns = "platform";
  o.tenant.clear();
  o.message = "ConfigMap platform/x: apply failed: 422";
  c.objects.push_back(o);
  TempDir d;
  commitReport(d, c);
  auto r = run(gitfedBinary() + " status --cluster eu " + shellQuote(d.path().string()));
  INFO(r.out << r.err);
  CHECK(r.status == 0);
  CHECK(r.out.find("  [tenant blog] tenants/blog/site.yaml:7: Pod blog/web: image not allowed") != std::string::npos);
  CHECK(r.out.find("  [tenant shop] v1/ConfigMap/kube-system/x: ") != std::string::npos);
  CHECK(r.out.find("  list v1 ConfigMap: 500") != std::string::npos);
  CHECK(r.out.find("TENANT") != std::string::npos);
  // The tenant's object shows its tenant; the platform's a dash.
  auto line = [&](const std::string& object) {
    auto at = r.out.find(object);
    REQUIRE(at != std::string::npos);
    auto begin = r.out.rfind('\n', at) + 1;
    return r.out.substr(begin, r.out.find('\n', at) - begin);
  };
  CHECK(line("v1 ConfigMap kube-system/x").find(" shop ") != std::string::npos);
  CHECK(line("v1 ConfigMap platform/x").find(" - ") != std::string::npos);

  auto j = run(gitfedBinary() + " status --cluster eu --output json " + shellQuote(d.path().string()));
  REQUIRE(j.status == 0);
  auto doc = nlohmann::json::parse(j.out);
  CHECK(doc["objects"][0]["tenant"] == "shop");
  CHECK_FALSE(doc["objects"][1].contains("tenant"));
  CHECK(doc["sync"]["errors"][0]["tenant"] == "blog");
}

TEST_CASE("status --cluster without tenants keeps its columns", "[cli][status][tenant]") {
  status::ClusterStatus c;
  c.name = "us";
  c.source = {"https://git.example.com/fleet.git", "main", std::string(40, 'b')};
  c.sync.phase = status::Phase::Drifted;
  status::ObjectStatus o;
  o.apiVersion = "apps/v1";
  o.kind = "Deployment";
  o.ns = "shop";
  o.name = "web";
  o.state = status::ObjectState::Drifted;
  c.objects.push_back(o);
  TempDir d;
  commitReport(d, c);
  auto r = run(gitfedBinary() + " status --cluster us " + shellQuote(d.path().string()));
  INFO(r.out << r.err);
  CHECK(r.status == 0);
  CHECK(r.out.find("apps/v1 Deployment shop/web") != std::string::npos);
  CHECK(r.out.find("TENANT") == std::string::npos);
}
