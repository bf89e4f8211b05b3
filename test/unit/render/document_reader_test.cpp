#include <catch2/catch.hpp>

#include <string>

#include "gitfed/render/document_reader.h"

using gitfed::render::readJsonDocument;
using gitfed::render::readYamlStream;
using nlohmann::json;

namespace {

json one(const std::string& yaml) {
  auto out = readYamlStream(yaml);
  INFO(yaml);
  for (const auto& e : out.errors) INFO(e.format());
  REQUIRE(out.errors.empty());
  REQUIRE(out.documents.size() == 1);
  return out.documents[0].value;
}

std::string firstError(const std::string& yaml, int* line = nullptr) {
  auto out = readYamlStream(yaml);
  REQUIRE_FALSE(out.errors.empty());
  if (line) *line = out.errors[0].line;
  return out.errors[0].message;
}

// An alias bomb: each level doubles... by ten: 10^levels nodes by expansion.
std::string aliasBomb(int levels) {
  std::string y = "a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n";
  for (int i = 1; i <= levels; ++i) {
    std::string p = "*a" + std::to_string(i - 1);
    y += "a" + std::to_string(i) + ": &a" + std::to_string(i) + " [" + p;
    for (int j = 0; j < 9; ++j) y += ", " + p;
    y += "]\n";
  }
  return y;
}

}  // namespace

TEST_CASE("documents are separated by ---; empty ones are skipped", "[render][yaml]") {
  auto out = readYamlStream("a: 1\n---\n# only a comment\n---\nnull\n---\n~\n---\nb: 2\n---\n");
  REQUIRE(out.errors.empty());
  REQUIRE(out.documents.size() == 2);
  CHECK(out.documents[0].value == json{{"a", 1}});
  CHECK(out.documents[1].value == json{{"b", 2}});
  CHECK(out.documents[1].line == 9);
}

TEST_CASE("scalars resolve as kubectl resolves them, quoted ones stay strings", "[render][yaml]") {
  auto v = one("a: yes\nb: 'yes'\nc: \"80\"\nd: 0644\ne: !!str 42\nf: |\n  text\ng: 2024-01-01\nh:\ni: 1_000\n");
  CHECK(v["a"] == json(true));
  CHECK(v["b"] == json("yes"));
  CHECK(v["c"] == json("80"));
  CHECK(v["d"] == json(420));
  CHECK(v["e"] == json("42"));
  CHECK(v["f"] == json("text\n"));
  CHECK(v["g"] == json("2024-01-01"));
  CHECK(v["h"].is_null());
  CHECK(v["i"] == json(1000));
}

TEST_CASE("non-string keys become strings", "[render][yaml]") {
  auto v = one("80: http\n0x10: hex\ny: yes-key\nNo: no-key\n1.5: f\n'443': quoted\n1e3: e\n");
  CHECK(v["80"] == json("http"));
  CHECK(v["16"] == json("hex"));
  CHECK(v["true"] == json("yes-key"));
  CHECK(v["false"] == json("no-key"));
  CHECK(v["1.5"] == json("f"));
  CHECK(v["443"] == json("quoted"));
  CHECK(v["1000"] == json("e"));
  CHECK(v.size() == 7);
}

TEST_CASE("keys that collide after conversion are duplicates", "[render][yaml]") {
  int line = 0;
  CHECK_THAT(firstError("y: 1\non: 2\n", &line), Catch::Contains("duplicate key \"true\""));
  CHECK(line == 2);
  CHECK_THAT(firstError("80: a\n\"80\": b\n"), Catch::Contains("duplicate key \"80\""));
}

TEST_CASE("a key defined twice in one mapping is an error", "[render][yaml]") {
  int line = 0;
  auto msg = firstError("metadata:\n  name: a\n  labels: {}\n  name: b\n", &line);
  CHECK_THAT(msg, Catch::Contains("duplicate key \"name\""));
  CHECK(line == 4);
}

TEST_CASE("a null key is an error", "[render][yaml]") {
  CHECK_THAT(firstError("~: x\n"), Catch::Contains("may not be null"));
}

TEST_CASE("complex keys are an error", "[render][yaml]") {
  CHECK_THAT(firstError("? [a, b]\n: c\n"), Catch::Contains("key must be a scalar"));
  CHECK_THAT(firstError("base: &b [1]\n*b : c\n"), Catch::Contains("key must be a scalar"));
}

