#pragma once
// The tables behind MergeSchema (strategic_merge.h): per type, the fields whose
// lists merge by key, their keys, and each field's own type, read from an
// OpenAPI v2 document (the generated render/schema/merge_schema.json, or a
// kustomize `openapi:` document merged into it). Internal to gitfed::render.
// Immutable after construction; thread-safe to share.

#include <nlohmann/json.hpp>

#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "gitfed/render/diagnostic.h"
#include "gitfed/render/strategic_merge.h"

namespace gitfed::render::detail {

inline constexpr int kUnknownType = -1;

struct MergeField {
  int type = kUnknownType;  // the value's type; for a list, its items' type
  bool mergeList = false;   // x-kubernetes-patch-strategy has "merge"
  // The keys a merged list's items are matched by: x-kubernetes-list-map-keys
  // when given (as kustomize does), else x-kubernetes-patch-merge-key; empty
  // for a merged list of primitives (finalizers).
  std::vector<std::string> keys;
  std::string patchMergeKey;  // x-kubernetes-patch-merge-key alone ($setElementOrder)
};

struct MergeType {
  std::unordered_map<std::string, MergeField> fields;
  bool hasAdditional = false;  // additionalProperties: every other key is `additional`
  MergeField additional;
};

class MergeSchemaTables final : public MergeSchema {
 public:
  MergeSchemaTables(std::vector<MergeType> types, std::unordered_map<std::string, int> byKind)
      : types_(std::move(types)), byKind_(std::move(byKind)) {}

  // Reads the definitions of an OpenAPI v2 document (an object with
  // `definitions`). Errors name the definition and field.
  static Result<std::shared_ptr<const MergeSchemaTables>> fromDefinitions(const nlohmann::json& definitions);

  // The type of objects of apiVersion/kind, or kUnknownType.
  [[nodiscard]] int typeOf(std::string_view apiVersion, std::string_view kind) const;
  // The field `name` of `type`, or nullptr when unknown.
  [[nodiscard]] const MergeField* field(int type, const std::string& name) const;

  // The builtin document's definitions (parsed once), for withDocument.
  static const nlohmann::json& builtinDefinitions();

 private:
  std::vector<MergeType> types_;
  std::unordered_map<std::string, int> byKind_;  // "apiVersion\nkind"
};

// The generated render/schema/merge_schema.json, embedded at build time.
std::string_view builtinMergeSchemaJson();

}  // namespace gitfed::render::detail
