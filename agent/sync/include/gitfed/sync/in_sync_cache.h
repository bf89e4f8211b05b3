#pragma once
// InSyncCache: the objects a round found in sync with what Git wants, by the
// 64-bit hash of "uid/resourceVersion/applied hash" (a comparison or a dry
// run said so). The next round trusts such an object without comparing it
// again until one of the three changes. Only what the last round found or
// used is kept: endRound() replaces the set with this round's keys (one
// sorted array, 80 kB at 10,000 objects). known() and note() are safe from
// several threads; endRound() is called between rounds.

#include <cstdint>
#include <mutex>
#include <vector>

namespace gitfed::sync {

class InSyncCache {
 public:
  // Whether the last round found `key` in sync; a key found is kept for the next round.
  bool known(std::uint64_t key);
  // This round found `key` in sync.
  void note(std::uint64_t key);
  // This round's keys become the set; the rest is forgotten.
  void endRound();
  std::size_t size() const { return confirmed_.size(); }

 private:
  std::vector<std::uint64_t> confirmed_;  // sorted
  std::vector<std::uint64_t> seen_;       // this round's, under mutex_
  std::mutex mutex_;
};

}  // namespace gitfed::sync
