#pragma once
// GitTreeSource: the renderer's SourceTree (render/source_tree.h) over the
// tree of one Git commit, read straight from the object database: no working
// copy, nothing written to disk.
//
// - Symbolic links are reported as Symlink and never followed, so nothing
//   outside the repository can be read through them.
// - Submodules (gitlinks) are reported as Other and recorded as a warning;
//   they are never initialised.
// - Entries whose name is not one valid path component ("", ".", "..", or a
//   name containing '/' or NUL, which only a hand-made tree can hold) are left
//   out and recorded as a warning.
// - A file's size comes from its object header, so a blob over the read limit
//   is refused without being loaded.
//
// Thread-safe: it reads only through git_odb (which locks internally), parses
// tree objects itself and caches them under a shared mutex. It holds its own
// reference to the object database, so it may outlive the Repository that
// made it.

#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "gitfed/git/error.h"
#include "gitfed/render/source_tree.h"

struct git_odb;

namespace gitfed::git {

class GitTreeSource final : public render::SourceTree {
 public:
  // The tree of `commit` (40 hex) in the repository at `repositoryPath`.
  static Result<std::unique_ptr<GitTreeSource>> open(const std::string& repositoryPath, const std::string& commit);

  // For Repository: the tree with raw 20-byte id `rawTreeId` in `odb`; takes
  // over one reference to `odb` (git_repository_odb hands out a new one).
  GitTreeSource(git_odb* odb, std::string commit, std::string rawTreeId);
  ~GitTreeSource() override;

  render::Result<std::vector<Entry>> list(std::string_view dir) const override;
  render::Result<Entry> stat(std::string_view path) const override;
  render::Result<std::string> read(std::string_view path, std::uint64_t maxBytes) const override;

  // Submodules and invalid entries seen so far, one line each, sorted.
  std::vector<std::string> warnings() const;
  const std::string& commit() const { return commit_; }

  struct RawEntry {
    std::string name;
    unsigned mode = 0;
    std::string id;  // 20 raw bytes
  };
  using Tree = std::vector<RawEntry>;  // sorted by name

 private:
  struct Resolved {
    unsigned mode = 0;
    std::string id;
  };
  render::Result<std::shared_ptr<const Tree>> loadTree(const std::string& id, std::string_view path) const;
  render::Result<Resolved> resolve(std::string_view path) const;
  render::Result<std::uint64_t> blobSize(const std::string& id, std::string_view path) const;
  void warn(std::string message) const;

  std::shared_ptr<git_odb> odb_;
  std::string commit_;
  std::string rootId_;
  mutable std::shared_mutex cacheMu_;
  mutable std::unordered_map<std::string, std::shared_ptr<const Tree>> cache_;
  mutable std::mutex warnMu_;
  mutable std::set<std::string> warnings_;
};

}  // namespace gitfed::git
