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
  // Read the tip from the push connection. When it is not in the cache
  // (others wrote since we last looked), fetch their commits and connect
  // again: the push must follow the tip it builds on by one request only, or
  // the next writer gets in between. A few rounds, then the writer backs off.
  std::unique_ptr<git::Repository::PushSession> session;
  Tip tip;
  for (int round = 0;; ++round) {
    auto opened = repo_.openPush(remote_, "refs/heads/" + branch_);
    if (!opened) return std::unexpected(opened.error());
    session = std::move(*opened);
    tip.commit = session->advertised();
    if (!tip.commit || repo_.hasObject(*tip.commit)) break;
    if (round == 2) return git::fail(ErrorCode::Rejected, "the status branch keeps moving", "status branch");
    session.reset();
    if (auto f = fetchBranch(); !f) return std::unexpected(f.error());
  }
  if (tip.commit) {
    if (auto r = repo_.setRef(kTipRef, *tip.commit, "gitfed: status tip"); !r) return std::unexpected(r.error());
    auto file = repo_.readFile(*tip.commit, path);
    if (!file) return std::unexpected(file.error());
    tip.file = std::move(*file);
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
