// Stage: the inventory (stages.h, agent/sync/README.md "A round", steps 3,
// 5 and 8): written before anything is applied when the revision adds to
// it, and after pruning without what is gone.

#include "describe.h"
#include "stages.h"

namespace gitfed::sync::stage {

using nlohmann::json;

// ---- inventory -----------------------------------------------------------------------------

Inventory unionInventory(const RoundState& s) {
  Inventory inv = s.stored;
  for (const auto& it : s.items)
    if (it.resource || it.crd) inv.add(it.ref());
  return inv;
}

// Whether the stored inventory already names every desired object (the
// usual case: no copy, no write).
bool inventoryCovers(const RoundState& s) {
  const auto& entries = s.stored.entries();
  for (const auto& it : s.items) {
    if (!it.resource && !it.crd) continue;
    auto e = entries.find(it.key());
    if (e == entries.end() || e->second.apiVersion != it.apiVersion) return false;
  }
  return true;
}

bool writeInventory(RoundState& s, Inventory inv, const char* when) {
  if (inv == s.stored) return true;
  ++s.inventoryWrites;
  auto r = s.store.save(inv);
  if (!r) {
    s.report.errors.push_back("inventory " + s.options.inventoryNamespace + "/" + s.store.configMapName() + ": write " + when +
                             " failed: " + describe(r.error()));
    return false;
  }
  s.stored = std::move(inv);
  return true;
}

// After pruning: what is stored (the union, written before applying)
// without what was pruned or is no longer ours.
void writeFinalInventory(RoundState& s) {
  if (s.options.dryRun || s.dropFromInventory.empty()) return;
  Inventory inv = s.stored;
  for (const auto& k : s.dropFromInventory) inv.remove(k);
  writeInventory(s, std::move(inv), "after pruning");
}

}  // namespace gitfed::sync::stage
