#pragma once
// Source: the agent's view of the config repository: one remote, one ref
// (branch, tag or fixed commit), a local cache that survives restarts, and
// sync(), which brings the cache up to date and says which commit to render.
//
// - An unchanged remote costs one round trip: connect, list the refs, compare
//   the ref's id with the cache's, no fetch. A fixed commit already in the
//   cache costs nothing.
// - Force-pushes are followed (the cache's ref is updated, never merged).
// - A damaged cache (unreadable repository, missing or corrupt objects of the
//   last good commit) is detected, deleted and fetched again.
// - When the remote cannot be read (down, timed out, credentials or host key
//   refused) or no longer has the ref (a deleted branch), sync() keeps the last
//   good commit and says so (stale); it fails only when there is none.
//
// The cache directory is locked (flock) for the Source's lifetime: one Source
// per directory, across processes. Not thread-safe: call sync() from one
// thread; the trees it hands out are independent and thread-safe.

#include <filesystem>
#include <memory>
#include <optional>
#include <string>

#include "gitfed/git/error.h"
#include "gitfed/git/ref.h"
#include "gitfed/git/remote.h"
#include "gitfed/git/repository.h"
#include "gitfed/git/tree_source.h"

namespace gitfed::git {

struct SourceConfig {
  RemoteOptions remote;
  Ref ref{Ref::Kind::Branch, "main"};
  std::filesystem::path cacheDir;
};

struct SyncResult {
  std::string commit;    // 40 hex: the revision to render (the last good one when stale)
  std::string previous;  // the last good commit before this sync ("" the first time)
  bool changed = false;  // commit != previous
  bool fetched = false;  // objects were downloaded
  bool stale = false;    // the remote was not read; `commit` is the last good revision
  std::optional<Error> staleReason;
  bool recloned = false;  // the cache was damaged and fetched again
  TransferStats stats;
};

class Source {
 public:
  static Result<Source> open(SourceConfig config);

  Source(Source&&) noexcept;
  Source& operator=(Source&&) noexcept;
  ~Source();

  Result<SyncResult> sync();

  // The last commit a sync() produced (kept across restarts), if any.
  std::optional<std::string> lastGood() const;

  // The renderer's view of a commit in the cache.
  Result<std::unique_ptr<GitTreeSource>> tree(const std::string& commit) const;

  const SourceConfig& config() const { return config_; }
  // "https://git.example.com/fleet.git branch main", for messages.
  std::string describe() const;

 private:
  Source(SourceConfig config, int lockFd);
  Result<void> openCache();
  Result<void> reclone(const std::string& why);
  Result<SyncResult> syncOnce();
  Result<SyncResult> staleOr(Error error, const std::optional<std::string>& lastGood);

  SourceConfig config_;
  int lockFd_ = -1;
  std::optional<Repository> repo_;
  bool recloned_ = false;
};

}  // namespace gitfed::git
