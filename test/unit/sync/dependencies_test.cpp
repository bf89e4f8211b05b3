// config.kubernetes.io/depends-on in a round (agent/sync/README.md,
// "Dependencies"; agent/sync/src/dependencies.cpp, stage_apply.cpp,
// stage_prune.cpp) over the fake client.

#include <thread>

#include "dependencies.h"
#include "stage_fixture.h"

using namespace gitfed::test::sync;
using nlohmann::json;

namespace {

const char* kDependsOn = "config.kubernetes.io/depends-on";

std::string dependsOn(const std::string& refs) { return "\n  annotations: {config.kubernetes.io/depends-on: \"" + refs + "\"}"; }

std::string job(const std::string& name, const std::string& ns, bool suspended = false, const std::string& extra = "") {
  return "---\napiVersion: batch/v1\nkind: Job\nmetadata:\n  name: " + name + "\n  namespace: " + ns + extra +
         "\nspec:\n  suspend: " + (suspended ? "true" : "false") +
         "\n  template: {spec: {restartPolicy: Never, containers: [{name: m, image: busybox}]}}\n";
}

void setJobCondition(FakeKubeClient& fake, const std::string& name, const std::string& type) {
  fake.edit("batch/v1", "Job", "shop", name, [&](json& o) {
    o["status"]["conditions"] = json::array({{{"type", type}, {"status", "True"}, {"reason", type == "Failed" ? "BackoffLimitExceeded" : "Done"}}});
  });
}

std::size_t position(const std::vector<std::string>& log, const std::string& entry) {
  auto it = std::find(log.begin(), log.end(), entry);
  REQUIRE(it != log.end());
  return static_cast<std::size_t>(it - log.begin());
}

}  // namespace

TEST_CASE("dependencies: depths from the annotation, CRDs and Namespaces at the same depth", "[sync][dependencies]") {
  StageRound r;
  auto& s = r.throughObserve(ns("shop") + kCrd + kWidget + job("migrate", "shop") +
                             cm("app", "shop", "v", dependsOn("batch/namespaces/shop/Job/migrate")) +
                             cm("top", "shop", "v", dependsOn("/namespaces/shop/ConfigMap/app")) + cm("plain", "shop"));
  auto depth = dependencyDepths(s);
  auto at = [&](const char* kind, const char* name) {
    return depth[static_cast<std::size_t>(&r.item(kind, name) - s.items.data())];
  };
  CHECK(at("Namespace", "shop") == 0);
  CHECK(at("Widget", "w1") == 0);
  CHECK(at("Job", "migrate") == 0);
  CHECK(at("ConfigMap", "plain") == 0);
  CHECK(at("ConfigMap", "app") == 1);
  CHECK(at("ConfigMap", "top") == 2);
  // Without the annotation, everything is at depth 0: applied as before.
  StageRound plain;
  auto& p = plain.throughObserve(ns("shop") + kCrd + kWidget + cm("a", "shop"));
  for (auto d : dependencyDepths(p)) CHECK(d == 0);
}

TEST_CASE("dependencies: a healthy dependency is applied first, whatever the kind order", "[sync][dependencies]") {
  StageRound r;
  // A suspended Job is healthy at once; a ConfigMap comes before a Job in the kind order.
  auto report = r.syncAll(ns("shop") + job("migrate", "shop", true) +
                          cm("app", "shop", "v", dependsOn("batch/namespaces/shop/Job/migrate")));
  REQUIRE(report.ok());
  CHECK(report.phase == Phase::Synced);
  auto log = r.fake.applyLog();
  CHECK(position(log, "Job shop/migrate") < position(log, "ConfigMap shop/app"));
  // Kept on the live object (it orders the prune).
  CHECK((*r.fake.object("v1", "ConfigMap", "shop", "app"))["metadata"]["annotations"][kDependsOn] ==
        "batch/namespaces/shop/Job/migrate");
}

