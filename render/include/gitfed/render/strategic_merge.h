#pragma once
// Strategic merge patch as `kustomize build` applies it (kyaml's merge2, which
// differs from k8s.io/apimachinery/pkg/util/strategicpatch in list order and a
// few directives; docs/render-spec.md will list the differences). Declared
// only: the implementation is on branch h17s, not yet merged (issue 17). In
// it: lists merged by their merge key (containers by name, ports by
// containerPort, ...), `$patch: delete|replace|merge`, `$retainKeys`,
// `$deleteFromPrimitiveList/<field>`, `$setElementOrder/<field>`, null deleting
// a field. Merge keys and strategies come from the Kubernetes OpenAPI schema,
// shipped as generated data (see the generator script beside the data), not
// from a hand-written table. Types the schema does not know (custom
// resources without a schema) are merged as JSON merge patch (RFC 7386)
// treats them, as kustomize does. Pure functions.
//
// Interface agreed between the kustomize unit (render/src/kustomize*) and the
// strategic merge unit (render/src/strategic_merge*); change it only together.

#include <nlohmann/json.hpp>

#include <memory>
#include <string>
#include <string_view>

#include "gitfed/render/diagnostic.h"

namespace gitfed::render {

// Where each type's fields keep their merge keys and patch strategies.
// Immutable after construction; thread-safe to share.
class MergeSchema {
 public:
  // The built-in Kubernetes types (generated from the real apiserver's
  // OpenAPI v2 document, the version test/env runs).
  static const MergeSchema& builtin();

  // The built-in types plus the definitions of an OpenAPI v2 document
  // (kustomize's `openapi:` field, or CRD schemas). An error names what in
  // the document could not be read.
  static Result<std::shared_ptr<const MergeSchema>> withDocument(std::string_view openApiJson);

  virtual ~MergeSchema() = default;

 protected:
  MergeSchema() = default;
};

// Applies `patch` to `target` in place. The type is `target`'s apiVersion and
// kind. Errors (e.g. a list item without its merge key, a bad `$patch`
// directive) carry the JSON path within the patch; the caller adds file and
// line.
Result<void> strategicMerge(nlohmann::json& target, const nlohmann::json& patch, const MergeSchema& schema);

}  // namespace gitfed::render
