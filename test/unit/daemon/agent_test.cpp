// gitfed::daemon::Agent rounds over an in-memory source, the sync engine on
// a fake KubeClient, and a recording status sink: what syncs when, what a
// render error applies (nothing), stale sources, self-heal, --once's exit
// status. The real loop against real servers is the e2e suite (test/e2e/).

#include <catch2/catch.hpp>

#include <atomic>
#include <map>
#include <thread>

#include "gitfed/daemon/agent.h"
#include "daemon/fakes.h"
#include "support/memory_tree.h"
#include "sync/fake_kube_client.h"

using namespace gitfed;
using namespace gitfed::daemon;
using nlohmann::json;
using gitfed::test::MemorySource;
using gitfed::test::RecordingSink;

namespace {

const char* kRegistry =
    "apiVersion: gitfed.io/v1alpha1\nkind: Cluster\nmetadata:\n  name: c1\n  labels:\n    env: prod\n";

test::MemoryTree fleet(const std::string& value) {
  test::MemoryTree t;
  t.file("clusters/c1.yaml", kRegistry);
  t.file("ns.yaml", "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: shop\n");
  t.file("cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: web\n  namespace: shop\ndata:\n  env: ${cluster.labels.env}\n  v: \"" +
                        value + "\"\n");
  t.file("secret.yaml",
         "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\n  namespace: shop\nstringData:\n  password: hunter2-very-secret\n");
  return t;
}

AgentConfig config() {
  AgentConfig c;
  c.cluster = "c1";
  c.git.url = "https://h/f.git";
  c.inventoryId = "c1";
  c.httpAddress = "off";
  c.leader.enabled = false;
  c.kube.parallelism = 4;
  c.retryMin = std::chrono::milliseconds(1);
  c.retryMax = std::chrono::milliseconds(2);
  return c;
}

struct Fixture {
  test::FakeKubeClient kube;
  MemorySource* source = nullptr;
  RecordingSink* sink = nullptr;
  AgentMetrics metrics;
  std::unique_ptr<Agent> agent;

  explicit Fixture(AgentConfig c = config()) {
    kube.requireNamespaces = false;
    AgentParts parts;
    parts.kube = &kube;
    auto s = std::make_unique<MemorySource>();
    source = s.get();
    parts.source = std::move(s);
    auto k = std::make_unique<RecordingSink>();
    sink = k.get();
    parts.status = std::move(k);
    parts.agentVersion = "test";
    agent = std::make_unique<Agent>(std::move(c), std::move(parts), metrics);
  }
  std::string value() {
    auto o = kube.object("v1", "ConfigMap", "shop", "web");
    return o ? (*o)["data"].value("v", "") : "<none>";
  }
};

const std::string kA(40, 'a'), kB(40, 'b'), kC(40, 'c'), kD(40, 'd');

}  // namespace

TEST_CASE("agent: the first round applies the revision and reports it", "[daemon]") {
  Fixture f;
  f.source->revisions[kA] = fleet("1");
  f.source->current = kA;
  auto r = f.agent->round(false);
  CHECK(r.reason == SyncReason::Initial);
  CHECK(r.synced);
  CHECK(r.ok);
  CHECK(f.value() == "1");
  CHECK((*f.kube.object("v1", "ConfigMap", "shop", "web"))["data"]["env"] == "prod");
  REQUIRE(f.sink->reports.size() == 1);
  const auto& report = f.sink->reports[0];
  CHECK(report.name == "c1");
  CHECK(report.sync.phase == status::Phase::Synced);
  CHECK(report.source.revision == kA);
  CHECK(report.sync.appliedRevision == kA);
  CHECK(report.labels.at("env") == "prod");  // the registry's labels
  CHECK(report.summary.objects == 3);
  CHECK(f.metrics.reconciles.value({"Synced", "initial"}) == 1);
  CHECK(f.metrics.objects.value({"Synced"}) == 3);
  CHECK(f.agent->lastReport()["sync"]["phase"] == "Synced");
  CHECK(f.agent->ready());
}

