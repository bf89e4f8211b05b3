#include "gitfed/kube/discovery.h"

#include <set>

namespace gitfed::kube {
namespace {

using nlohmann::json;

Error malformed(std::string what) {
  return Error{0, "InvalidResponse", "malformed discovery document: " + std::move(what), "discovery"};
}

const json* field(const json& obj, const char* name) {
  if (!obj.is_object()) return nullptr;
  auto it = obj.find(name);
  return it == obj.end() ? nullptr : &*it;
}

std::string stringField(const json& obj, const char* name) {
  const json* f = field(obj, name);
  return f && f->is_string() ? f->get<std::string>() : std::string();
}

std::vector<std::string> stringList(const json* arr) {
  std::vector<std::string> out;
  if (arr && arr->is_array())
    for (const auto& v : *arr)
      if (v.is_string()) out.push_back(v.get<std::string>());
  return out;
}

}  // namespace

bool isAggregatedDiscovery(std::string_view contentType) {
  return contentType.find("as=APIGroupDiscoveryList") != std::string_view::npos &&
         contentType.find("g=apidiscovery.k8s.io") != std::string_view::npos;
}

Result<std::vector<DiscoveredGroup>> parseAggregatedDiscovery(const json& doc) {
  if (stringField(doc, "kind") != "APIGroupDiscoveryList") return std::unexpected(malformed("kind is not APIGroupDiscoveryList"));
  const json* items = field(doc, "items");
  if (!items || !items->is_array()) return std::unexpected(malformed("no items"));
  std::vector<DiscoveredGroup> groups;
  for (const auto& item : *items) {
    DiscoveredGroup g;
    if (const json* md = field(item, "metadata")) g.name = stringField(*md, "name");
    const json* versions = field(item, "versions");
    if (!versions || !versions->is_array()) return std::unexpected(malformed("group \"" + g.name + "\" has no versions"));
    for (const auto& v : *versions) {
      const std::string version = stringField(v, "version");
      if (version.empty()) return std::unexpected(malformed("group \"" + g.name + "\" has a version without a name"));
      g.versions.push_back(version);
      const json* resources = field(v, "resources");
      if (!resources) continue;
      if (!resources->is_array()) return std::unexpected(malformed(g.name + "/" + version + ": resources is not a list"));
      for (const auto& res : *resources) {
        Resource r;
        r.group = g.name;
        r.version = version;
        r.plural = stringField(res, "resource");
        if (const json* rk = field(res, "responseKind")) r.kind = stringField(*rk, "kind");
        const std::string scope = stringField(res, "scope");
        r.namespaced = scope == "Namespaced";
        r.verbs = stringList(field(res, "verbs"));
        if (r.plural.empty() || r.kind.empty() || (scope != "Namespaced" && scope != "Cluster"))
          return std::unexpected(malformed(g.name + "/" + version + ": a resource without name, kind or scope"));
        g.resources.push_back(std::move(r));
      }
    }
    groups.push_back(std::move(g));
  }
  return groups;
}

Result<std::vector<std::string>> parseApiVersions(const json& doc) {
  if (stringField(doc, "kind") != "APIVersions") return std::unexpected(malformed("kind is not APIVersions"));
  auto versions = stringList(field(doc, "versions"));
  if (versions.empty()) return std::unexpected(malformed("APIVersions lists no versions"));
  return versions;
}

Result<std::vector<DiscoveredGroup>> parseApiGroupList(const json& doc) {
  if (stringField(doc, "kind") != "APIGroupList") return std::unexpected(malformed("kind is not APIGroupList"));
  const json* groups = field(doc, "groups");
  if (!groups || !groups->is_array()) return std::unexpected(malformed("APIGroupList has no groups"));
  std::vector<DiscoveredGroup> out;
  for (const auto& g : *groups) {
    DiscoveredGroup dg;
    dg.name = stringField(g, "name");
    if (dg.name.empty()) return std::unexpected(malformed("a group without a name"));
    std::string preferred;
    if (const json* p = field(g, "preferredVersion")) preferred = stringField(*p, "version");
    if (!preferred.empty()) dg.versions.push_back(preferred);
    if (const json* vs = field(g, "versions"); vs && vs->is_array())
      for (const auto& v : *vs) {
        std::string version = stringField(v, "version");
        if (!version.empty() && version != preferred) dg.versions.push_back(std::move(version));
      }
    if (dg.versions.empty()) return std::unexpected(malformed("group " + dg.name + " has no versions"));
    out.push_back(std::move(dg));
  }
  return out;
}

Result<std::vector<Resource>> parseApiResourceList(const json& doc, const std::string& group,
                                                   const std::string& version) {
  if (stringField(doc, "kind") != "APIResourceList") return std::unexpected(malformed("kind is not APIResourceList"));
  const json* resources = field(doc, "resources");
  if (!resources || !resources->is_array()) return std::unexpected(malformed("APIResourceList has no resources"));
  std::vector<Resource> out;
  for (const auto& res : *resources) {
    Resource r;
    r.group = group;
    r.version = version;
    r.plural = stringField(res, "name");
    if (r.plural.empty()) return std::unexpected(malformed("a resource without a name"));
    if (r.plural.find('/') != std::string::npos) continue;  // a subresource
    r.kind = stringField(res, "kind");
    const json* ns = field(res, "namespaced");
    r.namespaced = ns && ns->is_boolean() && ns->get<bool>();
    r.verbs = stringList(field(res, "verbs"));
    out.push_back(std::move(r));
  }
  return out;
}

std::vector<Resource> preferredResources(const std::vector<DiscoveredGroup>& groups) {
  std::vector<Resource> out;
  for (const auto& g : groups) {
    std::set<std::string> seen;
    for (const auto& version : g.versions)
      for (const auto& r : g.resources)
        if (r.version == version && seen.insert(r.plural).second) out.push_back(r);
  }
  return out;
}

}  // namespace gitfed::kube
