// `gitfed apply`: render a fleet repository for one cluster and sync it to the
// cluster of a kubeconfig (issue 4, part 3).

#include <cstdio>
#include <map>
#include <set>
#include <string>

#include "cli/commands.h"
#include "cli/live_diff_common.h"
#include "gitfed/sync/error_groups.h"

namespace gitfed::cli {
namespace {

constexpr const char* kUsage =
    "usage: gitfed apply --cluster NAME [options] [PATH]...\n"
    "\n"
    "Renders the fleet repository under PATH (default .) for cluster NAME and\n"
    "syncs it to the cluster of the kubeconfig: server-side apply (field manager\n"
    "gitfed, forced), Namespaces and CRDs first, custom resources once their CRD\n"
    "is Established. Objects are labelled gitfed.io/inventory=ID and recorded in\n"
    "the ConfigMap gitfed-inventory-ID; with --prune, owned objects no longer in\n"
    "Git are deleted (never when something failed, never all of them unless\n"
    "--allow-empty-prune). Prints what changed and the report.\n"
    "Tenants' own objects are applied (and pruned) as the tenant, impersonating\n"
    "its ServiceAccount; errors in a tenant's files withhold only its objects.\n"
    "Exit status: 0 synced (or progressing, or drift reported with --report-only),\n"
    "1 a render error or an object failed (also when only a tenant failed: the\n"
    "rest is applied; the report names the tenant), 2 a usage or connection error.\n"
    "\n"
    "  --cluster NAME             the cluster to render for (required)\n"
    "  --label KEY=VALUE          a local label of the cluster (repeatable)\n"
    "  --kubeconfig FILE          default: in cluster, $KUBECONFIG, ~/.kube/config\n"
    "  --context NAME             a kubeconfig context (default: the current one)\n"
    "  --namespace NS             for objects without one (default: the context's, else default)\n"
    "  --inventory-id ID          default: the cluster name\n"
    "  --inventory-namespace NS   where the inventory lives (default gitfed-system)\n"
    "  --prune                    delete owned objects that are no longer in Git\n"
    "  --allow-empty-prune        ... even when the revision renders to nothing\n"
    "  --dry-run                  change nothing: server-side dry runs show what would change\n"
    "  --report-only              report drift instead of re-applying drifted objects\n"
    "  --wait DURATION            wait up to DURATION (90s, 5m) for objects to become healthy\n"
    "  --parallelism N            requests in flight (default 32)\n"
    "  --qps N, --burst N         client-side rate limit (default 1000, 2000)\n"
    "  --output text|json         what changed (default), or the whole report as JSON\n"
    "  -v, --verbose              log every action to standard error\n";

int usageError(const std::string& message) {
  std::fprintf(stderr, "gitfed apply: %s\n%s", message.c_str(), kUsage);
  return 2;
}

void printText(const sync::SyncReport& report, const kube::CurlKubeClient& client) {
  for (const auto& o : report.objects) {
    bool interesting = o.action != sync::Action::None || o.state != sync::State::Synced ||
                       (o.health != sync::Health::Healthy && o.health != sync::Health::Unknown);
    if (!interesting) continue;
    std::string what(o.action == sync::Action::None ? toString(o.state) : toString(o.action));
    if (o.state == sync::State::Failed) what = "FAILED";
    std::string line = what + " " + describeObject(o);
    if (o.health == sync::Health::Progressing || o.health == sync::Health::Degraded)
      line += " [" + std::string(toString(o.health)) + (o.healthMessage.empty() ? "" : ": " + o.healthMessage) + "]";
    for (std::size_t i = 0; i < o.drift.size() && i < 5; ++i) line += (i ? ", " : " (drift: ") + o.drift[i].path;
    if (!o.drift.empty()) line += o.drift.size() > 5 ? ", ...)" : ")";
    std::printf("%s\n", line.c_str());
  }
  std::map<std::string, std::string> tenantOf;  // a render error's text -> its tenant
  for (const auto& d : report.renderErrors)
    if (!d.tenant.empty()) tenantOf[d.format()] = d.tenant;
  // Objects failing with the same error: one line per group (error_groups.h).
  std::set<std::string> grouped;
  for (const auto& g : sync::groupErrors(report.objects)) {
    if (g.count < 2) continue;
    std::string examples;
    for (std::size_t k = 0; k < g.members.size(); ++k) {
      const auto& o = report.objects[g.members[k]];
      grouped.insert(o.error);
      if (k < sync::kGroupExamples) examples += (examples.empty() ? "" : ", ") + o.ref.identity();
    }
    std::fprintf(stderr, "error: %s%zu objects: %s (e.g. %s%s)\n",
                 g.tenant.empty() ? "" : ("[tenant " + g.tenant + "] ").c_str(), g.count, g.message.c_str(),
                 examples.c_str(), g.count > sync::kGroupExamples ? ", ..." : "");
  }
  for (const auto& e : report.errors) {
    if (grouped.contains(e)) continue;
    auto t = tenantOf.find(e);
    std::fprintf(stderr, "error: %s%s\n", t == tenantOf.end() ? "" : ("[tenant " + t->second + "] ").c_str(), e.c_str());
  }
  for (const auto& t : report.tenants)
    if (!t.message.empty()) std::fprintf(stderr, "tenant %s: %s\n", t.name.c_str(), t.message.c_str());
  const auto& s = report.summary;
  auto stats = client.stats();
  std::printf("%s: %zu objects (%zu synced, %zu progressing, %zu degraded, %zu drifted, %zu failed, %zu pruned): %s [%llu requests, %.2fs]\n",
              std::string(toString(report.phase)).c_str(), s.objects, s.synced, s.progressing, s.degraded, s.drifted,
              s.failed, s.pruned, report.message.c_str(), static_cast<unsigned long long>(stats.attempts), report.stats.seconds);
}

int applyCommand(const Args& args) {
  LiveOptions o;
  bool help = false;
  if (auto e = parseLiveOptions(args, "apply", o, help); !e.empty()) return usageError(e);
  if (help) {
    std::fputs(kUsage, stdout);
    return 0;
  }
  setUpLogging(o.verbose);
  tuneAllocator();
  auto rendered = renderForCluster(o);
  releaseFreeMemory();
  // libcurl's global state, owned here for the command's lifetime.
  kube::CurlGlobal curl;
  auto client = connect(o, "apply");
  if (!client) return 2;
  auto options = syncOptions(o, *client);
  if (auto bad = sync::validate(options); !bad.empty()) return usageError(bad);
  sync::Engine engine(*client, options);
  auto report = engine.sync(std::move(rendered));
  if (o.output == "json") {
    auto j = toJson(report);
    auto stats = client->stats();
    j["client"] = {{"attempts", stats.attempts}, {"retries", stats.retries}};
    std::printf("%s\n", j.dump(2).c_str());
  } else {
    printText(report, *client);
  }
  std::fflush(stdout);
  return report.phase == sync::Phase::Failed ? 1 : 0;
}

}  // namespace

GITFED_COMMAND("apply", "render for one cluster and sync it to the cluster (server-side apply, prune)", applyCommand);

}  // namespace gitfed::cli
