#pragma once
// Label selectors: kubectl's string syntax (`env=prod,tier in (a,b),!canary`)
// and the structured form ({matchLabels, matchExpressions}). Immutable values,
// thread-safe.

#include <nlohmann/json.hpp>

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "gitfed/render/diagnostic.h"

namespace gitfed::render {

using Labels = std::map<std::string, std::string>;

struct Requirement {
  enum class Op { In, NotIn, Exists, DoesNotExist };
  std::string key;
  Op op = Op::Exists;
  std::vector<std::string> values;  // In/NotIn only

  bool matches(const Labels& labels) const;
};

class Selector {
 public:
  Selector() = default;  // matches everything
  explicit Selector(std::vector<Requirement> requirements) : requirements_(std::move(requirements)) {}

  bool matches(const Labels& labels) const;
  const std::vector<Requirement>& requirements() const { return requirements_; }

 private:
  std::vector<Requirement> requirements_;
};

// kubectl's syntax: `=`, `==`, `!=`, `in (...)`, `notin (...)`, `key`, `!key`,
// comma-separated. The empty string selects everything.
Result<Selector> parseSelector(std::string_view text);

// A Kubernetes LabelSelector object. `{}` selects everything.
Result<Selector> selectorFromJson(const nlohmann::json& selector);

// Label key (optional DNS-subdomain prefix + '/' + name of at most 63
// characters) and value (at most 63, alphanumeric ends, `-_.` inside) syntax.
bool isValidLabelKey(std::string_view key);
bool isValidLabelValue(std::string_view value);

}  // namespace gitfed::render
