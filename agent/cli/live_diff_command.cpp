// The live `gitfed diff`: render for one cluster and compare with what runs,
// like `kubectl diff` (server-side dry runs; nothing is changed). The revision
// diff of `gitfed diff --base/--head` is cli/diff_command.cpp, which calls
// liveDiffCommand when none of its flags is given.

#include <cstdio>
#include <string>

#include "cli/live_diff.h"
#include "cli/live_diff_common.h"

namespace gitfed::cli {
namespace {

constexpr const char* kUsage =
    "usage: gitfed diff --cluster NAME [options] [PATH]...\n"
    "\n"
    "Renders the fleet repository under PATH (default .) for cluster NAME and\n"
    "compares it with the live objects of the kubeconfig's cluster, over the\n"
    "fields Git sets, confirmed by server-side dry runs (defaults and\n"
    "normalisation are not differences). Changes nothing. Secret values are\n"
    "printed as <redacted>. Tenants' own objects are dry-run as the tenant. Exit\n"
    "status: 0 in sync, 1 differences, 2 errors (also when only a tenant's files\n"
    "fail to render: the rest is still compared and shown).\n"
    "(For the fleet diff of two revisions see --base-dir/--head-dir.)\n"
    "\n"
    "  --cluster NAME, --label KEY=VALUE, --kubeconfig FILE, --context NAME,\n"
    "  --namespace NS, --inventory-id ID, --inventory-namespace NS: as gitfed apply\n"
    "  --prune                    also show owned objects that apply --prune would delete\n"
    "  --output text|json\n";

int usageError(const std::string& message) {
  std::fprintf(stderr, "gitfed diff: %s\n%s", message.c_str(), kUsage);
  return 2;
}

std::string show(const std::optional<nlohmann::json>& v) {
  if (!v) return "(absent)";
  std::string s = v->dump();
  if (s.size() > 200) s = s.substr(0, 197) + "...";
  return s;
}

}  // namespace

int liveDiffCommand(const Args& args) {
  LiveOptions o;
  bool help = false;
  if (auto e = parseLiveOptions(args, "diff", o, help); !e.empty()) return usageError(e);
  if (help) {
    std::fputs(kUsage, stdout);
    return 0;
  }
  setUpLogging(o.verbose);
  tuneAllocator();
  auto rendered = renderForCluster(o);
  releaseFreeMemory();
  // Errors in tenants' files only: the rest is compared (exit 2 all the same).
  if (!rendered.platformOk()) return 2;
  kube::CurlGlobal curl;
  auto client = connect(o, "diff");
  if (!client) return 2;
  auto options = syncOptions(o, *client);
  options.dryRun = true;
  options.driftMode = sync::DriftMode::ReportOnly;
  if (auto bad = sync::validate(options); !bad.empty()) return usageError(bad);
  sync::Engine engine(*client, options);
  auto report = engine.sync(std::move(rendered));

  bool differs = false, failed = false;
  if (o.output == "json") {
    std::printf("%s\n", toJson(report).dump(2).c_str());
  }
  for (const auto& obj : report.objects) {
    using sync::Action;
    using sync::State;
    if (obj.state == State::Failed) {
      failed = true;
      if (o.output == "text") std::printf("! %s: %s\n", describeObject(obj).c_str(), obj.error.c_str());
      continue;
    }
    if (obj.action == Action::WouldPrune) {
      differs = true;
      if (o.output == "text") std::printf("- %s (would be pruned)\n", describeObject(obj).c_str());
    } else if (obj.state == State::Missing) {
      differs = true;
      if (o.output == "text") std::printf("+ %s\n", describeObject(obj).c_str());
    } else if (obj.state == State::Drifted) {
      differs = true;
      if (o.output == "text") {
        std::printf("~ %s\n", describeObject(obj).c_str());
        for (const auto& d : obj.drift)
          std::printf("    %s: %s -> %s\n", d.path.c_str(), show(d.live).c_str(), show(d.desired).c_str());
        if (obj.drift.empty() && !obj.healthMessage.empty()) std::printf("    %s\n", obj.healthMessage.c_str());
      }
    }
  }
  for (const auto& e : report.errors)
    if (e.find(": dry-run apply failed: ") == std::string::npos) {
      failed = true;
      if (o.output == "text") std::fprintf(stderr, "error: %s\n", e.c_str());
    }
  std::fflush(stdout);
  if (failed) return 2;
  return differs ? 1 : 0;
}

}  // namespace gitfed::cli
