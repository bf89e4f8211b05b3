// MergeSchema's loader: OpenAPI v2 definitions -> MergeSchemaTables, and
// MergeSchema::builtin / withDocument. The one file that parses schema
// documents (nlohmann-json's parse errors stop here).
#include "merge_schema.h"

#include <cassert>
#include <utility>

namespace gitfed::render {
namespace detail {
namespace {

using nlohmann::json;

constexpr std::string_view kRefPrefix = "#/definitions/";

// Reads one document's definitions into types (a definition, or an inline
// object schema, is one type) and the kinds' index.
class Builder {
 public:
  explicit Builder(const json& definitions) : definitions_(definitions) {}

  Result<std::shared_ptr<const MergeSchemaTables>> build() && {
    if (!definitions_.is_object()) return fail("openapi: definitions is not an object");
    // Every definition gets its index first, so that $refs resolve in any order.
    for (const auto& [name, def] : definitions_.items()) {
      if (!def.is_object()) return fail("openapi: definitions." + name + " is not an object");
      byName_.emplace(name, newType());
    }
    for (const auto& [name, def] : definitions_.items()) {
      const int index = byName_.at(name);
      if (auto r = fillType(index, def, "definitions." + name); !r) return std::unexpected(r.error());
      if (auto r = readKinds(index, def, "definitions." + name); !r) return std::unexpected(r.error());
    }
    return std::make_shared<const MergeSchemaTables>(std::move(types_), std::move(kinds_));
  }

 private:
  int newType() {
    types_.emplace_back();
    return static_cast<int>(types_.size() - 1);
  }

  // The type a schema node leads to: its $ref, its items' type, or an inline
  // object of its own (CRD schemas are inline). kUnknownType when none.
  Result<int> typeOfNode(const json& node, const std::string& where) {
    if (!node.is_object()) return kUnknownType;
    if (auto it = node.find("$ref"); it != node.end()) {
      if (!it->is_string()) return fail("openapi: " + where + ".$ref is not a string");
      const auto& ref = it->get_ref<const std::string&>();
      if (!ref.starts_with(kRefPrefix)) return kUnknownType;
      auto found = byName_.find(ref.substr(kRefPrefix.size()));
      return found == byName_.end() ? kUnknownType : found->second;  // dangling: unknown, as in kustomize
    }
    if (auto it = node.find("items"); it != node.end()) return typeOfNode(*it, where + ".items");
    // allOf: [{$ref}] is how some generators write a $ref with a description.
    if (auto it = node.find("allOf"); it != node.end() && it->is_array() && it->size() == 1)
      return typeOfNode((*it)[0], where + ".allOf[0]");
    auto additional = node.find("additionalProperties");
    if (!node.contains("properties") && (additional == node.end() || !additional->is_object())) return kUnknownType;
    const int index = newType();
    if (auto r = fillType(index, node, where); !r) return std::unexpected(r.error());
    return index;
  }

  Result<void> fillType(int index, const json& node, const std::string& where) {
    if (auto it = node.find("properties"); it != node.end()) {
      if (!it->is_object()) return fail("openapi: " + where + ".properties is not an object");
      for (const auto& [name, prop] : it->items()) {
        auto f = readField(prop, where + ".properties." + name);
        if (!f) return std::unexpected(f.error());
        types_[static_cast<std::size_t>(index)].fields[name] = std::move(*f);
      }
    }
    if (auto it = node.find("additionalProperties"); it != node.end() && it->is_object()) {
      auto f = readField(*it, where + ".additionalProperties");
      if (!f) return std::unexpected(f.error());
      auto& type = types_[static_cast<std::size_t>(index)];
      type.hasAdditional = true;
      type.additional = std::move(*f);
    }
    return {};
  }

  Result<MergeField> readField(const json& prop, const std::string& where) {
    if (!prop.is_object()) return fail("openapi: " + where + " is not an object");
    MergeField f;
    auto type = typeOfNode(prop, where);
    if (!type) return std::unexpected(type.error());
    f.type = *type;
    auto strategy = prop.find("x-kubernetes-patch-strategy");
    if (strategy == prop.end()) return f;
    if (!strategy->is_string()) return fail("openapi: " + where + ": x-kubernetes-patch-strategy is not a string");
    // "merge", "replace", "retainKeys", "merge,retainKeys": only "merge" changes
    // how kustomize merges (a list merged by key); see docs/render-spec.md.
    std::string_view s = strategy->get_ref<const std::string&>();
    while (!s.empty()) {
      const auto comma = s.find(',');
      if (s.substr(0, comma) == "merge") f.mergeList = true;
      s = comma == std::string_view::npos ? std::string_view{} : s.substr(comma + 1);
    }
    if (auto key = prop.find("x-kubernetes-patch-merge-key"); key != prop.end()) {
      if (!key->is_string()) return fail("openapi: " + where + ": x-kubernetes-patch-merge-key is not a string");
      f.patchMergeKey = key->get<std::string>();
    }
    if (auto keys = prop.find("x-kubernetes-list-map-keys"); keys != prop.end()) {
      if (!keys->is_array()) return fail("openapi: " + where + ": x-kubernetes-list-map-keys is not a list");
      for (const auto& k : *keys) {
        if (!k.is_string()) return fail("openapi: " + where + ": x-kubernetes-list-map-keys holds a non-string");
        f.keys.push_back(k.get<std::string>());
      }
    }
    if (f.keys.empty() && !f.patchMergeKey.empty()) f.keys.push_back(f.patchMergeKey);
    return f;
  }

