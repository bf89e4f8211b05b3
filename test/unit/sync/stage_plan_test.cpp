// The plan stage on its own (agent/sync/src/stage_plan.cpp): identity,
// resource type, namespace, duplicates, the applied hash, drift rules.

#include "gitfed/render/drift_rules.h"
#include "stage_fixture.h"

using namespace gitfed::test::sync;

TEST_CASE("plan: namespaces defaulted for namespaced kinds and dropped for cluster-scoped ones", "[sync][stage][plan]") {
  StageRound r;
  auto& s = r.start(cm("a", "") + "---\napiVersion: v1\nkind: Namespace\nmetadata: {name: shop, namespace: stray}\n");
  stage::plan(s);
  REQUIRE(s.items.size() == 2);
  CHECK(r.item("ConfigMap", "a").obj->ns == "default");
  CHECK(r.item("ConfigMap", "a").plan == Plan::InSync);
  CHECK(r.item("ConfigMap", "a").resource != nullptr);
  CHECK(r.item("Namespace", "shop").obj->ns.empty());
  CHECK(r.item("ConfigMap", "a").hash != 0);
  CHECK(r.item("ConfigMap", "a").hash != r.item("Namespace", "shop").hash);
  CHECK(s.index.size() == 2);
}

TEST_CASE("plan: a duplicate fails with where the first one is", "[sync][stage][plan]") {
  StageRound r;
  // The renderer refuses duplicates in one namespace; two spellings of the
  // default namespace only meet here, once the default is applied.
  auto& s = r.start(cm("a", "") + cm("a", "default", "w"));
  stage::plan(s);
  const auto failed = std::count_if(s.items.begin(), s.items.end(), [](const Item& it) { return it.plan == Plan::Failed; });
  REQUIRE(failed == 1);
  const auto& dup = s.items[1];
  CHECK(dup.plan == Plan::Failed);
  CHECK(dup.error.find("duplicate object: also defined at all.yaml:") != std::string::npos);
}

TEST_CASE("plan: an unknown kind fails; a custom resource waits for its CRD in the same revision", "[sync][stage][plan]") {
  StageRound r;
  auto& s = r.start(std::string(kCrd) + kWidget +
                    "---\napiVersion: example.com/v1\nkind: Gadget\nmetadata: {name: g, namespace: shop}\n");
  stage::plan(s);
  const Item& widget = r.item("Widget", "w1");
  CHECK(widget.plan == Plan::InSync);
  CHECK(widget.resource == nullptr);
  REQUIRE(widget.crd);
  CHECK(s.items[*widget.crd].obj->kind == "CustomResourceDefinition");
  const Item& gadget = r.item("Gadget", "g");
  CHECK(gadget.plan == Plan::Failed);
  CHECK(gadget.error.find("the server has no resource type example.com/v1 Gadget") != std::string::npos);
}

TEST_CASE("plan: desired trees are packed and the hash does not depend on it", "[sync][stage][plan]") {
  StageRound packed, plain;
  plain.options.compactDesired = false;
  auto& a = packed.start(cm("a", "shop"));
  auto& b = plain.start(cm("a", "shop"));
  stage::plan(a);
  stage::plan(b);
  CHECK(packed.item("ConfigMap", "a").obj->value.is_null());
  CHECK_FALSE(packed.item("ConfigMap", "a").packed.empty());
  CHECK(plain.item("ConfigMap", "a").packed.empty());
  CHECK(packed.item("ConfigMap", "a").hash == plain.item("ConfigMap", "a").hash);
  // desiredTree gives the tree back.
  CHECK(a.desiredTree(packed.item("ConfigMap", "a"))["data"]["k"] == "v");
}

namespace {

gitfed::render::DriftRule ruleOf(const std::string& yaml) {
  auto doc = nlohmann::json::parse(yaml);
  auto rules = gitfed::render::parseDriftRules(nlohmann::json{{"spec", {{"rules", {doc}}}}}, "DriftRules t", "t");
  REQUIRE(rules);
  return rules->front();
}

}  // namespace

