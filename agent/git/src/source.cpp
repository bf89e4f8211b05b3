#include "gitfed/git/source.h"

#include "gitfed/git/url.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <utility>
#include <fstream>
#include <sstream>

namespace gitfed::git {
namespace {

constexpr const char* kFetchedRef = "refs/gitfed/fetched";  // what the remote's ref pointed to
constexpr const char* kGoodRef = "refs/gitfed/good";        // the last good commit

std::filesystem::path repoDir(const SourceConfig& c) { return c.cacheDir / "repo.git"; }
std::filesystem::path identityFile(const SourceConfig& c) { return c.cacheDir / "source"; }

std::string identity(const SourceConfig& c) { return c.remote.url + "\n" + c.ref.display() + "\n"; }

std::string readText(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

Source::Source(SourceConfig config, int lockFd) : config_(std::move(config)), lockFd_(lockFd) {}

Source::Source(Source&& o) noexcept
    : config_(std::move(o.config_)), lockFd_(std::exchange(o.lockFd_, -1)), repo_(std::move(o.repo_)), recloned_(o.recloned_) {}

Source& Source::operator=(Source&& o) noexcept {
  if (this != &o) {
    if (lockFd_ >= 0) ::close(lockFd_);
    config_ = std::move(o.config_);
    lockFd_ = std::exchange(o.lockFd_, -1);
    repo_ = std::move(o.repo_);
    recloned_ = o.recloned_;
  }
  return *this;
}

Source::~Source() {
  repo_.reset();
  if (lockFd_ >= 0) ::close(lockFd_);  // releases the flock
}

std::string Source::describe() const { return config_.remote.url + " " + config_.ref.display(); }

Result<Source> Source::open(SourceConfig config) {
  const std::string context = "source " + config.remote.url;
  auto url = parseRemoteUrl(config.remote.url);
  if (!url) return std::unexpected(withContext(url.error(), "source"));
  if (config.cacheDir.empty()) return fail(ErrorCode::InvalidArgument, "no cache directory configured", context);
  std::error_code ec;
  std::filesystem::create_directories(config.cacheDir, ec);
  if (ec) return fail(ErrorCode::Io, "cannot create the cache directory " + config.cacheDir.string() + ": " + ec.message(), context);
  int fd = ::open((config.cacheDir / "lock").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) return fail(ErrorCode::Io, "cannot open " + (config.cacheDir / "lock").string(), context);
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    ::close(fd);
    return fail(ErrorCode::Io, "the cache directory " + config.cacheDir.string() + " is in use by another process", context);
  }
  Source source(std::move(config), fd);
  if (auto r = source.openCache(); !r) return std::unexpected(r.error());
  return source;
}

Result<void> Source::reclone(const std::string& why) {
  (void)why;
  repo_.reset();
  std::error_code ec;
  auto dir = repoDir(config_);
  auto trash = config_.cacheDir / "repo.git.damaged";
  std::filesystem::remove_all(trash, ec);
  std::filesystem::rename(dir, trash, ec);
  std::filesystem::remove_all(trash, ec);
  std::filesystem::remove_all(dir, ec);
  if (std::filesystem::exists(dir))
    return fail(ErrorCode::Io, "cannot remove the damaged cache " + dir.string(), "source " + config_.remote.url);
  auto repo = Repository::openOrCreateBare(dir);
  if (!repo) return std::unexpected(repo.error());
  repo_.emplace(std::move(*repo));
  recloned_ = true;
  return {};
}

Result<void> Source::openCache() {
  auto repo = Repository::openOrCreateBare(repoDir(config_));
  if (!repo) {
    if (repo.error().code != ErrorCode::Corrupt) return std::unexpected(repo.error());
    return reclone(repo.error().message);
  }
  repo_.emplace(std::move(*repo));
  // Another URL or ref than last time: the old revision means nothing now.
  if (readText(identityFile(config_)) != identity(config_)) {
    (void)repo_->deleteRef(kGoodRef);
    (void)repo_->deleteRef(kFetchedRef);
    std::ofstream out(identityFile(config_), std::ios::binary | std::ios::trunc);
    out << identity(config_);
    if (!out) return fail(ErrorCode::Io, "cannot write " + identityFile(config_).string(), "source " + config_.remote.url);
  }
  auto good = repo_->resolveRef(kGoodRef);
  if (!good) return reclone(good.error().message);
  if (*good) {
    if (auto v = repo_->verifyCommit(**good); !v) return reclone(v.error().message);
  }
  return {};
}

std::optional<std::string> Source::lastGood() const {
  if (!repo_) return std::nullopt;
  auto good = repo_->resolveRef(kGoodRef);
  if (!good) return std::nullopt;
  return *good;
}

Result<std::unique_ptr<GitTreeSource>> Source::tree(const std::string& commit) const {
  if (!repo_) return fail(ErrorCode::Corrupt, "no cache", "source " + config_.remote.url);
  return repo_->tree(commit);
}

Result<SyncResult> Source::staleOr(Error error, const std::optional<std::string>& lastGood) {
  if (!lastGood) return std::unexpected(std::move(error));
  SyncResult r;
  r.commit = *lastGood;
  r.previous = *lastGood;
  r.stale = true;
  r.staleReason = std::move(error);
  r.recloned = recloned_;
  return r;
}

Result<SyncResult> Source::sync() {
  if (!repo_) {
    if (auto r = reclone("no cache"); !r) return std::unexpected(r.error());
  }
  auto result = syncOnce();
  // A damaged cache shows while fetching into it or reading what was fetched:
  // start over once.
  if (!result && result.error().code == ErrorCode::Corrupt && !recloned_) {
    if (auto r = reclone(result.error().message); !r) return std::unexpected(r.error());
    result = syncOnce();
  }
  if (result) result->recloned = recloned_;
  recloned_ = false;  // reported once (a reclone in open() shows in the first sync)
  return result;
}

Result<SyncResult> Source::syncOnce() {
  const std::string context = "fetch " + describe();
  auto goodRef = repo_->resolveRef(kGoodRef);
  if (!goodRef) return fail(ErrorCode::Corrupt, goodRef.error().message, context);
  const std::optional<std::string> lastGood = *goodRef;

  SyncResult r;
  r.previous = lastGood.value_or("");
  auto finish = [&](const std::string& commit) -> Result<SyncResult> {
    // A new commit is checked whole once; the last good one was checked when
    // the cache was opened.
    if (commit != r.previous || r.fetched) {
      if (auto v = repo_->verifyCommit(commit); !v) return std::unexpected(v.error());
      if (auto s = repo_->setRef(kGoodRef, commit, "gitfed: good"); !s) return std::unexpected(s.error());
    }
    r.commit = commit;
    r.changed = commit != r.previous;
    return r;
  };

  const Ref& ref = config_.ref;
  if (ref.kind == Ref::Kind::Commit) {
    // A fixed commit: no network when the cache has it.
    if (!repo_->hasObject(ref.name)) {
      auto outcome = repo_->fetchIf(config_.remote, [](const std::vector<RemoteRef>&) {
        return std::vector<std::string>{"+refs/heads/*:refs/gitfed/all/heads/*", "+refs/tags/*:refs/gitfed/all/tags/*"};
      });
      if (!outcome) return staleOr(outcome.error(), lastGood);
      r.fetched = outcome->fetched;
      r.stats = outcome->stats;
      if (!repo_->hasObject(ref.name))
        return staleOr(Error{ErrorCode::NotFound, context, "the commit is on no branch or tag of the remote"}, lastGood);
    }
    auto commit = repo_->peelToCommit(ref.name);
    if (!commit) return std::unexpected(commit.error());
    return finish(*commit);
  }

  const std::string wanted = ref.fullName();
  bool missing = false;
  auto outcome = repo_->fetchIf(config_.remote, [&](const std::vector<RemoteRef>& advertised) {
    auto it = std::find_if(advertised.begin(), advertised.end(), [&](const RemoteRef& a) { return a.name == wanted; });
    if (it == advertised.end()) {
      missing = true;
      return std::vector<std::string>{};
    }
    auto local = repo_->resolveRef(kFetchedRef);
    if (local && *local && **local == it->oid && repo_->hasObject(it->oid)) return std::vector<std::string>{};
    return std::vector<std::string>{"+" + wanted + ":" + kFetchedRef};
  });
  if (!outcome) return staleOr(outcome.error(), lastGood);
  if (missing)
    return staleOr(Error{ErrorCode::NotFound, context, "the remote has no " + ref.display() + " (deleted?)"}, lastGood);
  r.fetched = outcome->fetched;
  r.stats = outcome->stats;
  auto fetched = repo_->resolveRef(kFetchedRef);
  if (!fetched || !*fetched) return fail(ErrorCode::Corrupt, "the fetched ref is missing after the fetch", context);
  auto commit = repo_->peelToCommit(**fetched);
  if (!commit) {
    Error e = commit.error();
    if (e.code == ErrorCode::NotFound || e.code == ErrorCode::Internal) e.code = ErrorCode::Corrupt;
    return std::unexpected(withContext(e, context));
  }
  return finish(*commit);
}

}  // namespace gitfed::git
