// readSimpleYamlStream (the reader without libyaml) against the reference,
// readYamlStreamWithLibyaml: whatever the first reads, it must read exactly
// as the second (values, document lines, item lines, no errors). The cases
// it must read are listed, so that the comparison is not made vacuous by a
// reader that declines everything; the cases it must leave to libyaml too.

#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "gitfed/render/document_reader.h"
#include "support/mutate.h"

using gitfed::render::ReadOutcome;
using gitfed::render::readSimpleYamlStream;
using gitfed::render::readYamlStreamWithLibyaml;

namespace {

std::string describe(const ReadOutcome& o) {
  std::string out;
  for (const auto& d : o.documents) {
    out += "line " + std::to_string(d.line) + " items [";
    for (int l : d.itemLines) out += std::to_string(l) + " ";
    out += "] " + d.value.dump() + "\n";
  }
  for (const auto& e : o.errors) out += "error " + e.format() + "\n";
  return out;
}

// When the simple reader reads `text`, libyaml reads the same. Returns
// whether the simple reader read it.
bool sameWhenRead(const std::string& text) {
  auto simple = readSimpleYamlStream(text);
  if (!simple) return false;
  auto reference = readYamlStreamWithLibyaml(text);
  INFO("text:\n" << text);
  CHECK(simple->errors.empty());
  CHECK(describe(*simple) == describe(reference));
  return true;
}

}  // namespace

TEST_CASE("the simple YAML reader reads the common subset exactly as libyaml", "[render][yaml]") {
  const std::vector<std::string> read = {
      "",
      "---\n",
      "---\n---\n# only a comment\n---\n",
      "a: 1\n",
      "a: 1\n---\nb: 2\n",
      "---\na: 1\n---\n\n# c\nb: 2\n",
      "# head\n\n---\n  a: 1\n  b: 2\n",
      "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n  namespace: y  # trailing\ndata:\n  k: v\n",
      "a:\n  b:\n    c: d\n  e: f\ng: h\n",
      "a:\n- 1\n- two\nb: 3\n",
      "a:\n  - 1\n  -   x y\n",
      "items:\n- a: 1\n  b: 2\n-\n  c: 3\n- [x, y]\n- {z: 1}\n- 'q'\n",
      "items: [a, {b: 1}, [c]]\n",
      "kind: List\nitems:\n  - kind: A\n    metadata: {name: a}\n\n  # between\n  - kind: B\n",
      "- a\n- b: c\n  d: e\n- [x]\n",
      "a: {b: c, d: [1, 2.5, -3, 0x1F, 0o17, 1_000, 1e3, .5], e: {}, f: []}\n",
      "a: {name: c, image: registry.example.com/a:1}\nb: [x:1, y]\n",
      "a: \"quoted: # not a comment\"\nb: 'it''s'\nc: ''\nd: \"\"\n",
      "\"a b\": 1\n'c': 2\n",
      "1: one\ntrue: yes\n1.5: float\n0x10: hex\nno: off\n",
      "a: ~\nb: null\nc:\nd: Null\n",
      "a: yes\nb: NO\nc: on\nd: y\ne: 012\nf: 1.0\ng: 2.50\nh: 99999999999999999999\n",
      "a: b#c\nd: e # f\ng: h:i\nj: http://k/l\nm: n, o]p\n",
      "a: x - y\nb: -1\nc: -x\nd: <<\ne: a,b\nf: a[0]\n",
      "metadata: {name: app0000, namespace: ns0}\nspec:\n  clusters: {c0001: {weight: 5, minReplicas: 1}, \"*\": {weight: 1, maxReplicas: 10}}\n",
      "a:\n    # deeper comment\nb: 1\n",
      "a: 1\n   \nb: 2\n",
      "- a:\n  - x\n  - y\n- b\n",
      "- a:\n    b: 1\n  c: 2\n",
      "a: { b: 1 , c: [ 2 , 3 ] }\n",
  };
  for (const auto& text : read) {
    INFO(text);
    CHECK(sameWhenRead(text));
  }
}