  Result<void> readKinds(int index, const json& def, const std::string& where) {
    auto it = def.find("x-kubernetes-group-version-kind");
    if (it == def.end()) return {};
    if (!it->is_array()) return fail("openapi: " + where + ": x-kubernetes-group-version-kind is not a list");
    for (const auto& gvk : *it) {
      auto version = gvk.is_object() ? gvk.find("version") : gvk.end();
      auto kind = gvk.is_object() ? gvk.find("kind") : gvk.end();
      if (version == gvk.end() || kind == gvk.end() || !version->is_string() || !kind->is_string())
        return fail("openapi: " + where + ": x-kubernetes-group-version-kind holds an entry without version and kind");
      auto group = gvk.find("group");
      const std::string g = group != gvk.end() && group->is_string() ? group->get<std::string>() : "";
      const std::string apiVersion = g.empty() ? version->get<std::string>() : g + "/" + version->get<std::string>();
      kinds_[apiVersion + "\n" + kind->get<std::string>()] = index;
    }
    return {};
  }

  const json& definitions_;
  std::vector<MergeType> types_;
  std::unordered_map<std::string, int> byName_;
  std::unordered_map<std::string, int> kinds_;
};

}  // namespace

const json& MergeSchemaTables::builtinDefinitions() {
  // The embedded document is generated and checked in CI: failing to read it is
  // a build defect, not an input error.
  static const json definitions = [] {
    json doc = json::parse(builtinMergeSchemaJson(), nullptr, /*allow_exceptions=*/false);
    assert(doc.is_object() && doc.contains("definitions") && "the embedded merge_schema.json must parse");
    return doc.is_object() && doc.contains("definitions") ? doc["definitions"] : json::object();
  }();
  return definitions;
}

Result<std::shared_ptr<const MergeSchemaTables>> MergeSchemaTables::fromDefinitions(const json& definitions) {
  return Builder(definitions).build();
}

int MergeSchemaTables::typeOf(std::string_view apiVersion, std::string_view kind) const {
  std::string key;
  key.reserve(apiVersion.size() + 1 + kind.size());
  key.append(apiVersion).append("\n").append(kind);
  auto it = byKind_.find(key);
  return it == byKind_.end() ? kUnknownType : it->second;
}

const MergeField* MergeSchemaTables::field(int type, const std::string& name) const {
  if (type < 0 || static_cast<std::size_t>(type) >= types_.size()) return nullptr;
  const MergeType& t = types_[static_cast<std::size_t>(type)];
  if (auto it = t.fields.find(name); it != t.fields.end()) return &it->second;
  return t.hasAdditional ? &t.additional : nullptr;
}

}  // namespace detail

const MergeSchema& MergeSchema::builtin() {
  static const std::shared_ptr<const detail::MergeSchemaTables> tables = [] {
    auto t = detail::MergeSchemaTables::fromDefinitions(detail::MergeSchemaTables::builtinDefinitions());
    return t ? *t : nullptr;
  }();
  assert(tables && "the embedded merge_schema.json must load");
  return *tables;
}

Result<std::shared_ptr<const MergeSchema>> MergeSchema::withDocument(std::string_view openApiJson) {
  nlohmann::json doc = nlohmann::json::parse(openApiJson, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) return fail("openapi: the document is not JSON");
  if (!doc.is_object()) return fail("openapi: the document is not a JSON object");
  auto defs = doc.find("definitions");
  if (defs == doc.end()) return fail("openapi: the document has no definitions");
  if (!defs->is_object()) return fail("openapi: definitions is not an object");
  // The document's definitions over the builtin ones (a name in both: the document's).
  nlohmann::json combined = detail::MergeSchemaTables::builtinDefinitions();
  for (auto& [name, def] : defs->items()) combined[name] = std::move(def);
  auto tables = detail::MergeSchemaTables::fromDefinitions(combined);
  if (!tables) return std::unexpected(tables.error());
  return std::shared_ptr<const MergeSchema>(std::move(*tables));
}

}  // namespace gitfed::render
