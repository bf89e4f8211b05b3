#include <catch2/catch.hpp>

#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <utility>

#include "gitfed/render/document_reader.h"
#include "gitfed/render/strategic_merge.h"

using gitfed::render::MergeSchema;
using gitfed::render::readYamlStream;
using gitfed::render::strategicMerge;
using nlohmann::json;

namespace {

std::string readFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  REQUIRE(in.good());
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

const std::string kDir = std::string(GITFED_SOURCE_DIR) + "/test/unit/render/strategic-merge/";

json yaml(const std::string& text) {
  auto out = readYamlStream(text);
  REQUIRE(out.errors.empty());
  REQUIRE(out.documents.size() == 1);
  return out.documents[0].value;
}

const MergeSchema& mergeItemSchema() {
  static const std::shared_ptr<const MergeSchema> schema = [] {
    auto s = MergeSchema::withDocument(readFile(kDir + "merge-item-openapi.json"));
    REQUIRE(s.has_value());
    return *s;
  }();
  return *schema;
}

// apimachinery's MergeItem documents become objects of kind MergeItem.
json wrapMergeItem(const json& doc) {
  json out = {{"apiVersion", "test.gitfed.io/v1"}, {"kind", "MergeItem"}, {"metadata", {{"name", "x"}}}};
  for (const auto& [k, v] : doc.items()) out[k] = v;
  return out;
}

}  // namespace

// Every case of strategic-merge/cases.yaml: apimachinery's patch_test.go and
// kustomize's patchstrategicmerge_test.go ported (each names its source), and
// gitfed's own; the kustomize ones are checked against kustomize build by
// strategic-merge/check-with-kustomize.
TEST_CASE("strategic merge: the cases of cases.yaml", "[render][strategic-merge]") {
  auto read = readYamlStream(readFile(kDir + "cases.yaml"));
  REQUIRE(read.errors.empty());
  REQUIRE(read.documents.size() == 1);
  const json& cases = read.documents[0].value;
  REQUIRE(cases.is_array());
  REQUIRE(cases.size() >= 70);
  for (const json& c : cases) {
    const std::string name = c.at("name").get<std::string>();
    INFO(name << " (" << c.value("source", "") << ")");
    const bool mergeItem = c.value("schema", "builtin") == "merge-item";
    const MergeSchema& schema = mergeItem ? mergeItemSchema() : MergeSchema::builtin();
    json target = mergeItem ? wrapMergeItem(c.at("target")) : c.at("target");
    const json patch = mergeItem ? wrapMergeItem(c.at("patch")) : c.at("patch");
    const json before = target;
    auto r = strategicMerge(target, patch, schema);
    if (c.contains("error")) {
      REQUIRE_FALSE(r.has_value());
      CHECK_THAT(r.error().message, Catch::Contains(c.at("error").get<std::string>()));
      CHECK(target == before);  // an error leaves the target as it was
      continue;
    }
    REQUIRE(r.has_value());
    json expected = c.at("expected");
    if (mergeItem) expected = wrapMergeItem(expected);
    CHECK(target.dump() == expected.dump());
  }
}

