// A long round says how far it is: one info line every progressInterval
// (agent/sync/README.md, "Progress"), from the engine's own ticker thread.

#include <catch2/catch.hpp>

#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include <sstream>
#include <thread>

#include "fake_kube_client.h"
#include "gitfed/render/renderer.h"
#include "gitfed/sync/engine.h"
#include "support/memory_tree.h"

using namespace gitfed::sync;

namespace {

// Captures what the default logger writes while it lives.
struct CapturedLog {
  std::ostringstream out;
  std::shared_ptr<spdlog::logger> previous = spdlog::default_logger();
  CapturedLog() {
    auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(out);
    auto logger = std::make_shared<spdlog::logger>("capture", sink);
    logger->set_level(spdlog::level::info);
    logger->set_pattern("%v");
    spdlog::set_default_logger(logger);
  }
  ~CapturedLog() { spdlog::set_default_logger(previous); }
  std::string text() {
    spdlog::default_logger()->flush();
    return out.str();
  }
};

}  // namespace

TEST_CASE("progress: a round longer than the interval logs how far it is", "[sync][progress]") {
  gitfed::test::FakeKubeClient fake;
  fake.requireNamespaces = false;
  fake.validate = [](const nlohmann::json&, const nlohmann::json& merged) -> std::optional<gitfed::kube::Error> {
    if (merged.value("kind", "") == "ConfigMap") std::this_thread::sleep_for(std::chrono::milliseconds(30));
    return std::nullopt;
  };
  std::string yaml;
  for (int i = 0; i < 20; ++i)
    yaml += "---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: c" + std::to_string(i) + ", namespace: shop}\n";
  gitfed::test::MemoryTree tree;
  tree.file("all.yaml", yaml);
  auto repo = gitfed::render::loadRepository(tree);
  SyncOptions o;
  o.inventoryId = "c1";
  o.parallelism = 1;  // 20 x 30 ms: at least 600 ms
  o.progressInterval = std::chrono::milliseconds(100);
  CapturedLog log;
  Engine engine(fake, o);
  auto report = engine.sync(gitfed::render::renderCluster(repo, "c1"));
  CHECK(report.ok());
  const std::string text = log.text();
  INFO(text);
  CHECK(text.find("sync c1: in progress (applying): ") != std::string::npos);
  CHECK(text.find(" of 20 writes done, 0 failed, ") != std::string::npos);
}

TEST_CASE("progress: a short round logs no progress line; 0 turns them off", "[sync][progress]") {
  gitfed::test::FakeKubeClient fake;
  fake.requireNamespaces = false;
  gitfed::test::MemoryTree tree;
  tree.file("all.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, namespace: shop}\n");
  auto repo = gitfed::render::loadRepository(tree);
  SyncOptions o;
  o.inventoryId = "c1";
  o.progressInterval = std::chrono::milliseconds(0);
  CapturedLog log;
  Engine engine(fake, o);
  CHECK(engine.sync(gitfed::render::renderCluster(repo, "c1")).ok());
  CHECK(log.text().find("in progress") == std::string::npos);
}