TEST_CASE("plan: a cluster-wide drift rule applies only to what its target selects, an HPA rule only to HPA targets",
          "[sync][stage][plan]") {
  StageRound r;
  r.options.driftRules = gitfed::render::builtinDriftRules();
  r.options.driftRules.push_back(ruleOf(R"({"paths":["/data/k"],"target":{"kind":"ConfigMap"}})"));
  r.options.driftRules.push_back(
      ruleOf(R"({"paths":["/data/w"],"mode":"warn","target":{"kind":"ConfigMap","name":"w-.*","namespace":"shop"}})"));
  r.options.driftRules.push_back(
      ruleOf(R"({"paths":["/metadata/labels/l"],"target":{"group":"apps","labelSelector":"team=a"}})"));
  r.fake.put(nlohmann::json::parse(R"({"apiVersion":"autoscaling/v2","kind":"HorizontalPodAutoscaler",
      "metadata":{"name":"h","namespace":"shop"},
      "spec":{"scaleTargetRef":{"apiVersion":"apps/v1","kind":"Deployment","name":"scaled"}}})"));
  auto deploy = [](const std::string& name, const std::string& labels) {
    return "---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {name: " + name +
           ", namespace: shop, labels: {" + labels + "}}\nspec:\n  replicas: 2\n  selector: {matchLabels: {app: x}}\n"
           "  template: {metadata: {labels: {app: x}}, spec: {containers: [{name: c, image: i}]}}\n";
  };
  auto& s = r.start(cm("a", "shop") + cm("w-1", "shop") + cm("w-2", "other") + deploy("scaled", "team: a") +
                    deploy("fixed", "team: b"));
  stage::plan(s);
  stage::applyDriftRules(s);
  CHECK(r.item("ConfigMap", "a").ignore.covers({"data", "k"}));
  CHECK_FALSE(r.item("ConfigMap", "a").ignore.covers({"data", "w"}));
  // A warn field is also sent with its live value (ignore) and compared on its own (warn).
  CHECK(r.item("ConfigMap", "w-1").warn.covers({"data", "w"}));
  CHECK(r.item("ConfigMap", "w-1").ignore.covers({"data", "w"}));
  CHECK_FALSE(r.item("ConfigMap", "w-2").warn.covers({"data", "w"}));  // namespace does not match
  CHECK(r.item("Deployment", "scaled").ignore.covers({"spec", "replicas"}));
  CHECK_FALSE(r.item("Deployment", "fixed").ignore.covers({"spec", "replicas"}));
  CHECK_FALSE(r.item("Deployment", "fixed").ignore.covers({"data", "k"}));
  CHECK(r.item("Deployment", "scaled").ignore.covers({"metadata", "labels", "l"}));  // labelSelector team=a
  CHECK_FALSE(r.item("Deployment", "fixed").ignore.covers({"metadata", "labels", "l"}));
}

TEST_CASE("plan: the revision's DriftRules and the annotations add to the engine's; ignore wins over warn",
          "[sync][stage][plan]") {
  StageRound r;
  auto& s = r.start(
      "---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n  namespace: shop\n  annotations:\n"
      "    gitfed.io/warn-fields: /data/a,/data/b\n    gitfed.io/ignore-fields: /data/b\ndata: {a: x, b: y}\n");
  r.rendered.driftRules.push_back(ruleOf(R"({"paths":["/data/c"],"mode":"warn"})"));
  stage::plan(s);
  stage::applyDriftRules(s);
  const auto& it = r.item("ConfigMap", "c");
  CHECK(it.warn.covers({"data", "a"}));
  CHECK_FALSE(it.warn.covers({"data", "b"}));  // ignored as well: ignored
  CHECK(it.warn.covers({"data", "c"}));
  CHECK(it.ignore.covers({"data", "a"}));
  CHECK(it.ignore.covers({"data", "b"}));
}