TEST_CASE("agent: an unchanged revision is not synced again until the drift check", "[daemon]") {
  Fixture f;
  f.source->revisions[kA] = fleet("1");
  f.source->current = kA;
  f.agent->round(false);
  f.kube.resetCounters();
  auto r = f.agent->round(false);
  CHECK(r.reason == SyncReason::None);
  CHECK_FALSE(r.synced);
  CHECK(f.kube.lists == 0);
  CHECK(f.sink->reports.size() == 1);
}

TEST_CASE("agent: a new commit is applied; a trigger forces a round", "[daemon]") {
  Fixture f;
  f.source->revisions[kA] = fleet("1");
  f.source->revisions[kB] = fleet("2");
  f.source->current = kA;
  f.agent->round(false);
  f.source->current = kB;
  auto r = f.agent->round(false);
  CHECK(r.reason == SyncReason::NewRevision);
  CHECK(f.value() == "2");
  CHECK(f.sink->reports.back().sync.appliedRevision == kB);
  r = f.agent->round(true);
  CHECK(r.reason == SyncReason::Trigger);
  CHECK(r.synced);
}

TEST_CASE("agent: drift is healed at the next sync (self-heal) or reported (report-only)", "[daemon]") {
  SECTION("self-heal") {
    Fixture f;
    f.source->revisions[kA] = fleet("1");
    f.source->current = kA;
    f.agent->round(false);
    f.kube.edit("v1", "ConfigMap", "shop", "web", [](json& o) { o["data"]["v"] = "edited"; });
    auto r = f.agent->round(true);
    CHECK(r.ok);
    CHECK(f.value() == "1");
  }
  SECTION("report-only") {
    auto c = config();
    c.selfHeal = false;
    Fixture f(c);
    f.source->revisions[kA] = fleet("1");
    f.source->current = kA;
    f.agent->round(false);
    f.kube.edit("v1", "ConfigMap", "shop", "web", [](json& o) { o["data"]["v"] = "edited"; });
    auto r = f.agent->round(true);
    CHECK(r.phase == status::Phase::Drifted);
    CHECK(f.value() == "edited");
    const auto& report = f.sink->reports.back();
    REQUIRE(report.objects.size() == 1);
    CHECK(report.objects[0].state == status::ObjectState::Drifted);
    CHECK(report.objects[0].drift.at(0).path == "/data/v");
  }
}

TEST_CASE("agent: a broken commit applies nothing and reports every error with file and line; the fix recovers",
          "[daemon]") {
  Fixture f;
  f.source->revisions[kA] = fleet("1");
  auto broken = fleet("2");
  broken.file("apps/bad.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: bad\n  namespace: [shop\n");
  f.source->revisions[kB] = broken;
  f.source->revisions[kC] = fleet("3");
  f.source->current = kA;
  f.agent->round(false);
  f.kube.resetCounters();
  f.source->current = kB;
  auto r = f.agent->round(false);
  CHECK(r.reason == SyncReason::NewRevision);
  CHECK_FALSE(r.ok);
  CHECK(r.phase == status::Phase::Failed);
  CHECK(f.kube.writes() == 0);
  CHECK(f.kube.lists == 0);
  CHECK(f.value() == "1");
  const auto& report = f.sink->reports.back();
  CHECK(report.sync.phase == status::Phase::Failed);
  CHECK(report.source.revision == kB);
  CHECK(report.sync.appliedRevision == kA);
  REQUIRE_FALSE(report.sync.errors.empty());
  CHECK(report.sync.errors[0].file == "apps/bad.yaml");
  CHECK(report.sync.errors[0].line > 0);
  CHECK(report.summary.objects == 3);  // the cluster as the last round left it
  CHECK(f.agent->schedule().failures() == 1);
  // Retried after the backoff (still broken)...
  std::this_thread::sleep_for(std::chrono::milliseconds(5));
  r = f.agent->round(false);
  CHECK(r.reason == SyncReason::Retry);
  CHECK(f.kube.writes() == 0);
  // ...and the fix is applied at once.
  f.source->current = kC;
  r = f.agent->round(false);
  CHECK(r.reason == SyncReason::NewRevision);
  CHECK(r.ok);
  CHECK(f.value() == "3");
  CHECK(f.sink->reports.back().sync.phase == status::Phase::Synced);
  CHECK(f.agent->schedule().failures() == 0);
}

