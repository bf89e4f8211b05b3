#include "gitfed/git/repository.h"

#include <git2.h>

#include <algorithm>
#include <cassert>
#include <functional>

#include "check.h"
#include "handles.h"
#include "net.h"
#include "session.h"

namespace gitfed::git {

struct Repository::Impl {
  detail::RepositoryPtr repo;
};

namespace {

using detail::check;
using detail::libgit2Error;
using detail::oidHex;
using detail::parseOid;

Result<detail::CommitPtr> lookupCommit(git_repository* repo, const std::string& id, const std::string& context) {
  auto oid = parseOid(id, context);
  if (!oid) return std::unexpected(oid.error());
  git_commit* c = nullptr;
  if (int rc = git_commit_lookup(&c, repo, &*oid); rc < 0) return std::unexpected(libgit2Error(rc, context));
  return detail::CommitPtr(c);
}

Result<detail::TreePtr> commitTree(git_commit* commit, const std::string& context) {
  git_tree* t = nullptr;
  if (int rc = git_commit_tree(&t, commit); rc < 0) return std::unexpected(libgit2Error(rc, context));
  return detail::TreePtr(t);
}

Signature toSignature(const git_signature* s) {
  Signature out;
  out.name = s->name ? s->name : "";
  out.email = s->email ? s->email : "";
  out.when = std::chrono::system_clock::time_point(std::chrono::seconds(s->when.time));
  return out;
}

CommitInfo toInfo(git_commit* c) {
  CommitInfo info;
  info.id = oidHex(*git_commit_id(c));
  for (unsigned i = 0; i < git_commit_parentcount(c); ++i) info.parents.push_back(oidHex(*git_commit_parent_id(c, i)));
  info.tree = oidHex(*git_commit_tree_id(c));
  info.author = toSignature(git_commit_author(c));
  info.committer = toSignature(git_commit_committer(c));
  info.message = git_commit_message(c) ? git_commit_message(c) : "";
  return info;
}

bool isEmptyDir(const std::filesystem::path& p) {
  std::error_code ec;
  return std::filesystem::is_directory(p, ec) && std::filesystem::is_empty(p, ec);
}

}  // namespace

Repository::Repository(std::filesystem::path path, std::unique_ptr<Impl> impl)
    : path_(std::move(path)), impl_(std::move(impl)) {}
Repository::Repository(Repository&&) noexcept = default;
Repository& Repository::operator=(Repository&&) noexcept = default;
Repository::~Repository() = default;

Result<Repository> Repository::openOrCreateBare(const std::filesystem::path& path) {
  const std::string context = "repository " + path.string();
  std::error_code ec;
  git_repository* raw = nullptr;
  if (!std::filesystem::exists(path, ec) || isEmptyDir(path)) {
    std::filesystem::create_directories(path, ec);
    if (ec) return fail(ErrorCode::Io, "cannot create the directory: " + ec.message(), context);
    if (int rc = git_repository_init(&raw, path.c_str(), 1); rc < 0) return std::unexpected(libgit2Error(rc, context));
  } else if (int rc = git_repository_open_ext(&raw, path.c_str(), GIT_REPOSITORY_OPEN_NO_SEARCH | GIT_REPOSITORY_OPEN_BARE,
                                              nullptr);
             rc < 0) {
    Error e = libgit2Error(rc, context);
    e.code = ErrorCode::Corrupt;
    return std::unexpected(e);
  }
  auto impl = std::make_unique<Impl>();
  impl->repo.reset(raw);
  return Repository(path, std::move(impl));
}

Result<Repository> Repository::open(const std::filesystem::path& path) {
  const std::string context = "repository " + path.string();
  git_repository* raw = nullptr;
  if (int rc = git_repository_open_ext(&raw, path.c_str(), 0, nullptr); rc < 0)
    return std::unexpected(libgit2Error(rc, context));
  auto impl = std::make_unique<Impl>();
  impl->repo.reset(raw);
  return Repository(path, std::move(impl));
}

Result<std::vector<RemoteRef>> Repository::listRemote(const RemoteOptions& options) {
  auto outcome = fetchIf(options, [](const std::vector<RemoteRef>&) { return std::vector<std::string>{}; });
  if (!outcome) return std::unexpected(outcome.error());
  return std::move(outcome->advertised);
}

Result<Repository::FetchOutcome> Repository::fetchIf(const RemoteOptions& options, const FetchDecision& decide) {
  const std::string context = "fetch " + options.url;
  auto session = detail::RemoteSession::create(impl_->repo.get(), options, context);
  if (!session) return std::unexpected(session.error());
  FetchOutcome out;
  auto refs = (*session)->connect(GIT_DIRECTION_FETCH);
  if (!refs) return std::unexpected(refs.error());
  out.advertised = std::move(*refs);
  auto specs = decide(out.advertised);
  if (!specs.empty()) {
    auto stats = (*session)->fetch(specs);
    if (!stats) return std::unexpected(stats.error());
    out.fetched = true;
    out.stats = *stats;
  }
  (*session)->disconnect();
  return out;
}

Result<void> Repository::fetchCommit(const RemoteOptions& options, const std::string& commit,
                                     const std::string& remoteRef, const std::string& localRef) {
  const std::string context = "fetch " + options.url + " " + commit;
  auto url = parseRemoteUrl(options.url);
  if (!url) return std::unexpected(withContext(url.error(), context));
  if (!hasObject(commit)) {
    if (url->scheme == RemoteUrl::Scheme::Https || url->scheme == RemoteUrl::Scheme::Http) {
      auto session = detail::RemoteSession::create(impl_->repo.get(), options, context);
      if (!session) return std::unexpected(session.error());
      std::vector<std::string> haves;
      auto have = resolveRef(localRef);
      if (have && *have && hasObject(**have)) haves.push_back(**have);
      if (auto fetched = (*session)->fetchPack(impl_->repo.get(), commit, haves); !fetched)
        return std::unexpected(fetched.error());
    } else {
      auto outcome = fetchIf(options, [&](const std::vector<RemoteRef>&) {
        return std::vector<std::string>{"+" + remoteRef + ":" + localRef};
      });
      if (!outcome) return std::unexpected(outcome.error());
    }
  }
  if (!hasObject(commit))
    return fail(ErrorCode::Rejected, "the remote no longer has commit " + commit + " on " + remoteRef + " (rewritten meanwhile)",
                context);
  if (auto c = lookupCommit(impl_->repo.get(), commit, context); !c)
    return fail(ErrorCode::Network, "the fetched object " + commit + " is not a commit", context);
  return setRef(localRef, commit, "gitfed: fetched " + remoteRef);
}

Result<PushResult> Repository::push(const RemoteOptions& options, const std::string& localRef,
                                    const std::string& remoteRef) {
  const std::string context = "push " + options.url + " " + remoteRef;
  auto session = detail::RemoteSession::create(impl_->repo.get(), options, context);
  if (!session) return std::unexpected(session.error());
  auto result = (*session)->push(localRef + ":" + remoteRef);
  (*session)->disconnect();
  return result;
}

struct PushSessionImpl {
  std::unique_ptr<detail::RemoteSession> session;
};

Repository::PushSession::~PushSession() = default;

Result<std::unique_ptr<Repository::PushSession>> Repository::openPush(const RemoteOptions& options,
                                                                      const std::string& remoteRef) {
  const std::string context = "push " + options.url + " " + remoteRef;
  auto session = detail::RemoteSession::create(impl_->repo.get(), options, context);
  if (!session) return std::unexpected(session.error());
  auto refs = (*session)->connect(GIT_DIRECTION_PUSH);
  if (!refs) return std::unexpected(refs.error());
  std::unique_ptr<PushSession> out(new PushSession());
  out->remoteRef_ = remoteRef;
  for (const auto& r : *refs) {
    if (r.name == remoteRef) out->advertised_ = r.oid;
    out->names_.push_back(r.name);
  }
  out->impl_ = std::make_unique<PushSessionImpl>();
  out->impl_->session = std::move(*session);
  return out;
}

std::size_t Repository::PushSession::advertisedCount(std::string_view prefix) const {
  return static_cast<std::size_t>(
      std::count_if(names_.begin(), names_.end(), [&](const std::string& n) { return n.starts_with(prefix); }));
}

Result<PushResult> Repository::PushSession::push(const std::string& localRef, bool force) {
  assert(impl_ && impl_->session);
  auto result = impl_->session->upload((force ? "+" : "") + localRef + ":" + remoteRef_);
  impl_->session->disconnect();
  impl_->session.reset();
  return result;
}

Result<std::optional<std::string>> Repository::resolveRef(const std::string& name) const {
  git_oid oid;
  int rc = git_reference_name_to_id(&oid, impl_->repo.get(), name.c_str());
  if (rc == GIT_ENOTFOUND) {
    git_error_clear();
    return std::optional<std::string>{};
  }
  if (rc < 0) return std::unexpected(libgit2Error(rc, "resolve " + name));
  return std::optional<std::string>{oidHex(oid)};
}

Result<std::vector<RemoteRef>> Repository::listRefs(const std::string& prefix) const {
  const std::string context = "list refs " + prefix + "*";
  git_reference_iterator* it = nullptr;
  const std::string glob = prefix + "*";
  if (int rc = git_reference_iterator_glob_new(&it, impl_->repo.get(), glob.c_str()); rc < 0)
    return std::unexpected(libgit2Error(rc, context));
  detail::ReferenceIteratorPtr iterator(it);
  std::vector<RemoteRef> out;
  for (;;) {
    git_reference* ref = nullptr;
    int rc = git_reference_next(&ref, it);
    if (rc == GIT_ITEROVER) break;
    if (rc < 0) return std::unexpected(libgit2Error(rc, context));
    detail::ReferencePtr owned(ref);
    git_reference* resolved = nullptr;
    if (git_reference_resolve(&resolved, ref) < 0) {  // a dangling symbolic ref: not a report
      git_error_clear();
      continue;
    }
    detail::ReferencePtr resolvedPtr(resolved);
    if (const git_oid* oid = git_reference_target(resolved)) out.push_back({git_reference_name(ref), oidHex(*oid), ""});
  }
  std::sort(out.begin(), out.end(), [](const RemoteRef& a, const RemoteRef& b) { return a.name < b.name; });
  return out;
}

Result<std::string> Repository::peelToCommit(const std::string& objectId) const {
  const std::string context = "peel " + objectId;
  auto oid = parseOid(objectId, context);
  if (!oid) return std::unexpected(oid.error());
  git_object* obj = nullptr;
  if (int rc = git_object_lookup(&obj, impl_->repo.get(), &*oid, GIT_OBJECT_ANY); rc < 0)
    return std::unexpected(libgit2Error(rc, context));
  detail::ObjectPtr object(obj);
  git_object* peeled = nullptr;
  if (int rc = git_object_peel(&peeled, obj, GIT_OBJECT_COMMIT); rc < 0) return std::unexpected(libgit2Error(rc, context));
  detail::ObjectPtr peeledPtr(peeled);
  return oidHex(*git_object_id(peeled));
}

Result<void> Repository::setRef(const std::string& name, const std::string& objectId, const std::string& logMessage) {
  const std::string context = "update " + name;
  auto oid = parseOid(objectId, context);
  if (!oid) return std::unexpected(oid.error());
  git_reference* ref = nullptr;
  int rc = git_reference_create(&ref, impl_->repo.get(), name.c_str(), &*oid, 1, logMessage.c_str());
  detail::ReferencePtr refPtr(ref);
  return check(rc, context);
}

Result<void> Repository::deleteRef(const std::string& name) {
  git_reference* ref = nullptr;
  int rc = git_reference_lookup(&ref, impl_->repo.get(), name.c_str());
  if (rc == GIT_ENOTFOUND) {
    git_error_clear();
    return {};
  }
  if (rc < 0) return std::unexpected(libgit2Error(rc, "delete " + name));
  detail::ReferencePtr refPtr(ref);
  return check(git_reference_delete(ref), "delete " + name);
}

bool Repository::hasObject(const std::string& objectId) const {
  git_oid oid;
  if (objectId.size() != GIT_OID_HEXSZ || git_oid_fromstr(&oid, objectId.c_str()) != 0) return false;
  git_odb* odb = nullptr;
  if (git_repository_odb(&odb, impl_->repo.get()) < 0) {
    git_error_clear();
    return false;
  }
  detail::OdbPtr odbPtr(odb);
  return git_odb_exists(odb, &oid) == 1;
}

Result<void> Repository::verifyCommit(const std::string& commit) const {
  const std::string context = "verify " + commit;
  auto c = lookupCommit(impl_->repo.get(), commit, context);
  if (!c) return std::unexpected(Error{ErrorCode::Corrupt, context, c.error().message});
  auto tree = commitTree(c->get(), context);
  if (!tree) return std::unexpected(Error{ErrorCode::Corrupt, context, tree.error().message});
  git_odb* odb = nullptr;
  if (int rc = git_repository_odb(&odb, impl_->repo.get()); rc < 0) return std::unexpected(libgit2Error(rc, context));
  detail::OdbPtr odbPtr(odb);
  std::vector<detail::TreePtr> pending;
  pending.push_back(std::move(*tree));
  while (!pending.empty()) {
    detail::TreePtr t = std::move(pending.back());
    pending.pop_back();
    for (std::size_t i = 0, n = git_tree_entrycount(t.get()); i < n; ++i) {
      const git_tree_entry* e = git_tree_entry_byindex(t.get(), i);
      const git_oid* id = git_tree_entry_id(e);
      switch (git_tree_entry_type(e)) {
        case GIT_OBJECT_TREE: {
          git_tree* sub = nullptr;
          if (int rc = git_tree_lookup(&sub, impl_->repo.get(), id); rc < 0) {
            Error err = libgit2Error(rc, context);
            return fail(ErrorCode::Corrupt, "tree " + oidHex(*id) + ": " + err.message, context);
          }
          pending.emplace_back(sub);
          break;
        }
        case GIT_OBJECT_BLOB: {
          std::size_t len = 0;
          git_object_t type = GIT_OBJECT_INVALID;
          if (int rc = git_odb_read_header(&len, &type, odb, id); rc < 0) {
            Error err = libgit2Error(rc, context);
            return fail(ErrorCode::Corrupt, "blob " + oidHex(*id) + ": " + err.message, context);
          }
          break;
        }
        default:
          break;  // gitlinks point into other repositories
      }
    }
  }
  return {};
}

Result<CommitInfo> Repository::commitInfo(const std::string& commit) const {
  auto c = lookupCommit(impl_->repo.get(), commit, "commit " + commit);
  if (!c) return std::unexpected(c.error());
  return toInfo(c->get());
}

Result<std::vector<CommitInfo>> Repository::history(const std::string& commit, std::size_t limit) const {
  const std::string context = "history of " + commit;
  auto oid = parseOid(commit, context);
  if (!oid) return std::unexpected(oid.error());
  git_revwalk* w = nullptr;
  if (int rc = git_revwalk_new(&w, impl_->repo.get()); rc < 0) return std::unexpected(libgit2Error(rc, context));
  detail::RevwalkPtr walk(w);
  git_revwalk_simplify_first_parent(w);
  if (int rc = git_revwalk_push(w, &*oid); rc < 0) return std::unexpected(libgit2Error(rc, context));
  std::vector<CommitInfo> out;
  git_oid next;
  int rc;
  while (out.size() < limit && (rc = git_revwalk_next(&next, w)) == 0) {
    git_commit* c = nullptr;
    if (int lrc = git_commit_lookup(&c, impl_->repo.get(), &next); lrc < 0)
      return std::unexpected(libgit2Error(lrc, context));
    detail::CommitPtr cp(c);
    out.push_back(toInfo(c));
  }
  if (out.size() < limit && rc != GIT_ITEROVER) return std::unexpected(libgit2Error(rc, context));
  git_error_clear();
  return out;
}

Result<std::vector<ChangedFile>> Repository::changedFiles(const std::string& commit) const {
  const std::string context = "changes of " + commit;
  auto c = lookupCommit(impl_->repo.get(), commit, context);
  if (!c) return std::unexpected(c.error());
  auto tree = commitTree(c->get(), context);
  if (!tree) return std::unexpected(tree.error());
  detail::TreePtr parentTree;
  if (git_commit_parentcount(c->get()) > 0) {
    git_commit* p = nullptr;
    if (int rc = git_commit_parent(&p, c->get(), 0); rc < 0) return std::unexpected(libgit2Error(rc, context));
    detail::CommitPtr parent(p);
    auto pt = commitTree(p, context);
    if (!pt) return std::unexpected(pt.error());
    parentTree = std::move(*pt);
  }
  git_diff* d = nullptr;
  if (int rc = git_diff_tree_to_tree(&d, impl_->repo.get(), parentTree.get(), tree->get(), nullptr); rc < 0)
    return std::unexpected(libgit2Error(rc, context));
  std::unique_ptr<git_diff, detail::Deleter<git_diff, git_diff_free>> diff(d);
  std::vector<ChangedFile> out;
  for (std::size_t i = 0, n = git_diff_num_deltas(d); i < n; ++i) {
    const git_diff_delta* delta = git_diff_get_delta(d, i);
    ChangedFile f;
    f.path = delta->new_file.path ? delta->new_file.path : delta->old_file.path;
    f.kind = delta->status == GIT_DELTA_ADDED     ? ChangedFile::Kind::Added
             : delta->status == GIT_DELTA_DELETED ? ChangedFile::Kind::Deleted
                                                  : ChangedFile::Kind::Modified;
    out.push_back(std::move(f));
  }
  return out;
}

namespace {
// The entry at `path` in `commit`'s tree; a null pointer when there is none.
Result<detail::TreeEntryPtr> entryAt(git_repository* repo, const std::string& commit, const std::string& path,
                                     const std::string& context) {
  auto c = lookupCommit(repo, commit, context);
  if (!c) return std::unexpected(c.error());
  auto tree = commitTree(c->get(), context);
  if (!tree) return std::unexpected(tree.error());
  git_tree_entry* e = nullptr;
  int rc = git_tree_entry_bypath(&e, tree->get(), path.c_str());
  if (rc == GIT_ENOTFOUND) {
    git_error_clear();
    return detail::TreeEntryPtr{};
  }
  if (rc < 0) return std::unexpected(libgit2Error(rc, context));
  return detail::TreeEntryPtr(e);
}
}  // namespace

Result<std::optional<std::string>> Repository::readFile(const std::string& commit, const std::string& path) const {
  const std::string context = "read " + path + " at " + commit;
  auto entry = entryAt(impl_->repo.get(), commit, path, context);
  if (!entry) return std::unexpected(entry.error());
  const git_tree_entry* e = entry->get();
  if (e == nullptr) return std::optional<std::string>{};
  if (git_tree_entry_type(e) != GIT_OBJECT_BLOB || git_tree_entry_filemode(e) == GIT_FILEMODE_LINK)
    return fail(ErrorCode::InvalidArgument, "not a regular file", context);
  git_blob* b = nullptr;
  if (int brc = git_blob_lookup(&b, impl_->repo.get(), git_tree_entry_id(e)); brc < 0)
    return std::unexpected(libgit2Error(brc, context));
  detail::BlobPtr blob(b);
  return std::optional<std::string>{
      std::string(static_cast<const char*>(git_blob_rawcontent(b)), static_cast<std::size_t>(git_blob_rawsize(b)))};
}

Result<std::size_t> Repository::countEntries(const std::string& commit, const std::string& path) const {
  const std::string context = "list " + path + " at " + commit;
  auto entry = entryAt(impl_->repo.get(), commit, path, context);
  if (!entry) return std::unexpected(entry.error());
  const git_tree_entry* e = entry->get();
  if (e == nullptr || git_tree_entry_type(e) != GIT_OBJECT_TREE) return std::size_t{0};
  git_tree* sub = nullptr;
  if (int trc = git_tree_lookup(&sub, impl_->repo.get(), git_tree_entry_id(e)); trc < 0)
    return std::unexpected(libgit2Error(trc, context));
  detail::TreePtr subtree(sub);
  return git_tree_entrycount(sub);
}

Result<std::string> Repository::commitFile(const std::optional<std::string>& parent, const std::string& path,
                                           const std::string& content, const Signature& author,
                                           const std::string& message) {
  const std::string context = "commit " + path;
  git_repository* repo = impl_->repo.get();
  git_oid blobId;
  if (int rc = git_blob_create_from_buffer(&blobId, repo, content.data(), content.size()); rc < 0)
    return std::unexpected(libgit2Error(rc, context));

  detail::CommitPtr parentCommit;
  detail::TreePtr baseline;
  if (parent) {
    auto c = lookupCommit(repo, *parent, context);
    if (!c) return std::unexpected(c.error());
    parentCommit = std::move(*c);
    auto t = commitTree(parentCommit.get(), context);
    if (!t) return std::unexpected(t.error());
    baseline = std::move(*t);
  } else {
    git_treebuilder* b = nullptr;
    if (int rc = git_treebuilder_new(&b, repo, nullptr); rc < 0) return std::unexpected(libgit2Error(rc, context));
    detail::TreebuilderPtr builder(b);
    git_oid emptyId;
    if (int rc = git_treebuilder_write(&emptyId, b); rc < 0) return std::unexpected(libgit2Error(rc, context));
    git_tree* t = nullptr;
    if (int rc = git_tree_lookup(&t, repo, &emptyId); rc < 0) return std::unexpected(libgit2Error(rc, context));
    baseline.reset(t);
  }
  git_tree_update update{};
  update.action = GIT_TREE_UPDATE_UPSERT;
  update.id = blobId;
  update.filemode = GIT_FILEMODE_BLOB;
  update.path = path.c_str();
  git_oid treeId;
  if (int rc = git_tree_create_updated(&treeId, repo, baseline.get(), 1, &update); rc < 0)
    return std::unexpected(libgit2Error(rc, context));
  git_tree* t = nullptr;
  if (int rc = git_tree_lookup(&t, repo, &treeId); rc < 0) return std::unexpected(libgit2Error(rc, context));
  detail::TreePtr newTree(t);

  auto seconds = std::chrono::duration_cast<std::chrono::seconds>(author.when.time_since_epoch()).count();
  git_signature* s = nullptr;
  if (int rc = git_signature_new(&s, author.name.c_str(), author.email.c_str(), static_cast<git_time_t>(seconds), 0); rc < 0)
    return std::unexpected(libgit2Error(rc, context));
  detail::SignaturePtr sig(s);
  const git_commit* parents[1] = {parentCommit.get()};
  git_oid commitId;
  if (int rc = git_commit_create(&commitId, repo, nullptr, s, s, "UTF-8", message.c_str(), newTree.get(),
                                 parentCommit ? 1 : 0, parents);
      rc < 0)
    return std::unexpected(libgit2Error(rc, context));
  return oidHex(commitId);
}

Result<std::unique_ptr<GitTreeSource>> Repository::tree(const std::string& commit) const {
  const std::string context = "tree of " + commit;
  auto c = lookupCommit(impl_->repo.get(), commit, context);
  if (!c) return std::unexpected(c.error());
  git_odb* odb = nullptr;
  if (int rc = git_repository_odb(&odb, impl_->repo.get()); rc < 0) return std::unexpected(libgit2Error(rc, context));
  const git_oid* treeId = git_commit_tree_id(c->get());
  return std::make_unique<GitTreeSource>(odb, commit,
                                         std::string(reinterpret_cast<const char*>(treeId->id), GIT_OID_RAWSZ));
}

}  // namespace gitfed::git
