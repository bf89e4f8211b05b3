#include "gitfed/status/cluster_ref.h"

#include <charconv>
#include "status_cache.h"

namespace gitfed::status {
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.back() == '\r' || s.back() == ' ')) s.remove_suffix(1);
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  return s;
}

}  // namespace

std::string clusterRef(std::string_view cluster) { return std::string(kClusterRefPrefix) + std::string(cluster); }

std::string refCommitMessage(const std::string& summary, const RefTrailers& t) {
  std::string m = summary + "\n\nGitfed-Cluster: " + t.cluster + "\nGitfed-Sequence: " + std::to_string(t.sequence) + "\n";
  if (!t.signature.empty()) m += "Gitfed-Signature: " + t.signature + "\n";
  return m;
}

RefTrailers parseRefTrailers(std::string_view message) {
  RefTrailers t;
  while (!message.empty()) {
    auto nl = message.find('\n');
    std::string_view line = message.substr(0, nl);
    message = nl == std::string_view::npos ? std::string_view{} : message.substr(nl + 1);
    auto colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    std::string_view key = line.substr(0, colon), value = trim(line.substr(colon + 1));
    if (key == "Gitfed-Cluster") {
      t.cluster = std::string(value);
    } else if (key == "Gitfed-Sequence") {
      std::uint64_t n = 0;
      auto [p, ec] = std::from_chars(value.data(), value.data() + value.size(), n);
      if (ec == std::errc() && p == value.data() + value.size()) t.sequence = n;
    } else if (key == "Gitfed-Signature") {
      t.signature = std::string(value);
    }
  }
  return t;
}

Result<RefReport> readRefReport(const git::Repository& repo, const std::string& commit) {
  auto info = repo.commitInfo(commit);
  if (!info) return std::unexpected(info.error());
  RefReport r;
  r.commit = commit;
  r.trailers = parseRefTrailers(info->message);
  auto file = repo.readFile(commit, kRefReportFile);
  if (!file) return std::unexpected(file.error());
  if (*file) r.content = std::move(**file);
  return r;
}

GitClusterRefStore::GitClusterRefStore(git::Repository repo, git::RemoteOptions remote, std::string cluster)
    : repo_(std::move(repo)),
      remote_(std::move(remote)),
      cluster_(std::move(cluster)),
      remoteRef_(clusterRef(cluster_)),
      seenRef_("refs/gitfed/own/seen"),
      pushRef_("refs/gitfed/own/push") {}

Result<std::unique_ptr<GitClusterRefStore>> GitClusterRefStore::open(const std::filesystem::path& cacheDir,
                                                                     git::RemoteOptions remote, std::string cluster) {
  if (!isValidClusterName(cluster))
    return git::fail(ErrorCode::InvalidArgument, "invalid cluster name \"" + cluster + "\"", "status ref");
  auto repo = openStatusCache(cacheDir);
  if (!repo) return std::unexpected(repo.error());
  return std::unique_ptr<GitClusterRefStore>(
      new GitClusterRefStore(std::move(*repo), std::move(remote), std::move(cluster)));
}

Result<std::optional<RefReport>> GitClusterRefStore::fetch() {
  pending_.reset();
  auto opened = repo_.openPush(remote_, remoteRef_);
  if (!opened) return std::unexpected(opened.error());
  std::unique_ptr<git::Repository::PushSession> session = std::move(*opened);
  fleet_ = session->advertisedCount(kClusterRefPrefix);
  std::optional<RefReport> out;
  if (const auto& held = session->advertised()) {
    if (!repo_.hasObject(*held)) {
      if (auto f = repo_.fetchCommit(remote_, *held, remoteRef_, seenRef_); !f) return std::unexpected(f.error());
    } else if (auto r = repo_.setRef(seenRef_, *held, "gitfed: status ref seen"); !r) {
      return std::unexpected(r.error());
    }
    auto report = readRefReport(repo_, *held);
    if (!report) return std::unexpected(report.error());
    out = std::move(*report);
  }
  pending_ = std::move(session);
  return out;
}

Result<std::string> GitClusterRefStore::commit(const std::string& content, const git::Signature& author,
                                               const std::string& message) {
  return repo_.commitFile(std::nullopt, kRefReportFile, content, author, message);
}

Result<git::PushResult> GitClusterRefStore::push(const std::string& commit) {
  if (auto r = repo_.setRef(pushRef_, commit, "gitfed: status ref push"); !r) return std::unexpected(r.error());
  auto session = std::move(pending_);
  if (!session) return git::fail(ErrorCode::Internal, "push without fetch", "status ref " + cluster_);
  auto result = session->push(pushRef_, /*force=*/true);
  if (result && result->accepted) (void)repo_.setRef(seenRef_, commit, "gitfed: status ref pushed");
  return result;
}

}  // namespace gitfed::status