TEST_CASE("dependencies: an unhealthy dependency makes its dependents wait; the next round applies them",
          "[sync][dependencies]") {
  StageRound r;
  r.options.dependencyTimeout = std::chrono::milliseconds(20);
  const std::string revision = ns("shop") + job("migrate", "shop") +
                               cm("app", "shop", "v", dependsOn("batch/namespaces/shop/Job/migrate")) +
                               cm("top", "shop", "v", dependsOn("/namespaces/shop/ConfigMap/app")) + cm("other", "shop");
  REQUIRE(r.syncAll(ns("shop") + cm("old", "shop")).ok());
  auto first = r.syncAll(revision);
  CHECK(first.ok());  // waiting is not a failure
  CHECK(first.phase == Phase::Progressing);
  CHECK(first.summary.waiting == 2);
  const auto& app = find(first, "ConfigMap", "app");
  CHECK(app.state == State::Waiting);
  CHECK(app.action == Action::None);
  CHECK(app.healthMessage == "waiting for Job shop/migrate: Progressing: job has not completed");
  CHECK(find(first, "ConfigMap", "top").healthMessage == "waiting for ConfigMap shop/app: Waiting");
  CHECK_FALSE(r.fake.object("v1", "ConfigMap", "shop", "app"));
  CHECK_FALSE(r.fake.object("v1", "ConfigMap", "shop", "top"));
  // The rest of the round went on: the other object applied, the old one pruned.
  CHECK(r.fake.object("v1", "ConfigMap", "shop", "other"));
  CHECK_FALSE(r.fake.object("v1", "ConfigMap", "shop", "old"));
  CHECK(first.message.starts_with("2 waiting: ConfigMap shop/app (waiting for Job shop/migrate: Progressing: job has not "
                                  "completed), ConfigMap shop/top (waiting for ConfigMap shop/app: Waiting); "));
  // Still progressing: still waiting.
  CHECK(r.syncAll(revision).summary.waiting == 2);
  setJobCondition(r.fake, "migrate", "Complete");
  auto second = r.syncAll(revision);
  CHECK(second.phase == Phase::Synced);
  CHECK(second.summary.waiting == 0);
  CHECK(r.fake.object("v1", "ConfigMap", "shop", "app"));
  CHECK(r.fake.object("v1", "ConfigMap", "shop", "top"));
}

