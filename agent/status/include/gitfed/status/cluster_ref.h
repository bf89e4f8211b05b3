#pragma once
// The per-cluster status ref (docs/status-spec.md, "Per-cluster reports"):
// refs/gitfed/status/<cluster> holds one commit without parents whose tree is
// one file, report.yaml; its message is the report's one-line summary and
// the trailers Gitfed-Cluster, Gitfed-Sequence and (signed) Gitfed-Signature.
//
// ClusterRefStore is the ref as its writer sees it: read what the server
// holds (and that commit's report), make a parentless commit, push it as a
// force-with-lease of what was read. GitClusterRefStore is the real one,
// over gitfed::git (libgit2) and a bare cache repository (it may share the
// status branch's cache directory). Unit tests use a fake. Implementations
// are used from one thread at a time.

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "gitfed/git/remote.h"
#include "gitfed/git/repository.h"
#include "gitfed/status/report.h"

namespace gitfed::status {

inline constexpr std::string_view kClusterRefPrefix = "refs/gitfed/status/";
inline constexpr const char* kRefReportFile = "report.yaml";

std::string clusterRef(std::string_view cluster);  // "refs/gitfed/status/<cluster>"

// A report commit's trailers.
struct RefTrailers {
  std::string cluster;
  std::uint64_t sequence = 0;
  std::string signature;  // "" when unsigned
};
// "<summary>\n\nGitfed-Cluster: C\nGitfed-Sequence: N\n[Gitfed-Signature: S\n]".
std::string refCommitMessage(const std::string& summary, const RefTrailers& trailers);
// The trailers of a commit message (missing ones stay empty / 0).
RefTrailers parseRefTrailers(std::string_view message);

// One report as a ref holds it.
struct RefReport {
  std::string commit;
  std::string content;  // report.yaml ("" when the commit has none)
  RefTrailers trailers;
};

class ClusterRefStore {
 public:
  virtual ~ClusterRefStore() = default;
  // Connects for pushing and reads what the cluster's ref holds now (nullopt:
  // no ref yet), fetching that commit when it is not in the cache.
  virtual Result<std::optional<RefReport>> fetch() = 0;
  // A commit without parents holding report.yaml = `content`.
  virtual Result<std::string> commit(const std::string& content, const git::Signature& author,
                                     const std::string& message) = 0;
  // Pushes `commit` to the ref, forced, over the connection fetch() opened:
  // the server takes it only if the ref still holds what fetch() returned.
  // A refusal is accepted == false.
  virtual Result<git::PushResult> push(const std::string& commit) = 0;
  // How many clusters have a ref, as the last fetch() saw (0: not known).
  virtual std::size_t fleetSize() const { return 0; }
};

class GitClusterRefStore final : public ClusterRefStore {
 public:
  // The cache is `cacheDir`/status.git (created; a damaged one is replaced).
  static Result<std::unique_ptr<GitClusterRefStore>> open(const std::filesystem::path& cacheDir,
                                                          git::RemoteOptions remote, std::string cluster);

  Result<std::optional<RefReport>> fetch() override;
  Result<std::string> commit(const std::string& content, const git::Signature& author,
                             const std::string& message) override;
  Result<git::PushResult> push(const std::string& commit) override;
  std::size_t fleetSize() const override { return fleet_; }

 private:
  GitClusterRefStore(git::Repository repo, git::RemoteOptions remote, std::string cluster);
  git::Repository repo_;
  git::RemoteOptions remote_;
  std::string cluster_;
  std::string remoteRef_;  // refs/gitfed/status/<cluster>
  std::string seenRef_;    // where the cache keeps what the server held
  std::string pushRef_;    // the commit being pushed
  std::unique_ptr<git::Repository::PushSession> pending_;
  std::size_t fleet_ = 0;
};

// Reads a report commit of the cache (content and trailers).
Result<RefReport> readRefReport(const git::Repository& repo, const std::string& commit);

}  // namespace gitfed::status
