#pragma once
// Drift rules (docs/render-spec.md section 7.2): a `gitfed.io/v1alpha1
// DriftRules` document read into rules, each naming fields (JSON pointers)
// that may differ from Git on the objects its target selects, and whether
// such a difference is ignored or reported (warn). Pure values; thread-safe
// to copy and to match from many threads.

#include <nlohmann/json.hpp>

#include <memory>
#include <optional>
#include <regex>
#include <string>
#include <string_view>
#include <vector>

#include "gitfed/render/diagnostic.h"
#include "gitfed/render/json_patch.h"
#include "gitfed/render/selector.h"

namespace gitfed::render {

// An object as a rule's target sees it.
struct ObjectFacts {
  std::string_view group, version, kind, ns, name;
  const Labels* labels = nullptr;       // null: none
  const Labels* annotations = nullptr;  // null: none
};

// Flux's and kustomize's selector: exact group/version/kind, anchored
// regular expressions for name and namespace, label and annotation selectors.
class ObjectSelector {
 public:
  ObjectSelector() = default;  // selects every object
  static Result<ObjectSelector> fromJson(const nlohmann::json& target, const std::string& where);
  bool matches(const ObjectFacts& object) const;
  // It looks at labels or annotations (else ObjectFacts needs none).
  bool usesMetadata() const { return !labels_.requirements().empty() || !annotations_.requirements().empty(); }
  // "group=apps kind=Deployment name=web-.*", for messages; "" for every object.
  const std::string& describe() const { return text_; }

 private:
  std::optional<std::string> group_, version_, kind_;
  std::shared_ptr<const std::regex> name_, namespace_;
  Selector labels_, annotations_;
  std::string text_;
};

enum class DriftMode { Ignore, Warn };

struct DriftRule {
  std::vector<JsonPointer> paths;
  DriftMode mode = DriftMode::Ignore;
  ObjectSelector target;
  bool onlyHpaTargets = false;  // only objects an HPA's scaleTargetRef names
  std::string origin;           // "DriftRules controllers (drift.yaml:3) rule 1", "the built-in HPA rule"
};

// Reads spec.rules of a DriftRules document; messages begin with `identity`.
// `origin` prefixes each rule's origin ("DriftRules controllers (drift.yaml:3)").
Result<std::vector<DriftRule>> parseDriftRules(const nlohmann::json& document, const std::string& identity,
                                               const std::string& origin);

// Deployment and StatefulSet /spec/replicas when an HPA targets them.
std::vector<DriftRule> builtinDriftRules();

}  // namespace gitfed::render