TEST_CASE("strategic merge: the builtin schema knows Kubernetes' merge keys", "[render][strategic-merge]") {
  // Containers by name, in a Deployment, a CronJob and a Pod.
  json dep = yaml(R"(
apiVersion: batch/v1
kind: CronJob
metadata: {name: j}
spec: {jobTemplate: {spec: {template: {spec: {containers: [{name: a, image: a}], initContainers: [{name: i}]}}}}}
)");
  json patch = yaml(R"(
spec: {jobTemplate: {spec: {template: {spec: {containers: [{name: a, image: a2}, {name: b}]}}}}}
)");
  REQUIRE(strategicMerge(dep, patch, MergeSchema::builtin()).has_value());
  CHECK(dep["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"] ==
        json::parse(R"([{"name":"a","image":"a2"},{"name":"b"}])"));
  CHECK(dep["spec"]["jobTemplate"]["spec"]["template"]["spec"]["initContainers"] ==
        json::parse(R"([{"name":"i"}])"));

  // Env by name, volumeMounts by mountPath, ownerReferences by uid, a Service's
  // ports by port and protocol.
  json pod = yaml(R"(
apiVersion: v1
kind: Pod
metadata: {name: p, ownerReferences: [{uid: u1, name: o1}]}
spec:
  containers:
  - name: a
    env: [{name: A, value: "1"}]
    volumeMounts: [{mountPath: /a, name: va}]
)");
  json podPatch = yaml(R"(
metadata: {ownerReferences: [{uid: u1, kind: K}]}
spec:
  containers:
  - name: a
    env: [{name: A, value: "2"}]
    volumeMounts: [{mountPath: /b, name: vb}]
)");
  REQUIRE(strategicMerge(pod, podPatch, MergeSchema::builtin()).has_value());
  CHECK(pod["metadata"]["ownerReferences"] == json::parse(R"([{"uid":"u1","name":"o1","kind":"K"}])"));
  CHECK(pod["spec"]["containers"][0]["env"] == json::parse(R"([{"name":"A","value":"2"}])"));
  CHECK(pod["spec"]["containers"][0]["volumeMounts"] ==
        json::parse(R"([{"mountPath":"/b","name":"vb"},{"mountPath":"/a","name":"va"}])"));

  json svc = yaml(R"(
apiVersion: v1
kind: Service
metadata: {name: s}
spec: {ports: [{port: 53, protocol: UDP, name: dns}, {port: 53, protocol: TCP, name: dns-tcp}]}
)");
  json svcPatch = yaml("spec: {ports: [{port: 53, protocol: TCP, targetPort: 5353}]}");
  REQUIRE(strategicMerge(svc, svcPatch, MergeSchema::builtin()).has_value());
  CHECK(svc["spec"]["ports"] == json::parse(R"([{"port":53,"protocol":"TCP","name":"dns-tcp","targetPort":5353},
                                                {"port":53,"protocol":"UDP","name":"dns"}])"));
}

TEST_CASE("strategic merge: withDocument adds a CRD's inline schema", "[render][strategic-merge]") {
  auto schema = MergeSchema::withDocument(R"({"definitions": {"com.example.v1.Foo": {
    "x-kubernetes-group-version-kind": [{"group": "example.com", "version": "v1", "kind": "Foo"}],
    "properties": {
      "metadata": {"$ref": "#/definitions/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"},
      "spec": {"type": "object", "properties": {
        "workers": {"type": "array", "x-kubernetes-patch-strategy": "merge", "x-kubernetes-patch-merge-key": "id",
                    "items": {"type": "object", "properties": {
                      "tags": {"type": "array", "x-kubernetes-patch-strategy": "merge"}}}},
        "byName": {"type": "object", "additionalProperties": {"type": "object", "properties": {
          "list": {"type": "array", "x-kubernetes-patch-strategy": "merge", "x-kubernetes-patch-merge-key": "k"}}}}}}}}}})");
  REQUIRE(schema.has_value());
  json foo = yaml(R"(
apiVersion: example.com/v1
kind: Foo
metadata: {name: f, finalizers: [a]}
spec:
  workers: [{id: 1, tags: [x]}, {id: 2}]
  byName: {one: {list: [{k: a, v: 1}]}}
)");
  json patch = yaml(R"(
metadata: {finalizers: [b]}
spec:
  workers: [{id: 1, tags: [yy]}]
  byName: {one: {list: [{k: b}]}}
)");
  REQUIRE(strategicMerge(foo, patch, **schema).has_value());
  CHECK(foo["metadata"]["finalizers"] == json::parse(R"(["b","a"])"));  // ObjectMeta from the builtin
  CHECK(foo["spec"]["workers"] == json::parse(R"([{"id":1,"tags":["yy","x"]},{"id":2}])"));
  CHECK(foo["spec"]["byName"]["one"]["list"] == json::parse(R"([{"k":"b"},{"k":"a","v":1}])"));

  // The same object under the builtin schema alone: a custom resource it does
  // not know, merged as JSON merge patch.
  json plain = yaml("apiVersion: example.com/v1\nkind: Foo\nmetadata: {name: f}\nspec: {workers: [{id: 1}, {id: 2}]}");
  REQUIRE(strategicMerge(plain, yaml("spec: {workers: [{id: 3}]}"), MergeSchema::builtin()).has_value());
  CHECK(plain["spec"]["workers"] == json::parse(R"([{"id":3}])"));
}

