#pragma once
// What `gitfed apply` and the live `gitfed diff` share: their flags, rendering
// a directory for one cluster, connecting to the cluster of a kubeconfig, and
// printing a sync report. Only the two commands use it.

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "gitfed/kube/curl_client.h"
#include "gitfed/render/renderer.h"
#include "gitfed/sync/engine.h"

namespace gitfed::cli {

struct LiveOptions {
  std::string cluster;
  render::Labels labels;
  std::vector<std::string> paths;
  std::optional<std::string> kubeconfig;
  std::string context;
  std::optional<std::string> defaultNamespace;  // else the context's, else "default"
  std::optional<std::string> inventoryId;       // else the cluster name
  std::string inventoryNamespace = "gitfed-system";
  bool prune = false;
  bool allowEmptyPrune = false;
  bool dryRun = false;
  bool reportOnly = false;
  unsigned parallelism = 32;
  double qps = 1000;
  int burst = 2000;
  std::chrono::milliseconds wait{0};
  std::string output = "text";
  bool verbose = false;
};

// Parses the flags both commands take; `extra` says which are allowed beyond
// the common ones ("apply" or "diff"). An empty string on success, else the
// usage error; `help` is set for -h/--help.
std::string parseLiveOptions(const Args& args, const std::string& command, LiveOptions& out, bool& help);

// Renders the paths for the cluster; errors are printed to stderr.
render::RenderResult renderForCluster(const LiveOptions& o);

// A client for the kubeconfig (or in-cluster); nullptr after printing why.
std::unique_ptr<kube::CurlKubeClient> connect(const LiveOptions& o, const std::string& command);

// Engine options from the flags and the client's context namespace.
sync::SyncOptions syncOptions(const LiveOptions& o, const kube::CurlKubeClient& client);

// Logs to stderr: warnings (or everything with --verbose).
void setUpLogging(bool verbose);

// Memory: at most two malloc arenas (the engine's threads mostly wait on the
// network, and each arena keeps free memory of its own), and give back what
// rendering freed before syncing. Call before any thread starts.
void tuneAllocator();
void releaseFreeMemory();

// "apps/v1 Deployment shop/web"
std::string describeObject(const sync::ObjectReport& o);

}  // namespace gitfed::cli