TEST_CASE("the simple YAML reader leaves the rest, and every error, to libyaml", "[render][yaml]") {
  const std::vector<std::string> declined = {
      "a: |\n  text\n",
      "a: >\n  text\n",
      "a: b\n  c\n",                 // a plain scalar over two lines
      "a: 'b\n  c'\n",               // a quoted one
      "a: \"b\\tc\"\n",              // an escape
      "a: &x 1\nb: *x\n",            // anchors
      "a: !!str 1\n",                // tags
      "<<: {a: 1}\n",                // merges
      "a:\tb\n",                     // tabs
      "a: 1\r\nb: 2\r\n",            // CRLF
      "a: \xc3\xa9\n",               // not ASCII
      "--- a: 1\n",
      "a: 1\n...\n",
      "%YAML 1.1\n---\na: 1\n",
      "a: [1,\n  2]\n",              // a flow collection over lines
      "a: [1, 2,]\n",
      "a: {b}\n",
      "a: {\"b\":1}\n",
      "a: [b: c]\n",
      "a: [x:]\n",
      "a: [x?y]\n",
      "? a\n: b\n",
      "a: 1\na: 2\n",                // errors
      "a: b: c\n",
      "a: 1\n b: 2\n",
      "a:\n  - 1\n  b: 2\n",
      "- a\n  - b\n",
      "- - x\n",
      "{x: 1}: 3\n",
      "m: [n, o]p\n",
      "-\n- b\n",                     // a null item
      "just a scalar\n",
      "[a, b]\n",
      "~: 1\n",
      "a: .inf\n",
  };
  for (const auto& text : declined) {
    INFO(text);
    CHECK_FALSE(readSimpleYamlStream(text).has_value());
  }
  // Deep nesting is left to libyaml's reader and its limits.
  std::string deep = "a:\n";
  for (int i = 1; i < 80; ++i) deep += std::string(static_cast<std::size_t>(2 * i), ' ') + "a:\n";
  CHECK_FALSE(readSimpleYamlStream(deep).has_value());
  CHECK_FALSE(readSimpleYamlStream("a: [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]\n").has_value());
}

TEST_CASE("the simple YAML reader agrees with libyaml on the repository's files", "[render][yaml]") {
  int files = 0, read = 0;
  for (const char* dir : {"examples", "test/golden", "test/unit/render/kubectl-corpus", "test/unit/render/kubectl-corpus-errors"})
    for (const auto& entry : std::filesystem::recursive_directory_iterator(std::filesystem::path(GITFED_SOURCE_DIR) / dir)) {
      if (!entry.is_regular_file() || (entry.path().extension() != ".yaml" && entry.path().extension() != ".yml")) continue;
      std::ifstream in(entry.path(), std::ios::binary);
      std::stringstream text;
      text << in.rdbuf();
      INFO(entry.path().string());
      ++files;
      read += sameWhenRead(text.str()) ? 1 : 0;
    }
  CHECK(files > 40);
  CHECK(read > files / 2);
}

TEST_CASE("the simple YAML reader agrees with libyaml on mutated manifests", "[render][yaml]") {
  // Manifests with one to three random edits (characters YAML gives a
  // meaning to, deleted lines and indentation): where the simple reader still
  // reads the text, libyaml must read it the same, without an error.
  const std::vector<std::string> seeds = {
      "apiVersion: types.kubefed.io/v1beta1\nkind: FederatedDeployment\nmetadata: {name: app0007, namespace: ns7}\n"
      "spec:\n  template:\n    spec:\n      replicas: 3\n      selector: {matchLabels: {app: a0007}}\n"
      "      template: {metadata: {labels: {app: a0007}}, spec: {containers: [{name: c, image: registry.example.com/a:1}]}}\n"
      "  placement: {clusterSelector: {matchLabels: {environment: production}}}\n---\n"
      "apiVersion: scheduling.kubefed.io/v1alpha1\nkind: ReplicaSchedulingPreference\n"
      "metadata: {name: app0007, namespace: ns7}\nspec:\n  targetKind: FederatedDeployment\n"
      "  totalReplicas: 507\n  clusters: {c0001: {weight: 5, minReplicas: 1}, \"*\": {weight: 1, maxReplicas: 10}}\n",
      "kind: List\nitems:\n- apiVersion: v1\n  kind: ConfigMap\n  metadata:\n    name: a  # the first\n  data:\n"
      "    'key': \"value\"\n    n: 1.5\n-\n  apiVersion: v1\n  kind: Secret\n  metadata: {name: b}\n  stringData:\n"
      "    list:\n    - x\n    - [y, z]\n",
  };
  const std::string alphabet = " :-#{}[],'\"\n\n  xy01.~?*&!|>%";
  const int read = gitfed::test::countMutationsRead(seeds, alphabet, 6000, sameWhenRead);
  CHECK(read > 1000);  // the simple reader reads many of them, not only the unchanged ones
}
