#pragma once
// StatusStore: the status branch as the writer sees it: read the branch's tip
// (and one file in it), make a commit on top of a given parent, push it.
// GitStatusStore is the real one: a bare cache repository and a remote,
// through gitfed::git (libgit2): fetch() connects for pushing and reads the
// branch's tip from that connection (fetching that commit only when it is not
// in the cache yet: one request over https); push() sends over the same
// connection, so the server takes it only if the branch still points at the
// tip it was built on. Unit tests of the writer use a fake.
// Implementations are used from one thread at a time.

#include <filesystem>
#include <memory>
#include <optional>
#include <string>

#include "gitfed/git/remote.h"
#include "gitfed/git/repository.h"
#include "gitfed/status/report.h"

namespace gitfed::status {

class StatusStore {
 public:
  virtual ~StatusStore() = default;

  struct Tip {
    std::optional<std::string> commit;  // nullopt: the branch does not exist yet
    std::optional<std::string> file;    // the content of `path` at the tip, if any
    std::size_t clusters = 0;           // files in the tip's clusters/ (0: none, or no branch yet)
  };
  // Brings the branch up to date from the remote.
  virtual Result<Tip> fetch(const std::string& path) = 0;
  // A commit with `path` set to `content` on top of `parent` (a root commit
  // without one); every other file as `parent` has it.
  virtual Result<std::string> commit(const std::optional<std::string>& parent, const std::string& path,
                                     const std::string& content, const git::Signature& author,
                                     const std::string& message) = 0;
  // Pushes `commit` to the branch, without force. A refusal (the branch moved,
  // a hook, a lock) is accepted == false.
  virtual Result<git::PushResult> push(const std::string& commit) = 0;
};

class GitStatusStore final : public StatusStore {
 public:
  // The cache repository is created in `cacheDir` (a damaged one is replaced).
  static Result<std::unique_ptr<GitStatusStore>> open(const std::filesystem::path& cacheDir, git::RemoteOptions remote,
                                                      std::string branch = "gitfed-status");

  Result<Tip> fetch(const std::string& path) override;
  Result<std::string> commit(const std::optional<std::string>& parent, const std::string& path,
                             const std::string& content, const git::Signature& author,
                             const std::string& message) override;
  Result<git::PushResult> push(const std::string& commit) override;

  git::Repository& repository() { return repo_; }

 private:
  GitStatusStore(git::Repository repo, git::RemoteOptions remote, std::string branch)
      : repo_(std::move(repo)), remote_(std::move(remote)), branch_(std::move(branch)) {}
  git::Repository repo_;
  git::RemoteOptions remote_;
  std::string branch_;
  // fetch() opens the push connection and reads the tip from it; push()
  // sends over it, so the race window is one request.
  std::unique_ptr<git::Repository::PushSession> pending_;
};

}  // namespace gitfed::status
