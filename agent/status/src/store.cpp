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

Result<void> GitStatusStore::fetchBranch() {
  const std::string remoteRef = "refs/heads/" + branch_;
  auto outcome = repo_.fetchIf(remote_, [&](const std::vector<git::RemoteRef>& refs) {
    auto it = std::find_if(refs.begin(), refs.end(), [&](const git::RemoteRef& r) { return r.name == remoteRef; });
    if (it == refs.end() || repo_.hasObject(it->oid)) return std::vector<std::string>{};
    return std::vector<std::string>{"+" + remoteRef + ":" + kTipRef};
  });
  if (!outcome) return std::unexpected(outcome.error());
  return {};
}

Result<StatusStore::Tip> GitStatusStore::fetch(const std::string& path) {
  pending_.reset();
  auto session = repo_.openPush(remote_, "refs/heads/" + branch_);
  if (!session) return std::unexpected(session.error());
  Tip tip;
  tip.commit = (*session)->advertised();
  if (tip.commit && !repo_.hasObject(*tip.commit)) {
    // Others wrote since we last looked: get their commits, then connect
    // again, so that the push follows the tip we read by one request only
    // (a fetch in between would let the next writer in).
    session->reset();
    if (auto f = fetchBranch(); !f) return std::unexpected(f.error());
    session = repo_.openPush(remote_, "refs/heads/" + branch_);
    if (!session) return std::unexpected(session.error());
    tip.commit = (*session)->advertised();
    if (tip.commit && !repo_.hasObject(*tip.commit)) {
      // Moved again meanwhile: fetch once more and push over this connection.
      if (auto f = fetchBranch(); !f) return std::unexpected(f.error());
      if (!repo_.hasObject(*tip.commit))
        return git::fail(ErrorCode::Rejected, "the status branch was rewritten while fetching it", "status branch");
    }
  }
  if (tip.commit) {
    if (auto r = repo_.setRef(kTipRef, *tip.commit, "gitfed: status tip"); !r) return std::unexpected(r.error());
    auto file = repo_.readFile(*tip.commit, path);
    if (!file) return std::unexpected(file.error());
    tip.file = std::move(*file);
  }
  pending_ = std::move(*session);
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
