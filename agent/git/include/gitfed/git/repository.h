#pragma once
// Repository: a local Git repository (usually a bare cache the agent owns) and
// the few operations the agent needs on it: talk to a remote (list its refs,
// fetch, push: with the credentials, host-key and certificate checks and time
// limits of RemoteOptions), read files of a commit, and commit one file on top
// of another commit without a working copy. Every libgit2 call of gitfed::git
// except the tree reader lives behind this class.
//
// Not thread-safe: use one Repository from one thread at a time (the trees it
// hands out are independent and thread-safe). Several Repository objects, in
// one process or several, may open the same directory.

#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "gitfed/git/error.h"
#include "gitfed/git/remote.h"
#include "gitfed/git/tree_source.h"

namespace gitfed::git {

struct Signature {
  std::string name;
  std::string email;
  std::chrono::system_clock::time_point when = std::chrono::system_clock::now();
};

struct CommitInfo {
  std::string id;
  std::vector<std::string> parents;
  std::string tree;
  Signature author;
  Signature committer;
  std::string message;
};

// A file of a commit that differs from the commit's first parent (or that the
// commit adds, for a root commit).
struct ChangedFile {
  std::string path;
  enum class Kind { Added, Modified, Deleted } kind = Kind::Modified;
};

struct PushSessionImpl;

class Repository {
 public:
  // The bare repository at `path`, created when the directory is missing or
  // empty. A directory that holds a damaged repository is an error (Corrupt):
  // Source decides whether to start over.
  static Result<Repository> openOrCreateBare(const std::filesystem::path& path);
  // An existing repository, bare or with a working tree (a user's clone).
  static Result<Repository> open(const std::filesystem::path& path);

  Repository(Repository&&) noexcept;
  Repository& operator=(Repository&&) noexcept;
  ~Repository();

  const std::filesystem::path& path() const { return path_; }

  // ---- remotes (each call is one operation under options.timeouts) ----

  // The refs the remote advertises (git ls-remote).
  Result<std::vector<RemoteRef>> listRemote(const RemoteOptions& options);

  // One connection: lists the remote's refs, asks `decide` which refspecs to
  // fetch (e.g. "+refs/heads/main:refs/gitfed/fetched"), and fetches them when
  // it returns any. Tags are never fetched unless a refspec names them; no
  // FETCH_HEAD, no pruning, no submodules.
  struct FetchOutcome {
    std::vector<RemoteRef> advertised;
    bool fetched = false;
    TransferStats stats;
  };
  using FetchDecision = std::function<std::vector<std::string>(const std::vector<RemoteRef>&)>;
  Result<FetchOutcome> fetchIf(const RemoteOptions& options, const FetchDecision& decide);

  // Makes `commit`, which the remote advertised for `remoteRef` (e.g. a
  // branch's tip seen when connecting for a push), present here and points
  // `localRef` at it. Over http(s) one request: "want commit, have <what
  // localRef holds>, done" to git-upload-pack (the server accepts a want that
  // is reachable from its refs). Otherwise a fetch of `remoteRef` into
  // `localRef`, which may then point past `commit`; Error Rejected if
  // `commit` is still missing (the branch was rewritten).
  Result<void> fetchCommit(const RemoteOptions& options, const std::string& commit, const std::string& remoteRef,
                           const std::string& localRef);

  // Pushes local ref `localRef` to `remoteRef` (no force). A refusal the
  // server reports per ref (non-fast-forward, a hook, a lock), or that libgit2
  // detects before sending (the remote moved), is a PushResult with
  // accepted == false, not an Error.
  Result<PushResult> push(const RemoteOptions& options, const std::string& localRef, const std::string& remoteRef);

  // A push in two steps over one connection: connect and read what
  // `remoteRef` holds now (advertised()), build a commit on top of it, then
  // push() it; the server accepts only if the ref still holds what was
  // advertised. The window in which another writer can get in between is one
  // request, not a fetch and a push. Must not outlive its Repository.
  class PushSession {
   public:
    ~PushSession();
    // `remoteRef`'s id when the connection was made; nullopt: no such ref.
    const std::optional<std::string>& advertised() const { return advertised_; }
    // How many refs the remote advertised whose names start with `prefix`.
    std::size_t advertisedCount(std::string_view prefix) const;
    // Pushes local ref `localRef`. Once only. Without `force` the server
    // takes it only as a fast-forward; with it, any commit, but still only
    // if the ref holds what was advertised (receive-pack checks the old id
    // under the ref's lock): a force-with-lease of advertised().
    Result<PushResult> push(const std::string& localRef, bool force = false);

   private:
    friend class Repository;
    PushSession() = default;
    std::unique_ptr<PushSessionImpl> impl_;
    std::string remoteRef_;
    std::optional<std::string> advertised_;
    std::vector<std::string> names_;  // every advertised ref's name
  };
  Result<std::unique_ptr<PushSession>> openPush(const RemoteOptions& options, const std::string& remoteRef);

  // ---- refs and objects ----

  // The object a ref points to (nullopt when the ref does not exist).
  Result<std::optional<std::string>> resolveRef(const std::string& name) const;
  // The local refs whose names start with `prefix` (e.g. "refs/gitfed/status/"),
  // symbolic ones resolved, sorted by name.
  Result<std::vector<RemoteRef>> listRefs(const std::string& prefix) const;
  // The commit a ref or object id leads to (tags peeled).
  Result<std::string> peelToCommit(const std::string& objectId) const;
  Result<void> setRef(const std::string& name, const std::string& objectId, const std::string& logMessage);
  Result<void> deleteRef(const std::string& name);
  bool hasObject(const std::string& objectId) const;

  // Reads every tree and checks every blob of the commit exists (a damaged
  // cache shows up as a Corrupt error).
  Result<void> verifyCommit(const std::string& commit) const;

  Result<CommitInfo> commitInfo(const std::string& commit) const;
  // The first-parent history from `commit`, newest first, at most `limit`.
  Result<std::vector<CommitInfo>> history(const std::string& commit, std::size_t limit) const;
  // What `commit` changed relative to its first parent.
  Result<std::vector<ChangedFile>> changedFiles(const std::string& commit) const;

  // The content of file `path` in `commit`; nullopt when there is no such file.
  Result<std::optional<std::string>> readFile(const std::string& commit, const std::string& path) const;

  // How many entries the directory `path` of `commit` has (0 when there is no such directory).
  Result<std::size_t> countEntries(const std::string& commit, const std::string& path) const;

  // A new commit whose tree is `parent`'s (empty without a parent) with the
  // file `path` set to `content`; every other entry is kept as it is.
  Result<std::string> commitFile(const std::optional<std::string>& parent, const std::string& path,
                                 const std::string& content, const Signature& author, const std::string& message);

  // The renderer's view of `commit`'s tree.
  Result<std::unique_ptr<GitTreeSource>> tree(const std::string& commit) const;

  struct Impl;

 private:
  Repository(std::filesystem::path path, std::unique_ptr<Impl> impl);
  std::filesystem::path path_;
  std::unique_ptr<Impl> impl_;
};

}  // namespace gitfed::git
