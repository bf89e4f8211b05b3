#include <catch2/catch.hpp>

#include "gitfed/render/json_patch.h"

using gitfed::render::applyPatch;
using gitfed::render::parseJsonPointer;
using gitfed::render::PatchOp;
using nlohmann::json;

namespace {
json doc() { return json::parse(R"({"spec": {"replicas": 3, "list": [1, 2, 3], "a/b": {"~": 1}}, "metadata": {}})"); }

std::string patchError(json& d, PatchOp op, const char* path, json value = nullptr) {
  auto p = parseJsonPointer(path);
  REQUIRE(p.has_value());
  auto r = applyPatch(d, op, *p, value);
  REQUIRE_FALSE(r.has_value());
  return r.error().message;
}

void patch(json& d, PatchOp op, const char* path, json value = nullptr) {
  auto p = parseJsonPointer(path);
  REQUIRE(p.has_value());
  auto r = applyPatch(d, op, *p, value);
  INFO(path);
  REQUIRE(r.has_value());
}
}  // namespace

TEST_CASE("JSON pointers parse with escapes", "[render][patch]") {
  auto p = parseJsonPointer("/spec/a~1b/~0");
  REQUIRE(p.has_value());
  CHECK(p->tokens == std::vector<std::string>{"spec", "a/b", "~"});
  CHECK_FALSE(parseJsonPointer("").has_value());
  CHECK_FALSE(parseJsonPointer("spec/replicas").has_value());
  CHECK_FALSE(parseJsonPointer("/a~2b").has_value());
  CHECK_FALSE(parseJsonPointer("/a~").has_value());
}

TEST_CASE("add sets members and inserts into lists", "[render][patch]") {
  json d = doc();
  patch(d, PatchOp::Add, "/metadata/annotations", {{"tier", "gold"}});
  patch(d, PatchOp::Add, "/spec/list/0", 0);
  patch(d, PatchOp::Add, "/spec/list/-", 4);
  patch(d, PatchOp::Add, "/spec/list/5", 5);
  patch(d, PatchOp::Add, "/spec/replicas", 7);
  patch(d, PatchOp::Add, "/spec/a~1b/~0", 2);
  CHECK(d["metadata"]["annotations"] == json{{"tier", "gold"}});
  CHECK(d["spec"]["list"] == json{0, 1, 2, 3, 4, 5});
  CHECK(d["spec"]["replicas"] == 7);
  CHECK(d["spec"]["a/b"]["~"] == 2);
}

TEST_CASE("replace replaces, and sets a missing member of an existing mapping", "[render][patch]") {
  json d = doc();
  patch(d, PatchOp::Replace, "/spec/replicas", 5);
  patch(d, PatchOp::Replace, "/spec/list/1", 20);
  patch(d, PatchOp::Replace, "/spec/new", "x");
  CHECK(d["spec"]["replicas"] == 5);
  CHECK(d["spec"]["list"] == json{1, 20, 3});
  CHECK(d["spec"]["new"] == "x");
}

TEST_CASE("remove removes existing targets", "[render][patch]") {
  json d = doc();
  patch(d, PatchOp::Remove, "/spec/list/0");
  patch(d, PatchOp::Remove, "/spec/replicas");
  CHECK(d["spec"]["list"] == json{2, 3});
  CHECK_FALSE(d["spec"].contains("replicas"));
}

TEST_CASE("override errors", "[render][patch]") {
  json d = doc();
  CHECK_THAT(patchError(d, PatchOp::Remove, "/spec/missing"), Catch::Contains("nothing at that path"));
  CHECK_THAT(patchError(d, PatchOp::Remove, "/spec/list/3"), Catch::Contains("nothing at that path"));
  CHECK_THAT(patchError(d, PatchOp::Replace, "/spec/list/3", 1), Catch::Contains("out of range"));
  CHECK_THAT(patchError(d, PatchOp::Replace, "/spec/list/-", 1), Catch::Contains("not an index"));
  CHECK_THAT(patchError(d, PatchOp::Add, "/spec/list/9", 1), Catch::Contains("out of range"));
  CHECK_THAT(patchError(d, PatchOp::Add, "/spec/list/01", 1), Catch::Contains("not an index"));
  CHECK_THAT(patchError(d, PatchOp::Add, "/spec/missing/x", 1), Catch::Contains("/spec/missing does not exist"));
  CHECK_THAT(patchError(d, PatchOp::Replace, "/spec/list/7/x", 1), Catch::Contains("does not exist"));
  CHECK_THAT(patchError(d, PatchOp::Add, "/spec/replicas/x", 1), Catch::Contains("/spec/replicas is not a mapping or a list"));
  CHECK(d == doc());  // failed operations change nothing
}
