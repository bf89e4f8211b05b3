#include "gitfed/review/schema.h"

#include <algorithm>
#include <fstream>
#include <sstream>

namespace gitfed::review {
namespace {

using nlohmann::json;

std::string escapeToken(const std::string& key) {
  std::string out;
  for (char c : key) {
    if (c == '~')
      out += "~0";
    else if (c == '/')
      out += "~1";
    else
      out += c;
  }
  return out;
}

std::string typeOf(const json& v) {
  switch (v.type()) {
    case json::value_t::object:
      return "object";
    case json::value_t::array:
      return "array";
    case json::value_t::string:
      return "string";
    case json::value_t::boolean:
      return "boolean";
    case json::value_t::null:
      return "null";
    case json::value_t::number_float:
      return "number";
    default:
      return "integer";
  }
}

bool typeMatches(const std::string& type, const json& v) {
  if (type == "object") return v.is_object();
  if (type == "array") return v.is_array();
  if (type == "string") return v.is_string();
  if (type == "boolean") return v.is_boolean();
  if (type == "integer") return v.is_number_integer() || v.is_number_unsigned();
  if (type == "number") return v.is_number();
  return true;
}

class Validator {
 public:
  Validator(const json& document, std::vector<std::string>& problems) : doc_(document), problems_(problems) {}

  void check(const json& schema, const json& value, const std::string& path, int depth) {
    if (depth > 200) return;  // objects are at most 100 levels deep; schemas may recurse (JSONSchemaProps)
    const json& s = resolve(schema);
    if (value.is_null()) return;  // null means "unset" to the API server for optional fields
    if (auto all = s.find("allOf"); all != s.end() && all->is_array())
      for (const auto& sub : *all) check(sub, value, path, depth + 1);
    if (auto one = s.find("oneOf"); one != s.end() && one->is_array()) {
      bool any = false;
      for (const auto& sub : *one) {
        const json& r = resolve(sub);
        if (!r.contains("type") || typeMatches(r["type"].get<std::string>(), value)) any = true;
      }
      if (!any) problem(path, "has the wrong type (" + typeOf(value) + ")");
      return;
    }
    if (s.value("x-kubernetes-int-or-string", false)) {
      if (!value.is_string() && !value.is_number_integer())
        problem(path, "must be an integer or a string, not " + typeOf(value));
      return;
    }
    if (auto t = s.find("type"); t != s.end() && t->is_string()) {
      if (!typeMatches(t->get<std::string>(), value)) {
        problem(path, "must be " + article(t->get<std::string>()) + ", not " + typeOf(value));
        return;
      }
    }
    if (auto e = s.find("enum"); e != s.end() && e->is_array()) {
      bool found = false;
      for (const auto& allowed : *e) found = found || allowed == value;
      if (!found) problem(path, "value " + value.dump() + " is not one of " + e->dump());
    }
    if (value.is_object()) checkObject(s, value, path, depth);
    if (value.is_array()) {
      if (auto items = s.find("items"); items != s.end())
        for (std::size_t i = 0; i < value.size(); ++i) check(*items, value[i], path + "/" + std::to_string(i), depth + 1);
    }
  }

 private:
  static std::string article(const std::string& type) {
    return (type == "object" || type == "array" || type == "integer" ? "an " : "a ") + type;
  }

  void problem(const std::string& path, const std::string& what) { problems_.push_back((path.empty() ? "/" : path) + ": " + what); }

  const json& resolve(const json& schema) const {
    const json* s = &schema;
    for (int hops = 0; hops < 32; ++hops) {
      auto ref = s->find("$ref");
      if (ref == s->end() || !ref->is_string()) break;
      const std::string& r = ref->get_ref<const std::string&>();
      constexpr std::string_view prefix = "#/components/schemas/";
      if (!r.starts_with(prefix)) break;
      auto comps = doc_.find("components");
      if (comps == doc_.end()) break;
      auto schemas = comps->find("schemas");
      if (schemas == comps->end()) break;
      auto it = schemas->find(r.substr(prefix.size()));
      if (it == schemas->end()) break;
      s = &*it;
    }
    return *s;
  }

