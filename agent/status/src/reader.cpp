#include "gitfed/status/reader.h"

#include <algorithm>

#include "gitfed/git/repository.h"
#include "gitfed/status/registry_keys.h"
#include "report_tree.h"

namespace gitfed::status {
namespace {

constexpr const char* kStatusRef = "refs/gitfed/read/branch";
constexpr const char* kFleetRefs = "refs/gitfed/read/fleet/";
constexpr const char* kConfigRef = "refs/gitfed/read/config";

Result<std::optional<std::string>> localBranch(const git::Repository& repo, const std::string& name) {
  for (const std::string& ref : {"refs/remotes/origin/" + name, "refs/heads/" + name}) {
    auto id = repo.resolveRef(ref);
    if (!id) return std::unexpected(id.error());
    if (*id) {
      auto commit = repo.peelToCommit(**id);
      if (!commit) return std::unexpected(commit.error());
      return std::optional<std::string>{*commit};
    }
  }
  return std::optional<std::string>{};
}

// Every per-cluster ref's report into `fleet`, verified with `keys` when
// given, else with the registry's keys at the config branch's commit (which
// must then be in `repo`; a registry that cannot be read leaves every
// signed report `no key`, with a warning).
void mergeRefs(const git::Repository& repo, FleetStatus& fleet, const std::vector<git::RemoteRef>& refs,
               const PublicKeys* keys) {
  fleet.refs = refs.size();
  RegistryKeys registry;
  if (!keys && !refs.empty()) {
    if (!fleet.configRevision) {
      fleet.keySource = "none (no branch " + fleet.configBranch + ", so no registry)";
    } else if (auto read = registryKeysAt(repo, *fleet.configRevision); !read) {
      fleet.warnings.push_back("registry of " + fleet.configBranch + " at " + shortId(*fleet.configRevision) + ": " +
                               read.error().format());
      fleet.keySource = "none (the registry could not be read)";
    } else {
      registry = std::move(*read);
      for (const auto& e : registry.errors)
        fleet.warnings.push_back("registry of " + fleet.configBranch + " at " + shortId(*fleet.configRevision) + ": " + e);
      fleet.keySource = "registry of " + fleet.configBranch + " at " + shortId(*fleet.configRevision) + " (" +
                        std::to_string(registry.keys.size()) + " of " + std::to_string(registry.clusters) +
                        " clusters with a key)";
    }
    keys = &registry.keys;
  }
  for (const auto& r : refs) {
    auto report = readRefReport(repo, r.oid);
    if (!report) {
      fleet.warnings.push_back(r.name + ": " + report.error().format());
      continue;
    }
    mergeRefReport(fleet, r.name, *report, keys);
  }
}

}  // namespace

Result<void> readReportTree(const git::Repository& repo, const std::string& commit, std::vector<ClusterStatus>& clusters,
                            std::vector<std::string>& warnings) {
  auto tree = repo.tree(commit);
  if (!tree) return std::unexpected(tree.error());
  auto entries = (*tree)->list("clusters");
  if (!entries) return {};  // a branch without clusters/ yet: no reports
  for (const auto& e : *entries) {
    std::string path = "clusters/" + e.name;
    if (e.type != render::SourceTree::EntryType::File || !e.name.ends_with(".yaml")) {
      warnings.push_back(path + ": not a report file");
      continue;
    }
    auto text = (*tree)->read(path, 16u << 20);
    if (!text) {
      warnings.push_back(path + ": " + text.error().message);
      continue;
    }
    auto report = parseReport(*text);
    if (!report) {
      warnings.push_back(path + ": " + report.error().format());
      continue;
    }
    if (report->name + ".yaml" != e.name) {
      warnings.push_back(path + ": the report is about cluster \"" + report->name + "\"");
      continue;
    }
    clusters.push_back(std::move(*report));
  }
  std::sort(clusters.begin(), clusters.end(),
            [](const ClusterStatus& a, const ClusterStatus& b) { return a.name < b.name; });
  return {};
}

const char* toString(ReportOrigin::Where w) { return w == ReportOrigin::Where::Ref ? "ref" : "branch"; }

void mergeRefReport(FleetStatus& fleet, const std::string& refName, const RefReport& ref, const PublicKeys* keys) {
  const std::string name = refName.substr(std::min(refName.size(), kClusterRefPrefix.size()));
  if (!refName.starts_with(kClusterRefPrefix) || !isValidClusterName(name)) {
    fleet.warnings.push_back(refName + ": not a cluster's status ref");
    return;
  }
  if (ref.content.empty()) {
    fleet.warnings.push_back(refName + ": no " + std::string(kRefReportFile));
    return;
  }
  auto report = parseReport(ref.content);
  if (!report) {
    fleet.warnings.push_back(refName + ": " + report.error().format());
    return;
  }
  if (report->name != name || (!ref.trailers.cluster.empty() && ref.trailers.cluster != name)) {
    fleet.warnings.push_back(refName + ": the report is about cluster \"" + report->name + "\"");
    return;
  }
  ReportOrigin origin;
  origin.where = ReportOrigin::Where::Ref;
  origin.commit = ref.commit;
  origin.sequence = ref.trailers.sequence;
  origin.hasRef = true;
  std::string key;
  if (keys)
    if (auto k = keys->find(name); k != keys->end()) key = k->second;
  origin.signature = verifyReport(key, name, ref.trailers.sequence, ref.content, ref.trailers.signature);
  auto at = std::lower_bound(fleet.clusters.begin(), fleet.clusters.end(), name,
                             [](const ClusterStatus& c, const std::string& n) { return c.name < n; });
  if (at != fleet.clusters.end() && at->name == name) {
    // The branch's report is newer (a ref left behind): keep it, say so.
    if (at->sync.lastAttemptAt && report->sync.lastAttemptAt && *at->sync.lastAttemptAt > *report->sync.lastAttemptAt) {
      fleet.origins[name].hasRef = true;
      return;
    }
    *at = std::move(*report);
  } else {
    fleet.clusters.insert(at, std::move(*report));
  }
  fleet.origins[name] = origin;
}

Result<FleetStatus> readFleetStatus(const git::RemoteOptions& remote, const std::filesystem::path& cacheDir,
                                    const std::string& statusBranch, const std::string& configBranch,
                                    const PublicKeys* keys) {
  auto repo = git::Repository::openOrCreateBare(cacheDir);
  if (!repo) return std::unexpected(repo.error());
  FleetStatus out;
  out.statusBranch = statusBranch;
  out.configBranch = configBranch;
  const std::string statusRef = "refs/heads/" + statusBranch, configRef = "refs/heads/" + configBranch;
  bool found = false;
  std::vector<git::RemoteRef> clusterRefs;
  // One connection: the advertisement names every report's commit; one fetch
  // brings those the cache does not have (all the first time).
  auto outcome = repo->fetchIf(remote, [&](const std::vector<git::RemoteRef>& refs) {
    std::vector<std::string> specs;
    bool missingRef = false;
    for (const auto& r : refs) {
      if (r.name == configRef) out.configRevision = r.oid;
      if (r.name == statusRef) {
        found = true;
        out.statusCommit = r.oid;
        if (!repo->hasObject(r.oid)) specs.push_back("+" + statusRef + ":" + kStatusRef);
      }
      if (r.name.starts_with(kClusterRefPrefix)) {
        clusterRefs.push_back(r);
        if (!repo->hasObject(r.oid)) missingRef = true;
      }
    }
    if (missingRef) specs.push_back("+" + std::string(kClusterRefPrefix) + "*:" + kFleetRefs + "*");
    // The registry verifies the refs' signatures: the config branch's commit
    // comes in the same fetch (its history the first time, the new commits after).
    if (!keys && !clusterRefs.empty() && out.configRevision && !repo->hasObject(*out.configRevision))
      specs.push_back("+" + configRef + ":" + kConfigRef);
    return specs;
  });
  if (!outcome) return std::unexpected(outcome.error());
  if (!found && clusterRefs.empty())
    return git::fail(ErrorCode::NotFound,
                     "the remote has no branch " + statusBranch + " and no refs/gitfed/status/* (no agent has reported yet?)",
                     "status " + remote.url);
  if (found)
    if (auto r = readReportTree(*repo, out.statusCommit, out.clusters, out.warnings); !r) return std::unexpected(r.error());
  for (const auto& c : out.clusters) out.origins[c.name] = ReportOrigin{};
  if (keys) out.keySource = "given";
  mergeRefs(*repo, out, clusterRefs, keys);
  return out;
}

Result<FleetStatus> readLocalFleetStatus(const std::filesystem::path& clone, const std::string& statusBranch,
                                         const std::string& configBranch, const PublicKeys* keys) {
  auto repo = git::Repository::open(clone);
  if (!repo) return std::unexpected(repo.error());
  FleetStatus out;
  out.statusBranch = statusBranch;
  out.configBranch = configBranch;
  auto status = localBranch(*repo, statusBranch);
  if (!status) return std::unexpected(status.error());
  auto refs = repo->listRefs(std::string(kClusterRefPrefix));
  if (!refs) return std::unexpected(refs.error());
  if (!*status && refs->empty())
    return git::fail(ErrorCode::NotFound,
                     "no branch " + statusBranch + " (neither origin/" + statusBranch +
                         " nor a local one) and no refs/gitfed/status/* (git fetch origin " + statusBranch +
                         " 'refs/gitfed/status/*:refs/gitfed/status/*'?)",
                     "status " + clone.string());
  auto config = localBranch(*repo, configBranch);
  if (!config) return std::unexpected(config.error());
  out.configRevision = *config;
  if (*status) {
    out.statusCommit = **status;
    if (auto r = readReportTree(*repo, out.statusCommit, out.clusters, out.warnings); !r) return std::unexpected(r.error());
  }
  for (const auto& c : out.clusters) out.origins[c.name] = ReportOrigin{};
  if (keys) out.keySource = "given";
  mergeRefs(*repo, out, *refs, keys);
  return out;
}

std::string shortId(const std::string& id) { return id.empty() ? "-" : id.substr(0, 7); }

std::string formatAge(const std::optional<std::chrono::seconds>& age) {
  if (!age) return "-";
  long long s = std::max<long long>(age->count(), 0);
  if (s < 120) return std::to_string(s) + "s";
  if (s < 7200) return std::to_string(s / 60) + "m";
  if (s < 172800) return std::to_string(s / 3600) + "h";
  return std::to_string(s / 86400) + "d";
}

ClusterRow summarize(const ClusterStatus& report, const std::optional<std::string>& latest, Clock::time_point now,
                     std::chrono::seconds staleAfter) {
  ClusterRow row;
  row.name = report.name;
  row.phase = report.sync.phase;
  row.appliedRevision = report.sync.appliedRevision;
  row.revision = report.source.revision;
  row.latest = latest;
  row.upToDate = latest && !row.appliedRevision.empty() && *latest == row.appliedRevision;
  row.drifted = report.summary.drifted;
  row.failed = report.summary.failed;
  if (report.sync.lastAttemptAt)
    row.age = std::chrono::duration_cast<std::chrono::seconds>(now - *report.sync.lastAttemptAt);
  row.stale = row.phase == Phase::Stale || !row.age || *row.age > staleAfter;
  row.suspended = report.sync.suspended;
  return row;
}

}  // namespace gitfed::status
