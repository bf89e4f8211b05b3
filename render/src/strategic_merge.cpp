// Strategic merge patch as `kustomize build` applies it (kyaml's merge2 with
// ListIncreaseDirection=Prepend, api/filters/patchstrategicmerge), plus the
// parallel-list directives kyaml leaves as plain fields, which follow
// apimachinery's strategicpatch. docs/render-spec.md, "Strategic merge (for
// kustomize patches)", lists the rules and where they differ from apimachinery.
#include "gitfed/render/strategic_merge.h"

#include <algorithm>
#include <cassert>
#include <optional>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "merge_schema.h"

namespace gitfed::render {
namespace {

using detail::kUnknownType;
using detail::MergeField;
using detail::MergeSchemaTables;
using nlohmann::json;

const std::string kDirective = "$patch";
const std::string kRetainKeys = "$retainKeys";
const std::string kDeleteFromPrimitiveList = "$deleteFromPrimitiveList/";
const std::string kSetElementOrder = "$setElementOrder/";

std::string child(const std::string& path, const std::string& key) { return path.empty() ? key : path + "." + key; }
std::string item(const std::string& path, std::size_t i) { return path + "[" + std::to_string(i) + "]"; }

std::unexpected<Diagnostic> patchError(const std::string& path, const std::string& message) {
  return fail("strategic merge patch: " + (path.empty() ? std::string("(top)") : path) + ": " + message);
}

const char* kindName(const json& v) {
  if (v.is_object()) return "a mapping";
  if (v.is_array()) return "a list";
  return "a scalar";
}

bool isScalar(const json& v) { return !v.is_object() && !v.is_array() && !v.is_null(); }

// A scalar as kyaml compares it: its YAML text ("80", "true", "web").
std::string scalarText(const json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_object() || v.is_array() || v.is_null()) return {};
  return v.dump();
}

// The list directive of kyaml (determineSequenceNodePatchStrategy): the first
// item holding `$patch`, when that is its only field.
std::optional<std::size_t> listDirectiveItem(const json& list) {
  for (std::size_t i = 0; i < list.size(); ++i) {
    const json& v = list[i];
    if (v.is_object() && v.contains(kDirective)) {
      if (v.size() == 1) return i;
      return std::nullopt;
    }
  }
  return std::nullopt;
}

class Merger {
 public:
  explicit Merger(const MergeSchemaTables& schema) : schema_(schema) {}

  // Merges the mapping `patch` into `dest` (a mapping, or null for absent).
  // False: the field goes (`$patch: delete`).
  Result<bool> mergeMap(json& dest, const json& patch, int type, const std::string& path) {
    if (auto it = patch.find(kDirective); it != patch.end()) {
      const std::string d = it->is_string() ? it->get<std::string>() : it->dump();
      if (d == "delete") return false;
      if (d == "replace")
        dest = json::object();
      else if (d != "merge")
        return patchError(child(path, "$patch"), "unknown patch strategy '" + d + "'");
    }
    if (!dest.is_object()) dest = json::object();
    if (auto it = patch.find(kRetainKeys); it != patch.end()) {
      if (auto r = retainKeys(dest, patch, *it, child(path, kRetainKeys)); !r)
        return std::unexpected(r.error());
    }
    // Lists reordered by $setElementOrder are reordered against their target order.
    std::unordered_map<std::string, json> ordered;
    for (const auto& [k, v] : patch.items()) {
      if (!k.starts_with(kSetElementOrder)) continue;
      const std::string name = k.substr(kSetElementOrder.size());
      if (name.empty()) return patchError(child(path, k), "$setElementOrder needs a field name after the '/'");
      auto d = dest.find(name);
      ordered[name] = d != dest.end() && d->is_array() ? *d : json::array();
    }
    for (const auto& [k, pv] : patch.items()) {
      if (k.starts_with('$') &&
          (k == kDirective || k == kRetainKeys || k.starts_with(kSetElementOrder) || k.starts_with(kDeleteFromPrimitiveList)))
        continue;
      if (auto r = mergeField(dest, k, pv, type, child(path, k)); !r) return std::unexpected(r.error());
    }
    for (const auto& [k, v] : patch.items()) {
      if (!k.starts_with(kDeleteFromPrimitiveList)) continue;
      if (auto r = deleteFromPrimitiveList(dest, k.substr(kDeleteFromPrimitiveList.size()), v, child(path, k)); !r)
        return std::unexpected(r.error());
    }
    for (const auto& [k, v] : patch.items()) {
      if (!k.starts_with(kSetElementOrder)) continue;
      const std::string name = k.substr(kSetElementOrder.size());
      if (auto r = setElementOrder(dest, name, v, patch, ordered[name], type, child(path, k)); !r)
        return std::unexpected(r.error());
    }
    return true;
  }

