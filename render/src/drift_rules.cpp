// Drift rules (docs/render-spec.md section 7.2).

#include "gitfed/render/drift_rules.h"

#include <array>

namespace gitfed::render {

using nlohmann::json;

namespace {

bool isOneOf(const std::string& field, std::initializer_list<std::string_view> known) {
  for (auto k : known)
    if (field == k) return true;
  return false;
}

Result<void> onlyKnownFields(const json& mapping, std::initializer_list<std::string_view> known, const std::string& where) {
  for (const auto& [field, value] : mapping.items()) {
    (void)value;
    if (!isOneOf(field, known)) {
      std::string list;
      for (auto k : known) list += (list.empty() ? "" : ", ") + std::string(k);
      return fail(where + ": unknown field \"" + field + "\" (known: " + list + ")");
    }
  }
  return {};
}

Result<std::optional<std::string>> optionalString(const json& mapping, const char* field, const std::string& where) {
  auto it = mapping.find(field);
  if (it == mapping.end() || it->is_null()) return std::optional<std::string>{};
  if (!it->is_string()) return fail(where + "." + field + " must be a string");
  return std::optional<std::string>{it->get<std::string>()};
}

Result<std::shared_ptr<const std::regex>> anchoredRegex(const std::optional<std::string>& pattern, const std::string& where) {
  if (!pattern) return std::shared_ptr<const std::regex>{};
  try {
    return std::make_shared<const std::regex>(*pattern, std::regex::ECMAScript | std::regex::optimize);
  } catch (const std::regex_error& e) {
    return fail(where + ": \"" + *pattern + "\" is not a regular expression (" + e.what() + ")");
  }
}

bool matchesWhole(const std::shared_ptr<const std::regex>& re, std::string_view value) {
  return !re || std::regex_match(value.begin(), value.end(), *re);
}

// Fields that name the object: never something another party may own.
bool namesTheObject(const JsonPointer& p) {
  const auto& t = p.tokens;
  if (t.size() >= 1 && (t[0] == "kind" || t[0] == "apiVersion")) return true;
  return t.size() >= 2 && t[0] == "metadata" && (t[1] == "name" || t[1] == "namespace");
}

Result<DriftRule> parseRule(const json& rule, const std::string& where) {
  if (!rule.is_object()) return fail(where + " must be a mapping");
  if (auto r = onlyKnownFields(rule, {"paths", "mode", "target", "onlyHpaTargets"}, where); !r) return std::unexpected(r.error());
  DriftRule out;
  auto paths = rule.find("paths");
  if (paths == rule.end() || !paths->is_array() || paths->empty())
    return fail(where + ".paths must be a non-empty list of JSON pointers");
  for (std::size_t i = 0; i < paths->size(); ++i) {
    const std::string at = where + ".paths[" + std::to_string(i) + "]";
    const json& p = (*paths)[i];
    if (!p.is_string()) return fail(at + " must be a string");
    const std::string& text = p.get_ref<const std::string&>();
    if (text.empty() || text[0] != '/') return fail(at + ": \"" + text + "\" is not a JSON pointer (it must begin with /)");
    auto pointer = parseJsonPointer(text);
    if (!pointer) return fail(at + ": " + pointer.error().message);
    if (text == "/") return fail(at + ": \"/\" would be the whole object");
    if (namesTheObject(*pointer)) return fail(at + ": \"" + text + "\" names the object; it cannot differ from Git");
    out.paths.push_back(std::move(*pointer));
  }
  if (auto mode = optionalString(rule, "mode", where); !mode) {
    return std::unexpected(mode.error());
  } else if (*mode) {
    if (**mode == "warn") out.mode = DriftMode::Warn;
    else if (**mode != "ignore") return fail(where + ".mode: \"" + **mode + "\" is neither ignore nor warn");
  }
  if (auto hpa = rule.find("onlyHpaTargets"); hpa != rule.end()) {
    if (!hpa->is_boolean()) return fail(where + ".onlyHpaTargets must be true or false");
    out.onlyHpaTargets = hpa->get<bool>();
  }
  if (auto target = rule.find("target"); target != rule.end() && !target->is_null()) {
    auto selector = ObjectSelector::fromJson(*target, where + ".target");
    if (!selector) return std::unexpected(selector.error());
    out.target = std::move(*selector);
  }
  return out;
}

}  // namespace

Result<ObjectSelector> ObjectSelector::fromJson(const json& target, const std::string& where) {
  if (!target.is_object()) return fail(where + " must be a mapping");
  if (auto r = onlyKnownFields(target, {"group", "version", "kind", "name", "namespace", "labelSelector", "annotationSelector"}, where); !r)
    return std::unexpected(r.error());
  ObjectSelector s;
  std::array<std::pair<const char*, std::optional<std::string>*>, 3> exact{
      {{"group", &s.group_}, {"version", &s.version_}, {"kind", &s.kind_}}};
  for (auto& [field, slot] : exact) {
    auto v = optionalString(target, field, where);
    if (!v) return std::unexpected(v.error());
    *slot = std::move(*v);
    if (*slot) s.text_ += (s.text_.empty() ? "" : " ") + std::string(field) + "=" + **slot;
  }
  for (auto [field, slot] : {std::pair{"name", &s.name_}, std::pair{"namespace", &s.namespace_}}) {
    auto v = optionalString(target, field, where);
    if (!v) return std::unexpected(v.error());
    auto re = anchoredRegex(*v, where + "." + field);
    if (!re) return std::unexpected(re.error());
    *slot = std::move(*re);
    if (*v) s.text_ += (s.text_.empty() ? "" : " ") + std::string(field) + "=" + **v;
  }
  for (auto [field, slot] : {std::pair{"labelSelector", &s.labels_}, std::pair{"annotationSelector", &s.annotations_}}) {
    auto v = optionalString(target, field, where);
    if (!v) return std::unexpected(v.error());
    if (!*v) continue;
    auto parsed = parseSelector(**v);
    if (!parsed) return fail(where + "." + field + ": " + parsed.error().message);
    *slot = std::move(*parsed);
    s.text_ += (s.text_.empty() ? "" : " ") + std::string(field) + "=" + **v;
  }
  return s;
}

bool ObjectSelector::matches(const ObjectFacts& o) const {
  static const Labels none;
  if (group_ && *group_ != o.group) return false;
  if (version_ && *version_ != o.version) return false;
  if (kind_ && *kind_ != o.kind) return false;
  if (!matchesWhole(name_, o.name) || !matchesWhole(namespace_, o.ns)) return false;
  return labels_.matches(o.labels ? *o.labels : none) && annotations_.matches(o.annotations ? *o.annotations : none);
}

Result<std::vector<DriftRule>> parseDriftRules(const json& document, const std::string& identity, const std::string& origin) {
  auto spec = document.find("spec");
  if (spec == document.end() || !spec->is_object()) return fail(identity + ": spec must be a mapping with rules");
  if (auto r = onlyKnownFields(*spec, {"rules"}, identity + ": spec"); !r) return std::unexpected(r.error());
  auto rules = spec->find("rules");
  if (rules == spec->end() || !rules->is_array() || rules->empty()) return fail(identity + ": spec.rules must be a non-empty list");
  std::vector<DriftRule> out;
  for (std::size_t i = 0; i < rules->size(); ++i) {
    auto rule = parseRule((*rules)[i], identity + ": spec.rules[" + std::to_string(i) + "]");
    if (!rule) return std::unexpected(rule.error());
    rule->origin = origin + " rule " + std::to_string(i + 1);
    out.push_back(std::move(*rule));
  }
  return out;
}

std::vector<DriftRule> builtinDriftRules() {
  std::vector<DriftRule> out;
  for (const char* kind : {"Deployment", "StatefulSet"}) {
    DriftRule r;
    r.paths.push_back(*parseJsonPointer("/spec/replicas"));
    r.target = *ObjectSelector::fromJson(json{{"group", "apps"}, {"kind", kind}}, "built-in");
    r.onlyHpaTargets = true;
    r.origin = "the built-in HPA rule";
    out.push_back(std::move(r));
  }
  return out;
}

}  // namespace gitfed::render