TEST_CASE("dependencies: a dependency that becomes healthy within dependencyTimeout is waited for",
          "[sync][dependencies]") {
  StageRound r;
  r.options.dependencyTimeout = std::chrono::seconds(30);
  // Another thread completes the Job once it exists: the gate's polls
  // (every pollInterval, up to the timeout) see it and apply the dependent.
  auto revision = ns("shop") + job("migrate", "shop") + cm("app", "shop", "v", dependsOn("batch/namespaces/shop/Job/migrate"));
  auto& s = r.throughObserve(revision);
  std::jthread completer([&] {
    for (int i = 0; i < 2000 && !r.fake.object("batch/v1", "Job", "shop", "migrate"); ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    setJobCondition(r.fake, "migrate", "Complete");
  });
  stage::apply(s);
  completer.join();
  CHECK(r.item("ConfigMap", "app").plan == Plan::InSync);
  CHECK(r.fake.object("v1", "ConfigMap", "shop", "app"));
}

TEST_CASE("dependencies: a failed or Degraded dependency", "[sync][dependencies]") {
  StageRound r;
  r.options.dependencyTimeout = std::chrono::seconds(30);  // Degraded is final: not waited for
  SECTION("Degraded: the dependent waits, naming why, without waiting out the timeout") {
    REQUIRE(r.syncAll(ns("shop") + job("migrate", "shop")).ok());
    setJobCondition(r.fake, "migrate", "Failed");
    auto start = std::chrono::steady_clock::now();
    auto report = r.syncAll(ns("shop") + job("migrate", "shop") +
                            cm("app", "shop", "v", dependsOn("batch/namespaces/shop/Job/migrate")));
    CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(30));
    const auto& app = find(report, "ConfigMap", "app");
    CHECK(app.state == State::Waiting);
    CHECK(app.healthMessage == "waiting for Job shop/migrate: Degraded: job failed: Failed=True (BackoffLimitExceeded)");
    CHECK(report.message.starts_with("1 degraded: Job shop/migrate (job failed: Failed=True (BackoffLimitExceeded)); 1 waiting: "
                                     "ConfigMap shop/app (waiting for Job shop/migrate: Degraded: "));
  }
  SECTION("failed to apply: the dependent is skipped") {
    r.fake.validate = [](const json&, const json& merged) -> std::optional<gitfed::kube::Error> {
      if (merged["kind"] == "Job") return gitfed::kube::Error{422, "Invalid", "spec.template: Invalid value", "apply"};
      return std::nullopt;
    };
    auto report = r.syncAll(ns("shop") + job("migrate", "shop") +
                            cm("app", "shop", "v", dependsOn("batch/namespaces/shop/Job/migrate")));
    CHECK(report.phase == Phase::Failed);
    const auto& app = find(report, "ConfigMap", "app");
    CHECK(app.state == State::Failed);
    CHECK(app.action == Action::Skipped);
    CHECK(app.error == "ConfigMap shop/app: skipped: depends on Job shop/migrate, which failed");
    CHECK_FALSE(r.fake.object("v1", "ConfigMap", "shop", "app"));
  }
}

TEST_CASE("dependencies: a dry run is not gated", "[sync][dependencies]") {
  StageRound r;
  r.options.dryRun = true;
  r.options.dependencyTimeout = std::chrono::seconds(30);
  auto start = std::chrono::steady_clock::now();
  auto report = r.syncAll(ns("shop") + job("migrate", "shop") +
                          cm("app", "shop", "v", dependsOn("batch/namespaces/shop/Job/migrate")));
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(30));
  CHECK(find(report, "ConfigMap", "app").action == Action::WouldApply);
  CHECK(report.summary.waiting == 0);
}

TEST_CASE("dependencies: pruned in reverse order; a dependency kept while its dependent stays", "[sync][dependencies]") {
  StageRound r;
  const std::string both = job("migrate", "shop", true) + cm("app", "shop", "v", dependsOn("batch/namespaces/shop/Job/migrate"));
  REQUIRE(r.syncAll(ns("shop") + both + cm("keep", "shop")).ok());
  SECTION("the dependent first, although the kind order would delete the Job first") {
    auto report = r.syncAll(ns("shop") + cm("keep", "shop"));
    CHECK(report.ok());
    auto log = r.fake.deleteLog();
    CHECK(position(log, "ConfigMap shop/app") < position(log, "Job shop/migrate"));
    CHECK(find(report, "Job", "migrate").action == Action::Pruned);
  }
  SECTION("the dependent cannot be deleted: the dependency stays, in the inventory") {
    r.fake.failDelete["app"] = gitfed::kube::Error{500, "InternalError", "etcd timeout", "delete"};
    auto report = r.syncAll(ns("shop") + cm("keep", "shop"));
    const auto& m = find(report, "Job", "migrate");
    CHECK(m.action == Action::Retained);
    CHECK(m.healthMessage == "not in Git; kept until ConfigMap shop/app is deleted");
    CHECK(r.fake.object("batch/v1", "Job", "shop", "migrate"));
    CHECK(inventoryText(r.fake).find("Job") != std::string::npos);
    r.fake.failDelete.clear();
    r.syncAll(ns("shop") + cm("keep", "shop"));
    CHECK_FALSE(r.fake.object("batch/v1", "Job", "shop", "migrate"));
    CHECK_FALSE(r.fake.object("v1", "ConfigMap", "shop", "app"));
  }
}
