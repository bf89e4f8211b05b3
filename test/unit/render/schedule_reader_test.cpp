// RSPs read the short way (readSimpleSchedule, takeSimpleSchedules) against
// the general way (libyaml, or the simple YAML reader, then
// parseReplicaSchedulingPreference and the loader): whatever the short way
// reads, it must read exactly as the general way. The cases it must read are
// listed, so that the comparison is not made vacuous by a reader that
// declines everything; so are cases it must leave to the general way.

#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "gitfed/render/document_reader.h"
#include "gitfed/render/renderer.h"
#include "gitfed/render/schedule_reader.h"
#include "support/memory_tree.h"
#include "support/mutate.h"

using gitfed::render::ReadOutcome;
using gitfed::render::ReplicaSchedulingSpec;
using gitfed::render::SimpleSchedule;
using gitfed::render::readSimpleSchedule;
using gitfed::render::takeSimpleSchedules;
using gitfed::test::MemoryTree;

namespace {

std::string describe(const std::string& ns, const std::string& name, int line, const ReplicaSchedulingSpec& spec) {
  std::string out = ns + "/" + name + " line " + std::to_string(line) + " " + spec.targetKind + " total " +
                    std::to_string(spec.totalReplicas) + (spec.rebalance ? " rebalance" : "") +
                    (spec.intersectWithClusterSelector ? " intersect" : "");
  for (const auto& [cluster, p] : spec.clusters)
    out += " [" + cluster + " w" + std::to_string(p.weight) + " min" + std::to_string(p.minReplicas) + " max" +
           (p.maxReplicas ? std::to_string(*p.maxReplicas) : "-") + " s" + std::to_string(p.preferredScore) + "]";
  return out;
}

// What the general way makes of a one-document text: the loader's checks of
// an RSP (loadRepository's, in renderer.cpp), then parseReplicaSchedulingPreference.
// "" when it is not such an RSP without errors.
std::string generalWay(const ReadOutcome& read) {
  if (!read.errors.empty() || read.documents.size() != 1) return "";
  const auto& doc = read.documents[0].value;
  if (!doc.is_object() || doc.value("apiVersion", nlohmann::json()) != "scheduling.kubefed.io/v1alpha1" ||
      doc.value("kind", nlohmann::json()) != "ReplicaSchedulingPreference" || !doc.contains("metadata"))
    return "";
  const auto& metadata = doc["metadata"];
  if (!metadata.is_object() || !metadata.contains("name") || !metadata["name"].is_string() ||
      metadata["name"].get<std::string>().empty())
    return "";
  std::string ns;
  if (metadata.contains("namespace") && !metadata["namespace"].is_null()) {
    if (!metadata["namespace"].is_string()) return "";
    ns = metadata["namespace"].get<std::string>();
  }
  auto spec = gitfed::render::parseReplicaSchedulingPreference(doc, "RSP");
  if (!spec) return "";
  return describe(ns, metadata["name"].get<std::string>(), read.documents[0].line, *spec);
}

// When the short way reads `text`, libyaml's reading and the simple reader's
// (when it reads the text) give the same RSP. Returns whether the short way read it.
bool sameWhenRead(const std::string& text) {
  auto fast = readSimpleSchedule(text, 1);
  if (!fast) return false;
  INFO("text:\n" << text);
  const std::string got = describe(fast->ns, fast->name, fast->line, fast->spec);
  CHECK(got == generalWay(gitfed::render::readYamlStreamWithLibyaml(text)));
  if (auto simple = gitfed::render::readSimpleYamlStream(text)) CHECK(got == generalWay(*simple));
  return true;
}

const std::string kHead = "apiVersion: scheduling.kubefed.io/v1alpha1\nkind: ReplicaSchedulingPreference\n";

std::string rsp(const std::string& spec, const std::string& metadata = "metadata: {name: web, namespace: shop}\n") {
  return kHead + metadata + "spec:\n" + spec;
}

}  // namespace

