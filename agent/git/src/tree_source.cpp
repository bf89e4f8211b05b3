// GitTreeSource: trees are parsed here from raw objects read through git_odb,
// the one libgit2 object documented as safe to use from several threads.

#include "gitfed/git/tree_source.h"

#include <git2.h>

#include <algorithm>
#include <cstring>

#include "check.h"
#include "handles.h"

namespace gitfed::git {
namespace {

using render::fail;
using EntryType = render::SourceTree::EntryType;

constexpr unsigned kModeTree = 0040000;
constexpr unsigned kModeSymlink = 0120000;
constexpr unsigned kModeGitlink = 0160000;

bool isBlobMode(unsigned mode) { return (mode & 0170000) == 0100000; }

EntryType typeOf(unsigned mode) {
  if (mode == kModeTree) return EntryType::Directory;
  if (mode == kModeSymlink) return EntryType::Symlink;
  if (isBlobMode(mode)) return EntryType::File;
  return EntryType::Other;
}

bool validName(std::string_view name) {
  return !name.empty() && name != "." && name != ".." && name.find('/') == std::string_view::npos &&
         name.find('\0') == std::string_view::npos;
}

// Paths are '/'-separated components, each a valid name.
bool validPath(std::string_view path) {
  if (path.empty()) return true;
  std::size_t start = 0;
  while (true) {
    auto slash = path.find('/', start);
    auto part = path.substr(start, slash == std::string_view::npos ? std::string_view::npos : slash - start);
    if (!validName(part)) return false;
    if (slash == std::string_view::npos) return true;
    start = slash + 1;
  }
}

std::string joinPath(std::string_view dir, std::string_view name) {
  return dir.empty() ? std::string(name) : std::string(dir) + "/" + std::string(name);
}

git_oid toOid(const std::string& raw) {
  git_oid oid;
  git_oid_fromraw(&oid, reinterpret_cast<const unsigned char*>(raw.data()));
  return oid;
}

std::string lastError() {
  const git_error* e = git_error_last();
  std::string m = e && e->message ? e->message : "unknown error";
  git_error_clear();
  return m;
}

void freeOdb(git_odb* odb) {
  if (odb) git_odb_free(odb);
}

}  // namespace

Result<std::unique_ptr<GitTreeSource>> GitTreeSource::open(const std::string& repositoryPath, const std::string& commit) {
  const std::string context = "open " + repositoryPath + " at " + commit;
  git_repository* raw = nullptr;
  if (auto rc = git_repository_open_ext(&raw, repositoryPath.c_str(), GIT_REPOSITORY_OPEN_NO_SEARCH, nullptr); rc < 0)
    return std::unexpected(detail::libgit2Error(rc, context));
  detail::RepositoryPtr repo(raw);
  auto oid = detail::parseOid(commit, context);
  if (!oid) return std::unexpected(oid.error());
  git_commit* c = nullptr;
  if (auto rc = git_commit_lookup(&c, repo.get(), &*oid); rc < 0) return std::unexpected(detail::libgit2Error(rc, context));
  detail::CommitPtr commitPtr(c);
  git_odb* odb = nullptr;
  if (auto rc = git_repository_odb(&odb, repo.get()); rc < 0) return std::unexpected(detail::libgit2Error(rc, context));
  detail::OdbPtr odbPtr(odb);
  const git_oid* tree = git_commit_tree_id(c);
  std::string rawTree(reinterpret_cast<const char*>(tree->id), GIT_OID_RAWSZ);
  return std::make_unique<GitTreeSource>(odbPtr.release(), detail::oidHex(*oid), rawTree);
}

GitTreeSource::GitTreeSource(git_odb* odb, std::string commit, std::string rawTreeId)
    : odb_(odb, freeOdb), commit_(std::move(commit)), rootId_(std::move(rawTreeId)) {}

GitTreeSource::~GitTreeSource() = default;

void GitTreeSource::warn(std::string message) const {
  std::lock_guard lock(warnMu_);
  warnings_.insert(std::move(message));
}

std::vector<std::string> GitTreeSource::warnings() const {
  std::lock_guard lock(warnMu_);
  return {warnings_.begin(), warnings_.end()};
}

render::Result<std::shared_ptr<const GitTreeSource::Tree>> GitTreeSource::loadTree(const std::string& id,
                                                                                    std::string_view path) const {
  {
    std::shared_lock lock(cacheMu_);
    if (auto it = cache_.find(id); it != cache_.end()) return it->second;
  }
  git_oid oid = toOid(id);
  git_odb_object* raw = nullptr;
  if (git_odb_read(&raw, odb_.get(), &oid) < 0)
    return fail("cannot read tree " + detail::oidHex(oid) + ": " + lastError(), std::string(path));
  detail::OdbObjectPtr object(raw);
  if (git_odb_object_type(raw) != GIT_OBJECT_TREE)
    return fail("object " + detail::oidHex(oid) + " is not a tree", std::string(path));
  const char* data = static_cast<const char*>(git_odb_object_data(raw));
  std::size_t size = git_odb_object_size(raw);
  auto tree = std::make_shared<Tree>();
  std::size_t pos = 0;
  while (pos < size) {
    const void* sp = std::memchr(data + pos, ' ', size - pos);
    if (!sp) return fail("malformed tree " + detail::oidHex(oid), std::string(path));
    std::size_t space = static_cast<std::size_t>(static_cast<const char*>(sp) - data);
    unsigned mode = 0;
    for (std::size_t i = pos; i < space; ++i) {
      if (data[i] < '0' || data[i] > '7' || space - pos > 7) return fail("malformed tree " + detail::oidHex(oid), std::string(path));
      mode = mode * 8 + static_cast<unsigned>(data[i] - '0');
    }
    const void* np = std::memchr(data + space + 1, '\0', size - space - 1);
    if (!np) return fail("malformed tree " + detail::oidHex(oid), std::string(path));
    std::size_t nul = static_cast<std::size_t>(static_cast<const char*>(np) - data);
    if (nul + 1 + GIT_OID_RAWSZ > size) return fail("malformed tree " + detail::oidHex(oid), std::string(path));
    RawEntry e;
    e.mode = mode;
    e.name.assign(data + space + 1, nul - space - 1);
    e.id.assign(data + nul + 1, GIT_OID_RAWSZ);
    tree->push_back(std::move(e));
    pos = nul + 1 + GIT_OID_RAWSZ;
  }
  std::stable_sort(tree->begin(), tree->end(), [](const RawEntry& a, const RawEntry& b) { return a.name < b.name; });
  // A hand-made tree may name an entry twice: the first one counts.
  for (std::size_t i = 1; i < tree->size();) {
    if ((*tree)[i].name == (*tree)[i - 1].name) {
      warn(joinPath(path, (*tree)[i].name) + ": duplicate tree entry ignored");
      tree->erase(tree->begin() + static_cast<std::ptrdiff_t>(i));
    } else {
      ++i;
    }
  }
  std::unique_lock lock(cacheMu_);
  auto [it, inserted] = cache_.emplace(id, std::move(tree));
  return it->second;
}

render::Result<GitTreeSource::Resolved> GitTreeSource::resolve(std::string_view path) const {
  if (!validPath(path)) return fail("invalid path (empty, \".\" or \"..\" component)", std::string(path));
  Resolved current{kModeTree, rootId_};
  std::size_t start = 0;
  while (start < path.size()) {
    auto slash = path.find('/', start);
    auto part = path.substr(start, slash == std::string_view::npos ? std::string_view::npos : slash - start);
    if (current.mode != kModeTree) return fail("no such file or directory", std::string(path));
    auto tree = loadTree(current.id, path.substr(0, start == 0 ? 0 : start - 1));
    if (!tree) return std::unexpected(tree.error());
    auto it = std::lower_bound((*tree)->begin(), (*tree)->end(), part,
                               [](const RawEntry& e, std::string_view n) { return e.name < n; });
    if (it == (*tree)->end() || it->name != part) return fail("no such file or directory", std::string(path));
    current = Resolved{it->mode, it->id};
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  return current;
}

render::Result<std::uint64_t> GitTreeSource::blobSize(const std::string& id, std::string_view path) const {
  git_oid oid = toOid(id);
  std::size_t len = 0;
  git_object_t type = GIT_OBJECT_INVALID;
  if (git_odb_read_header(&len, &type, odb_.get(), &oid) < 0)
    return fail("cannot read object " + detail::oidHex(oid) + ": " + lastError(), std::string(path));
  if (type != GIT_OBJECT_BLOB) return fail("not a regular file (object is not a blob)", std::string(path));
  return static_cast<std::uint64_t>(len);
}

render::Result<std::vector<render::SourceTree::Entry>> GitTreeSource::list(std::string_view dir) const {
  auto r = resolve(dir);
  if (!r) return std::unexpected(r.error());
  if (r->mode != kModeTree) return fail("not a directory", std::string(dir));
  auto tree = loadTree(r->id, dir);
  if (!tree) return std::unexpected(tree.error());
  std::vector<Entry> out;
  out.reserve((*tree)->size());
  for (const auto& e : **tree) {
    if (!validName(e.name)) {
      std::string shown;
      for (char c : e.name) shown += c == '\0' ? std::string("\\0") : std::string(1, c);
      warn(joinPath(dir, shown) + ": tree entry skipped: not a valid file name");
      continue;
    }
    Entry entry{e.name, typeOf(e.mode), 0};
    if (e.mode == kModeGitlink) warn(joinPath(dir, e.name) + ": submodule skipped (submodules are not supported)");
    if (entry.type == EntryType::File) {
      auto size = blobSize(e.id, joinPath(dir, e.name));
      if (!size) return std::unexpected(size.error());
      entry.size = *size;
    }
    out.push_back(std::move(entry));
  }
  return out;
}

render::Result<render::SourceTree::Entry> GitTreeSource::stat(std::string_view path) const {
  auto r = resolve(path);
  if (!r) return std::unexpected(r.error());
  auto slash = path.rfind('/');
  Entry entry{std::string(slash == std::string_view::npos ? path : path.substr(slash + 1)), typeOf(r->mode), 0};
  if (r->mode == kModeGitlink) warn(std::string(path) + ": submodule skipped (submodules are not supported)");
  if (entry.type == EntryType::File) {
    auto size = blobSize(r->id, path);
    if (!size) return std::unexpected(size.error());
    entry.size = *size;
  }
  return entry;
}

render::Result<std::string> GitTreeSource::read(std::string_view path, std::uint64_t maxBytes) const {
  auto r = resolve(path);
  if (!r) return std::unexpected(r.error());
  switch (typeOf(r->mode)) {
    case EntryType::File: break;
    case EntryType::Symlink: return fail("symlinks are not followed", std::string(path));
    case EntryType::Directory: return fail("is a directory", std::string(path));
    case EntryType::Other: return fail("not a regular file", std::string(path));
  }
  // The header first: an oversized blob is never inflated.
  auto size = blobSize(r->id, path);
  if (!size) return std::unexpected(size.error());
  if (*size > maxBytes)
    return fail("file is " + std::to_string(*size) + " bytes, over the limit of " + std::to_string(maxBytes) + " bytes",
                std::string(path));
  git_oid oid = toOid(r->id);
  git_odb_object* raw = nullptr;
  if (git_odb_read(&raw, odb_.get(), &oid) < 0)
    return fail("cannot read object " + detail::oidHex(oid) + ": " + lastError(), std::string(path));
  detail::OdbObjectPtr object(raw);
  return std::string(static_cast<const char*>(git_odb_object_data(raw)), git_odb_object_size(raw));
}

}  // namespace gitfed::git
