#include <catch2/catch.hpp>

#include "gitfed/render/selector.h"

using gitfed::render::Labels;
using gitfed::render::parseSelector;
using gitfed::render::selectorFromJson;
using nlohmann::json;

namespace {
bool matches(const char* selector, const Labels& labels) {
  auto s = parseSelector(selector);
  INFO(selector);
  REQUIRE(s.has_value());
  return s->matches(labels);
}
const Labels prod{{"environment", "production"}, {"tier", "web"}, {"region", "eu-west"}};
}  // namespace

TEST_CASE("kubectl selector syntax", "[render][selector]") {
  CHECK(matches("", prod));
  CHECK(matches("environment=production", prod));
  CHECK(matches("environment==production", prod));
  CHECK_FALSE(matches("environment=staging", prod));
  CHECK(matches("environment!=staging", prod));
  CHECK(matches("missing!=x", prod));  // != holds when the label is absent
  CHECK(matches("tier in (web,api)", prod));
  CHECK(matches("tier in ( api , web )", prod));
  CHECK_FALSE(matches("tier notin (web)", prod));
  CHECK(matches("missing notin (web)", prod));
  CHECK_FALSE(matches("missing in (web)", prod));
  CHECK(matches("region", prod));
  CHECK_FALSE(matches("canary", prod));
  CHECK(matches("!canary", prod));
  CHECK_FALSE(matches("!region", prod));
  CHECK(matches("environment=production,tier in (web,api),!canary", prod));
  CHECK_FALSE(matches("environment=production,canary", prod));
  CHECK(matches("example.com/team=shop", {{"example.com/team", "shop"}}));
  CHECK(matches("empty=", {{"empty", ""}}));
}

TEST_CASE("invalid selectors are errors", "[render][selector]") {
  for (const char* bad : {"environment=", "=x", "a in (x", "a in ()", "a notin", "a > 1", "a < 1", "a,,b",
                          "a=b c", "Bad Key=x", "a=b!", "a in (b) c", "tier=-web", "a=" "x/y", "!", ","}) {
    if (std::string(bad) == "environment=") continue;  // `key=` selects an empty value
    INFO(bad);
    auto s = parseSelector(bad);
    CHECK_FALSE(s.has_value());
    if (!s) CHECK_THAT(s.error().message, Catch::Contains("invalid label selector"));
  }
}

TEST_CASE("structured selectors", "[render][selector]") {
  auto s = selectorFromJson(json::parse(R"({"matchLabels": {"environment": "production"},
      "matchExpressions": [{"key": "tier", "operator": "In", "values": ["web"]},
                           {"key": "canary", "operator": "DoesNotExist"},
                           {"key": "region", "operator": "Exists"},
                           {"key": "zone", "operator": "NotIn", "values": ["a"]}]})"));
  REQUIRE(s.has_value());
  CHECK(s->matches(prod));
  auto other = prod;
  other["canary"] = "true";
  CHECK_FALSE(s->matches(other));
  CHECK(selectorFromJson(json::object())->matches({}));
}

TEST_CASE("invalid structured selectors are errors", "[render][selector]") {
  for (const char* bad : {R"({"matchLabels": {"a": true}})", R"({"matchLabels": ["a"]})",
                          R"({"matchExpressions": [{"key": "a", "operator": "In"}]})",
                          R"({"matchExpressions": [{"key": "a", "operator": "Exists", "values": ["x"]}]})",
                          R"({"matchExpressions": [{"key": "a", "operator": "Gt", "values": ["1"]}]})",
                          R"({"matchExpressions": [{"operator": "Exists"}]})", R"({"matchLabel": {"a": "b"}})",
                          R"("environment=production")"}) {
    INFO(bad);
    CHECK_FALSE(selectorFromJson(json::parse(bad)).has_value());
  }
}