TEST_CASE("short RSP reading: the common shapes read as the general way reads them", "[render][schedule]") {
  const std::vector<std::string> read = {
      rsp("  targetKind: FederatedDeployment\n  totalReplicas: 30\n"),
      rsp("  targetKind: FederatedDeployment\n  totalReplicas: 501\n"
          "  clusters: {c0001: {weight: 5, minReplicas: 1}, \"*\": {weight: 1, maxReplicas: 10}}\n"),
      rsp("  targetKind: FederatedReplicaSet\n  totalReplicas: 0\n  rebalance: true\n"
          "  intersectWithClusterSelector: false\n  clusters: {}\n"),
      rsp("  targetKind: FederatedStatefulSet\n  totalReplicas: 2147483647\n  clusters:\n    a: {}\n"
          "    'b': {maxReplicas: 0}\n    \"c-1.x_y\":\n      weight: 2147483647\n      minReplicas: 3\n      maxReplicas: 3\n"),
      // The book's multi-region example, block style, comments, blank lines.
      "# spread web over the regions\n\n" + kHead +
          "metadata:\n  name: web\n  namespace: shop\nspec:\n  # the total\n  targetKind: FederatedDeployment\n"
          "  totalReplicas: 30\n\n  clusters:\n    cluster-us-east: {minReplicas: 10, maxReplicas: 20, weight: 50}\n"
          "    cluster-eu-west:\n        minReplicas: 5\n        maxReplicas: 15\n        weight: 33\n"
          "    cluster-ap-south: {minReplicas: 3, maxReplicas: 10, weight: 17}\n",
      // Any order, no namespace, quoted strings, spaces the flow style allows, trailing spaces.
      "spec: { totalReplicas: 7 , targetKind: \"FederatedDeployment\" }  \nmetadata: {name: 'web'}\n"
      "kind: 'ReplicaSchedulingPreference'\n\"apiVersion\": scheduling.kubefed.io/v1alpha1\n",
      rsp("    targetKind: FederatedDeployment\n    totalReplicas: 3\n", "metadata:\n    namespace: \"123\"\n    name: x1\n"),
      rsp("  targetKind: FederatedDeployment\n  totalReplicas: 3\n  clusters: {'*': {weight: 1}, c2: {}}\n"),
  };
  for (const auto& text : read) {
    INFO(text);
    CHECK(sameWhenRead(text));
  }
}

