#pragma once
// MemoryTree: a SourceTree held in memory, for unit tests of pure logic.

#include <map>
#include <set>
#include <string>

#include "gitfed/render/source_tree.h"

namespace gitfed::test {

class MemoryTree final : public render::SourceTree {
 public:
  MemoryTree& file(const std::string& path, std::string content) {
    files_[path] = std::move(content);
    return *this;
  }
  MemoryTree& symlink(const std::string& path) {
    links_.insert(path);
    return *this;
  }

  render::Result<std::vector<Entry>> list(std::string_view dir) const override {
    std::string prefix = dir.empty() ? "" : std::string(dir) + "/";
    std::map<std::string, Entry> entries;
    auto visit = [&](const std::string& path, bool link, std::uint64_t size) {
      if (!path.starts_with(prefix)) return;
      std::string rest = path.substr(prefix.size());
      auto slash = rest.find('/');
      if (slash != std::string::npos) {
        entries.emplace(rest.substr(0, slash), Entry{rest.substr(0, slash), EntryType::Directory, 0});
      } else {
        entries[rest] = Entry{rest, link ? EntryType::Symlink : EntryType::File, size};
      }
    };
    for (const auto& [p, c] : files_) visit(p, false, c.size());
    for (const auto& p : links_) visit(p, true, 0);
    if (entries.empty() && !dir.empty()) return render::fail("no such directory", std::string(dir));
    std::vector<Entry> out;
    for (auto& [n, e] : entries) out.push_back(e);
    return out;
  }

  render::Result<Entry> stat(std::string_view path) const override {
    std::string p(path);
    if (p.empty()) return Entry{"", EntryType::Directory, 0};
    if (auto it = files_.find(p); it != files_.end()) return Entry{p, EntryType::File, it->second.size()};
    if (links_.contains(p)) return Entry{p, EntryType::Symlink, 0};
    for (const auto& [f, c] : files_)
      if (f.starts_with(p + "/")) return Entry{p, EntryType::Directory, 0};
    return render::fail("No such file or directory", p);
  }

  render::Result<std::string> read(std::string_view path, std::uint64_t maxBytes) const override {
    auto it = files_.find(std::string(path));
    if (it == files_.end()) return render::fail("no such file", std::string(path));
    if (it->second.size() > maxBytes) return render::fail("too big", std::string(path));
    return it->second;
  }

 private:
  std::map<std::string, std::string> files_;
  std::set<std::string> links_;
};

}  // namespace gitfed::test