 private:
  Result<void> mergeField(json& dest, const std::string& key, const json& pv, int type, const std::string& path) {
    if (pv.is_null()) {
      dest.erase(key);
      return {};
    }
    const MergeField* f = schema_.field(type, key);
    auto it = dest.find(key);
    const bool present = it != dest.end() && !it->is_null();
    if (present && (it->is_object() != pv.is_object() || it->is_array() != pv.is_array()))
      return patchError(path, std::string("the patch has ") + kindName(pv) + " where the target has " + kindName(*it));
    const bool mergesMap = pv.is_object();
    if (mergesMap || (pv.is_array() && f && f->mergeList)) {
      json merged = present ? std::move(*it) : json();
      auto keep = mergesMap ? mergeMap(merged, pv, f ? f->type : kUnknownType, path) : mergeList(merged, pv, *f, path);
      if (!keep) return std::unexpected(keep.error());
      if (*keep)
        dest[key] = std::move(merged);
      else
        dest.erase(key);
      return {};
    }
    // Scalars, and lists without a merge strategy: the patch's value, as written.
    dest[key] = pv;
    return {};
  }

  // A list with patch strategy merge (kyaml's walkAssociativeSequence). False:
  // the field goes (a `- $patch: delete` item).
  Result<bool> mergeList(json& dest, const json& patch, const MergeField& f, const std::string& path) {
    const bool destPresent = dest.is_array();
    std::vector<std::size_t> items;  // the patch's items, without the list directive
    const auto directive = listDirectiveItem(patch);
    for (std::size_t i = 0; i < patch.size(); ++i)
      if (i != directive) items.push_back(i);
    if (directive && destPresent) {
      const json& d = patch[*directive][kDirective];
      const std::string s = d.is_string() ? d.get<std::string>() : d.dump();
      if (s == "delete") return false;
      if (s == "replace")
        dest = json::array();
      else if (s != "merge")
        return patchError(child(item(path, *directive), "$patch"), "unknown patch strategy '" + s + "'");
    }
    if (!destPresent) dest = json::array();
    if (f.keys.empty()) return mergePrimitives(dest, patch, items, path);
    return mergeByKeys(dest, patch, items, f, path);
  }

  // Merged primitives (finalizers): the patch's values first, in its order, then
  // the target's others; each value once.
  Result<bool> mergePrimitives(json& dest, const json& patch, const std::vector<std::size_t>& items,
                               const std::string& path) {
    json out = json::array();
    std::unordered_set<std::string> seen;
    for (std::size_t i : items) {
      const json& v = patch[i];
      if (v.is_object() || v.is_array())
        return patchError(item(path, i), "a list merged without a merge key holds " + std::string(kindName(v)));
      if (v.is_null()) continue;
      if (seen.insert(scalarText(v)).second) out.push_back(v);
    }
    for (const json& v : dest) {
      if (v.is_object() || v.is_array())
        return patchError(path, "the target's list, merged without a merge key, holds " + std::string(kindName(v)));
      if (v.is_null()) continue;
      if (seen.insert(scalarText(v)).second) out.push_back(v);
    }
    dest = std::move(out);
    return true;
  }

  using Tuple = std::vector<std::string>;  // an item's merge key values, "" for a missing one

  static Tuple tupleOf(const json& v, const std::vector<std::string>& keys) {
    Tuple t;
    t.reserve(keys.size());
    for (const auto& k : keys) {
      auto it = v.find(k);
      t.push_back(it == v.end() ? std::string() : scalarText(*it));
    }
    return t;
  }

  static bool allEmpty(const Tuple& t) {
    return std::all_of(t.begin(), t.end(), [](const std::string& s) { return s.empty(); });
  }

  // Does `v` have every key of `t` that `t` gives (kyaml's validateKeys: an
  // item matches by the keys it has)?
  static bool matches(const json& v, const std::vector<std::string>& keys, const Tuple& t) {
    if (!v.is_object()) return false;
    for (std::size_t i = 0; i < keys.size(); ++i) {
      if (t[i].empty()) continue;
      auto it = v.find(keys[i]);
      if (it == v.end() || !isScalar(*it) || scalarText(*it) != t[i]) return false;
    }
    return true;
  }

