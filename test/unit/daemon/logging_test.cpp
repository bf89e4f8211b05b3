// gitfed::daemon logging: one JSON object per line, fields merged, escaped.

#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include "gitfed/daemon/logging.h"

using namespace gitfed::daemon;
using nlohmann::json;

TEST_CASE("logging: a plain message becomes one JSON object", "[daemon]") {
  auto line = formatJsonLine("2026-11-22T10:00:00.000Z", "info", "sync c1: Synced", json{{"cluster", "c1"}});
  REQUIRE(line.ends_with("}\n"));
  CHECK(line.find('\n') == line.size() - 1);
  auto j = json::parse(line);
  CHECK(j == json{{"time", "2026-11-22T10:00:00.000Z"}, {"level", "info"}, {"msg", "sync c1: Synced"}, {"cluster", "c1"}});
}

TEST_CASE("logging: fields after the mark are merged; quotes, newlines and bad UTF-8 stay inside the string", "[daemon]") {
  std::string payload = std::string("reconciled") + '\x1f' + json{{"revision", "abc"}, {"objects", 3}}.dump();
  auto j = json::parse(formatJsonLine("t", "warn", payload, json{{"cluster", "c1"}}));
  CHECK(j["msg"] == "reconciled");
  CHECK(j["revision"] == "abc");
  CHECK(j["objects"] == 3);
  CHECK(j["cluster"] == "c1");

  auto line = formatJsonLine("t", "error", "a \"quoted\"\nline \xff\xfe end", json());
  CHECK(line.find('\n') == line.size() - 1);
  auto k = json::parse(line);
  CHECK(k["msg"].get<std::string>().find("\"quoted\"\nline") != std::string::npos);

  // Fields cannot replace the fixed keys; a mark without JSON is just text.
  auto m = json::parse(formatJsonLine("t", "info", std::string("x") + '\x1f' + R"({"msg":"forged","level":"debug"})", json()));
  CHECK(m["msg"] == "x");
  CHECK(m["level"] == "info");
  auto n = json::parse(formatJsonLine("t", "info", std::string("x") + '\x1f' + "not json", json()));
  CHECK(n["msg"] == std::string("x") + '\x1f' + "not json");
}