TEST_CASE("short RSP reading: the rest, and every RSP with an error, is left to the general way", "[render][schedule]") {
  const std::string kind = "  targetKind: FederatedDeployment\n";
  const std::vector<std::string> declined = {
      rsp(kind + "  totalReplicas: 010\n"),                 // octal to the general way
      rsp(kind + "  totalReplicas: 1_000\n"),
      rsp(kind + "  totalReplicas: 0x10\n"),
      rsp(kind + "  totalReplicas: 2147483648\n"),          // over the limit: an error
      rsp(kind + "  totalReplicas: -1\n"),
      rsp(kind + "  totalReplicas: '3'\n"),                 // a string: an error
      rsp(kind + "  totalReplicas: 3.0\n"),
      rsp(kind + "  totalReplicas: 3\n  rebalance: yes\n"), // YAML 1.1's booleans
      rsp(kind + "  totalReplicas: 3\n  rebalance: True\n"),
      rsp(kind + "  totalReplicas: 3\n  rebalance: ~\n"),   // nulls
      rsp(kind + "  totalReplicas: 3\n  rebalance:\n"),
      rsp(kind + "  totalReplicas: 3\n  clusters: {a: {minReplicas: 4, maxReplicas: 3}}\n"),  // min > max
      rsp(kind + "  totalReplicas: 3\n  clusters: {a: {weight: 1, weight: 2}}\n"),            // duplicates
      rsp(kind + "  totalReplicas: 3\n  clusters: {a: {}, 'a': {}}\n"),
      rsp(kind + "  totalReplicas: 3\n  totalReplicas: 4\n"),
      rsp(kind + "  totalReplicas: 3\n  clusters: {yes: {}}\n"),   // a key that is a boolean
      rsp(kind + "  totalReplicas: 3\n  clusters: {1: {}}\n"),     // or a number
      rsp(kind + "  totalReplicas: 3\n  clusters: {a: 1}\n"),
      rsp(kind + "  totalReplicas: 3\n  clusters: {a: }\n"),
      rsp(kind + "  totalReplicas: 3\n  clusters: {a: {},}\n"),
      rsp(kind + "  totalReplicas: 3\n  clusters: [a]\n"),
      rsp(kind + "  totalReplicas: 3\n  clusters: {a: {weight: 1}\n"),
      rsp(kind + "  totalReplicas: 3\n  clusters: {a: {wieght: 1}}\n"),                       // unknown fields
      rsp(kind + "  totalReplicas: 3\n  replicas: 3\n"),
      rsp(kind + "  totalReplicas: 3\n") + "status: {}\n",
      rsp("  targetKind: Deployment\n  totalReplicas: 3\n"),
      rsp("  totalReplicas: 3\n"),                                                          // missing fields
      rsp(kind),
      kHead + "spec:\n" + kind + "  totalReplicas: 3\n",
      rsp(kind + "  totalReplicas: 3\n", "metadata: {namespace: shop}\n"),
      rsp(kind + "  totalReplicas: 3\n", "metadata: {name: true}\n"),
      rsp(kind + "  totalReplicas: 3\n", "metadata: {name: 12}\n"),
      rsp(kind + "  totalReplicas: 3\n", "metadata: {name: web, labels: {a: b}}\n"),
      "apiVersion: types.kubefed.io/v1beta1\nkind: ReplicaSchedulingPreference\nmetadata: {name: web}\n"
      "spec:\n" + kind + "  totalReplicas: 3\n",                                            // the wrong apiVersion
      rsp(kind + "  totalReplicas: 3  # a comment after a value\n"),                          // outside the shape
      rsp(kind + "  totalReplicas:\n    3\n"),
      rsp(kind + "  totalReplicas: 3\n    4\n"),                                              // a continuation
      rsp(kind + "   totalReplicas: 3\n"),                                                    // indentation
      rsp(kind + " totalReplicas: 3\n"),
      rsp(kind + "  totalReplicas: 3\n  clusters:\n    a:\n      weight: 1\n     minReplicas: 1\n"),
      rsp(kind + "\ttotalReplicas: 3\n"),
      rsp(kind + "  totalReplicas: 3\r\n"),
      rsp(kind + "  totalReplicas: 3\n# caf\xc3\xa9\n"),                                      // not ASCII, even in a comment
      rsp(kind + "  totalReplicas: &n 3\n"),
      rsp(kind + "  totalReplicas: !!int 3\n"),
      rsp(kind + "  totalReplicas: 3\n  clusters: {\"a\\u0062\": {}}\n"),
      rsp(kind + "  totalReplicas: 3\n  clusters: {\"a b\": {}}\n"),
      "  " + rsp(kind + "  totalReplicas: 3\n"),
      rsp(kind + "  totalReplicas: 3\n  clusters:\n  - a\n"),
      rsp(kind + "  totalReplicas: 3\n  clusters:\n    a: {x: {y: {z: 1}}}\n"),
      rsp(kind + "  totalReplicas: 3\n  clusters: {" + std::string(300, 'a') + ": {}}\n"),   // a long key
  };
  for (const auto& text : declined) {
    INFO(text);
    CHECK_FALSE(readSimpleSchedule(text, 1).has_value());
  }
}

TEST_CASE("short RSP reading agrees with the general way on mutated RSPs", "[render][schedule]") {
  // RSPs with one to three random edits: where the short way still reads the
  // text, libyaml and the simple reader must read the same RSP from it.
  const std::vector<std::string> seeds = {
      rsp("  targetKind: FederatedDeployment\n  totalReplicas: 507\n"
          "  clusters: {c0001: {weight: 5, minReplicas: 1}, \"*\": {weight: 1, maxReplicas: 10}}\n"),
      "# head\n" + kHead +
          "metadata:\n  name: web\n  namespace: shop\nspec:\n  targetKind: FederatedReplicaSet\n  totalReplicas: 30\n"
          "  rebalance: false\n  clusters:\n    us-east: {minReplicas: 10, maxReplicas: 20, weight: 50}\n"
          "    'eu':\n      minReplicas: 5\n      weight: 33\n  intersectWithClusterSelector: true\n",
  };
  const std::string alphabet = " :-#{}[],'\"\n\n  xy01.~?*&!|>%_/9";
  const int read = gitfed::test::countMutationsRead(seeds, alphabet, 8000, sameWhenRead);
  CHECK(read > 400);  // the comparison was made often enough to mean something (579 with this seed)
}

