#include "gitfed/status/reader.h"

#include <algorithm>

#include "gitfed/git/repository.h"
#include "report_tree.h"

namespace gitfed::status {
namespace {

constexpr const char* kStatusRef = "refs/gitfed/status/read";

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

Result<FleetStatus> readFleetStatus(const git::RemoteOptions& remote, const std::filesystem::path& cacheDir,
                                    const std::string& statusBranch, const std::string& configBranch) {
  auto repo = git::Repository::openOrCreateBare(cacheDir);
  if (!repo) return std::unexpected(repo.error());
  FleetStatus out;
  out.statusBranch = statusBranch;
  out.configBranch = configBranch;
  const std::string statusRef = "refs/heads/" + statusBranch, configRef = "refs/heads/" + configBranch;
  bool found = false;
  auto outcome = repo->fetchIf(remote, [&](const std::vector<git::RemoteRef>& refs) {
    std::vector<std::string> specs;
    for (const auto& r : refs) {
      if (r.name == configRef) out.configRevision = r.oid;
      if (r.name == statusRef) {
        found = true;
        out.statusCommit = r.oid;
        if (!repo->hasObject(r.oid)) specs.push_back("+" + statusRef + ":" + kStatusRef);
      }
    }
    return specs;
  });
  if (!outcome) return std::unexpected(outcome.error());
  if (!found)
    return git::fail(ErrorCode::NotFound, "the remote has no branch " + statusBranch + " (no agent has reported yet?)",
                     "status " + remote.url);
  if (auto r = readReportTree(*repo, out.statusCommit, out.clusters, out.warnings); !r) return std::unexpected(r.error());
  return out;
}

Result<FleetStatus> readLocalFleetStatus(const std::filesystem::path& clone, const std::string& statusBranch,
                                         const std::string& configBranch) {
  auto repo = git::Repository::open(clone);
  if (!repo) return std::unexpected(repo.error());
  FleetStatus out;
  out.statusBranch = statusBranch;
  out.configBranch = configBranch;
  auto status = localBranch(*repo, statusBranch);
  if (!status) return std::unexpected(status.error());
  if (!*status)
    return git::fail(ErrorCode::NotFound,
                     "no branch " + statusBranch + " (neither origin/" + statusBranch + " nor a local one; git fetch?)",
                     "status " + clone.string());
  out.statusCommit = **status;
  auto config = localBranch(*repo, configBranch);
  if (!config) return std::unexpected(config.error());
  out.configRevision = *config;
  if (auto r = readReportTree(*repo, out.statusCommit, out.clusters, out.warnings); !r) return std::unexpected(r.error());
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
  return row;
}

}  // namespace gitfed::status
