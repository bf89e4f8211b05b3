#include "gitfed/status/history.h"

#include <algorithm>
#include <set>

#include "gitfed/git/repository.h"
#include "report_tree.h"

namespace gitfed::status {
namespace {

constexpr std::size_t kPage = 512;  // commits read per history() call
constexpr std::string_view kPrefix = "clusters/", kSuffix = ".yaml";

std::optional<std::string> clusterOf(const std::string& path) {
  if (!path.starts_with(kPrefix) || !path.ends_with(kSuffix)) return std::nullopt;
  std::string name = path.substr(kPrefix.size(), path.size() - kPrefix.size() - kSuffix.size());
  if (name.find('/') != std::string::npos || !isValidClusterName(name)) return std::nullopt;
  return name;
}

HistoryPoint pointOf(const ClusterStatus& report, Clock::time_point commitTime) {
  HistoryPoint p;
  p.at = report.sync.lastAttemptAt.value_or(commitTime);
  p.phase = report.sync.phase;
  p.revision = report.source.revision;
  p.appliedRevision = report.sync.appliedRevision;
  return p;
}

// The reports `commit` adds or changes, appended to `out` (newest first).
Result<void> readCommit(const git::Repository& repo, const git::CommitInfo& commit, FleetHistory& out) {
  auto changed = repo.changedFiles(commit.id);
  if (!changed) return std::unexpected(changed.error());
  for (const auto& file : *changed) {
    if (file.kind == git::ChangedFile::Kind::Deleted) continue;
    auto cluster = clusterOf(file.path);
    if (!cluster) continue;
    auto where = [&] { return commit.id.substr(0, 7) + " " + file.path + ": "; };
    auto text = repo.readFile(commit.id, file.path);
    if (!text) return std::unexpected(text.error());
    if (!*text) continue;
    auto report = parseReport(**text);
    if (!report) {
      out.warnings.push_back(where() + report.error().format());
      continue;
    }
    if (report->name != *cluster) {
      out.warnings.push_back(where() + "the report is about cluster \"" + report->name + "\"");
      continue;
    }
    out.clusters[*cluster].push_back(pointOf(*report, commit.committer.when));
  }
  return {};
}

}  // namespace

Result<FleetHistory> readHistory(const std::filesystem::path& repository, const std::string& statusCommit,
                                 const HistoryOptions& options) {
  auto repo = git::Repository::open(repository);
  if (!repo) return std::unexpected(repo.error());
  FleetHistory out;
  out.since = options.since;
  // Newest first: each commit's changed reports, until the boundary: the first
  // commit older than the window, or the one beyond maxCommits.
  std::optional<git::CommitInfo> boundary;
  std::optional<std::string> next = statusCommit;
  while (next && !boundary) {
    auto page = repo->history(*next, kPage);
    if (!page) return std::unexpected(page.error());
    if (page->empty()) break;
    next.reset();
    for (auto& commit : *page) {
      if (commit.committer.when < options.since || out.commits >= options.maxCommits) {
        out.truncated = commit.committer.when >= options.since;
        boundary = std::move(commit);
        break;
      }
      if (auto r = readCommit(*repo, commit, out); !r) return std::unexpected(r.error());
      ++out.commits;
      next = commit.parents.empty() ? std::nullopt : std::optional<std::string>(commit.parents.front());
    }
  }
  // The boundary's tree holds every cluster's report in force when the window
  // opened (also for clusters that did not report within it).
  if (boundary) {
    std::vector<ClusterStatus> inForce;
    std::vector<std::string> warnings;
    if (auto r = readReportTree(*repo, boundary->id, inForce, warnings); !r) return std::unexpected(r.error());
    for (auto& report : inForce) out.clusters[report.name].push_back(pointOf(report, boundary->committer.when));
    out.warnings.insert(out.warnings.end(), warnings.begin(), warnings.end());
  }
  // The whole branch is younger than the window: it starts at the first report.
  if (!boundary) {
    std::optional<Clock::time_point> first;
    for (const auto& [name, points] : out.clusters)
      for (const auto& p : points) first = first ? std::min(*first, p.at) : p.at;
    if (first && *first > out.since) out.since = *first;
  }
  for (auto& [name, points] : out.clusters) {
    std::reverse(points.begin(), points.end());  // oldest first
    std::stable_sort(points.begin(), points.end(),
                     [](const HistoryPoint& a, const HistoryPoint& b) { return a.at < b.at; });
    // Of the reports from before the window, only the newest is kept.
    auto firstInside = std::find_if(points.begin(), points.end(), [&](const auto& p) { return p.at >= out.since; });
    if (firstInside - points.begin() > 1) points.erase(points.begin(), firstInside - 1);
  }
  return out;
}

std::optional<std::chrono::seconds> Convergence::duration() const {
  if (!converged() || !lastReached) return std::nullopt;
  return std::chrono::duration_cast<std::chrono::seconds>(*lastReached - firstSeen);
}

std::vector<Convergence> convergence(const FleetHistory& history, const std::set<std::string>& current,
                                     std::size_t limit) {
  auto counted = [&](const std::string& name) { return current.empty() || current.contains(name); };
  // Each revision's first appearance, in any cluster's report.
  std::map<std::string, Clock::time_point> firstSeen;
  auto see = [&](const std::string& revision, Clock::time_point at) {
    if (revision.empty()) return;
    auto [it, inserted] = firstSeen.emplace(revision, at);
    if (!inserted && at < it->second) it->second = at;
  };
  for (const auto& [name, points] : history.clusters)
    for (const auto& p : points) {
      if (!counted(name)) break;
      see(p.revision, p.at);
      see(p.appliedRevision, p.at);
    }
  std::vector<Convergence> out;
  for (const auto& [revision, seen] : firstSeen) {
    Convergence c;
    c.revision = revision;
    c.firstSeen = seen;
    for (const auto& [name, points] : history.clusters) {
      if (!counted(name) || points.empty() || points.back().at < seen) continue;  // not in this revision's fleet
      ++c.fleet;
      std::optional<Clock::time_point> reached;
      bool later = false;
      for (const auto& p : points) {
        if (p.appliedRevision == revision) {
          reached = p.at;
          break;
        }
        auto f = firstSeen.find(p.appliedRevision);
        if (p.at >= seen && f != firstSeen.end() && f->second > seen) later = true;
      }
      if (reached) {
        ++c.reached;
        // A cluster that applied it before the window counts from the first appearance.
        Clock::time_point at = std::max(*reached, seen);
        if (!c.lastReached || at > *c.lastReached) c.lastReached = at;
      } else if (later) {
        ++c.skipped;
      }
    }
    out.push_back(std::move(c));
  }
  std::sort(out.begin(), out.end(), [](const Convergence& a, const Convergence& b) {
    return a.firstSeen != b.firstSeen ? a.firstSeen > b.firstSeen : a.revision < b.revision;
  });
  if (out.size() > limit) out.resize(limit);
  return out;
}

}  // namespace gitfed::status
