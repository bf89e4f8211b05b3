#pragma once
// The fleet-wide diff of a pull request: two loaded revisions of a fleet
// repository (base and head), rendered for every cluster of either registry
// (and for extra clusters named on the command line), compared object by
// object. Secret values never appear in the result. Pure: no Git, no cluster;
// thread-safe (no shared state).

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

#include "gitfed/render/renderer.h"

namespace gitfed::review {

struct ExtraCluster {
  std::string name;
  render::Labels labels;  // local labels, overlaying the registry's
};

struct ObjectChange {
  enum class Type { Added, Removed, Changed };
  Type type = Type::Changed;
  std::string apiVersion;
  std::string kind;
  std::string ns;
  std::string name;
  std::string source;  // "path:line" of the head object (the base one when removed)
  std::string diff;    // unified diff of the YAML (Changed only), Secret values redacted
  std::string id() const;  // "apps/v1 Deployment shop/web"
};

struct ClusterDiff {
  std::string cluster;
  std::vector<ObjectChange> changes;  // removed, changed, added; each in apply order
  std::vector<render::Diagnostic> baseErrors;
  std::vector<render::Diagnostic> headErrors;
  int added = 0;
  int removed = 0;
  int changed = 0;
  bool hasErrors() const { return !baseErrors.empty() || !headErrors.empty(); }
};

struct FleetDiff {
  std::vector<ClusterDiff> clusters;  // sorted by name
  bool hasErrors() const;
  bool hasChanges() const;
};

FleetDiff diffFleet(const render::Repository& base, const render::Repository& head,
                    const std::vector<ExtraCluster>& extra = {});

// Replaces every value under a Secret's data/stringData (and its
// last-applied-configuration annotation) with "<redacted>"; other objects are
// returned unchanged. Values that differ from `other`'s are marked
// "<redacted: changed>" so a reviewer still sees that they changed.
nlohmann::json redactSecret(const nlohmann::json& object, const nlohmann::json* other = nullptr);

// Output formats. Deterministic: the same inputs give byte-identical output.
std::string formatText(const FleetDiff& diff);
// A pull-request comment: a summary table, then a collapsible section per
// changed cluster; a diff longer than `maxDiffLines` is cut, with a count.
std::string formatMarkdown(const FleetDiff& diff, std::size_t maxDiffLines = 200);
nlohmann::json toJson(const FleetDiff& diff);

}  // namespace gitfed::review
