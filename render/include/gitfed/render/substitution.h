#pragma once
// Substitution of ${cluster.name}, ${cluster.labels.KEY} and
// ${cluster.labels.KEY:-DEFAULT} in string values (never keys), with `$${cluster.`
// for a literal `${cluster.`. Render spec section 6. Pure functions.

#include <nlohmann/json.hpp>

#include <string>
#include <string_view>

#include "gitfed/render/diagnostic.h"
#include "gitfed/render/selector.h"

namespace gitfed::render {

struct ClusterIdentity {
  std::string name;
  Labels labels;  // the effective labels (registry overlaid by local ones)
};

// Substitutes within one string.
Result<std::string> substituteString(std::string_view text, const ClusterIdentity& cluster);

// Substitutes in every string value of `value`, in place. Errors name the
// JSON Pointer of the value.
Result<void> substituteValues(nlohmann::json& value, const ClusterIdentity& cluster);

}  // namespace gitfed::render