TEST_CASE("agent: a stale source is reported once as Stale, and the recovery as the last sync", "[daemon]") {
  Fixture f;
  f.source->revisions[kA] = fleet("1");
  f.source->current = kA;
  f.agent->round(false);
  f.source->stale = true;
  auto r = f.agent->round(false);
  CHECK(r.stale);
  CHECK(f.metrics.sourceStale.value() == 1);
  REQUIRE(f.sink->reports.size() == 2);
  CHECK(f.sink->reports[1].sync.phase == status::Phase::Stale);
  CHECK(f.sink->reports[1].sync.message.find("connection refused") != std::string::npos);
  CHECK(f.sink->reports[1].sync.appliedRevision == kA);
  f.agent->round(false);
  CHECK(f.sink->reports.size() == 2);  // still stale: nothing new to say
  // A stale source does not stop drift correction of the last revision.
  f.kube.edit("v1", "ConfigMap", "shop", "web", [](json& o) { o["data"]["v"] = "edited"; });
  r = f.agent->round(true);
  CHECK(r.synced);
  CHECK(f.value() == "1");
  CHECK(f.sink->reports.back().sync.phase == status::Phase::Stale);
  f.source->stale = false;
  r = f.agent->round(false);
  CHECK_FALSE(r.stale);
  CHECK(f.sink->reports.back().sync.phase == status::Phase::Synced);
  CHECK(f.metrics.sourceStale.value() == 0);
}

TEST_CASE("agent: Secret values never reach the report", "[daemon]") {
  Fixture f;
  auto t = fleet("1");
  // A render error whose message could quote the value.
  t.file("bad.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n  namespace: shop\n  labels:\n    l: ${cluster.labels.hunter2-very-secret\n");
  f.source->revisions[kA] = t;
  f.source->current = kA;
  f.agent->round(false);
  auto text = status::toYamlText(f.sink->reports.back());
  CHECK(text.find("hunter2-very-secret") == std::string::npos);
  CHECK(f.agent->lastReport().dump().find("hunter2-very-secret") == std::string::npos);
}

TEST_CASE("agent: --once exit status", "[daemon]") {
  {
    Fixture f;
    f.source->revisions[kA] = fleet("1");
    f.source->current = kA;
    CHECK(f.agent->runOnce() == 0);
  }
  {
    Fixture f;
    auto broken = fleet("1");
    broken.file("bad.yaml", "a: [\n");
    f.source->revisions[kA] = broken;
    f.source->current = kA;
    CHECK(f.agent->runOnce() == 1);
  }
  {
    Fixture f;  // nothing ever fetched
    CHECK(f.agent->runOnce() == 3);
    REQUIRE(f.sink->reports.size() == 1);
    CHECK(f.sink->reports[0].sync.phase == status::Phase::Stale);
  }
}

