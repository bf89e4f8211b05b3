// `gitfed render` as a user runs it: exit statuses, standard output and error.

#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include "support/run.h"

using gitfed::test::gitfedBinary;
using gitfed::test::run;
using gitfed::test::shellQuote;
using gitfed::test::TempDir;

namespace {
std::string render(const std::string& args) { return gitfedBinary() + " render " + args; }
const char* kCm = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, namespace: ns}\ndata: {k: '${cluster.name}'}\n";
}  // namespace

TEST_CASE("render prints YAML by default and JSON on request", "[cli][render]") {
  TempDir d;
  d.write("a.yaml", kCm);
  auto r = run(render("--cluster eu " + shellQuote(d.path().string())));
  CHECK(r.status == 0);
  CHECK(r.err.empty());
  CHECK(r.out == "apiVersion: v1\ndata:\n  k: eu\nkind: ConfigMap\nmetadata:\n  name: c\n  namespace: ns\n");
  r = run(render("--cluster=eu --output json " + shellQuote(d.path().string())));
  CHECK(r.status == 0);
  auto j = nlohmann::json::parse(r.out);
  CHECK(j["apiVersion"] == "v1");
  CHECK(j["kind"] == "List");
  CHECK(j["items"][0]["data"]["k"] == "eu");
}

TEST_CASE("render defaults to the current directory", "[cli][render]") {
  TempDir d;
  d.write("x/a.yaml", kCm);
  auto r = run("cd " + shellQuote(d.path().string()) + " && " + render("--cluster eu"));
  CHECK(r.status == 0);
  CHECK(r.out.find("name: c") != std::string::npos);
}

TEST_CASE("render: repository errors go to stderr as PATH:LINE, exit 1, nothing on stdout", "[cli][render]") {
  TempDir d;
  d.write("good.yaml", kCm);
  d.write("apps/bad.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n  name: y\n");
  d.write("apps/worse.yaml", "a: [\n");
  auto r = run(render("--cluster eu " + shellQuote(d.path().string())));
  CHECK(r.status == 1);
  CHECK(r.out.empty());
  CHECK(r.err.find("apps/bad.yaml:5: duplicate key \"name\" in a mapping\n") != std::string::npos);
  CHECK(r.err.find("apps/worse.yaml:2: invalid YAML") != std::string::npos);
}

TEST_CASE("render: usage errors exit 2", "[cli][render]") {
  for (const char* args : {"", "--cluster", "--cluster ''", "--cluster eu --output xml", "--cluster eu --bogus",
                           "--cluster eu --label novalue", "--cluster eu --label 'bad key=x'",
                           "--cluster eu --label k=-bad-"}) {
    INFO(args);
    auto r = run(render(args));
    CHECK(r.status == 2);
    CHECK(r.out.empty());
    CHECK_FALSE(r.err.empty());
  }
  CHECK(run(gitfedBinary() + " frobnicate").status == 2);
  CHECK(run(gitfedBinary()).status == 2);
}

TEST_CASE("render: --label overlays the registry", "[cli][render]") {
  TempDir d;
  d.write("c.yaml", "apiVersion: gitfed.io/v1alpha1\nkind: Cluster\nmetadata: {name: eu, labels: {tier: gold}}\n");
  d.write("a.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata: {t: '${cluster.labels.tier}'}\n");
  auto r = run(render("--cluster eu " + shellQuote(d.path().string())));
  CHECK(r.out.find("t: gold") != std::string::npos);
  r = run(render("--cluster eu --label tier=silver " + shellQuote(d.path().string())));
  CHECK(r.out.find("t: silver") != std::string::npos);
}

TEST_CASE("render: several PATHs are roots of one repository", "[cli][render]") {
  TempDir d;
  d.write("a/x.yaml", kCm);
  d.write("b/y.yaml", "apiVersion: v1\nkind: Secret\nmetadata: {name: s}\n");
  d.write("c/z.yaml", "apiVersion: v1\nkind: Secret\nmetadata: {name: not-read}\n");
  auto r = run("cd " + shellQuote(d.path().string()) + " && " + render("--cluster eu a b"));
  CHECK(r.status == 0);
  CHECK(r.out.find("name: s") != std::string::npos);
  CHECK(r.out.find("name: c") != std::string::npos);
  CHECK(r.out.find("not-read") == std::string::npos);
}

TEST_CASE("render: a root that does not exist is an error", "[cli][render]") {
  auto r = run(render("--cluster eu /nonexistent/gitfed/path"));
  CHECK(r.status == 1);
  CHECK(r.err.find("No such file or directory") != std::string::npos);
}

TEST_CASE("render: YAML output reads back identically (kubectl's reading of our output)", "[cli][render]") {
  TempDir d;
  d.write("a.yaml",
          "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata:\n  a: 'true'\n  b: '80'\n  c: ''\n  d: 'null'\n"
          "  e: '0x10'\n  f: |\n    line1\n    line2\n  g: 'no newline\\nat end'\n  h: '<<'\n  i: '  lead'\n  j: '#x'\n"
          "  k: ': colon'\n  l: '1e3'\n  m: '~'\n  n2: 'y'\n  o: \"tab\\there\"\n  p: \"trail\\n\\n\"\n");
  auto first = run(render("--cluster eu --output json " + shellQuote(d.path().string())));
  auto yaml = run(render("--cluster eu " + shellQuote(d.path().string())));
  REQUIRE(yaml.status == 0);
  d.write("again/out.yaml", yaml.out);
  auto second = run(render("--cluster eu --output json " + shellQuote((d.path() / "again").string())));
  REQUIRE(second.status == 0);
  CHECK(nlohmann::json::parse(first.out) == nlohmann::json::parse(second.out));
}