  // Items merged by their keys. The order is kustomize's: the patch's items
  // first, in the patch's order (merged with the target's item of the same
  // keys), then the target's items the patch does not name, in their order.
  Result<bool> mergeByKeys(json& dest, const json& patch, const std::vector<std::size_t>& items,
                           const MergeField& f, const std::string& path) {
    std::vector<Tuple> tuples;
    std::vector<std::size_t> keyless;  // target items without any key: kept, last
    auto addTuple = [&tuples](Tuple t) {
      if (std::find(tuples.begin(), tuples.end(), t) == tuples.end()) tuples.push_back(std::move(t));
    };
    for (std::size_t i : items) {
      const json& v = patch[i];
      if (!v.is_object())
        return patchError(item(path, i), std::string("a list merged by '") + f.keys[0] + "' holds " + kindName(v));
      Tuple t = tupleOf(v, f.keys);
      if (allEmpty(t)) return patchError(item(path, i), "the item has no merge key '" + f.keys[0] + "'");
      addTuple(std::move(t));
    }
    for (std::size_t i = 0; i < dest.size(); ++i) {
      Tuple t = dest[i].is_object() ? tupleOf(dest[i], f.keys) : Tuple(f.keys.size());
      if (allEmpty(t))
        keyless.push_back(i);
      else
        addTuple(std::move(t));
    }

    json out = json::array();
    std::vector<bool> used(dest.size(), false);
    std::vector<bool> patchUsed(patch.size(), false);
    constexpr std::size_t kNone = static_cast<std::size_t>(-1);
    for (const Tuple& t : tuples) {
      std::size_t di = kNone;
      std::size_t pi = kNone;
      for (std::size_t i = 0; i < dest.size() && di == kNone; ++i)
        if (matches(dest[i], f.keys, t)) di = i;
      for (std::size_t i : items)
        if (!patchUsed[i] && matches(patch[i], f.keys, t)) {
          pi = i;
          break;
        }
      if (pi == kNone) {
        if (di != kNone && !used[di]) out.push_back(std::move(dest[di]));
        if (di != kNone) used[di] = true;
        continue;
      }
      patchUsed[pi] = true;
      if (di != kNone && used[di]) di = kNone;  // its target item went to an earlier patch item: a new item
      if (di != kNone) used[di] = true;
      const json& p = patch[pi];
      if (auto d = p.find(kDirective); d != p.end() && d->is_string()) {
        if (*d == "delete") continue;
        // kustomize (kyaml of kustomize v5.8.1) keeps the target's item unchanged
        // for an item's `$patch: replace`: it sets the replacement, then puts the
        // target's item back over it.
        if (*d == "replace" && di != kNone) {
          out.push_back(std::move(dest[di]));
          continue;
        }
      }
      json merged = di != kNone ? std::move(dest[di]) : json();
      auto keep = mergeMap(merged, p, f.type, item(path, pi));
      if (!keep) return std::unexpected(keep.error());
      if (*keep && !(merged.is_object() && merged.empty())) out.push_back(std::move(merged));
    }
    for (std::size_t i : keyless) out.push_back(std::move(dest[i]));
    dest = std::move(out);
    return true;
  }

  // `$retainKeys` (apimachinery's applyRetainKeysDirective): the target keeps
  // only the fields named; every field the patch sets must be named.
  static Result<void> retainKeys(json& dest, const json& patch, const json& list, const std::string& path) {
    if (!list.is_array()) return patchError(path, "$retainKeys must be a list of field names");
    std::unordered_set<std::string> keep;
    for (const json& k : list) {
      if (!k.is_string()) return patchError(path, "$retainKeys must be a list of field names");
      keep.insert(k.get<std::string>());
    }
    for (const auto& [k, v] : patch.items()) {
      if (v.is_null() || k.starts_with('$')) continue;
      if (!keep.contains(k)) return patchError(path, "the patch sets '" + k + "', which $retainKeys does not name");
    }
    for (auto it = dest.begin(); it != dest.end();) {
      if (keep.contains(it.key()))
        ++it;
      else
        it = dest.erase(it);
    }
    return {};
  }

  // `$deleteFromPrimitiveList/<field>` (apimachinery's deleteFromSlice): the
  // values are removed from the list (every copy), merged by strategy or not.
  static Result<void> deleteFromPrimitiveList(json& dest, const std::string& name, const json& values,
                                              const std::string& path) {
    if (name.empty()) return patchError(path, "$deleteFromPrimitiveList needs a field name after the '/'");
    if (!values.is_array()) return patchError(path, "$deleteFromPrimitiveList takes a list of values");
    auto it = dest.find(name);
    if (it == dest.end() || !it->is_array()) return {};
    json out = json::array();
    for (json& v : *it) {
      if (v.is_object() || v.is_array())
        return patchError(path, "'" + name + "' is not a list of primitives");
      if (std::find(values.begin(), values.end(), v) == values.end()) out.push_back(std::move(v));
    }
    *it = std::move(out);
    return {};
  }