TEST_CASE("short RSP reading takes RSPs out of a stream, keeping every other document's lines", "[render][schedule]") {
  const std::string a = rsp("  targetKind: FederatedDeployment\n  totalReplicas: 3\n");
  const std::string cm = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n";
  const std::string text = cm + "---\n" + a + "---\n# c\n" + cm + "---\n\n" + a;
  auto taken = takeSimpleSchedules(text, {});
  REQUIRE(taken.schedules.size() == 2);
  CHECK(taken.schedules[0].line == 5);
  CHECK(taken.schedules[1].line == 18);
  CHECK(taken.rest == cm + "---\n\n\n\n\n\n\n---\n# c\n" + cm + "---\n\n\n\n\n\n\n\n");
  auto rest = gitfed::render::readSimpleYamlStream(taken.rest);
  REQUIRE(rest.has_value());
  REQUIRE(rest->documents.size() == 2);
  CHECK(rest->documents[0].line == 1);
  CHECK(rest->documents[1].line == 13);

  // Streams the general way reads in ways of its own, and limits lower than the short way needs.
  for (const std::string& other : {"%YAML 1.1\n---\n" + a, a + "...\n", a + "--- {a: 1}\n", a + "---  \n"})
    CHECK(takeSimpleSchedules(other, {}).schedules.empty());
  CHECK(takeSimpleSchedules(a, {4, 1000000}).schedules.empty());
  CHECK(takeSimpleSchedules(a, {100, 100}).schedules.empty());
  CHECK(takeSimpleSchedules(cm, {}).schedules.empty());
}

TEST_CASE("short RSP reading: a repository loads the same either way", "[render][schedule]") {
  // Each file once as it is, and once with a last document only libyaml reads
  // (a block scalar), which sends the whole file the general way.
  const std::string target =
      "apiVersion: types.kubefed.io/v1beta1\nkind: FederatedDeployment\nmetadata: {name: web, namespace: shop}\n"
      "spec:\n  template: {spec: {replicas: 2}}\n  placement: {clusterSelector: {}}\n";
  const std::vector<std::pair<std::string, std::string>> files = {
      {"clusters.yaml",
       "apiVersion: gitfed.io/v1alpha1\nkind: Cluster\nmetadata: {name: a, labels: {region: east}}\n---\n"
       "apiVersion: gitfed.io/v1alpha1\nkind: Cluster\nmetadata: {name: b}\n"},
      {"apps/web.yaml", target + "---\n" + rsp("  targetKind: FederatedDeployment\n  totalReplicas: 9\n"
                                               "  clusters: {a: {weight: 2}, \"*\": {weight: 1, maxReplicas: 4}}\n")},
      // Two RSPs of one target, the second read the general way (a comment
      // after a value): the duplicate is still the second one, by line.
      {"apps/api.yaml", "apiVersion: types.kubefed.io/v1beta1\nkind: FederatedDeployment\nmetadata: {name: api}\n"
                        "spec:\n  template: {}\n---\n" +
                            rsp("  targetKind: FederatedDeployment\n  totalReplicas: 1\n", "metadata: {name: api}\n") +
                            "---\n" +
                            rsp("  targetKind: FederatedDeployment\n  totalReplicas: 2  # general\n",
                                "metadata: {name: api}\n") +
                            "---\n" +
                            rsp("  targetKind: FederatedDeployment\n  totalReplicas: 5\n", "metadata: {name: api}\n")},
      {"apps/wrong.yaml", rsp("  targetKind: FederatedDeployment\n  totalReplicas: 2\n", "metadata: {name: none}\n")},
  };
  MemoryTree shortWay, generalWay;
  for (const auto& [path, content] : files) {
    shortWay.file(path, content);
    generalWay.file(path, content + "---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: libyaml, namespace: x}\n"
                                    "data:\n  a: |\n    text\n");
    if (content.find("ReplicaSchedulingPreference") != std::string::npos) {
      INFO(path);
      CHECK_FALSE(takeSimpleSchedules(content, {}).schedules.empty());  // the short way is taken
    }
  }
  auto describeRepo = [](const gitfed::render::Repository& repo) {
    std::string out;
    for (const auto& s : repo.schedules)
      out += s.identity + " " + s.source.path + ":" + std::to_string(s.source.line) + " target " +
             repo.documents[s.target].identity + " " + describe(s.ns, s.name, s.source.line, s.spec) + "\n";
    for (const auto& e : repo.errors) out += e.format() + "\n";
    return out;
  };
  const std::string got = describeRepo(gitfed::render::loadRepository(shortWay));
  CHECK(got == describeRepo(gitfed::render::loadRepository(generalWay)));
  CHECK(got.find("is already scheduled by apps/api.yaml:7") != std::string::npos);
  CHECK(got.find("no FederatedDeployment none") != std::string::npos);
}
