// gitfed::daemon report building: a SyncReport, render errors and a stale
// source, as the status spec's ClusterStatus.

#include <catch2/catch.hpp>

#include "gitfed/daemon/report.h"

using namespace gitfed;
using namespace gitfed::daemon;

namespace {

ReportContext context(const std::string& revision) {
  ReportContext c;
  c.cluster = "eu-west-1";
  c.labels = {{"region", "eu-west"}};
  c.url = "https://git.example.com/fleet.git";
  c.ref = "main";
  c.revision = revision;
  c.agentVersion = "0.1.0";
  c.now = status::Clock::time_point{} + std::chrono::seconds(1795300000);
  return c;
}

sync::ObjectReport object(const std::string& kind, const std::string& name, sync::State state, sync::Health health) {
  sync::ObjectReport o;
  o.ref = sync::ObjectRef{"apps/v1", kind, "shop", name};
  o.state = state;
  o.health = health;
  return o;
}

}  // namespace

TEST_CASE("report: a synced round lists only objects that are not synced and healthy", "[daemon]") {
  sync::SyncReport s;
  s.objects.push_back(object("Deployment", "ok", sync::State::Synced, sync::Health::Healthy));
  s.objects.push_back(object("ConfigMap", "cm", sync::State::Synced, sync::Health::Unknown));
  s.objects.push_back(object("Deployment", "rolling", sync::State::Synced, sync::Health::Progressing));
  auto drifted = object("Deployment", "web", sync::State::Drifted, sync::Health::Healthy);
  drifted.drift.push_back(sync::DriftEntry{"/spec/replicas", nlohmann::json(3), nlohmann::json(5)});
  drifted.drift.push_back(sync::DriftEntry{"/spec/paused", std::nullopt, nlohmann::json(true)});
  s.objects.push_back(drifted);
  s.phase = sync::Phase::Drifted;
  s.message = "1 drifted";
  s.summary.objects = 4;
  s.summary.synced = 3;
  s.summary.drifted = 1;
  auto r = fromSync(s, context(std::string(40, 'a')), std::nullopt);
  CHECK(r.name == "eu-west-1");
  CHECK(r.sync.phase == status::Phase::Drifted);
  CHECK(r.sync.appliedRevision == std::string(40, 'a'));
  CHECK(r.sync.lastSuccessAt == context("").now);
  CHECK(r.summary.objects == 4);
  CHECK(r.summary.drifted == 1);
  REQUIRE(r.objects.size() == 2);
  CHECK(r.objects[0].name == "rolling");
  CHECK(r.objects[0].state == status::ObjectState::Progressing);
  CHECK(r.objects[1].name == "web");
  CHECK(r.objects[1].state == status::ObjectState::Drifted);
  REQUIRE(r.objects[1].drift.size() == 2);
  CHECK(r.objects[1].drift[0].desired == 3);
  CHECK(r.objects[1].drift[1].desired.is_null());
  CHECK(r.sync.errors.empty());
}

TEST_CASE("report: a failed round keeps the last applied revision and names each failed object once", "[daemon]") {
  status::ClusterStatus previous;
  previous.sync.appliedRevision = std::string(40, 'a');
  previous.sync.lastSuccessAt = status::Clock::time_point{} + std::chrono::seconds(1);
  sync::SyncReport s;
  auto bad = object("Deployment", "web", sync::State::Failed, sync::Health::Unknown);
  bad.error = "Deployment shop/web: apply failed: 422 Invalid";
  s.objects.push_back(bad);
  s.errors = {bad.error, "listing apps/v1 Deployment: 503"};
  s.phase = sync::Phase::Failed;
  auto r = fromSync(s, context(std::string(40, 'b')), previous);
  CHECK(r.sync.phase == status::Phase::Failed);
  CHECK(r.sync.appliedRevision == std::string(40, 'a'));
  CHECK(r.sync.lastSuccessAt == previous.sync.lastSuccessAt);
  CHECK(r.source.revision == std::string(40, 'b'));
  REQUIRE(r.sync.errors.size() == 2);
  CHECK(r.sync.errors[0].object == "apps/v1/Deployment/shop/web");
  CHECK(r.sync.errors[0].message == bad.error);
  CHECK(r.sync.errors[1].object.empty());
  CHECK(r.objects.at(0).message == bad.error);
}

TEST_CASE("report: render errors carry their file and line; the cluster is as the last round left it", "[daemon]") {
  status::ClusterStatus previous;
  previous.sync.appliedRevision = std::string(40, 'a');
  previous.summary.objects = 25;
  previous.summary.synced = 25;
  std::vector<render::Diagnostic> errors = {{"apps/web.yaml", 14, "override path /spec/x: missing"},
                                            {"apps/db.yaml", 3, "mapping values are not allowed here"}};
  auto r = fromRenderErrors(errors, context(std::string(40, 'c')), previous);
  CHECK(r.sync.phase == status::Phase::Failed);
  CHECK(r.sync.message == "2 render errors; nothing applied, nothing pruned");
  REQUIRE(r.sync.errors.size() == 2);
  CHECK(r.sync.errors[0].file == "apps/web.yaml");
  CHECK(r.sync.errors[0].line == 14);
  CHECK(r.sync.errors[0].message == "override path /spec/x: missing");
  CHECK(r.sync.appliedRevision == std::string(40, 'a'));
  CHECK(r.summary.objects == 25);
  // And through the spec's YAML.
  auto doc = status::toJson(r);
  CHECK(doc["sync"]["errors"][0] == nlohmann::json{{"file", "apps/web.yaml"}, {"line", 14}, {"message", "override path /spec/x: missing"}});
}

