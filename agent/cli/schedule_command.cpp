// `gitfed schedule [--output text|json] [--cluster NAME]... [PATH]...`: the
// replica plan of every ReplicaSchedulingPreference over the registry
// (docs/render-spec.md section 8), the numbers each cluster's render gives.

#include <algorithm>
#include <cassert>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <set>
#include <string>
#include <tuple>

#include "cli/arg_walker.h"
#include "cli/commands.h"
#include "cli/schedule_json.h"
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
  // Each plan is kept as shares by registry index (the plan is in registry
  // order): a fleet's 2,000 x 1,000 shares are a few MiB, not a document.
  struct Item {
    const render::ReplicaSchedule* rsp;
    bool active;
    std::vector<std::pair<std::uint32_t, std::int64_t>> shares;
  };
  std::vector<Item> items;
  items.reserve(repo.schedules.size());
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
    Item item{&s, plan.active, {}};
    item.shares.reserve(plan.clusters.size());
    std::size_t ci = 0;
    for (const auto& [name, n] : plan.clusters) {
      while (ci < repo.clusters.size() && repo.clusters[ci].name != name) ++ci;  // the registry's, in its order
      assert(ci < repo.clusters.size());
      if (only.empty() || only.contains(name)) item.shares.emplace_back(static_cast<std::uint32_t>(ci), n);
    }
    items.push_back(std::move(item));
  }
  if (failed) return 1;
  std::sort(items.begin(), items.end(), [](const Item& a, const Item& b) {
    return std::tie(a.rsp->ns, a.rsp->name) < std::tie(b.rsp->ns, b.rsp->name);
  });
  if (output == "json") {
    // Clusters by name, as a JSON object's keys are written.
    std::vector<std::uint32_t> rank(repo.clusters.size());
    {
      std::vector<std::uint32_t> byName(repo.clusters.size());
      for (std::uint32_t i = 0; i < byName.size(); ++i) byName[i] = i;
      std::sort(byName.begin(), byName.end(),
                [&](std::uint32_t a, std::uint32_t b) { return repo.clusters[a].name < repo.clusters[b].name; });
      for (std::uint32_t r = 0; r < byName.size(); ++r) rank[byName[r]] = r;
    }
    ScheduleJsonWriter writer(stdout);
    std::vector<std::pair<const std::string*, std::int64_t>> clusters;
    for (auto& it : items) {
      std::sort(it.shares.begin(), it.shares.end(), [&](const auto& a, const auto& b) { return rank[a.first] < rank[b.first]; });
      clusters.clear();
      for (const auto& [ci, n] : it.shares) clusters.emplace_back(&repo.clusters[ci].name, n);
      writer.item(it.rsp->ns, it.rsp->name, it.rsp->spec.targetKind, it.rsp->spec.totalReplicas, clusters);
      std::vector<std::pair<std::uint32_t, std::int64_t>>().swap(it.shares);
    }
    writer.finish();
    return 0;
  }
  for (const auto& it : items) {
    const auto& s = *it.rsp;
    std::printf("%s %s/%s: %lld replicas%s\n", s.spec.targetKind.c_str(), s.ns.c_str(), s.name.c_str(),
                static_cast<long long>(s.spec.totalReplicas),
                it.active ? "" : " (no cluster of the registry considered: the RSP changes nothing)");
    std::size_t width = 7;
    for (const auto& c : it.shares) width = std::max(width, repo.clusters[c.first].name.size());
    if (!it.shares.empty()) std::printf("  %-*s  REPLICAS\n", static_cast<int>(width), "CLUSTER");
    for (const auto& [ci, n] : it.shares)
      std::printf("  %-*s  %lld\n", static_cast<int>(width), repo.clusters[ci].name.c_str(), static_cast<long long>(n));
  }
  return 0;
}

}  // namespace

GITFED_COMMAND("schedule", "print the replica plan of every ReplicaSchedulingPreference over the fleet", scheduleCommand);

}  // namespace gitfed::cli
