#include <catch2/catch.hpp>

#include "gitfed/render/substitution.h"

using gitfed::render::ClusterIdentity;
using gitfed::render::substituteString;
using gitfed::render::substituteValues;
using nlohmann::json;

namespace {
const ClusterIdentity eu{"eu-west-1", {{"region", "eu-west"}, {"environment", "production"}}};
std::string sub(const char* s) {
  auto r = substituteString(s, eu);
  INFO(s);
  REQUIRE(r.has_value());
  return *r;
}
std::string subError(const char* s) {
  auto r = substituteString(s, eu);
  INFO(s);
  REQUIRE_FALSE(r.has_value());
  return r.error().message;
}
}  // namespace

TEST_CASE("cluster variables", "[render][substitution]") {
  CHECK(sub("${cluster.name}") == "eu-west-1");
  CHECK(sub("db.${cluster.labels.region}.example.com") == "db.eu-west.example.com");
  CHECK(sub("${cluster.labels.tier:-standard}") == "standard");
  CHECK(sub("${cluster.labels.region:-x}") == "eu-west");
  CHECK(sub("${cluster.labels.tier:-}") == "");
  CHECK(sub("$${cluster.name}") == "${cluster.name}");
  CHECK(sub("$${cluster.labels.nope}") == "${cluster.labels.nope}");
  CHECK(sub("${HOME} and ${other.name} and $cluster.name") == "${HOME} and ${other.name} and $cluster.name");
  CHECK(sub("${cluster.name}-${cluster.name}") == "eu-west-1-eu-west-1");
  CHECK(sub("${cluster.labels.tier:-a:-b}") == "a:-b");
}

TEST_CASE("unknown variables and missing labels are errors", "[render][substitution]") {
  CHECK_THAT(subError("${cluster.labels.tier}"), Catch::Contains("has no label \"tier\""));
  CHECK_THAT(subError("${cluster.region}"), Catch::Contains("unknown variable ${cluster.region}"));
  CHECK_THAT(subError("${cluster.labels}"), Catch::Contains("unknown variable"));
  CHECK_THAT(subError("${cluster.labels.}"), Catch::Contains("names no label"));
  CHECK_THAT(subError("${cluster.name"), Catch::Contains("unterminated"));
}

TEST_CASE("substitution touches string values only, never keys", "[render][substitution]") {
  json v = json::parse(R"({"${cluster.name}": "${cluster.name}", "n": 5, "list": ["${cluster.labels.region}", true]})");
  REQUIRE(substituteValues(v, eu).has_value());
  CHECK(v == json::parse(R"({"${cluster.name}": "eu-west-1", "n": 5, "list": ["eu-west", true]})"));
}

TEST_CASE("the result is always a string", "[render][substitution]") {
  ClusterIdentity c{"c", {{"replicas", "3"}}};
  json v = {{"replicas", "${cluster.labels.replicas}"}};
  REQUIRE(substituteValues(v, c).has_value());
  CHECK(v["replicas"] == json("3"));
}

TEST_CASE("substitution errors name the JSON pointer", "[render][substitution]") {
  json v = json::parse(R"({"spec": {"a/b": ["x", "${cluster.labels.tier}"]}})");
  auto r = substituteValues(v, eu);
  REQUIRE_FALSE(r.has_value());
  CHECK_THAT(r.error().message, Catch::Contains("(at /spec/a~1b/1)"));
}