  // `$setElementOrder/<field>` (apimachinery's mergePatchIntoOriginal and
  // normalizeElementOrder): the items the order list names are put in its
  // order; the others keep their place relative to the target's original list.
  Result<void> setElementOrder(json& dest, const std::string& name, const json& order, const json& patch,
                               const json& original, int type, const std::string& path) const {
    if (!order.is_array()) return patchError(path, "$setElementOrder takes a list");
    const MergeField* f = schema_.field(type, name);
    const std::string mergeKey = f ? f->patchMergeKey : std::string();
    auto keyOf = [&mergeKey](const json& v) -> std::optional<json> {
      if (mergeKey.empty()) return v;
      if (!v.is_object()) return std::nullopt;
      auto it = v.find(mergeKey);
      if (it == v.end()) return std::nullopt;
      return *it;
    };
    auto indexIn = [&keyOf](const json& list, const json& key) -> std::optional<std::size_t> {
      for (std::size_t i = 0; i < list.size(); ++i)
        if (auto k = keyOf(list[i]); k && *k == key) return i;
      return std::nullopt;
    };
    for (std::size_t i = 0; i < order.size(); ++i)
      if (!keyOf(order[i])) return patchError(item(path, i), "the item has no merge key '" + mergeKey + "'");

    // The patch's items must come in the order list's order (validatePatchWithSetOrderList).
    if (auto p = patch.find(name); p != patch.end() && p->is_array()) {
      std::size_t oi = 0;
      std::size_t pi = 0;
      std::vector<const json*> plain;
      for (const json& v : *p)
        if (!(v.is_object() && v.contains(kDirective))) plain.push_back(&v);
      while (pi < plain.size() && oi < order.size()) {
        auto k = keyOf(*plain[pi]);
        if (!k) return patchError(child(path, name), "a patch item has no merge key '" + mergeKey + "'");
        if (auto ko = keyOf(order[oi]); ko && *k == *ko) ++pi;
        ++oi;
      }
      if (pi < plain.size())
        return patchError(path, "the patch's items of '" + name + "' are not in the order $setElementOrder gives");
    }

    auto it = dest.find(name);
    if (it == dest.end() || !it->is_array()) return {};
    std::vector<json> named, others;
    for (json& v : *it) {
      auto k = keyOf(v);
      if (!k) return patchError(child(path, name), "an item has no merge key '" + mergeKey + "'");
      (indexIn(order, *k) ? named : others).push_back(std::move(v));
    }
    auto rank = [&](const json& list, const json& v) {
      auto i = indexIn(list, *keyOf(v));
      return i ? *i : list.size();
    };
    std::stable_sort(named.begin(), named.end(),
                     [&](const json& a, const json& b) { return rank(order, a) < rank(order, b); });
    std::stable_sort(others.begin(), others.end(),
                     [&](const json& a, const json& b) { return rank(original, a) < rank(original, b); });
    // mergeSortedSlice: an original-only item goes first when both are in the
    // original list and it came first there.
    json out = json::array();
    std::size_t i = 0;
    std::size_t j = 0;
    while (i < others.size() || j < named.size()) {
      bool takeOther = j >= named.size();
      if (i < others.size() && j < named.size()) {
        auto li = indexIn(original, *keyOf(others[i]));
        auto ri = indexIn(original, *keyOf(named[j]));
        takeOther = li && ri && *li < *ri;
      }
      if (takeOther)
        out.push_back(std::move(others[i++]));
      else
        out.push_back(std::move(named[j++]));
    }
    *it = std::move(out);
    return {};
  }

  const MergeSchemaTables& schema_;
};

}  // namespace

Result<void> strategicMerge(json& target, const json& patch, const MergeSchema& schema) {
  if (!patch.is_object()) return fail("strategic merge patch: the patch is not a mapping");
  if (!target.is_object()) return fail("strategic merge patch: the target is not a mapping");
  const auto* tables = dynamic_cast<const MergeSchemaTables*>(&schema);
  assert(tables && "MergeSchema comes from MergeSchema::builtin or withDocument");
  const auto apiVersion = target.find("apiVersion");
  const auto kind = target.find("kind");
  const int type = apiVersion != target.end() && kind != target.end() && apiVersion->is_string() && kind->is_string()
                       ? tables->typeOf(apiVersion->get_ref<const std::string&>(), kind->get_ref<const std::string&>())
                       : kUnknownType;
  json merged = target;
  auto keep = Merger(*tables).mergeMap(merged, patch, type, "");
  if (!keep) return std::unexpected(keep.error());
  // `$patch: delete` at the top: kustomize drops the object; the caller sees {}.
  target = *keep ? std::move(merged) : json::object();
  return {};
}

}  // namespace gitfed::render