TEST_CASE("agent: /healthz follows progress: a long round that keeps working is alive, a stuck one is not",
          "[daemon][liveness]") {
  auto c = config();
  c.kube.parallelism = 1;
  c.livenessTimeout = std::chrono::milliseconds(2000);
  Fixture f(c);
  test::MemoryTree t;
  t.file("clusters/c1.yaml", kRegistry);
  std::string yaml;
  for (int i = 0; i < 120; ++i)
    yaml += "---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: c" + std::to_string(i) + ", namespace: shop}\n";
  t.file("cms.yaml", yaml);
  f.source->revisions[kA] = t;
  f.source->current = kA;
  std::atomic<bool> stuck{false}, release{false};
  // Each write takes 50 ms (120 of them: 6 s, three times the liveness timeout);
  // then, once `stuck`, the next one blocks until released.
  f.kube.validate = [&](const json&, const json& merged) -> std::optional<kube::Error> {
    if (merged.value("kind", "") != "ConfigMap") return std::nullopt;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    while (stuck && !release) std::this_thread::sleep_for(std::chrono::milliseconds(5));
    return std::nullopt;
  };
  std::atomic<bool> sawUnhealthy{false};
  std::thread round([&] { f.agent->round(true); });
  const auto started = std::chrono::steady_clock::now();
  while (std::chrono::steady_clock::now() - started < std::chrono::milliseconds(3500)) {
    if (!f.agent->healthy()) sawUnhealthy = true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  CHECK_FALSE(sawUnhealthy);  // 3.5 s into a round: longer than the timeout, but progressing
  stuck = true;
  // No request completes any more: unhealthy once the timeout has passed
  // since the last one (polled, with a deadline well past it).
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (f.agent->healthy() && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  CHECK_FALSE(f.agent->healthy());
  release = true;
  round.join();
  CHECK(f.agent->healthy());  // outside a round
}

TEST_CASE("agent: metrics of the configuration: drift mode, poll interval, process start time", "[daemon]") {
  {
    Fixture f;
    CHECK(f.metrics.driftMode.value({"self-heal"}) == 1);
    CHECK(f.metrics.driftMode.value({"report-only"}) == 0);
    CHECK(f.metrics.pollInterval.value() == 60);
    const double now = std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
    CHECK(f.metrics.startTime.value() <= now + 1);
    CHECK(f.metrics.startTime.value() > now - 24 * 3600);
    const std::string text = f.metrics.registry.render();
    CHECK(text.find("# TYPE process_cpu_seconds_total counter\n") != std::string::npos);
    CHECK(text.find("# TYPE process_start_time_seconds gauge\n") != std::string::npos);
  }
  auto c = config();
  c.selfHeal = false;
  c.interval = std::chrono::milliseconds(2500);
  Fixture f(c);
  CHECK(f.metrics.driftMode.value({"self-heal"}) == 0);
  CHECK(f.metrics.driftMode.value({"report-only"}) == 1);
  CHECK(f.metrics.pollInterval.value() == 2.5);
}

TEST_CASE("agent: gitfed_phase follows the last report; gitfed_revision_behind while the newest revision is not applied",
          "[daemon]") {
  Fixture f;
  auto phases = [&] {
    std::string on;
    for (const char* p : {"Synced", "Progressing", "Drifted", "Failed", "Stale"})
      if (f.metrics.phase.value({p}) == 1) on += on.empty() ? p : std::string(",") + p;
    return on;
  };
  auto unixNow = [] {
    return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  };
  f.source->revisions[kA] = fleet("1");
  auto broken = fleet("2");
  broken.file("apps/bad.yaml", "a: [\n");
  f.source->revisions[kB] = broken;
  f.source->revisions[kC] = fleet("3");
  f.source->current = kA;
  f.agent->round(false);
  CHECK(phases() == "Synced");
  CHECK(f.metrics.revisionBehind.value() == 0);
  CHECK(f.metrics.revisionBehindSince.value() == 0);

  f.source->current = kB;
  const double before = unixNow();
  f.agent->round(false);
  CHECK(phases() == "Failed");
  CHECK(f.metrics.revisionBehind.value() == 1);
  const double since = f.metrics.revisionBehindSince.value();
  CHECK(since >= before - 1);
  CHECK(since <= unixNow() + 1);
  std::this_thread::sleep_for(std::chrono::milliseconds(5));
  CHECK(f.agent->round(false).reason == SyncReason::Retry);
  CHECK(f.metrics.revisionBehindSince.value() == since);  // behind since the first round that saw kB

  f.source->stale = true;  // the last revision is kept: still behind, and the phase is Stale
  f.agent->round(false);
  CHECK(phases() == "Stale");
  CHECK(f.metrics.revisionBehind.value() == 1);
  f.source->stale = false;

  f.source->current = kC;
  f.agent->round(false);
  CHECK(phases() == "Synced");
  CHECK(f.metrics.revisionBehind.value() == 0);
  CHECK(f.metrics.revisionBehindSince.value() == 0);
}
