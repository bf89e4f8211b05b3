#include "gitfed/status/store.h"

#include <algorithm>

#include "gitfed/git/ref.h"
#include "status_cache.h"

namespace gitfed::status {
namespace {
constexpr const char* kTipRef = "refs/gitfed/status/tip";
constexpr const char* kPushRef = "refs/gitfed/status/push";
}  // namespace

Result<std::unique_ptr<GitStatusStore>> GitStatusStore::open(const std::filesystem::path& cacheDir,
                                                             git::RemoteOptions remote, std::string branch) {
  if (!git::isValidRefName(branch))
    return git::fail(ErrorCode::InvalidArgument, "invalid branch name \"" + branch + "\"", "status branch");
  auto repo = openStatusCache(cacheDir);
  if (!repo) return std::unexpected(repo.error());
  return std::unique_ptr<GitStatusStore>(new GitStatusStore(std::move(*repo), std::move(remote), std::move(branch)));
}

Result<StatusStore::Tip> GitStatusStore::fetch(const std::string& path) {
  pending_.reset();
  // Read the tip from the push connection. When it is not in the cache
  // (others wrote since we last looked), fetch exactly that commit (one
  // request over https) and build on it: the push goes over this connection,
  // and the server takes it only if the branch still points there, so
  // nothing another writer pushed meanwhile can be overwritten.
  auto opened = repo_.openPush(remote_, "refs/heads/" + branch_);
  if (!opened) return std::unexpected(opened.error());
  std::unique_ptr<git::Repository::PushSession> session = std::move(*opened);
  Tip tip;
  tip.commit = session->advertised();
  if (tip.commit && !repo_.hasObject(*tip.commit)) {
    auto fetched = repo_.fetchCommit(remote_, *tip.commit, "refs/heads/" + branch_, kTipRef);
    if (!fetched) return std::unexpected(fetched.error());
  }
  if (tip.commit) {
    if (auto r = repo_.setRef(kTipRef, *tip.commit, "gitfed: status tip"); !r) return std::unexpected(r.error());
    auto file = repo_.readFile(*tip.commit, path);
    if (!file) return std::unexpected(file.error());
    tip.file = std::move(*file);
    auto clusters = repo_.countEntries(*tip.commit, "clusters");
    if (!clusters) return std::unexpected(clusters.error());
    tip.clusters = *clusters;
  }
  pending_ = std::move(session);
  return tip;
}

Result<std::string> GitStatusStore::commit(const std::optional<std::string>& parent, const std::string& path,
                                           const std::string& content, const git::Signature& author,
                                           const std::string& message) {
  return repo_.commitFile(parent, path, content, author, message);
}

Result<git::PushResult> GitStatusStore::push(const std::string& commit) {
  if (auto r = repo_.setRef(kPushRef, commit, "gitfed: status push"); !r) return std::unexpected(r.error());
  auto session = std::move(pending_);
  auto result = session ? session->push(kPushRef) : repo_.push(remote_, kPushRef, "refs/heads/" + branch_);
  if (result && result->accepted) (void)repo_.setRef(kTipRef, commit, "gitfed: status pushed");
  return result;
}

}  // namespace gitfed::status
