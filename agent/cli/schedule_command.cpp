// `gitfed schedule [--output text|json] [--cluster NAME]... [PATH]...`: the
// replica plan of every ReplicaSchedulingPreference over the registry
// (docs/render-spec.md section 8), the numbers each cluster's render gives.

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <set>
#include <string>
#include <tuple>

#include "cli/arg_walker.h"
#include "cli/commands.h"
#include "gitfed/render/renderer.h"

namespace gitfed::cli {
namespace {

constexpr const char* kUsage =
    "usage: gitfed schedule [--output text|json] [--cluster NAME]... [PATH]...\n"
    "\n"
    "Prints the replica plan of every ReplicaSchedulingPreference of the fleet\n"
    "repository under PATH (default .) over its cluster registry: each considered\n"
    "cluster's replicas, 0 included. --cluster shows only the named clusters.\n"
    "Exit status: 0, 1 when the repository has errors, 2 on a usage error.\n";

int usageError(const std::string& message) {
  std::fprintf(stderr, "gitfed schedule: %s\n%s", message.c_str(), kUsage);
  return 2;
}

int scheduleCommand(const Args& args) {
  std::string output = "text";
  std::set<std::string> only;
  std::vector<std::string> paths;
  for (ArgWalker w(args); w.next();) {
    const std::string a = w.name();
    auto take = [&](std::string& out) { return w.value(out); };
    std::string v;
    if (a == "-h" || a == "--help") {
      std::fputs(kUsage, stdout);
      return 0;
    } else if (a == "--output" || a == "-o") {
      if (!take(output) || (output != "text" && output != "json")) return usageError("--output must be text or json");
    } else if (a == "--cluster") {
      if (!take(v) || v.empty()) return usageError("--cluster needs a name");
      only.insert(v);
    } else if (a.starts_with("-")) {
      return usageError("unknown option " + a);
    } else {
      paths.push_back(a);
    }
  }
  render::LoadOptions load;
  std::filesystem::path root = ".";
  if (paths.size() == 1)
    root = paths[0];
  else if (!paths.empty())
    load.roots = paths;
  render::DiskSourceTree tree(root);
  auto repo = render::loadRepository(tree, load);
  struct Item {
    const render::ReplicaSchedule* rsp;
    render::SchedulePlan plan;
  };
  std::vector<Item> items;
  bool failed = false;
  for (const auto& e : repo.errors) {
    std::fprintf(stderr, "%s\n", e.format().c_str());
    failed = true;
  }
  for (const auto& s : repo.schedules) {
    auto plan = render::scheduleOf(repo, s);
    if (!plan.error.empty()) {
      const auto& d = repo.documents[s.target];
      std::fprintf(stderr, "%s:%d: %s\n", d.source.path.c_str(), d.source.line, plan.error.c_str());
      failed = true;
    }
    if (!only.empty()) std::erase_if(plan.clusters, [&](const auto& c) { return !only.contains(c.first); });
    items.push_back({&s, std::move(plan)});
  }
  if (failed) return 1;
  std::sort(items.begin(), items.end(), [](const Item& a, const Item& b) {
    return std::tie(a.rsp->ns, a.rsp->name) < std::tie(b.rsp->ns, b.rsp->name);
  });
  if (output == "json") {
    nlohmann::json list = nlohmann::json::array();
    for (const auto& it : items) {
      nlohmann::json clusters = nlohmann::json::object();
      for (const auto& [name, n] : it.plan.clusters) clusters[name] = n;
      list.push_back({{"namespace", it.rsp->ns}, {"name", it.rsp->name}, {"targetKind", it.rsp->spec.targetKind},
                      {"totalReplicas", it.rsp->spec.totalReplicas}, {"clusters", std::move(clusters)}});
    }
    std::string text = nlohmann::json{{"items", std::move(list)}}.dump(2) + "\n";
    std::fwrite(text.data(), 1, text.size(), stdout);
    return 0;
  }
  for (const auto& it : items) {
    const auto& s = *it.rsp;
    std::printf("%s %s/%s: %lld replicas%s\n", s.spec.targetKind.c_str(), s.ns.c_str(), s.name.c_str(),
                static_cast<long long>(s.spec.totalReplicas),
                it.plan.active ? "" : " (no cluster of the registry considered: the RSP changes nothing)");
    std::size_t width = 7;
    for (const auto& c : it.plan.clusters) width = std::max(width, c.first.size());
    if (!it.plan.clusters.empty()) std::printf("  %-*s  REPLICAS\n", static_cast<int>(width), "CLUSTER");
    for (const auto& [name, n] : it.plan.clusters)
      std::printf("  %-*s  %lld\n", static_cast<int>(width), name.c_str(), static_cast<long long>(n));
  }
  return 0;
}

}  // namespace

GITFED_COMMAND("schedule", "print the replica plan of every ReplicaSchedulingPreference over the fleet", scheduleCommand);

}  // namespace gitfed::cli
