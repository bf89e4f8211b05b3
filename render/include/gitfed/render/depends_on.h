#pragma once
// config.kubernetes.io/depends-on (docs/render-spec.md section 7.1): kpt's and
// Config Sync's format, parsed; and the check of one cluster's rendered
// objects (every dependency rendered, no self-reference, no cycle, tenants'
// own objects depended on only by their tenant). Pure.

#include <expected>
#include <string>
#include <string_view>
#include <vector>

#include "gitfed/render/diagnostic.h"

namespace gitfed::render {

struct RenderedObject;

inline constexpr std::string_view kDependsOnAnnotation = "config.kubernetes.io/depends-on";

// One entry: <group>/namespaces/<namespace>/<kind>/<name> or <group>/<kind>/<name>.
struct DependencyRef {
  std::string group, kind, ns, name;
  bool operator==(const DependencyRef&) const = default;
};

// The annotation's value as kpt reads it (entries separated by ',', each
// trimmed); the error says which entry is wrong and why.
std::expected<std::vector<DependencyRef>, std::string> parseDependsOn(std::string_view value);
// An entry in the annotation's format.
std::string formatDependencyRef(const DependencyRef& ref);

// Fills each object's dependsOn (indices into `objects`) from its
// dependsOnAnnotation, and returns what is wrong, located at the dependent
// object's file and line (and attributed to its tenant when it is a
// tenant's own object). `objects` is one cluster's final, sorted render.
std::vector<Diagnostic> resolveDependencies(std::vector<RenderedObject>& objects);

}  // namespace gitfed::render
