// The YAML writer: whatever it writes must read back as the same value — with
// our reader (kubectl's rules), and with an independent parser (yaml-cpp).

#include <catch2/catch.hpp>

#include <yaml-cpp/yaml.h>

#include <cstdio>

#include "gitfed/render/document_reader.h"
#include "gitfed/render/writer.h"

using gitfed::render::readYamlStream;
using gitfed::render::toYaml;
using nlohmann::json;

namespace {

json readBack(const std::string& yaml) {
  auto out = readYamlStream(yaml);
  INFO(yaml);
  for (const auto& e : out.errors) INFO(e.format());
  REQUIRE(out.errors.empty());
  REQUIRE(out.documents.size() == 1);
  return out.documents[0].value;
}

// yaml-cpp's view of a scalar is its text; compare structure and text.
void sameAsYamlCpp(const json& v, const YAML::Node& n) {
  if (v.is_object()) {
    REQUIRE(n.IsMap());
    CHECK(n.size() == v.size());
    for (auto it = v.begin(); it != v.end(); ++it) {
      INFO(it.key());
      REQUIRE(n[it.key()]);
      sameAsYamlCpp(it.value(), n[it.key()]);
    }
  } else if (v.is_array()) {
    REQUIRE(n.IsSequence());
    REQUIRE(n.size() == v.size());
    for (std::size_t i = 0; i < v.size(); ++i) sameAsYamlCpp(v[i], n[i]);
  } else if (v.is_null()) {
    CHECK(n.IsNull());
  } else if (v.is_string()) {
    REQUIRE(n.IsScalar());
    CHECK(n.Scalar() == v.get<std::string>());
  } else {
    REQUIRE(n.IsScalar());
    CHECK(n.Scalar() == v.dump());
  }
}

const std::vector<std::string> kTrickyStrings = {
    "", " ", "true", "yes", "y", "n", "on", "off", "null", "Null", "~", "80", "0644", "0x1F", "1.5", "1e3", ".5",
    ".inf", "-.inf", ".nan", "<<", "-", "--", "---", "...", "- x", "-x", "?", "? x", "?x", ":", ": x", ":x", "a:",
    "a: b", "a:b", "#", "# x", "a #b", "a#b", "[a]", "{a}", "a,b", "*alias", "&anchor", "!tag", "!!str", "|", ">",
    "'", "\"", "%x", "@x", "`x", " lead", "trail ", "tab\there", "line\nbreak", "ends\n", "two\n\n", "\n", "\nstarts",
    "a\r\nb", "ctrl\x01x", "del\x7fx", "bell\a", "nul\0x", "日本語", "é", "nel\xc2\x85x", "ls\xe2\x80\xa8x",
    "bom\xef\xbb\xbfx", "  \n  ", "x\n \ny", "x\n  indented\ny\n", "\t", "back\\slash", "2024-01-01", "1.2.3",
    "v1", "registry.example.com/shop/web:1.4.2", "https://example.com/a?b=c#d", "=", "a=b", "100%", "key: value\n"};

}  // namespace

TEST_CASE("every tricky string reads back as itself", "[render][writer]") {
  for (const auto& s : kTrickyStrings) {
    json v = {{"apiVersion", "v1"}, {"value", s}, {s.empty() ? "empty" : s, "as a key"}, {"list", {s, s}}};
    std::string yaml = toYaml(v);
    INFO(yaml);
    CHECK(readBack(yaml) == v);
    sameAsYamlCpp(v, YAML::Load(yaml));
  }
}

TEST_CASE("numbers, booleans and null keep their types", "[render][writer]") {
  json v = json::parse(R"({"i": 42, "neg": -7, "big": 9223372036854775807, "f": 1.5, "small": 0.0025, "huge": 1e300,
                           "t": true, "fa": false, "nil": null, "s": "42"})");
  CHECK(readBack(toYaml(v)) == v);
  sameAsYamlCpp(v, YAML::Load(toYaml(v)));
}

TEST_CASE("nesting: maps in lists, lists in lists, empty collections", "[render][writer]") {
  json v = json::parse(R"({"a": [{"b": 1, "c": [1, [2, 3], [], {}]}, [], {}, [[{"d": {"e": []}}]]],
                           "m": {"n": {"o": {}}}, "empty": {}, "none": []})");
  std::string yaml = toYaml(v);
  CHECK(readBack(yaml) == v);
  sameAsYamlCpp(v, YAML::Load(yaml));
}

TEST_CASE("kubectl's layout", "[render][writer]") {
  json v = json::parse(R"({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c", "labels": {"a": "b"}},
                           "data": {"script": "#!/bin/sh\necho hi\n", "port": "80"},
                           "list": [{"name": "x", "value": "1"}, "plain"]})");
  CHECK(toYaml(v) ==
        "apiVersion: v1\n"
        "data:\n"
        "  port: \"80\"\n"
        "  script: |\n"
        "    #!/bin/sh\n"
        "    echo hi\n"
        "kind: ConfigMap\n"
        "list:\n"
        "- name: x\n"
        "  value: \"1\"\n"
        "- plain\n"
        "metadata:\n"
        "  labels:\n"
        "    a: b\n"
        "  name: c\n");
}

TEST_CASE("deeply nested values are written and read back", "[render][writer]") {
  json v = json::object();
  json* cur = &v;
  for (int i = 0; i < 64; ++i) {  // about 96 levels: within the reader's limit of 100
    (*cur)["k"] = (i % 2) ? json::object() : json::array({json::object()});
    cur = (i % 2) ? &(*cur)["k"] : &(*cur)["k"][0];
  }
  (*cur)["leaf"] = "x";
  CHECK(readBack(toYaml(v)) == v);
}
