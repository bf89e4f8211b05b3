#pragma once
// The inventory: which objects one gitfed inventory id (an agent's cluster, or
// `gitfed apply --inventory-id`) has applied, so that pruning survives
// restarts and crashes. It is kept in the ConfigMap `gitfed-inventory-<id>`
// in the agent's namespace (key `objects`), written with server-side apply.
//
// The engine writes the union of the old inventory and the new desired set
// before it changes anything, and the final set after pruning; an object is
// therefore in the inventory before it can exist, and a crash at any point
// leaves nothing that a later sync will not find. Ownership itself is
// carried by labels on each object (object_ref.h), so a LIST per type finds
// them without one request per object.
//
// Inventory is a plain value (not thread-safe to mutate concurrently);
// InventoryStore holds a reference to a KubeClient and no state of its own.

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "gitfed/kube/client.h"
#include "gitfed/sync/object_ref.h"

namespace gitfed::sync {

class Inventory {
 public:
  void add(const ObjectRef& ref) { entries_.insert_or_assign(ref.key(), ref); }
  void remove(const ObjectKey& key) { entries_.erase(key); }
  bool contains(const ObjectKey& key) const { return entries_.contains(key); }
  std::size_t size() const { return entries_.size(); }
  bool empty() const { return entries_.empty(); }
  const std::map<ObjectKey, ObjectRef>& entries() const { return entries_; }
  bool operator==(const Inventory& other) const { return entries_ == other.entries_; }

  // Compact text, grouped by type and namespace ("T apps/v1 Deployment",
  // "N shop", "O web" lines): ~10 bytes per object, so 10,000 objects take
  // ~100 kB of the ConfigMap's 1 MiB.
  std::string encode() const;
  // An error names the first bad line.
  static std::expected<Inventory, std::string> decode(std::string_view text);

 private:
  std::map<ObjectKey, ObjectRef> entries_;
};

class InventoryStore {
 public:
  InventoryStore(kube::KubeClient& client, std::string ns, std::string id);

  const std::string& ns() const { return ns_; }
  std::string configMapName() const { return "gitfed-inventory-" + id_; }

  // The stored inventory; empty when the ConfigMap does not exist.
  kube::Result<Inventory> load();
  // Stores `inventory` (server-side apply; creates the namespace if missing).
  kube::Result<void> save(const Inventory& inventory);

 private:
  kube::KubeClient& client_;
  std::string ns_;
  std::string id_;
};

}  // namespace gitfed::sync