TEST_CASE("report: a stale source marks the last report Stale", "[daemon]") {
  sync::SyncReport s;
  s.phase = sync::Phase::Synced;
  s.summary.objects = 3;
  auto last = fromSync(s, context(std::string(40, 'a')), std::nullopt);
  auto stale = asStale(last, context(std::string(40, 'a')), "fetch https://h/f.git: connection refused");
  CHECK(stale.sync.phase == status::Phase::Stale);
  CHECK(stale.sync.message == "source not read: fetch https://h/f.git: connection refused");
  CHECK(stale.sync.appliedRevision == std::string(40, 'a'));
  CHECK(stale.summary.objects == 3);
  // Nothing ever fetched: an empty report.
  auto none = asStale(std::nullopt, context(""), "no route");
  CHECK(none.sync.phase == status::Phase::Stale);
  CHECK(none.source.revision.empty());
  CHECK(none.sync.appliedRevision.empty());
}

TEST_CASE("report: tenants' render errors and failing objects say which tenant they belong to", "[daemon][tenant]") {
  sync::SyncReport s;
  auto platform = object("Deployment", "ok", sync::State::Synced, sync::Health::Healthy);
  s.objects.push_back(platform);
  auto refused = object("ConfigMap", "evil", sync::State::Failed, sync::Health::Unknown);
  refused.ref.ns = "kube-system";
  refused.tenant = "blog";
  refused.asTenant = true;
  refused.error = "ConfigMap kube-system/evil: apply failed: 403 Forbidden: ...";
  s.objects.push_back(refused);
  render::Diagnostic d("tenants/analytics/reports.yaml", 4, "CronJob analytics/r: image not allowed", "analytics");
  s.renderErrors.push_back(d);
  s.errors = {d.format(), refused.error};
  s.phase = sync::Phase::Failed;
  auto r = fromSync(s, context(std::string(40, 'b')), std::nullopt);
  CHECK(r.sync.phase == status::Phase::Failed);
  CHECK(r.sync.appliedRevision.empty());  // not fully applied
  REQUIRE(r.sync.errors.size() == 2);       // each once
  CHECK(r.sync.errors[0].file == "tenants/analytics/reports.yaml");
  CHECK(r.sync.errors[0].line == 4);
  CHECK(r.sync.errors[0].tenant == "analytics");
  CHECK(r.sync.errors[1].object == "apps/v1/ConfigMap/kube-system/evil");
  CHECK(r.sync.errors[1].tenant == "blog");
  REQUIRE(r.objects.size() == 1);
  CHECK(r.objects[0].tenant == "blog");

  auto failed = fromRenderErrors({render::Diagnostic("platform/tenants.yaml", 2, "Tenant blog: bad"), d},
                                 context(std::string(40, 'c')), std::nullopt);
  REQUIRE(failed.sync.errors.size() == 2);
  CHECK(failed.sync.errors[0].tenant.empty());
  CHECK(failed.sync.errors[1].tenant == "analytics");
}

TEST_CASE("report: failed objects with the same error are one group; the report stays within its bound", "[daemon]") {
  sync::SyncReport s;
  for (int i = 0; i < 3080; ++i) {
    auto o = object("Service", "s" + std::to_string(i), sync::State::Failed, sync::Health::Unknown);
    o.ref.apiVersion = "v1";
    o.error = o.ref.identity() + ": apply failed: 500 InternalError: Internal error occurred: failed to allocate a "
                                 "serviceIP: range is full" +
              (i < 3 ? " (not retried: 3 objects of this type failed with this error this round)"
                     : " (not sent: 3 objects of this type failed with this error this round)");
    s.objects.push_back(o);
    s.errors.push_back(o.error);
  }
  auto quota = object("ConfigMap", "q1", sync::State::Failed, sync::Health::Unknown);
  quota.error = quota.ref.identity() + ": apply failed: 403 Forbidden: configmaps \"q1\" is forbidden: exceeded quota";
  s.objects.push_back(quota);
  s.errors.push_back(quota.error);
  s.errors.push_back("inventory gitfed-system/gitfed-inventory-x: write after pruning failed: 500");
  s.phase = sync::Phase::Failed;
  s.summary.objects = 3081;
  s.summary.failed = 3081;
  auto r = fromSync(s, context(std::string(40, 'c')), std::nullopt);
  REQUIRE(r.sync.errors.size() == 3);
  const auto& group = r.sync.errors[0];
  CHECK(group.count == 3080);
  CHECK(group.object.empty());
  CHECK(group.examples == std::vector<std::string>{"v1/Service/shop/s0", "v1/Service/shop/s1", "v1/Service/shop/s2",
                                                   "v1/Service/shop/s3", "v1/Service/shop/s4"});
  CHECK(group.message.starts_with("apply failed: 500 InternalError: Internal error occurred: failed to allocate"));
  CHECK(r.sync.errors[1].object == "apps/v1/ConfigMap/shop/q1");  // one object: as before
  CHECK(r.sync.errors[1].count == 0);
  CHECK(r.sync.errors[2].message.starts_with("inventory "));
  CHECK(status::toYamlText(r).size() <= status::kMaxReportBytes);
  CHECK(r.objects.size() + r.truncated == 3081);
  CHECK(r.summary.failed == 3081);
}
