#pragma once
// SourceTree: the renderer's only way to read a repository. Paths are relative
// to the tree's root, '/'-separated, never absolute, never containing "..".
// The agent implements it over a Git commit's tree; DiskSourceTree reads a
// directory. Implementations must never follow symbolic links.

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "gitfed/render/diagnostic.h"

namespace gitfed::render {

class SourceTree {
 public:
  enum class EntryType { File, Directory, Symlink, Other };
  struct Entry {
    std::string name;  // one path component
    EntryType type = EntryType::Other;
    std::uint64_t size = 0;  // bytes, for files
  };

  virtual ~SourceTree() = default;

  // The entries of directory `dir` ("" is the root), in any order. An error
  // when `dir` is not a directory of the tree.
  virtual Result<std::vector<Entry>> list(std::string_view dir) const = 0;

  // What `path` is, without following a symbolic link.
  virtual Result<Entry> stat(std::string_view path) const = 0;

  // The whole content of regular file `path`; an error if it holds more than
  // `maxBytes` bytes.
  virtual Result<std::string> read(std::string_view path, std::uint64_t maxBytes) const = 0;
};

// A directory on disk. Thread-safe (no mutable state). The root itself may be
// a symbolic link (the user named it); nothing below it is followed.
class DiskSourceTree final : public SourceTree {
 public:
  explicit DiskSourceTree(std::filesystem::path root);

  Result<std::vector<Entry>> list(std::string_view dir) const override;
  Result<Entry> stat(std::string_view path) const override;
  Result<std::string> read(std::string_view path, std::uint64_t maxBytes) const override;

 private:
  std::filesystem::path resolve(std::string_view relative) const;
  std::filesystem::path root_;
};

}  // namespace gitfed::render
