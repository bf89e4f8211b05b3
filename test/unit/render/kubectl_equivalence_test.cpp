// The renderer reads YAML exactly as kubectl does: every file of
// kubectl-corpus/ is read by `kubectl label --local -f FILE -o json` (kubectl's
// own reading, with no cluster) and by `gitfed render -o json`, and the objects
// must be equal. kubectl is a test dependency (preinstalled on our machines).

#include <catch2/catch.hpp>

#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>

#include "support/run.h"

using gitfed::test::gitfedBinary;
using gitfed::test::run;
using gitfed::test::shellQuote;
using nlohmann::json;

namespace {

// kubectl prints one JSON List, one object, or a stream of objects.
std::map<std::string, json> byIdentity(const std::string& text) {
  std::map<std::string, json> out;
  auto add = [&](json o) {
    auto& md = o["metadata"];
    if (md.contains("labels")) {
      md["labels"].erase("gitfed-corpus");
      if (md["labels"].empty()) md.erase("labels");
    }
    std::string id = o["kind"].get<std::string>() + "/" + md.value("namespace", "") + "/" + md["name"].get<std::string>();
    out[id] = std::move(o);
  };
  std::istringstream in(text);
  while ((in >> std::ws) && in.peek() != EOF) {
    json value;
    in >> value;
    if (value.value("kind", "") == "List")
      for (const auto& item : value["items"]) add(item);
    else
      add(std::move(value));
  }
  return out;
}

}  // namespace

TEST_CASE("gitfed reads every corpus file exactly as kubectl does", "[render][kubectl]") {
  auto dir = std::filesystem::path(GITFED_SOURCE_DIR) / "test/unit/render/kubectl-corpus";
  int files = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    std::string file = entry.path().string();
    INFO(file);
    auto kubectl = run("kubectl label --local -f " + shellQuote(file) + " -o json gitfed-corpus=x");
    REQUIRE(kubectl.status == 0);
    auto gitfed = run(gitfedBinary() + " render --cluster c --output json " + shellQuote(file));
    INFO(gitfed.err);
    REQUIRE(gitfed.status == 0);
    auto expected = byIdentity(kubectl.out);
    auto actual = byIdentity(gitfed.out);
    REQUIRE(expected.size() == actual.size());
    for (const auto& [id, object] : expected) {
      INFO(id);
      REQUIRE(actual.contains(id));
      CHECK(actual[id].dump(2) == object.dump(2));
    }
    ++files;
  }
  CHECK(files >= 6);
}

TEST_CASE("every file kubectl refuses, gitfed refuses too, naming file and line", "[render][kubectl][lists]") {
  auto dir = std::filesystem::path(GITFED_SOURCE_DIR) / "test/unit/render/kubectl-corpus-errors";
  int files = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    std::string file = entry.path().string();
    INFO(file);
    auto kubectl = run("kubectl label --local -f " + shellQuote(file) + " -o json gitfed-corpus=x");
    CHECK(kubectl.status != 0);
    auto gitfed = run(gitfedBinary() + " render --cluster c --output json " + shellQuote(file));
    CHECK(gitfed.status != 0);
    CHECK(gitfed.out.empty());  // nothing half-rendered
    // "FILE:LINE: message"
    CHECK_THAT(gitfed.err, Catch::Contains(entry.path().filename().string() + ":"));
    CHECK_THAT(gitfed.err, Catch::Matches("(.|\\n)*\\.yaml:[1-9][0-9]*: (.|\\n)*"));
    ++files;
  }
  CHECK(files >= 8);
}

TEST_CASE("kubectl reads gitfed's YAML output as gitfed's JSON output", "[render][kubectl][writer]") {
  // Every string a writer can get wrong, in one ConfigMap.
  gitfed::test::TempDir d;
  std::string yaml = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: tricky, namespace: default}\ndata:\n";
  const char* values[] = {"", "true", "yes", "n", "80", "0644", "1e3", "<<", "- x", "? x", ": x", "a: b", "a #b",
                          "#c", "[a]", "{a}", "*a", "&a", "!a", "|", ">", "'", "\\\"", "%x", "@x", " lead", "trail ",
                          "tab\\there", "line\\nbreak", "ends\\n", "two\\n\\n", "\\nstarts", "a\\r\\nb", "\\u00e9",
                          "\\u0085", "\\u2028", "\\ufeffbom", "x\\n \\ny", "x\\n  indented\\ny\\n", "~", "null",
                          "2024-01-01", "1.2.3"};
  int i = 0;
  for (const char* v : values) yaml += "  k" + std::to_string(i++) + ": \"" + v + "\"\n";
  d.write("in/cm.yaml", yaml);
  auto rendered = run(gitfedBinary() + " render --cluster c " + shellQuote((d.path() / "in").string()));
  REQUIRE(rendered.status == 0);
  d.write("out.yaml", rendered.out);
  auto kubectl = run("kubectl label --local -f " + shellQuote((d.path() / "out.yaml").string()) + " -o json gitfed-corpus=x");
  INFO(rendered.out);
  REQUIRE(kubectl.status == 0);
  auto ours = run(gitfedBinary() + " render --cluster c --output json " + shellQuote((d.path() / "in").string()));
  REQUIRE(ours.status == 0);
  auto expected = byIdentity(kubectl.out);
  auto actual = byIdentity(ours.out);
  REQUIRE(expected.size() == 1);
  CHECK(actual.begin()->second.dump(2) == expected.begin()->second.dump(2));
}