  void checkObject(const json& s, const json& value, const std::string& path, int depth) {
    if (auto req = s.find("required"); req != s.end() && req->is_array())
      for (const auto& name : *req)
        if (name.is_string() && !value.contains(name.get<std::string>()))
          problem(path, "missing required field \"" + name.get<std::string>() + "\"");
    auto props = s.find("properties");
    auto additional = s.find("additionalProperties");
    bool preserve = s.value("x-kubernetes-preserve-unknown-fields", false);
    for (auto it = value.begin(); it != value.end(); ++it) {
      std::string child = path + "/" + escapeToken(it.key());
      if (props != s.end() && props->contains(it.key())) {
        check((*props)[it.key()], it.value(), child, depth + 1);
      } else if (additional != s.end() && additional->is_object()) {
        check(*additional, it.value(), child, depth + 1);
      } else if (props != s.end() && !preserve && !(additional != s.end() && *additional == true)) {
        problem(child, "unknown field \"" + it.key() + "\"");
      }
    }
  }

  const json& doc_;
  std::vector<std::string>& problems_;
};

}  // namespace

std::expected<SchemaSet, std::string> SchemaSet::loadDirectory(const std::filesystem::path& dir) {
  SchemaSet set;
  std::error_code ec;
  std::filesystem::directory_iterator it(dir, ec);
  if (ec) return std::unexpected("schema directory " + dir.string() + ": " + ec.message());
  std::vector<std::filesystem::path> files;
  for (const auto& e : it)
    if (e.is_regular_file() && e.path().extension() == ".json") files.push_back(e.path());
  std::sort(files.begin(), files.end());
  for (const auto& f : files) {
    std::ifstream in(f, std::ios::binary);
    auto doc = json::parse(in, nullptr, false);
    if (doc.is_discarded() || !doc.is_object())
      return std::unexpected(f.string() + ": not a JSON OpenAPI document");
    set.addDocument(std::move(doc));
  }
  return set;
}

void SchemaSet::addDocument(json document) {
  auto doc = std::make_shared<const json>(std::move(document));
  std::size_t index = documents_.size();
  documents_.push_back(doc);
  auto comps = doc->find("components");
  if (comps == doc->end() || !comps->contains("schemas")) return;
  for (const auto& [name, schema] : (*comps)["schemas"].items()) {
    auto gvks = schema.find("x-kubernetes-group-version-kind");
    if (gvks == schema.end() || !gvks->is_array()) continue;
    for (const auto& gvk : *gvks) {
      std::string group = gvk.value("group", ""), version = gvk.value("version", ""), kind = gvk.value("kind", "");
      if (version.empty() || kind.empty()) continue;
      kinds_[{group.empty() ? version : group + "/" + version, kind}] = Root{index, &schema};
    }
  }
}

void SchemaSet::addCustomResourceDefinition(const json& crd) {
  const json* spec = crd.contains("spec") ? &crd["spec"] : nullptr;
  if (!spec || !spec->contains("group") || !spec->contains("names") || !spec->contains("versions")) return;
  std::string group = (*spec)["group"].is_string() ? (*spec)["group"].get<std::string>() : "";
  std::string kind = (*spec)["names"].value("kind", "");
  if (group.empty() || kind.empty() || !(*spec)["versions"].is_array()) return;
  for (const auto& v : (*spec)["versions"]) {
    if (!v.is_object() || !v.contains("name") || !v["name"].is_string()) continue;
    json schema = json::object();
    if (v.contains("schema") && v["schema"].contains("openAPIV3Schema")) schema = v["schema"]["openAPIV3Schema"];
    // The API server always accepts these on a custom resource.
    if (schema.is_object() && schema.contains("properties")) {
      for (const char* f : {"apiVersion", "kind"}) schema["properties"][f] = {{"type", "string"}};
      schema["properties"]["metadata"] = {{"type", "object"}, {"x-kubernetes-preserve-unknown-fields", true}};
    }
    json doc = {{"components", {{"schemas", {{"crd", schema}}}}}};
    auto d = std::make_shared<const json>(std::move(doc));
    std::size_t index = documents_.size();
    documents_.push_back(d);
    kinds_[{group + "/" + v["name"].get<std::string>(), kind}] = Root{index, &(*d)["components"]["schemas"]["crd"]};
  }
}

bool SchemaSet::knows(const std::string& apiVersion, const std::string& kind) const {
  return kinds_.contains({apiVersion, kind});
}

std::vector<std::string> SchemaSet::validate(const json& object) const {
  std::vector<std::string> problems;
  auto it = kinds_.find({object.value("apiVersion", ""), object.value("kind", "")});
  if (it == kinds_.end()) return problems;
  Validator v(*documents_[it->second.document], problems);
  v.check(*it->second.schema, object, "", 0);
  return problems;
}

}  // namespace gitfed::review
