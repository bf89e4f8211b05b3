#pragma once
// `gitfed validate`: everything in a fleet repository that would fail or
// surprise, found before merge. Pure over a loaded render::Repository.

#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <vector>

#include "gitfed/render/renderer.h"
#include "gitfed/review/fleet_diff.h"
#include "gitfed/review/schema.h"

namespace gitfed::review {

struct Finding {
  enum class Severity { Error, Warning };
  Severity severity = Severity::Error;
  std::string path;                   // file, relative to the repository root ("" for the fleet as a whole)
  int line = 0;
  std::string message;                // begins with the object's identity when there is one
  std::vector<std::string> clusters;  // where it happens ("" = everywhere / not cluster-specific)
  std::string format() const;         // "PATH:LINE: error: message (clusters: a, b)"
};

struct ValidationReport {
  std::vector<Finding> findings;  // errors and warnings, sorted by path, line, message
  std::size_t errors() const;
  std::size_t warnings() const;
  nlohmann::json toJson() const;
};

struct ValidateOptions {
  std::vector<ExtraCluster> extra;      // clusters beyond the registry
  const SchemaSet* schemas = nullptr;   // optional: check kinds and fields
};

ValidationReport validateFleet(const render::Repository& repo, const ValidateOptions& options = {});

}  // namespace gitfed::review
