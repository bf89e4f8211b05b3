#pragma once
// The agent's local status cache: one bare repository, `CACHE/status.git`,
// shared by the branch store (store.cpp) and the per-cluster ref store
// (cluster_ref.cpp), which keep their own refs in it. A corrupt cache is
// thrown away and made again: it holds nothing the server does not.

#include <filesystem>
#include <system_error>

#include "gitfed/git/repository.h"

namespace gitfed::status {

inline git::Result<git::Repository> openStatusCache(const std::filesystem::path& cacheDir) {
  auto dir = cacheDir / "status.git";
  auto repo = git::Repository::openOrCreateBare(dir);
  if (!repo && repo.error().code == git::ErrorCode::Corrupt) {
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
    repo = git::Repository::openOrCreateBare(dir);
  }
  return repo;
}

}  // namespace gitfed::status