TEST_CASE("strategic merge: withDocument names what it cannot read", "[render][strategic-merge]") {
  auto error = [](const char* doc) {
    auto s = MergeSchema::withDocument(doc);
    REQUIRE_FALSE(s.has_value());
    return s.error().message;
  };
  CHECK_THAT(error("{"), Catch::Contains("not JSON"));
  CHECK_THAT(error("[]"), Catch::Contains("not a JSON object"));
  CHECK_THAT(error("{}"), Catch::Contains("no definitions"));
  CHECK_THAT(error(R"({"definitions": []})"), Catch::Contains("definitions is not an object"));
  CHECK_THAT(error(R"({"definitions": {"a.B": 1}})"), Catch::Contains("definitions.a.B is not an object"));
  CHECK_THAT(error(R"({"definitions": {"a.B": {"properties": {"f": {"x-kubernetes-patch-strategy": 1}}}}})"),
             Catch::Contains("definitions.a.B.properties.f: x-kubernetes-patch-strategy is not a string"));
  CHECK_THAT(error(R"({"definitions": {"a.B": {"properties": {"f": {"x-kubernetes-patch-strategy": "merge",
                "x-kubernetes-patch-merge-key": ["k"]}}}}})"),
             Catch::Contains("x-kubernetes-patch-merge-key is not a string"));
  CHECK_THAT(error(R"({"definitions": {"a.B": {"x-kubernetes-group-version-kind": [{"group": "g"}]}}})"),
             Catch::Contains("x-kubernetes-group-version-kind holds an entry without version and kind"));
}

TEST_CASE("strategic merge: errors carry the path in the patch", "[render][strategic-merge]") {
  json dep = yaml(R"(
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec: {template: {spec: {containers: [{name: a, ports: [{containerPort: 80}]}]}}}
)");
  auto error = [&dep](const char* patch) {
    json target = dep;
    auto r = strategicMerge(target, yaml(patch), MergeSchema::builtin());
    REQUIRE_FALSE(r.has_value());
    CHECK(target == dep);
    return r.error().message;
  };
  // Each bad patch and its error.
  const std::pair<const char*, const char*> cases[] = {
      {"spec: {template: {spec: {containers: [{name: a}, {image: b}]}}}",
       "strategic merge patch: spec.template.spec.containers[1]: the item has no merge key 'name'"},
      {"spec: {template: {spec: {containers: [{name: a, ports: [{name: http}]}]}}}",
       "strategic merge patch: spec.template.spec.containers[0].ports[0]: the item has no merge key 'containerPort'"},
      {"spec: {template: {spec: {containers: [x]}}}",
       "strategic merge patch: spec.template.spec.containers[0]: a list merged by 'name' holds a scalar"},
      {"spec: {template: {spec: {containers: [{name: a, $patch: drop}]}}}",
       "strategic merge patch: spec.template.spec.containers[0].$patch: unknown patch strategy 'drop'"},
      {"spec: {template: {spec: {containers: [{$patch: drop}]}}}",
       "strategic merge patch: spec.template.spec.containers[0].$patch: unknown patch strategy 'drop'"},
      {"spec: {template: [a]}",
       "strategic merge patch: spec.template: the patch has a list where the target has a mapping"},
      {"spec: {template: {spec: {$retainKeys: containers}}}",
       "strategic merge patch: spec.template.spec.$retainKeys: $retainKeys must be a list of field names"},
      {"metadata: {$deleteFromPrimitiveList/finalizers: a}",
       "strategic merge patch: metadata.$deleteFromPrimitiveList/finalizers: $deleteFromPrimitiveList takes a list of values"},
      {"spec: {template: {spec: {$setElementOrder/containers: {name: a}}}}",
       "strategic merge patch: spec.template.spec.$setElementOrder/containers: $setElementOrder takes a list"},
  };
  for (const auto& [patch, message] : cases) CHECK(error(patch) == message);

  json notMapping = json::array();
  CHECK_FALSE(strategicMerge(notMapping, json::object(), MergeSchema::builtin()).has_value());
  json target = dep;
  CHECK_FALSE(strategicMerge(target, json::array(), MergeSchema::builtin()).has_value());
}
