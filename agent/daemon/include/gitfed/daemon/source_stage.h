#pragma once
// SourceStage: the reconcile loop's view of the config repository: poll it
// (which revision to render, and whether the remote could be read at all)
// and read a revision's tree. GitSourceStage is the real one, over
// gitfed::git::Source (a libgit2 cache that survives restarts); unit tests of
// the loop use an in-memory one. Used from the reconcile thread only.

#include <chrono>
#include <memory>
#include <string>

#include "gitfed/daemon/config.h"
#include "gitfed/daemon/error.h"
#include "gitfed/git/remote.h"
#include "gitfed/git/source.h"
#include "gitfed/render/source_tree.h"

namespace gitfed::daemon {

struct SourcePoll {
  std::string revision;     // the commit to render (the last good one when stale)
  bool stale = false;       // the remote was not read
  std::string staleReason;  // why (never with credentials)
  bool fetched = false;     // objects were downloaded
  std::chrono::duration<double> took{0};
};

class SourceStage {
 public:
  virtual ~SourceStage() = default;
  // Fails only when no revision is known at all (first fetch impossible).
  virtual Result<SourcePoll> poll() = 0;
  virtual Result<std::unique_ptr<render::SourceTree>> tree(const std::string& revision) = 0;
  virtual std::string url() const = 0;
  virtual std::string ref() const = 0;
};

// The remote's options from the configuration: credential files named one by
// one, or found in the credentials directory (a mounted Secret) by their
// conventional names; time limits.
git::RemoteOptions remoteOptions(const GitConfig& config);

class GitSourceStage final : public SourceStage {
 public:
  // The cache lives in `cacheDir` (locked for the process's lifetime).
  static Result<std::unique_ptr<GitSourceStage>> open(const GitConfig& config, const std::filesystem::path& cacheDir);

  Result<SourcePoll> poll() override;
  Result<std::unique_ptr<render::SourceTree>> tree(const std::string& revision) override;
  std::string url() const override { return url_; }
  std::string ref() const override { return ref_; }

 private:
  GitSourceStage(git::Source source, std::string url, std::string ref)
      : source_(std::move(source)), url_(std::move(url)), ref_(std::move(ref)) {}
  git::Source source_;
  std::string url_, ref_;
};

}  // namespace gitfed::daemon
