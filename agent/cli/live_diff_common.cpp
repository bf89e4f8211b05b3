#include "cli/live_diff_common.h"

#include <malloc.h>

#include <cstdio>
#include <filesystem>

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include "cli/arg_walker.h"

namespace gitfed::cli {

namespace {

std::optional<std::chrono::milliseconds> parseDuration(const std::string& s) {
  // 90s, 2m, 500ms, 1h, or plain seconds.
  std::size_t used = 0;
  double v = 0;
  try {
    v = std::stod(s, &used);
  } catch (...) {
    return std::nullopt;
  }
  if (v < 0) return std::nullopt;
  std::string unit = s.substr(used);
  double ms = unit == "ms" ? v : unit == "s" || unit.empty() ? v * 1000 : unit == "m" ? v * 60000 : unit == "h" ? v * 3600000 : -1;
  if (ms < 0) return std::nullopt;
  return std::chrono::milliseconds(static_cast<long long>(ms));
}

}  // namespace

std::string parseLiveOptions(const Args& args, const std::string& command, LiveOptions& o, bool& help) {
  const bool apply = command == "apply";
  help = false;
  for (ArgWalker w(args); w.next();) {
    const std::string a = w.name();
    auto take = [&](std::string& out) { return w.value(out); };
    auto number = [&](const char* flag, double lo, double hi, double& out) -> std::string {
      std::string v;
      if (!take(v)) return std::string(flag) + " needs a number";
      try {
        std::size_t used = 0;
        out = std::stod(v, &used);
        if (used != v.size() || out < lo || out > hi) throw std::out_of_range(v);
      } catch (...) {
        return std::string(flag) + ": \"" + v + "\" is not a number in " + std::to_string(static_cast<long>(lo)) + ".." +
               std::to_string(static_cast<long>(hi));
      }
      return {};
    };
    std::string v;
    double n = 0;
    if (a == "-h" || a == "--help") {
      help = true;
      return {};
    } else if (a == "--cluster") {
      if (!take(v) || v.empty()) return "--cluster needs a name";
      o.cluster = v;
    } else if (a == "--label") {
      if (!take(v) || v.find('=') == std::string::npos) return "--label needs KEY=VALUE";
      std::string key = v.substr(0, v.find('=')), val = v.substr(v.find('=') + 1);
      if (!render::isValidLabelKey(key) || !render::isValidLabelValue(val)) return "--label " + v + ": invalid label";
      o.labels[key] = val;
    } else if (a == "--kubeconfig") {
      if (!take(v) || v.empty()) return "--kubeconfig needs a file";
      o.kubeconfig = v;
    } else if (a == "--context") {
      if (!take(o.context) || o.context.empty()) return "--context needs a name";
    } else if (a == "--namespace" || a == "-n") {
      if (!take(v) || v.empty()) return "--namespace needs a name";
      o.defaultNamespace = v;
    } else if (a == "--inventory-id") {
      if (!take(v) || v.empty()) return "--inventory-id needs a value";
      o.inventoryId = v;
    } else if (a == "--inventory-namespace") {
      if (!take(o.inventoryNamespace) || o.inventoryNamespace.empty()) return "--inventory-namespace needs a name";
    } else if (a == "--prune") {
      o.prune = true;
    } else if (a == "--output" || a == "-o") {
      if (!take(o.output) || (o.output != "text" && o.output != "json")) return "--output must be text or json";
    } else if (a == "--verbose" || a == "-v") {
      o.verbose = true;
    } else if (a == "--parallelism") {
      if (auto e = number("--parallelism", 1, 256, n); !e.empty()) return e;
      o.parallelism = static_cast<unsigned>(n);
    } else if (a == "--qps") {
      if (auto e = number("--qps", 0, 100000, n); !e.empty()) return e;
      o.qps = n;
    } else if (a == "--burst") {
      if (auto e = number("--burst", 1, 100000, n); !e.empty()) return e;
      o.burst = static_cast<int>(n);
    } else if (apply && a == "--allow-empty-prune") {
      o.allowEmptyPrune = true;
    } else if (apply && a == "--dry-run") {
      o.dryRun = true;
    } else if (apply && a == "--report-only") {
      o.reportOnly = true;
    } else if (apply && a == "--wait") {
      if (!take(v)) return "--wait needs a duration (e.g. 2m)";
      auto d = parseDuration(v);
      if (!d) return "--wait: \"" + v + "\" is not a duration (e.g. 90s, 2m)";
      o.wait = *d;
    } else if (a.starts_with("-") && a != "-") {
      return "unknown option " + w.raw();
    } else {
      o.paths.push_back(a);
    }
  }
  if (o.cluster.empty()) return "--cluster is required";
  if (o.paths.empty()) o.paths.push_back(".");
  return {};
}

render::RenderResult renderForCluster(const LiveOptions& o) {
  // As `gitfed render`: one PATH is the repository's root (a file renders
  // from its directory); several are roots inside the current directory.
  std::filesystem::path treeRoot = ".";
  render::LoadOptions options;
  if (o.paths.size() == 1) {
    std::error_code ec;
    treeRoot = o.paths[0];
    if (std::filesystem::is_regular_file(treeRoot, ec)) {
      options.roots = {treeRoot.filename().string()};
      treeRoot = treeRoot.has_parent_path() ? treeRoot.parent_path() : std::filesystem::path(".");
    }
  } else {
    options.roots = o.paths;
  }
  render::DiskSourceTree tree(treeRoot);
  // The repository is dropped before syncing: only the rendered objects stay.
  auto repo = render::loadRepository(tree, options);
  auto result = render::renderCluster(repo, o.cluster, o.labels);
  for (const auto& e : result.errors) std::fprintf(stderr, "%s\n", e.format().c_str());
  return result;
}

std::unique_ptr<kube::CurlKubeClient> connect(const LiveOptions& o, const std::string& command) {
  std::optional<std::filesystem::path> path;
  if (o.kubeconfig) path = *o.kubeconfig;
  auto config = kube::defaultConfig(path, o.context);
  if (!config) {
    std::fprintf(stderr, "gitfed %s: %s\n", command.c_str(), config.error().format().c_str());
    return nullptr;
  }
  config->qps = o.qps;
  config->burst = o.burst;
  config->maxInFlight = static_cast<int>(o.parallelism);
  config->userAgent = "gitfed/" GITFED_VERSION;
  auto client = kube::CurlKubeClient::create(*config);
  if (!client) {
    std::fprintf(stderr, "gitfed %s: %s\n", command.c_str(), client.error().format().c_str());
    return nullptr;
  }
  return std::move(*client);
}

sync::SyncOptions syncOptions(const LiveOptions& o, const kube::CurlKubeClient& client) {
  sync::SyncOptions s;
  s.inventoryId = o.inventoryId.value_or(o.cluster);
  s.inventoryNamespace = o.inventoryNamespace;
  s.defaultNamespace = o.defaultNamespace.value_or(client.config().defaultNamespace.empty()
                                                       ? std::string("default")
                                                       : client.config().defaultNamespace);
  s.prune = o.prune;
  s.allowEmptyPrune = o.allowEmptyPrune;
  s.dryRun = o.dryRun;
  s.driftMode = o.reportOnly ? sync::DriftMode::ReportOnly : sync::DriftMode::SelfHeal;
  s.parallelism = o.parallelism;
  s.healthTimeout = o.wait;
  s.compactDesired = false;  // one round in a short-lived process: time over memory (57 MB at 10,000 objects)
  return s;
}

void setUpLogging(bool verbose) {
  auto logger = spdlog::stderr_color_mt("gitfed");
  logger->set_level(verbose ? spdlog::level::debug : spdlog::level::warn);
  spdlog::set_default_logger(logger);
}

void tuneAllocator() {
  mallopt(M_ARENA_MAX, 2);
  // Fixed: glibc otherwise raises it after big buffers (LIST pages) are freed
  // and keeps later ones in the heap, where they fragment it.
  mallopt(M_MMAP_THRESHOLD, 256 * 1024);
}

void releaseFreeMemory() { malloc_trim(0); }

std::string describeObject(const sync::ObjectReport& o) {
  std::string s = o.ref.apiVersion + " " + o.ref.kind + " " + (o.ref.ns.empty() ? "" : o.ref.ns + "/") + o.ref.name;
  if (!o.tenant.empty()) s += " [tenant " + o.tenant + (o.asTenant ? "" : ", platform-applied") + "]";
  return s;
}

}  // namespace gitfed::cli
