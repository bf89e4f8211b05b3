// The apply stage on its own (agent/sync/src/stage_apply.cpp): order, what
// is sent, what a failure skips.

#include "stage_fixture.h"

using namespace gitfed::test::sync;
using nlohmann::json;

TEST_CASE("apply: Namespaces first, then by kind rank; each object sent with its labels and hash", "[sync][stage][apply]") {
  StageRound r;
  auto& s = r.throughObserve(cm("a", "shop") + ns("shop"));
  stage::apply(s);
  auto log = r.fake.applyLog();
  REQUIRE(log.size() == 2);
  CHECK(log[0].find("Namespace") != std::string::npos);
  CHECK(log[1].find("ConfigMap") != std::string::npos);
  CHECK(r.item("ConfigMap", "a").action == Action::Created);
  CHECK(r.item("ConfigMap", "a").plan == Plan::InSync);
  auto live = r.fake.object("v1", "ConfigMap", "shop", "a");
  REQUIRE(live);
  CHECK((*live)["metadata"]["labels"]["gitfed.io/inventory"] == "c1");
  CHECK((*live)["metadata"]["annotations"]["gitfed.io/applied-hash"] == hex(r.item("ConfigMap", "a").hash));
  CHECK(s.applies == 2);
}

TEST_CASE("apply: a Namespace that fails skips only what is in it, with the reason", "[sync][stage][apply]") {
  StageRound r;
  r.fake.validate = [](const json&, const json& merged) -> std::optional<gitfed::kube::Error> {
    if (merged["kind"] == "Namespace" && merged["metadata"]["name"] == "bad")
      return gitfed::kube::Error{422, "Invalid", "no", ""};
    return std::nullopt;
  };
  auto& s = r.throughObserve(ns("bad") + ns("good") + cm("a", "bad") + cm("b", "good"));
  stage::apply(s);
  CHECK(r.item("Namespace", "bad").plan == Plan::Failed);
  CHECK(r.item("ConfigMap", "a").plan == Plan::Skipped);
  CHECK(r.item("ConfigMap", "a").error == "ConfigMap bad/a: skipped: Namespace bad could not be created");
  CHECK(stage::blockedBy(s, r.item("ConfigMap", "a")) == "skipped: Namespace bad could not be created");
  CHECK(r.item("ConfigMap", "b").action == Action::Created);
  CHECK(stage::blockedBy(s, r.item("ConfigMap", "b")).empty());
}

TEST_CASE("apply: a custom resource waits for its CRD, which is awaited until Established", "[sync][stage][apply]") {
  StageRound r;
  auto& s = r.throughObserve(std::string(kCrd) + ns("shop") + kWidget);
  stage::apply(s);
  const Item& widget = r.item("Widget", "w1");
  CHECK(widget.action == Action::Created);
  CHECK(widget.resource != nullptr);
  CHECK_FALSE(widget.crd);
  CHECK(r.fake.object("example.com/v1", "Widget", "shop", "w1"));
}

TEST_CASE("apply: in a dry run nothing is written and objects in a new Namespace would be created",
          "[sync][stage][apply]") {
  StageRound r;
  r.options.dryRun = true;
  auto& s = r.throughObserve(ns("shop") + cm("a", "shop"));
  stage::apply(s);
  CHECK(r.fake.applies == 0);
  CHECK(r.item("ConfigMap", "a").action == Action::WouldApply);
  CHECK(r.item("ConfigMap", "a").state == State::Missing);
  CHECK(r.fake.count() == 0);
}
