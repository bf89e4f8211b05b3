// InSyncCache (in_sync_cache.h).

#include "gitfed/sync/in_sync_cache.h"

#include <algorithm>

namespace gitfed::sync {

bool InSyncCache::known(std::uint64_t key) {
  std::lock_guard lock(mutex_);
  if (!std::binary_search(confirmed_.begin(), confirmed_.end(), key)) return false;
  seen_.push_back(key);
  return true;
}

void InSyncCache::note(std::uint64_t key) {
  std::lock_guard lock(mutex_);
  seen_.push_back(key);
}

void InSyncCache::endRound() {
  std::lock_guard lock(mutex_);
  // Allocated after the round's own memory is freed: nothing small pins its heap pages.
  std::sort(seen_.begin(), seen_.end());
  seen_.erase(std::unique(seen_.begin(), seen_.end()), seen_.end());
  confirmed_.assign(seen_.begin(), seen_.end());
  std::vector<std::uint64_t>().swap(seen_);
}

}  // namespace gitfed::sync
