#include "gitfed/status/store.h"

#include <algorithm>

#include "gitfed/git/ref.h"

namespace gitfed::status {
namespace {
constexpr const char* kTipRef = "refs/gitfed/status/tip";
constexpr const char* kPushRef = "refs/gitfed/status/push";
}  // namespace

Result<std::unique_ptr<GitStatusStore>> GitStatusStore::open(const std::filesystem::path& cacheDir,
                                                             git::RemoteOptions remote, std::string branch) {
  if (!git::isValidRefName(branch))
    return git::fail(ErrorCode::InvalidArgument, "invalid branch name \"" + branch + "\"", "status branch");
  auto dir = cacheDir / "status.git";
  auto repo = git::Repository::openOrCreateBare(dir);
  if (!repo && repo.error().code == ErrorCode::Corrupt) {
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
    repo = git::Repository::openOrCreateBare(dir);
  }
  if (!repo) return std::unexpected(repo.error());
  return std::unique_ptr<GitStatusStore>(new GitStatusStore(std::move(*repo), std::move(remote), std::move(branch)));
}

Result<StatusStore::Tip> GitStatusStore::fetch(const std::string& path) {
  const std::string remoteRef = "refs/heads/" + branch_;
  bool missing = false;
  auto outcome = repo_.fetchIf(remote_, [&](const std::vector<git::RemoteRef>& refs) {
    auto it = std::find_if(refs.begin(), refs.end(), [&](const git::RemoteRef& r) { return r.name == remoteRef; });
    if (it == refs.end()) {
      missing = true;
      return std::vector<std::string>{};
    }
    auto local = repo_.resolveRef(kTipRef);
    if (local && *local && **local == it->oid && repo_.hasObject(it->oid)) return std::vector<std::string>{};
    return std::vector<std::string>{"+" + remoteRef + ":" + kTipRef};
  });
  if (!outcome) return std::unexpected(outcome.error());
  Tip tip;
  if (missing) {
    (void)repo_.deleteRef(kTipRef);
    return tip;
  }
  auto local = repo_.resolveRef(kTipRef);
  if (!local) return std::unexpected(local.error());
  if (!*local) return git::fail(ErrorCode::Corrupt, "the fetched status branch is missing", "status branch");
  tip.commit = **local;
  auto file = repo_.readFile(*tip.commit, path);
  if (!file) return std::unexpected(file.error());
  tip.file = std::move(*file);
  return tip;
}

Result<std::string> GitStatusStore::commit(const std::optional<std::string>& parent, const std::string& path,
                                           const std::string& content, const git::Signature& author,
                                           const std::string& message) {
  return repo_.commitFile(parent, path, content, author, message);
}

Result<git::PushResult> GitStatusStore::push(const std::string& commit) {
  if (auto r = repo_.setRef(kPushRef, commit, "gitfed: status push"); !r) return std::unexpected(r.error());
  return repo_.push(remote_, kPushRef, "refs/heads/" + branch_);
}

}  // namespace gitfed::status