// As kubectl (go-yaml v2) reads them: a merge assigns its keys where `<<` is
// written, so keys written after it win and keys before it are overwritten;
// within a list the earlier mapping wins. Checked with
// `kubectl label --local -f FILE -o json`.
TEST_CASE("merge keys merge as in kubectl", "[render][yaml]") {
  auto v = one(
      "base: &base {a: 1, b: 1}\n"
      "other: &other {b: 2, c: 2}\n"
      "one:\n  a: 0\n  <<: *base\n"
      "after:\n  <<: *base\n  a: 9\n"
      "list:\n  <<: [*other, *base]\n"
      "inline:\n  <<: {x: 1}\n  z: 2\n");
  CHECK(v["one"] == json{{"a", 1}, {"b", 1}});
  CHECK(v["after"] == json{{"a", 9}, {"b", 1}});
  CHECK(v["list"] == json{{"a", 1}, {"b", 2}, {"c", 2}});
  CHECK(v["inline"] == json{{"x", 1}, {"z", 2}});
}

TEST_CASE("a merged key is not a duplicate; an explicit key twice is", "[render][yaml]") {
  auto v = one("b: &b {a: 1}\nm:\n  <<: *b\n  a: 2\n");
  CHECK(v["m"] == json{{"a", 2}});
  CHECK_THAT(firstError("b: &b {a: 1}\nm:\n  a: 0\n  <<: *b\n  a: 2\n"), Catch::Contains("duplicate key \"a\""));
}

TEST_CASE("float keys keep their float spelling", "[render][yaml]") {
  auto v = one("123456789.0: a\n1.0: b\n");
  CHECK(v.contains("1.2345679e+08"));
  CHECK(v.contains("1"));
}

TEST_CASE("a quoted << is an ordinary key", "[render][yaml]") {
  auto v = one("'<<': {a: 1}\n");
  CHECK(v["<<"] == json{{"a", 1}});
}

TEST_CASE("a merge of something other than a mapping is an error", "[render][yaml]") {
  CHECK_THAT(firstError("a: &s scalar\nb:\n  <<: *s\n"), Catch::Contains("merge key"));
  CHECK_THAT(firstError("b:\n  <<: [1, 2]\n"), Catch::Contains("merge key"));
}

TEST_CASE("anchors and aliases expand", "[render][yaml]") {
  auto v = one("x: &v {a: [1, 2]}\nk: *v\nz: &s hello\nw: *s\n");
  CHECK(v["k"] == json{{"a", {1, 2}}});
  CHECK(v["w"] == json("hello"));
}

TEST_CASE("an unknown anchor is an error", "[render][yaml]") {
  CHECK_THAT(firstError("a: *nope\n"), Catch::Contains("unknown anchor"));
}

TEST_CASE("a self-referencing alias fails", "[render][yaml]") {
  CHECK_THAT(firstError("x: &x [*x]\n"), Catch::Contains("refers to a node that contains it"));
  CHECK_THAT(firstError("x: &x {a: {b: *x}}\n"), Catch::Contains("refers to a node that contains it"));
}

// Fast and bounded by construction: an alias's size is counted before it is
// copied, so reading stops at the limit instead of expanding 10^10 nodes (the
// time it takes is measured in bench/, not asserted here).
TEST_CASE("an alias bomb fails at the node limit, without expanding", "[render][yaml][hostile]") {
  auto msg = firstError(aliasBomb(9));  // 10^10 nodes by expansion
  CHECK_THAT(msg, Catch::Contains("more than 1000000 nodes"));
}

TEST_CASE("expansion just under the node limit is fine", "[render][yaml]") {
  auto out = readYamlStream(aliasBomb(3));  // about 11,000 nodes
  CHECK(out.errors.empty());
}

TEST_CASE("nesting deeper than 100 levels is an error; thousands do not crash", "[render][yaml][hostile]") {
  std::string ok = std::string(99, '[') + std::string(99, ']');
  CHECK(readYamlStream("a: " + ok + "\n").errors.empty());  // mapping + 99 lists = 100 levels
  CHECK_THAT(firstError("a: " + std::string(100, '[') + std::string(100, ']') + "\n"),
             Catch::Contains("nesting deeper than 100 levels"));
  CHECK_THAT(firstError(std::string(100000, '[') + std::string(100000, ']')),
             Catch::Contains("nesting deeper than 100 levels"));
  std::string block;
  for (int i = 0; i < 5000; ++i) block += std::string(static_cast<std::size_t>(i), ' ') + "k:\n";
  CHECK_THAT(firstError(block), Catch::Contains("nesting deeper than 100 levels"));
}

TEST_CASE("nesting reached through an alias counts", "[render][yaml][hostile]") {
  std::string deep = std::string(60, '[') + std::string(60, ']');
  std::string y = "a: &d " + deep + "\nb: " + std::string(50, '[') + "*d" + std::string(50, ']') + "\n";
  CHECK_THAT(firstError(y), Catch::Contains("nesting deeper than 100 levels"));
}

TEST_CASE("a stream of commas is a syntax error, not an endless allocation", "[render][yaml][hostile]") {
  auto out = readYamlStream(std::string(1 << 20, ','));
  REQUIRE(out.errors.size() == 1);
  CHECK_THAT(out.errors[0].message, Catch::StartsWith("invalid YAML"));
  CHECK(out.errors[0].line == 1);
}

TEST_CASE("hundreds of thousands of empty documents are skipped quickly", "[render][yaml][hostile]") {
  std::string y;
  for (int i = 0; i < 300000; ++i) y += "---\n";
  auto out = readYamlStream(y);
  CHECK(out.errors.empty());
  CHECK(out.documents.empty());
}

TEST_CASE("malformed YAML reports the line", "[render][yaml]") {
  int line = 0;
  auto msg = firstError("a: 1\nb: [1, 2\nc: 3\n", &line);
  CHECK_THAT(msg, Catch::StartsWith("invalid YAML"));
  CHECK(line >= 2);
  msg = firstError("a: 1\n  b: 2\n", &line);
  CHECK(line == 2);
  CHECK_THAT(firstError("a: \"unterminated\n"), Catch::StartsWith("invalid YAML"));
  CHECK_THAT(firstError("a:\tb\n\t- x\n"), Catch::StartsWith("invalid YAML"));
}

TEST_CASE("documents before a syntax error are read, the error is reported", "[render][yaml]") {
  auto out = readYamlStream("a: 1\n---\nb: [\n");
  CHECK(out.documents.size() == 1);
  CHECK(out.errors.size() == 1);
}

TEST_CASE("a document with an error does not hide the next one's", "[render][yaml]") {
  auto out = readYamlStream("a: 1\na: 2\n---\nb: .inf\n---\nc: 3\n");
  REQUIRE(out.errors.size() == 2);
  CHECK(out.errors[0].line == 2);
  CHECK(out.errors[1].line == 4);
  REQUIRE(out.documents.size() == 1);
  CHECK(out.documents[0].value == json{{"c", 3}});
}

TEST_CASE(".inf and .nan values are errors with their line", "[render][yaml]") {
  int line = 0;
  CHECK_THAT(firstError("a: 1\nb: -.inf\n", &line), Catch::Contains("-.inf"));
  CHECK(line == 2);
  CHECK(readYamlStream("b: '.inf'\n").errors.empty());
}

TEST_CASE("JSON files read as JSON", "[render][json]") {
  auto out = readJsonDocument(R"({"apiVersion": "v1", "n": 1.0, "s": "yes", "big": 18446744073709551615, "f": 1.5})");
  REQUIRE(out.errors.empty());
  REQUIRE(out.documents.size() == 1);
  auto& v = out.documents[0].value;
  CHECK(v["s"] == json("yes"));
  CHECK(v["n"] == json(1));
  CHECK(v["f"] == json(1.5));
  CHECK(v["big"].is_number_float());  // beyond int64: a float64, as in kubectl
}

TEST_CASE("JSON errors: syntax with line, duplicate keys, depth", "[render][json]") {
  auto out = readJsonDocument("{\n\"a\": 1,\n\"b\": }\n");
  REQUIRE(out.errors.size() == 1);
  CHECK(out.errors[0].line == 3);
  CHECK_THAT(out.errors[0].message, Catch::StartsWith("invalid JSON"));
  out = readJsonDocument(R"({"a": 1, "a": 2})");
  REQUIRE(out.errors.size() == 1);
  CHECK_THAT(out.errors[0].message, Catch::Contains("duplicate key \"a\""));
  out = readJsonDocument(std::string(200000, '[') + std::string(200000, ']'));
  REQUIRE(out.errors.size() == 1);
  CHECK_THAT(out.errors[0].message, Catch::Contains("nesting deeper than 100"));
}

// ------------------------------------------------------------------ lists

TEST_CASE("a list's items carry their own lines, in YAML and in JSON", "[render][yaml][lists]") {
  auto yaml = readYamlStream(
      "apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: ConfigMap\n"  // item 1: line 4
      "- {apiVersion: v1}\n"                                                      // item 2: line 6
      "-\n  - nested\n"                                                           // item 3: line 7 (its sequence starts on 8)
      "- plain\n"                                                                 // item 4: line 9
      "metadata:\n  items: [x]\n");                                               // not the root's items
  REQUIRE(yaml.errors.empty());
  REQUIRE(yaml.documents.size() == 1);
  CHECK(yaml.documents[0].itemLines == std::vector<int>{4, 6, 8, 9});

  auto fromJson = readJsonDocument(
      "{\"kind\": \"List\", \"metadata\": {\"items\": [1, 2]}, \"note\": \"items\",\n"
      "\"items\": [\n  {\"a\": \"x]\\\"\"},\n\n  [1,\n 2], \"s\"\n, {}]}\n");
  REQUIRE(fromJson.errors.empty());
  REQUIRE(fromJson.documents.size() == 1);
  CHECK(fromJson.documents[0].itemLines == std::vector<int>{3, 5, 6, 7});

  auto empty = readJsonDocument("{\"kind\": \"List\", \"items\": [ ]}");
  CHECK(empty.documents.at(0).itemLines.empty());
  CHECK(readYamlStream("kind: ConfigMap\ndata: {items: [a]}\n").documents.at(0).itemLines.empty());
}

TEST_CASE("expandList: kubectl's outcomes", "[render][lists]") {
  using gitfed::render::Document;
  using gitfed::render::expandList;
  auto expand = [](const std::string& yaml, std::vector<gitfed::render::Diagnostic>* errors = nullptr) {
    auto read = readYamlStream(yaml);
    REQUIRE(read.errors.empty());
    std::vector<Document> out;
    std::vector<gitfed::render::Diagnostic> errs;
    for (auto& d : read.documents) expandList(std::move(d), out, errs);
    if (errors) *errors = errs;
    else REQUIRE(errs.empty());
    return out;
  };
  SECTION("not a list: the document itself") {
    auto out = expand("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n");
    REQUIRE(out.size() == 1);
    CHECK(out[0].value["metadata"]["name"] == "a");
  }
  SECTION("kindless items take the list's apiVersion and kind without List") {
    auto out = expand("apiVersion: apps/v1\nkind: DeploymentList\nitems:\n- metadata: {name: d}\n"
                      "- {apiVersion: v1, kind: ConfigMap}\n- {kind: Secret}\n");
    REQUIRE(out.size() == 3);
    CHECK(out[0].value["apiVersion"] == "apps/v1");
    CHECK(out[0].value["kind"] == "Deployment");
    CHECK(out[0].line == 4);
    CHECK(out[1].value["kind"] == "ConfigMap");
    CHECK_FALSE(out[2].value.contains("apiVersion"));  // one of the two given: nothing inherited
  }
  SECTION("a kind without the List suffix is kept; v1 List leaves items kindless") {
    auto out = expand("apiVersion: v1\nkind: Foo\nitems:\n- metadata: {name: f}\n---\n"
                      "apiVersion: v1\nkind: List\nitems:\n- metadata: {name: g}\n");
    REQUIRE(out.size() == 2);
    CHECK(out[0].value["kind"] == "Foo");
    CHECK_FALSE(out[1].value.contains("kind"));
    CHECK(out[1].value["apiVersion"] == "v1");
  }
  SECTION("empty lists and items: with no value stand for nothing") {
    CHECK(expand("apiVersion: v1\nkind: List\nitems: []\n---\napiVersion: v1\nkind: ConfigMap\nitems:\n").empty());
  }
  SECTION("a list without kind is passed on (the loader reports it)") {
    auto out = expand("items: [{kind: ConfigMap}]\n");
    REQUIRE(out.size() == 1);
    CHECK(out[0].value.contains("items"));
  }
  SECTION("errors name the item and its line; the other items are still read") {
    std::vector<gitfed::render::Diagnostic> errors;
    auto out = expand("apiVersion: v1\nkind: List\nitems:\n- text\n- null\n"
                      "- apiVersion: v1\n  kind: List\n  items: []\n- {apiVersion: v1, kind: ConfigMap}\n---\n"
                      "apiVersion: v1\nkind: ConfigMapList\nitems: {a: b}\n",
                      &errors);
    REQUIRE(out.size() == 1);
    CHECK(out[0].line == 9);
    REQUIRE(errors.size() == 4);
    CHECK(std::to_string(errors[0].line) + ": " + errors[0].message == "4: List item 1 is a string, not a mapping (a Kubernetes object)");
    CHECK(std::to_string(errors[1].line) + ": " + errors[1].message == "5: List item 2 is null, not a mapping (a Kubernetes object)");
    CHECK(std::to_string(errors[2].line) + ": " + errors[2].message == "6: List item 3 is itself a list: a list inside a list is not read (kubectl refuses it too)");
    CHECK(std::to_string(errors[3].line) + ": " + errors[3].message == "11: ConfigMapList: items must be a sequence (the objects of the list), not a mapping");
  }
}
