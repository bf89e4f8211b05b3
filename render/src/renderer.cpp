#include "gitfed/render/renderer.h"

#include <algorithm>
#include <atomic>
#include <limits>
#include <thread>
#include <tuple>
#include <unordered_map>
#include <unordered_set>

#include "gitfed/render/depends_on.h"
#include "gitfed/render/public_key.h"
#include "gitfed/render/schedule_reader.h"
#include "gitfed/render/tenant.h"
#include "gitfed/render/writer.h"

namespace gitfed::render {
namespace {

using nlohmann::json;

constexpr std::string_view kClusterNames = "gitfed.io/cluster-names";
constexpr std::string_view kClusterSelector = "gitfed.io/cluster-selector";

// ---------------------------------------------------------------- files

bool hasManifestExtension(std::string_view name) {
  return name.ends_with(".yaml") || name.ends_with(".yml") || name.ends_with(".json");
}

std::string joinPath(std::string_view dir, std::string_view name) {
  if (dir.empty()) return std::string(name);
  std::string out(dir);
  out += '/';
  out += name;
  return out;
}

std::string normalizeRoot(std::string root) {
  while (root.starts_with("./")) root.erase(0, 2);
  if (root == ".") root.clear();
  while (!root.empty() && root.back() == '/') root.pop_back();
  return root;
}

struct FileRef {
  std::string path;
  std::uint64_t size = 0;
};

// Every manifest file under the roots, sorted byte-wise by path. Errors for
// symlinked manifests and missing roots go to `errors`.
std::vector<FileRef> collectFiles(const SourceTree& tree, const std::vector<std::string>& roots,
                                  std::vector<Diagnostic>& errors) {
  std::vector<FileRef> files;
  for (const auto& rawRoot : roots) {
    std::string root = normalizeRoot(rawRoot);
    if (root.find("..") != std::string::npos && (root == ".." || root.starts_with("../") ||
                                                  root.find("/../") != std::string::npos || root.ends_with("/.."))) {
      errors.push_back(Diagnostic{root, 0, "root path may not leave the repository"});
      continue;
    }
    auto st = tree.stat(root);
    if (!st) {
      errors.push_back(Diagnostic{root.empty() ? "." : root, 0, "root path: " + st.error().message});
      continue;
    }
    if (st->type == SourceTree::EntryType::File) {
      files.push_back(FileRef{root, st->size});
      continue;
    }
    if (st->type == SourceTree::EntryType::Symlink) {
      errors.push_back(Diagnostic{root, 0, "symlinks are not followed"});
      continue;
    }
    if (st->type != SourceTree::EntryType::Directory) {
      errors.push_back(Diagnostic{root, 0, "root path is not a file or a directory"});
      continue;
    }
    std::vector<std::string> pending{root};  // explicit stack: trees may nest deeply
    while (!pending.empty()) {
      std::string dir = std::move(pending.back());
      pending.pop_back();
      auto entries = tree.list(dir);
      if (!entries) {
        errors.push_back(Diagnostic{dir, 0, entries.error().message});
        continue;
      }
      for (const auto& e : *entries) {
        if (e.name.empty() || e.name[0] == '.') continue;
        std::string path = joinPath(dir, e.name);
        switch (e.type) {
          case SourceTree::EntryType::Directory:
            pending.push_back(std::move(path));
            break;
          case SourceTree::EntryType::File:
            if (hasManifestExtension(e.name)) files.push_back(FileRef{std::move(path), e.size});
            break;
          case SourceTree::EntryType::Symlink:
            if (hasManifestExtension(e.name)) errors.push_back(Diagnostic{path, 0, "symlinks are not followed"});
            break;
          case SourceTree::EntryType::Other:
            break;
        }
      }
    }
  }
  std::sort(files.begin(), files.end(), [](const FileRef& a, const FileRef& b) { return a.path < b.path; });
  files.erase(std::unique(files.begin(), files.end(), [](const FileRef& a, const FileRef& b) { return a.path == b.path; }),
              files.end());
  std::sort(errors.begin(), errors.end(), [](const Diagnostic& a, const Diagnostic& b) { return a.path < b.path; });
  return files;
}

// `schedules`: where to put the RSPs read the short way (schedule_reader.h),
// nullptr to read every document the general way.
ReadOutcome readFile(const SourceTree& tree, const FileRef& file, const LoadOptions& options,
                     std::vector<SimpleSchedule>* schedules) {
  ReadOutcome out;
  if (file.size > options.maxFileBytes) {
    out.errors.push_back(Diagnostic{file.path, 0,
                                    "file is " + std::to_string(file.size) + " bytes, over the limit of " +
                                        std::to_string(options.maxFileBytes) + " bytes"});
    return out;
  }
  auto text = tree.read(file.path, options.maxFileBytes);
  if (!text) {
    Diagnostic d = text.error();
    d.path = file.path;
    out.errors.push_back(std::move(d));
    return out;
  }
  if (file.path.ends_with(".json")) {
    out = readJsonDocument(*text, options.limits);
  } else {
    // The RSPs the short way, when the rest of the file reads without libyaml
    // (else the whole file is read the general way, as if none were taken).
    TakenSchedules taken;
    if (schedules) taken = takeSimpleSchedules(*text, options.limits);
    std::optional<ReadOutcome> rest;
    if (!taken.schedules.empty()) rest = readSimpleYamlStream(taken.rest, options.limits);
    if (rest) {
      out = std::move(*rest);
      *schedules = std::move(taken.schedules);
    } else {
      out = readYamlStream(*text, options.limits);
    }
  }
  for (auto& e : out.errors) e.path = file.path;
  return out;
}

// ---------------------------------------------------------------- helpers

const json* member(const json& object, std::string_view key) {
  if (!object.is_object()) return nullptr;
  auto it = object.find(key);
  if (it == object.end() || it->is_null()) return nullptr;
  return &*it;
}

std::string typeName(const json& v) { return jsonTypeName(v); }

std::string groupOf(std::string_view apiVersion) {
  auto slash = apiVersion.find('/');
  return slash == std::string_view::npos ? std::string() : std::string(apiVersion.substr(0, slash));
}

std::string identityOf(const std::string& kind, const std::string& ns, const std::string& name) {
  return kind + " " + (ns.empty() ? name : ns + "/" + name);
}

std::string stringAt(const json& object, std::string_view a, std::string_view b = {}) {
  const json* v = member(object, a);
  if (v && !b.empty()) v = member(*v, b);
  return v && v->is_string() ? v->get<std::string>() : std::string();
}

// ---------------------------------------------------------------- loading

// A FederatedTypeConfig read from a file, registered when files are merged.
struct PendingTypeConfig {
  SourceRef source;
  std::string identity;
  std::string federatedKind;
  TargetType target;
};

// Classifies the documents of one file into a partial Repository (run in the
// reader threads, so each document's tree is packed and freed right after it
// is parsed); merge() then joins the files in order.
class Loader {
 public:
  Loader(Repository& repo, bool registryOnly = false) : repo_(repo), registryOnly_(registryOnly) {}
  std::vector<PendingTypeConfig> typeConfigs;

  void add(json&& doc, const SourceRef& source) {
    auto error = [&](std::string message) { repo_.errors.push_back(Diagnostic{source.path, source.line, std::move(message)}); };
    if (!doc.is_object()) return error("document is " + typeName(doc) + ", not a mapping (a Kubernetes object)");
    const json* apiVersion = member(doc, "apiVersion");
    const json* kind = member(doc, "kind");
    if (!apiVersion || !apiVersion->is_string() || apiVersion->get_ref<const std::string&>().empty())
      return error("document has no apiVersion (a non-empty string)");
    if (!kind || !kind->is_string() || kind->get_ref<const std::string&>().empty())
      return error("document has no kind (a non-empty string)");
    const std::string& av = apiVersion->get_ref<const std::string&>();
    const std::string& k = kind->get_ref<const std::string&>();
    const json* metadata = member(doc, "metadata");
    if (metadata && !metadata->is_object()) return error(k + ": metadata must be a mapping");
    const json* name = metadata ? member(*metadata, "name") : nullptr;
    if (!name || !name->is_string() || name->get_ref<const std::string&>().empty())
      return error(k + " has no metadata.name (a non-empty string)");
    const json* ns = member(*metadata, "namespace");
    if (ns && !ns->is_string()) return error(k + " " + name->get<std::string>() + ": metadata.namespace must be a string");
    std::string id = identityOf(k, ns ? ns->get<std::string>() : "", name->get<std::string>());

    if (av == "gitfed.io/v1alpha1" && k == "Cluster") return addCluster(doc, source, id);
    if (registryOnly_ && !(av == "gitfed.io/v1alpha1" && k == "Tenant")) return;
    if (av == "core.kubefed.io/v1beta1" && k == "FederatedTypeConfig") return addTypeConfig(doc, source, id);
    if (k == "ReplicaSchedulingPreference") {
      if (av != "scheduling.kubefed.io/v1alpha1")
        return error(id + ": apiVersion " + av +
                     " has no ReplicaSchedulingPreference; it is scheduling.kubefed.io/v1alpha1 (section 8)");
      return addSchedule(doc, source, id);
    }
    if (av == "gitfed.io/v1alpha1" && k == "Tenant") return addTenant(doc, source, id);
    if (av == "gitfed.io/v1alpha1" && k == "DriftRules") return addDriftRules(doc, source, id);
    SourceDocument sd;
    sd.apiVersion = av;
    sd.kind = k;
    sd.name = name->get<std::string>();
    sd.ns = ns ? ns->get<std::string>() : "";
    sd.source = source;
    sd.identity = std::move(id);
    if (av == "types.kubefed.io/v1beta1") {
      if (!prepareFederated(sd, doc)) return;
    } else if (!preparePlain(sd, doc)) {
      return;
    }
    sd.packed = json::to_msgpack(doc);
    repo_.documents.push_back(std::move(sd));
  }

  std::vector<ReplicaSchedule> schedules;

  // An RSP read the short way: what add() makes of the same document.
  void add(SimpleSchedule&& s, const std::string& path) {
    addSchedule(std::move(s.ns), std::move(s.name), SourceRef{path, s.line}, std::move(s.spec));
  }

  static void finish(Repository& repo_) {
    // Target types need every FederatedTypeConfig, wherever it is in the repository.
    std::vector<SourceDocument> kept;
    kept.reserve(repo_.documents.size());
    for (auto& d : repo_.documents) {
      if (d.federated) {
        const std::string& fedKind = d.kind;
        auto it = repo_.federatedTypes.find(fedKind);
        if (it != repo_.federatedTypes.end()) {
          d.target = it->second;
        } else if (auto builtin = builtinTargetType(fedKind.substr(std::string_view("Federated").size()))) {
          d.target = *builtin;
        } else {
          repo_.errors.push_back(Diagnostic{d.source.path, d.source.line,
                                            d.identity + ": unknown federated kind " + fedKind +
                                                " (no FederatedTypeConfig declares it and it is not built in)",
                                            d.tenant >= 0 ? repo_.tenants[static_cast<std::size_t>(d.tenant)].name : ""});
          continue;
        }
      }
      kept.push_back(std::move(d));
    }
    repo_.documents = std::move(kept);
  }

 private:
  void addSchedule(const json& doc, const SourceRef& source, const std::string& id) {
    auto spec = parseReplicaSchedulingPreference(doc, id);
    if (!spec) return err(source, spec.error().message);
    addSchedule(stringAt(doc["metadata"], "namespace"), doc["metadata"]["name"].get<std::string>(), source,
                std::move(*spec));
  }

  void addSchedule(std::string ns, std::string name, const SourceRef& source, ReplicaSchedulingSpec&& spec) {
    ReplicaSchedule s;
    s.identity = identityOf("ReplicaSchedulingPreference", ns, name);
    s.name = std::move(name);
    s.ns = std::move(ns);
    s.source = source;
    s.spec = std::move(spec);
    schedules.push_back(std::move(s));
  }

  void addCluster(const json& doc, const SourceRef& source, const std::string& id) {
    ClusterEntry entry;
    entry.name = doc["metadata"]["name"].get<std::string>();
    entry.source = source;
    if (const json* labels = member(doc["metadata"], "labels")) {
      if (!labels->is_object()) return err(source, id + ": metadata.labels must be a mapping");
      for (const auto& [key, value] : labels->items()) {
        if (!value.is_string())
          return err(source, id + ": label \"" + key + "\" must be a string (quote it), not " + typeName(value));
        if (!isValidLabelKey(key)) return err(source, id + ": invalid label key \"" + key + "\"");
        entry.labels[key] = value.get<std::string>();
      }
    }
    if (const json* spec = member(doc, "spec")) {
      if (!spec->is_object()) return err(source, id + ": spec must be a mapping, not " + typeName(*spec));
      for (const auto& [field, value] : spec->items())
        if (field != "statusPublicKey" && field != "suspend" && field != "suspendReason")
          return err(source, id + ": unknown field spec." + field +
                                 " (a Cluster's spec has statusPublicKey, suspend and suspendReason only)");
      if (const json* key = member(*spec, "statusPublicKey")) {
        if (!key->is_string())
          return err(source, id + ": spec.statusPublicKey must be a string (a PEM public key), not " + typeName(*key));
        auto pem = parseStatusPublicKey(key->get_ref<const std::string&>());
        if (!pem) return err(source, id + ": spec.statusPublicKey: " + pem.error());
        entry.statusPublicKey = std::move(*pem);
      }
      if (const json* v = member(*spec, "suspend")) {
        if (!v->is_boolean()) return err(source, id + ": spec.suspend must be true or false, not " + typeName(*v));
        entry.suspend = v->get<bool>();
      }
      if (const json* v = member(*spec, "suspendReason")) {
        if (!v->is_string()) return err(source, id + ": spec.suspendReason must be a string, not " + typeName(*v));
        entry.suspendReason = v->get<std::string>();
      }
    }
    entry.identity = id;
    repo_.clusters.push_back(std::move(entry));  // duplicates are found when files are merged
  }

  void addTypeConfig(const json& doc, const SourceRef& source, const std::string& id) {
    const json* spec = member(doc, "spec");
    std::string fedKind = spec ? stringAt(*spec, "federatedType", "kind") : "";
    if (fedKind.empty()) return err(source, id + ": spec.federatedType.kind is missing");
    const json* target = spec ? member(*spec, "targetType") : nullptr;
    if (!target || !target->is_object()) return err(source, id + ": spec.targetType is missing");
    std::string group = stringAt(*target, "group");
    std::string version = stringAt(*target, "version");
    std::string kind = stringAt(*target, "kind");
    std::string scope = stringAt(*target, "scope");
    if (version.empty() || kind.empty()) return err(source, id + ": spec.targetType needs version and kind");
    if (scope != "Namespaced" && scope != "Cluster")
      return err(source, id + ": spec.targetType.scope must be Namespaced or Cluster, not \"" + scope + "\"");
    typeConfigs.push_back(
        {source, id, fedKind, TargetType{group.empty() ? version : group + "/" + version, kind, scope == "Namespaced"}});
  }

  bool preparePlain(SourceDocument& d, const json& doc) {
    const json& metadata = doc["metadata"];
    const json* annotations = member(metadata, "annotations");
    if (!annotations) return true;
    if (!annotations->is_object()) return errFalse(d, d.identity + ": metadata.annotations must be a mapping");
    if (const json* names = member(*annotations, kClusterNames)) {
      if (!names->is_string()) return errFalse(d, d.identity + ": annotation " + std::string(kClusterNames) + " must be a string");
      d.placement.mode = Placement::Mode::Names;
      const std::string& s = names->get_ref<const std::string&>();
      std::size_t start = 0;
      while (start <= s.size()) {
        auto comma = s.find(',', start);
        std::string part = s.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
        auto b = part.find_first_not_of(" \t");
        auto e = part.find_last_not_of(" \t");
        if (b != std::string::npos) d.placement.names.push_back(part.substr(b, e - b + 1));
        if (comma == std::string::npos) break;
        start = comma + 1;
      }
    } else if (const json* selector = member(*annotations, kClusterSelector)) {
      if (!selector->is_string())
        return errFalse(d, d.identity + ": annotation " + std::string(kClusterSelector) + " must be a string");
      auto parsed = parseSelector(selector->get_ref<const std::string&>());
      if (!parsed) return errFalse(d, d.identity + ": annotation " + std::string(kClusterSelector) + ": " + parsed.error().message);
      d.placement.mode = Placement::Mode::Selector;
      d.placement.selector = std::move(*parsed);
    }
    return true;
  }

  bool prepareFederated(SourceDocument& d, const json& doc) {
    const std::string& kind = d.kind;
    if (!kind.starts_with("Federated") || kind.size() == std::string_view("Federated").size())
      return errFalse(d, d.identity + ": unknown federated kind " + kind + " (expected Federated<Kind>)");
    d.federated = true;
    const json* spec = member(doc, "spec");
    if (spec && !spec->is_object()) return errFalse(d, d.identity + ": spec must be a mapping");
    if (!spec) {
      d.placement.mode = Placement::Mode::Nowhere;
      return true;
    }
    if (const json* tmpl = member(*spec, "template")) {
      if (!tmpl->is_object()) return errFalse(d, d.identity + ": spec.template must be a mapping");
      if (const json* md = member(*tmpl, "metadata"); md && !md->is_object())
        return errFalse(d, d.identity + ": spec.template.metadata must be a mapping");
    }
    // Placement (5.2).
    d.placement.mode = Placement::Mode::Nowhere;
    if (const json* placement = member(*spec, "placement")) {
      auto parsed = placementFromSpec(*placement, d.identity + ": spec.placement");
      if (!parsed) return errFalse(d, parsed.error().message);
      d.placement = std::move(*parsed);
    }
    // Overrides (5.4): syntax checked on every entry, matching or not.
    if (const json* overrides = member(*spec, "overrides")) {
      if (!overrides->is_array()) return errFalse(d, d.identity + ": spec.overrides must be a list");
      std::vector<std::string> problems;
      for (std::size_t i = 0; i < overrides->size(); ++i) {
        auto o = parseOverride((*overrides)[i], d.identity + ": spec.overrides[" + std::to_string(i) + "]", problems);
        if (o) d.overrides.push_back(std::move(*o));
      }
      for (auto& p : problems) err(d.source, std::move(p));
      if (!problems.empty()) return false;
    }
    return true;
  }

  // KubeFed's placement (5.2): `clusters` or `clusterSelector`, else nowhere.
  static Result<Placement> placementFromSpec(const json& placement, const std::string& where) {
    Placement out;
    out.mode = Placement::Mode::Nowhere;
    if (!placement.is_object()) return fail(where + " must be a mapping");
    for (const auto& [field, v] : placement.items())
      if (field != "clusters" && field != "clusterSelector" && field != "clusterAffinity" && field != "spreadConstraints")
        return fail(where + ": unknown field \"" + field +
                    "\" (expected clusters, clusterSelector, clusterAffinity, spreadConstraints)");
    if (const json* affinity = member(placement, "clusterAffinity")) {
      auto parsed = parseClusterAffinity(*affinity, where + ".clusterAffinity");
      if (!parsed) return std::unexpected(parsed.error());
      out.affinity = std::move(*parsed);
      out.mode = Placement::Mode::Everywhere;  // affinity alone: every cluster it allows (section 8.4)
    }
    if (const json* spread = member(placement, "spreadConstraints")) {
      auto parsed = parseSpreadConstraints(*spread, where + ".spreadConstraints");
      if (!parsed) return std::unexpected(parsed.error());
      out.spread = std::move(*parsed);
    }
    if (const json* clusters = member(placement, "clusters")) {
      if (!clusters->is_array()) return fail(where + ".clusters must be a list");
      out.mode = Placement::Mode::Names;
      for (const auto& c : *clusters) {
        const json* n = member(c, "name");
        if (!n || !n->is_string()) return fail(where + ".clusters: each entry needs a name (a string)");
        out.names.push_back(n->get<std::string>());
      }
    } else if (const json* selector = member(placement, "clusterSelector")) {
      auto parsed = selectorFromJson(*selector);
      if (!parsed) return fail(where + ".clusterSelector: " + parsed.error().message);
      out.mode = Placement::Mode::Selector;
      out.selector = std::move(*parsed);
    }
    return out;
  }

  // A Tenant (section 10): checked whole here, once; its overrides and
  // placement parsed as a federated object's.
  void addDriftRules(const json& doc, const SourceRef& source, const std::string& id) {
    DriftRulesDocument d;
    d.identity = id;
    d.source = source;
    SourceDocument probe;  // placed by the annotations of a plain object (4)
    probe.identity = id;
    probe.source = source;
    if (!preparePlain(probe, doc)) return;
    d.placement = std::move(probe.placement);
    auto rules = parseDriftRules(doc, id, id + " (" + source.path + ":" + std::to_string(source.line) + ")");
    if (!rules) return err(source, rules.error().message);
    d.rules = std::move(*rules);
    repo_.driftRules.push_back(std::move(d));
  }

  void addTenant(json& doc, const SourceRef& source, const std::string& id) {
    auto spec = parseTenant(doc, id, /*substituted=*/false);
    if (!spec) return err(source, spec.error().message);
    TenantDocument t;
    t.name = spec->name;
    t.identity = id;
    t.source = source;
    t.paths = spec->paths;
    const json& s = doc["spec"];
    if (const json* placement = member(s, "placement")) {
      auto parsed = placementFromSpec(*placement, id + ": spec.placement");
      if (!parsed) return err(source, parsed.error().message);
      t.placement = std::move(*parsed);
    } else {
      // No spec.placement: the annotations of a plain object (4), else everywhere.
      SourceDocument probe;
      probe.identity = id;
      probe.source = source;
      if (!preparePlain(probe, doc)) return;
      t.placement = std::move(probe.placement);
      if (auto md = doc["metadata"].find("annotations"); md != doc["metadata"].end() && md->is_object()) {
        md->erase(std::string(kClusterNames));
        md->erase(std::string(kClusterSelector));
      }
    }
    if (const json* overrides = member(s, "overrides")) {
      if (!overrides->is_array()) return err(source, id + ": spec.overrides must be a list");
      std::vector<std::string> problems;
      for (std::size_t i = 0; i < overrides->size(); ++i) {
        std::string where = id + ": spec.overrides[" + std::to_string(i) + "]";
        auto o = parseOverride((*overrides)[i], where, problems);
        if (!o) continue;
        for (std::size_t j = 0; j < o->items.size(); ++j) {
          const auto& tokens = o->items[j].path.tokens;
          if (tokens.size() >= 2 && tokens[0] == "spec" &&
              (tokens[1] == "paths" || tokens[1] == "placement" || tokens[1] == "overrides"))
            problems.push_back(where + ".clusterOverrides[" + std::to_string(j) + "]: path " + o->items[j].path.text +
                               " may not be overridden (a tenant's paths, placement and overrides are the same on every cluster)");
        }
        t.overrides.push_back(std::move(*o));
      }
      for (auto& p : problems) err(source, std::move(p));
      if (!problems.empty()) return;
      doc["spec"].erase("overrides");
    }
    doc["spec"].erase("placement");
    t.packed = json::to_msgpack(doc);
    repo_.tenants.push_back(std::move(t));
  }

  // Checks one entry; every problem found is appended to `problems` (all
  // items are checked, so one run reports every mistake).
  static std::optional<Override> parseOverride(const json& entry, const std::string& where,
                                               std::vector<std::string>& problems) {
    auto r = parseOverrideEntry(entry, where, problems);
    if (!r) {
      if (!r.error().message.empty()) problems.push_back(r.error().message);
      return std::nullopt;
    }
    return std::move(*r);
  }

  static Result<Override> parseOverrideEntry(const json& entry, const std::string& where,
                                             std::vector<std::string>& problems) {
    if (!entry.is_object()) return fail(where + " must be a mapping");
    Override o;
    for (const auto& [field, v] : entry.items())
      if (field != "clusterName" && field != "clusterSelector" && field != "clusterOverrides")
        return fail(where + ": unknown field \"" + field + "\" (expected clusterName, clusterSelector, clusterOverrides)");
    const json* name = member(entry, "clusterName");
    const json* selector = member(entry, "clusterSelector");
    if (name && selector) return fail(where + ": has both clusterName and clusterSelector (exactly one is allowed)");
    if (!name && !selector) return fail(where + ": has neither clusterName nor clusterSelector");
    if (name) {
      if (!name->is_string() || name->get_ref<const std::string&>().empty())
        return fail(where + ": clusterName must be a non-empty string");
      o.clusterName = name->get<std::string>();
    } else {
      auto parsed = selectorFromJson(*selector);
      if (!parsed) return fail(where + ".clusterSelector: " + parsed.error().message);
      o.selector = std::move(*parsed);
    }
    const json* items = member(entry, "clusterOverrides");
    if (!items) return o;
    if (!items->is_array()) return fail(where + ": clusterOverrides must be a list");
    bool itemsOk = true;
    for (std::size_t j = 0; j < items->size(); ++j) {
      auto it = parseOverrideItem((*items)[j], where + ".clusterOverrides[" + std::to_string(j) + "]");
      if (!it) {
        problems.push_back(it.error().message);
        itemsOk = false;
        continue;
      }
      o.items.push_back(std::move(*it));
    }
    if (!itemsOk) return fail("");  // already reported item by item
    return o;
  }

  static Result<Override::Item> parseOverrideItem(const json& item, const std::string& at) {
    if (!item.is_object()) return fail(at + " must be a mapping");
    for (const auto& [field, v] : item.items())
      if (field != "op" && field != "path" && field != "value")
        return fail(at + ": unknown field \"" + field + "\" (expected op, path, value)");
    Override::Item it;
    if (const json* op = member(item, "op")) {
      std::string s = op->is_string() ? op->get<std::string>() : op->dump();
      if (s == "add")
        it.op = PatchOp::Add;
      else if (s == "replace")
        it.op = PatchOp::Replace;
      else if (s == "remove")
        it.op = PatchOp::Remove;
      else
        return fail(at + ": unknown op \"" + s + "\" (expected add, replace or remove)");
    }
    const json* path = member(item, "path");
    if (!path || !path->is_string()) return fail(at + ": path is missing (a JSON Pointer string)");
    auto pointer = parseJsonPointer(path->get_ref<const std::string&>());
    if (!pointer) return fail(at + ": " + pointer.error().message);
    const auto& t = pointer->tokens;
    if (t[0] == "apiVersion" || t[0] == "kind" ||
        (t[0] == "metadata" && t.size() >= 2 && (t[1] == "name" || t[1] == "namespace")))
      return fail(at + ": path " + pointer->text +
                  " may not be overridden (apiVersion, kind, metadata.name and metadata.namespace are fixed)");
    it.path = std::move(*pointer);
    if (it.op != PatchOp::Remove) {
      if (!item.contains("value"))
        return fail(at + ": " + (it.op == PatchOp::Add ? "add " : "replace ") + it.path.text + " needs a value");
      it.value = item["value"];
    }
    return it;
  }

  void err(const SourceRef& source, std::string message) {
    repo_.errors.push_back(Diagnostic{source.path, source.line, std::move(message)});
  }
  bool errFalse(const SourceDocument& d, std::string message) {
    err(d.source, std::move(message));
    return false;
  }

  Repository& repo_;
  bool registryOnly_ = false;
};

// ---------------------------------------------------------------- rendering


}  // namespace

bool Placement::matches(const std::string& name, const Labels& labels) const {
  if (!affinity.allows(labels)) return false;
  switch (mode) {
    case Mode::Everywhere:
      return true;
    case Mode::Nowhere:
      return false;
    case Mode::Names:
      return std::find(names.begin(), names.end(), name) != names.end();
    case Mode::Selector:
      return selector.matches(labels);
  }
  return false;
}

bool Override::matches(const std::string& name, const Labels& labels) const {
  return clusterName ? *clusterName == name : selector.matches(labels);
}

const ClusterEntry* Repository::findCluster(const std::string& name) const {
  for (const auto& c : clusters)
    if (c.name == name) return &c;
  return nullptr;
}

int kindRank(const std::string& kind) {
  static const std::unordered_map<std::string, int> ranks = [] {
    const char* order[] = {"Namespace", "NetworkPolicy", "ResourceQuota", "LimitRange", "PodDisruptionBudget",
                           "ServiceAccount", "Secret", "ConfigMap", "StorageClass", "PersistentVolume",
                           "PersistentVolumeClaim", "CustomResourceDefinition", "ClusterRole", "ClusterRoleBinding",
                           "Role", "RoleBinding", "Service", "DaemonSet", "Pod", "ReplicationController",
                           "ReplicaSet", "Deployment", "HorizontalPodAutoscaler", "StatefulSet", "Job", "CronJob",
                           "IngressClass", "Ingress", "APIService"};
    std::unordered_map<std::string, int> m;
    int i = 0;
    for (const char* k : order) m[k] = i++;
    return m;
  }();
  auto it = ranks.find(kind);
  return it == ranks.end() ? static_cast<int>(ranks.size()) : it->second;
}

std::optional<TargetType> builtinTargetType(const std::string& kind) {
  static const std::unordered_map<std::string, TargetType> table = [] {
    std::unordered_map<std::string, TargetType> t;
    auto add = [&](const char* apiVersion, std::initializer_list<const char*> kinds, bool namespaced) {
      for (const char* k : kinds) t[k] = TargetType{apiVersion, k, namespaced};
    };
    add("v1", {"ConfigMap", "Secret", "Service", "ServiceAccount", "LimitRange", "ResourceQuota", "PersistentVolumeClaim"}, true);
    add("v1", {"Namespace"}, false);
    add("apps/v1", {"Deployment", "DaemonSet", "StatefulSet", "ReplicaSet"}, true);
    add("batch/v1", {"Job", "CronJob"}, true);
    add("networking.k8s.io/v1", {"Ingress", "NetworkPolicy"}, true);
    add("autoscaling/v2", {"HorizontalPodAutoscaler"}, true);
    add("policy/v1", {"PodDisruptionBudget"}, true);
    add("rbac.authorization.k8s.io/v1", {"Role", "RoleBinding"}, true);
    add("rbac.authorization.k8s.io/v1", {"ClusterRole", "ClusterRoleBinding"}, false);
    add("apiextensions.k8s.io/v1", {"CustomResourceDefinition"}, false);
    add("storage.k8s.io/v1", {"StorageClass"}, false);
    add("scheduling.k8s.io/v1", {"PriorityClass"}, false);
    return t;
  }();
  auto it = table.find(kind);
  if (it == table.end()) return std::nullopt;
  return it->second;
}

namespace {

struct FilePart {
  Repository part;
  std::vector<PendingTypeConfig> typeConfigs;
  std::vector<ReplicaSchedule> schedules;
};

FilePart loadFile(const SourceTree& tree, const FileRef& file, const LoadOptions& options) {
  FilePart fp;
  std::vector<SimpleSchedule> simpleSchedules;  // RSPs are not needed for the registry alone
  ReadOutcome read = readFile(tree, file, options, options.registryOnly ? nullptr : &simpleSchedules);
  fp.part.errors = std::move(read.errors);
  Loader loader(fp.part, options.registryOnly);
  // The RSPs read the short way join the other documents in the file's order.
  auto nextSimple = simpleSchedules.begin();
  auto addSimpleBefore = [&](int line) {
    for (; nextSimple != simpleSchedules.end() && nextSimple->line < line; ++nextSimple)
      loader.add(std::move(*nextSimple), file.path);
  };
  std::vector<Document> objects;
  std::vector<Diagnostic> listErrors;
  for (auto& d : read.documents) {
    addSimpleBefore(d.line);
    objects.clear();
    listErrors.clear();
    expandList(std::move(d), objects, listErrors);  // a list stands for its items
    for (auto& e : listErrors) fp.part.errors.push_back(Diagnostic{file.path, e.line, std::move(e.message)});
    for (auto& o : objects) {
      loader.add(std::move(o.value), SourceRef{file.path, o.line});
      o.value = json();  // this document's tree is packed now: free it before the next one is parsed
    }
    d.value = json();
  }
  addSimpleBefore(std::numeric_limits<int>::max());
  // A list's errors and its items' errors come from two stages: report them in the file's order.
  std::stable_sort(fp.part.errors.begin(), fp.part.errors.end(),
                   [](const Diagnostic& a, const Diagnostic& b) { return a.line < b.line; });
  fp.typeConfigs = std::move(loader.typeConfigs);
  fp.schedules = std::move(loader.schedules);
  return fp;
}

std::vector<FilePart> loadFiles(const SourceTree& tree, const std::vector<FileRef>& files, const LoadOptions& options) {
  std::vector<FilePart> parts(files.size());
  unsigned threads = options.threads ? options.threads : std::max(1u, std::thread::hardware_concurrency());
  threads = static_cast<unsigned>(std::min<std::size_t>(threads, files.size()));
  std::atomic<std::size_t> nextIndex{0};
  auto work = [&] {
    for (std::size_t i = nextIndex++; i < files.size(); i = nextIndex++) parts[i] = loadFile(tree, files[i], options);
  };
  if (threads <= 1) {
    work();
    return parts;
  }
  std::vector<std::jthread> pool;
  for (unsigned t = 1; t < threads; ++t) pool.emplace_back(work);
  work();
  pool.clear();  // joins
  return parts;
}

}  // namespace

namespace {

// Each RSP to the federated object of its namespace and name (section 8.1).
void linkSchedules(Repository& repo, std::vector<ReplicaSchedule> schedules) {
  std::map<std::tuple<std::string, std::string>, std::vector<std::size_t>> byName;
  for (std::size_t i = 0; i < repo.documents.size(); ++i)
    if (repo.documents[i].federated) byName[{repo.documents[i].ns, repo.documents[i].name}].push_back(i);
  // The FederatedNamespace of each namespace (the last one, if written twice).
  std::unordered_map<std::string, int> namespaceDocument;
  for (std::size_t i = 0; i < repo.documents.size(); ++i)
    if (repo.documents[i].federated && repo.documents[i].target.kind == "Namespace" &&
        repo.documents[i].target.apiVersion == "v1")
      namespaceDocument[repo.documents[i].name] = static_cast<int>(i);
  std::unordered_map<std::string_view, std::size_t> clusterIndex;
  for (std::size_t i = 0; i < repo.clusters.size(); ++i) clusterIndex.emplace(repo.clusters[i].name, i);
  repo.schedules.reserve(schedules.size());
  for (auto& s : schedules) {
    auto tenantOf = [&](const std::string& path) {
      for (const auto& t : repo.tenants)
        for (const auto& p : t.paths)
          if (path == p || (path.starts_with(p) && path.size() > p.size() && path[p.size()] == '/')) return t.name;
      return std::string();
    };
    auto error = [&](std::string message) {
      repo.errors.push_back(Diagnostic{s.source.path, s.source.line, s.identity + ": " + message, tenantOf(s.source.path)});
    };
    auto target = [&] { return s.ns.empty() ? s.name : s.ns + "/" + s.name; };
    auto it = byName.find({s.ns, s.name});
    const SourceDocument* wrongKind = nullptr;
    std::optional<std::size_t> found;
    if (it != byName.end())
      for (std::size_t i : it->second) {
        if (repo.documents[i].kind == s.spec.targetKind)
          found = i;
        else if (repo.documents[i].kind == "FederatedDeployment" || repo.documents[i].kind == "FederatedReplicaSet" ||
                 repo.documents[i].kind == "FederatedStatefulSet")
          wrongKind = &repo.documents[i];
      }
    if (!found) {
      if (wrongKind)
        error("targetKind is " + s.spec.targetKind + ", but " + target() + " is a " + wrongKind->kind + " (" +
              wrongKind->source.path + ":" + std::to_string(wrongKind->source.line) + ")");
      else
        error("no " + s.spec.targetKind + " " + target() +
              " to schedule (an RSP has the namespace and name of its target)");
      continue;
    }
    SourceDocument& d = repo.documents[*found];
    if (d.schedule >= 0) {
      const auto& other = repo.schedules[static_cast<std::size_t>(d.schedule)];
      error(d.identity + " is already scheduled by " + other.source.path + ":" + std::to_string(other.source.line));
      continue;
    }
    s.target = *found;
    s.registryEntries.reserve(s.spec.clusters.size());
    for (const auto& [cluster, preference] : s.spec.clusters)
      if (auto c = clusterIndex.find(cluster); c != clusterIndex.end()) s.registryEntries.emplace_back(c->second, preference);
    std::ranges::sort(s.registryEntries, {}, &std::pair<std::size_t, ClusterPreference>::first);
    if (auto n = namespaceDocument.find(d.ns); n != namespaceDocument.end()) s.namespaceDocument = n->second;
    d.schedule = static_cast<int>(repo.schedules.size());
    repo.schedules.push_back(std::move(s));
  }
}

}  // namespace

Repository loadRepository(const SourceTree& tree, const LoadOptions& options) {
  Repository repo;
  std::vector<Diagnostic> fileErrors;
  auto files = collectFiles(tree, options.roots, fileErrors);
  repo.files = files.size();
  auto parts = loadFiles(tree, files, options);
  repo.errors = std::move(fileErrors);
  std::size_t total = 0;
  for (const auto& fp : parts) total += fp.part.documents.size();
  repo.documents.reserve(total);
  // Tenants first: which tenant owns a file decides what its documents may
  // be, and whose its errors are (section 10).
  for (auto& fp : parts)
    for (auto& t : fp.part.tenants) {
      auto same = std::ranges::find_if(repo.tenants, [&](const TenantDocument& o) { return o.name == t.name; });
      if (same != repo.tenants.end()) {
        repo.errors.push_back(Diagnostic{t.source.path, t.source.line,
                                         t.identity + ": a tenant of this name is already declared (" +
                                             same->source.path + ":" + std::to_string(same->source.line) + ")"});
        continue;
      }
      repo.tenants.push_back(std::move(t));
    }
  auto under = [](const std::string& path, const std::string& dir) {
    return path == dir || (path.size() > dir.size() && path.starts_with(dir) && path[dir.size()] == '/');
  };
  for (std::size_t i = 0; i < repo.tenants.size(); ++i)
    for (std::size_t j = 0; j < i; ++j)
      for (const auto& a : repo.tenants[i].paths)
        for (const auto& b : repo.tenants[j].paths)
          if (under(a, b) || under(b, a))
            repo.errors.push_back(Diagnostic{repo.tenants[i].source.path, repo.tenants[i].source.line,
                                             repo.tenants[i].identity + ": path " + a + " overlaps path " + b + " of " +
                                                 repo.tenants[j].identity + " (a file belongs to one tenant at most)"});
  auto tenantOf = [&](const std::string& path) -> int {
    for (std::size_t i = 0; i < repo.tenants.size(); ++i)
      for (const auto& p : repo.tenants[i].paths)
        if (under(path, p)) return static_cast<int>(i);
    return -1;
  };
  // A Tenant written inside a tenant's paths is that tenant's error (only
  // the platform declares tenants); so are registry entries and type configs.
  for (std::size_t i = 0; i < repo.tenants.size();) {
    int owner = tenantOf(repo.tenants[i].source.path);
    if (owner < 0) {
      ++i;
      continue;
    }
    const auto& t = repo.tenants[i];
    repo.errors.push_back(Diagnostic{t.source.path, t.source.line,
                                     t.identity + ": only the platform may declare tenants, not a file of " +
                                         repo.tenants[static_cast<std::size_t>(owner)].identity,
                                     repo.tenants[static_cast<std::size_t>(owner)].name});
    repo.tenants.erase(repo.tenants.begin() + static_cast<std::ptrdiff_t>(i));
  }
  auto tenantName = [&](const std::string& path) {
    int i = tenantOf(path);
    return i < 0 ? std::string() : repo.tenants[static_cast<std::size_t>(i)].name;
  };
  for (auto& e : repo.errors)
    if (e.tenant.empty() && !e.path.empty()) e.tenant = tenantName(e.path);

  // Merge in file order: errors, then the registry and the type configs, whose
  // duplicates are judged across files.
  std::map<std::string, SourceRef> typeConfigSources;
  std::vector<ReplicaSchedule> schedules;
  std::size_t scheduleCount = 0;
  for (const auto& fp : parts) scheduleCount += fp.schedules.size();
  schedules.reserve(scheduleCount);
  for (auto& fp : parts) {
    for (auto& s : fp.schedules) schedules.push_back(std::move(s));
    for (auto& e : fp.part.errors) {
      e.tenant = tenantName(e.path);
      repo.errors.push_back(std::move(e));
    }
    for (auto& d : fp.part.documents) {
      d.tenant = tenantOf(d.source.path);
      repo.documents.push_back(std::move(d));
    }
    for (auto& r : fp.part.driftRules) {
      if (auto owner = tenantName(r.source.path); !owner.empty()) {
        repo.errors.push_back(Diagnostic{r.source.path, r.source.line,
                                         r.identity + ": drift rules are the platform's, not allowed in the files of tenant " +
                                             owner,
                                         owner});
        continue;
      }
      repo.driftRules.push_back(std::move(r));
    }
    for (auto& c : fp.part.clusters) {
      if (auto owner = tenantName(c.source.path); !owner.empty()) {
        repo.errors.push_back(Diagnostic{c.source.path, c.source.line,
                                         c.identity + ": only the platform may register clusters, not a file of tenant " +
                                             owner,
                                         owner});
        continue;
      }
      if (const ClusterEntry* other = repo.findCluster(c.name)) {
        repo.errors.push_back(Diagnostic{c.source.path, c.source.line,
                                         c.identity + ": the registry already has a cluster of this name (" +
                                             other->source.path + ":" + std::to_string(other->source.line) + ")"});
        continue;
      }
      repo.clusters.push_back(std::move(c));
    }
    for (auto& t : fp.typeConfigs) {
      if (auto owner = tenantName(t.source.path); !owner.empty()) {
        repo.errors.push_back(Diagnostic{t.source.path, t.source.line,
                                         t.identity + ": only the platform may declare federated types, not a file of tenant " +
                                             owner,
                                         owner});
        continue;
      }
      if (repo.federatedTypes.contains(t.federatedKind)) {
        repo.errors.push_back(Diagnostic{t.source.path, t.source.line,
                                         t.identity + ": federated kind " + t.federatedKind + " is declared twice"});
        continue;
      }
      repo.federatedTypes[t.federatedKind] = t.target;
    }
    fp = FilePart{};
  }
  Loader::finish(repo);
  linkSchedules(repo, std::move(schedules));
  return repo;
}

namespace {
RenderResult renderImpl(const Repository& repo, Repository* owned, const std::string& name, const Labels& localLabels,
                        Preformat preformat);
}  // namespace

RenderResult renderCluster(const Repository& repo, const std::string& name, const Labels& localLabels) {
  return renderImpl(repo, nullptr, name, localLabels, Preformat::None);
}

RenderResult renderCluster(Repository&& repo, const std::string& name, const Labels& localLabels, Preformat preformat) {
  return renderImpl(repo, &repo, name, localLabels, preformat);
}

namespace {

// One document rendered for one cluster: the object, or the error, or
// nothing (not placed here).
struct Rendered {
  std::optional<RenderedObject> object;
  std::vector<Diagnostic> errors;
};

// Fills `ro` from a final object: its identity, and its value or its text.
void finishObject(RenderedObject& ro, json&& obj, Preformat preformat) {
  ro.kind = obj["kind"].get<std::string>();
  ro.group = groupOf(obj["apiVersion"].get_ref<const std::string&>());
  ro.name = obj["metadata"]["name"].get<std::string>();
  ro.ns = stringAt(obj["metadata"], "namespace");
  if (auto a = obj["metadata"].find("annotations"); a != obj["metadata"].end() && a->is_object())
    if (auto d = a->find(kDependsOnAnnotation); d != a->end() && d->is_string()) ro.dependsOnAnnotation = d->get<std::string>();
  switch (preformat) {
    case Preformat::None:
      ro.value = std::move(obj);
      break;
    case Preformat::Yaml:
      appendYamlText(ro.text, obj);
      break;
    case Preformat::Json:
      appendJsonItemText(ro.text, obj);
      break;
  }
}

// What rendering a document needs to know of tenants: the spec of each
// tenant placed on this cluster (nullopt: not placed here).
struct TenantContext {
  const std::vector<TenantDocument>& documents;
  const std::vector<std::optional<TenantSpec>>& specs;
  bool enforce = true;
};

Rendered renderDocument(const Repository& repo, const SourceDocument& d, SourceDocument* owned,
                        const ClusterIdentity& cluster, bool inRegistry,
                        const std::unordered_map<std::string, bool>& namespacePlaced, const TenantContext& tenants,
                        const ScheduleFleet* fleet, Preformat preformat) {
  Rendered out;
  const TenantSpec* tenant = nullptr;
  if (d.tenant >= 0) {
    const auto& spec = tenants.specs[static_cast<std::size_t>(d.tenant)];
    if (!spec) return out;  // the tenant is not on this cluster, nor are its objects
    tenant = &*spec;
  }
  auto tenantName = [&] { return tenant ? tenant->name : std::string(); };
  // Replica scheduling (8): an active RSP places the target on exactly the
  // considered clusters of the registry, with their shares.
  std::optional<std::int64_t> share;
  if (d.schedule >= 0 && inRegistry) {
    SchedulePlan plan = scheduleOf(repo, repo.schedules[static_cast<std::size_t>(d.schedule)], *fleet);
    if (plan.active) {
      if (!plan.error.empty()) {
        out.errors.push_back(Diagnostic{d.source.path, d.source.line, plan.error, tenantName()});
        return out;
      }
      const std::int64_t* n = plan.find(cluster.name);
      if (!n) return out;
      share = *n;
    }
  }
  if (!share && !d.placement.matches(cluster)) return out;
  if (!share && d.federated && !d.placement.spread.empty())
    if (std::string problem = checkSpreadWithoutSchedule(repo, d); !problem.empty()) {
      out.errors.push_back(Diagnostic{d.source.path, d.source.line, problem, tenantName()});
      return out;
    }
  bool namespaced = d.federated ? d.target.namespaced : !d.ns.empty();
  if (namespaced && !d.ns.empty()) {
    auto it = namespacePlaced.find(d.ns);
    if (it != namespacePlaced.end() && !it->second) return out;
  }
  auto note = [&](const std::string& message) {
    out.errors.push_back(Diagnostic{d.source.path, d.source.line, d.identity + ": " + message,
                                    tenant ? tenant->name : std::string()});
  };
  auto error = [&](const std::string& message) {
    note(message);
    return std::move(out);
  };

  json obj = d.value();
  if (owned) std::vector<std::uint8_t>().swap(owned->packed);  // rendered once: release it now
  if (!d.federated) {
    json& md = obj["metadata"];
    if (auto a = md.find("annotations"); a != md.end() && a->is_object()) {
      a->erase(std::string(kClusterNames));
      a->erase(std::string(kClusterSelector));
      if (a->empty()) md.erase(a);
    }
  } else {
    json* spec = obj.contains("spec") && obj["spec"].is_object() ? &obj["spec"] : nullptr;
    json tmpl = spec && spec->contains("template") && !(*spec)["template"].is_null() ? std::move((*spec)["template"])
                                                                                       : json::object();
    obj = std::move(tmpl);
    auto fixIdentity = [&]() -> bool {
      obj["apiVersion"] = d.target.apiVersion;
      obj["kind"] = d.target.kind;
      json& md = obj["metadata"];
      if (md.is_null()) md = json::object();
      if (!md.is_object()) return false;
      md["name"] = d.name;
      if (d.target.namespaced && !d.ns.empty())
        md["namespace"] = d.ns;
      else
        md.erase("namespace");
      return true;
    };
    fixIdentity();
    for (std::size_t i = 0; i < d.overrides.size(); ++i) {
      const Override& o = d.overrides[i];
      if (!o.matches(cluster)) continue;
      for (std::size_t j = 0; j < o.items.size(); ++j) {
        const auto& item = o.items[j];
        if (auto r = applyPatch(obj, item.op, item.path, item.value); !r)
          return error("spec.overrides[" + std::to_string(i) + "].clusterOverrides[" + std::to_string(j) +
                       "]: " + r.error().message);
      }
    }
    // An override of /metadata as a whole keeps the object's identity.
    if (!fixIdentity()) return error("overrides made metadata something other than a mapping");
    // The RSP's share replaces any override of /spec/replicas (8.2).
    if (share) {
      json& targetSpec = obj["spec"];
      if (!targetSpec.is_object()) targetSpec = json::object();
      targetSpec["replicas"] = *share;
    }
  }
  if (auto r = substituteValues(obj, cluster); !r) return error(r.error().message);
  if (obj["metadata"]["name"].get_ref<const std::string&>().empty()) return error("metadata.name is empty after substitution");
  if (tenant && tenants.enforce) {
    bool clusterScoped = d.federated ? !d.target.namespaced : isClusterScopedKind(obj["kind"].get_ref<const std::string&>());
    for (auto& problem : checkTenantObject(*tenant, obj, clusterScoped)) note(problem);
    if (!out.errors.empty()) return out;
  }
  RenderedObject ro;
  ro.source = d.source;
  if (tenant) {
    ro.tenant = tenant->name;
    ro.asTenant = true;
  }
  finishObject(ro, std::move(obj), preformat);
  out.object = std::move(ro);
  return out;
}

// The spec of a Tenant on this cluster: its overrides, then substitution.
Result<TenantSpec> tenantOnCluster(const TenantDocument& t, const ClusterIdentity& cluster) {
  json doc = json::from_msgpack(t.packed);
  for (std::size_t i = 0; i < t.overrides.size(); ++i) {
    const Override& o = t.overrides[i];
    if (!o.matches(cluster)) continue;
    for (std::size_t j = 0; j < o.items.size(); ++j)
      if (auto r = applyPatch(doc, o.items[j].op, o.items[j].path, o.items[j].value); !r)
        return fail(t.identity + ": spec.overrides[" + std::to_string(i) + "].clusterOverrides[" + std::to_string(j) +
                        "]: " + r.error().message,
                    t.source.path, t.source.line);
  }
  if (auto r = substituteValues(doc, cluster); !r) return fail(t.identity + ": " + r.error().message, t.source.path, t.source.line);
  auto spec = parseTenant(doc, t.identity);
  if (!spec) return fail(spec.error().message, t.source.path, t.source.line);
  return spec;
}

// `owned`, when given, is `repo` itself, and its documents may be released.
RenderResult renderImpl(const Repository& repo, Repository* owned, const std::string& name, const Labels& localLabels,
                        Preformat preformat) {
  RenderResult result;
  result.errors = repo.errors;
  ClusterIdentity& cluster = result.cluster;
  cluster.name = name;
  const ClusterEntry* entry = repo.findCluster(name);
  const bool inRegistry = entry != nullptr;
  if (entry) cluster.labels = entry->labels;
  if (entry && entry->suspend)
    result.suspension = RenderResult::Suspension{
        entry->identity + " (" + entry->source.path + ":" + std::to_string(entry->source.line) + ")", entry->suspendReason};
  for (const auto& [k, v] : localLabels) cluster.labels[k] = v;
  for (const auto& d : repo.driftRules)
    if (d.placement.matches(cluster)) result.driftRules.insert(result.driftRules.end(), d.rules.begin(), d.rules.end());

  // Tenants (10) placed here, with this cluster's overrides.
  std::vector<std::optional<TenantSpec>> tenantSpecs(repo.tenants.size());
  std::map<std::string, std::string> namespaceTenant;
  for (std::size_t i = 0; i < repo.tenants.size(); ++i) {
    const TenantDocument& t = repo.tenants[i];
    if (!t.placement.matches(cluster)) continue;
    auto spec = tenantOnCluster(t, cluster);
    if (!spec) {
      result.errors.push_back(std::move(spec.error()));
      continue;
    }
    bool clash = false;
    for (const auto& ns : spec->namespaces) {
      auto [it, fresh] = namespaceTenant.emplace(ns, t.name);
      if (!fresh) {
        result.errors.push_back(Diagnostic{t.source.path, t.source.line,
                                           t.identity + ": namespace " + ns + " already belongs to tenant " + it->second});
        clash = true;
      }
    }
    if (clash) continue;
    tenantSpecs[i] = std::move(*spec);
  }
  TenantContext tenants{repo.tenants, tenantSpecs, repo.enforceTenantPolicies};

  // The namespace rule (5.2): objects in namespace N follow FederatedNamespace N.
  std::unordered_map<std::string, bool> namespacePlaced;
  for (const auto& d : repo.documents)
    if (d.federated && d.target.kind == "Namespace" && d.target.apiVersion == "v1")
      namespacePlaced[d.name] = d.placement.matches(cluster);

  // Replica scheduling's view of the registry, once for every RSP (8.3).
  std::optional<ScheduleFleet> fleet;
  if (inRegistry && !repo.schedules.empty()) {
    fleet.emplace(repo, name);
    fleet->cacheNamespaces(repo);
  }

  // Documents are independent: render them on every core (a big repository
  // renders in parallel; a small one is not worth a thread). Results go to
  // slots by index, so the order stays the repository's.
  const std::size_t n = repo.documents.size();
  std::vector<RenderedObject> objects(n);
  std::vector<char> present(n, 0);
  std::vector<std::vector<Diagnostic>> errors(n);
  auto one = [&](std::size_t i) {
    Rendered r = renderDocument(repo, repo.documents[i], owned ? &owned->documents[i] : nullptr, cluster, inRegistry,
                                namespacePlaced, tenants, fleet ? &*fleet : nullptr, preformat);
    if (r.object) {
      objects[i] = std::move(*r.object);
      present[i] = 1;
    }
    errors[i] = std::move(r.errors);
  };
  unsigned threads = n < 512 ? 1u : std::max(1u, std::thread::hardware_concurrency());
  if (threads == 1) {
    for (std::size_t i = 0; i < n; ++i) one(i);
  } else {
    std::atomic<std::size_t> next{0};
    constexpr std::size_t kChunk = 64;
    auto worker = [&] {
      for (std::size_t c = next.fetch_add(kChunk); c < n; c = next.fetch_add(kChunk))
        for (std::size_t i = c; i < std::min(n, c + kChunk); ++i) one(i);
    };
    std::vector<std::jthread> pool;
    for (unsigned t = 1; t < threads; ++t) pool.emplace_back(worker);
    worker();
  }
  for (auto& list : errors)
    for (auto& e : list) result.errors.push_back(std::move(e));
  std::vector<std::vector<Diagnostic>>().swap(errors);
  if (owned) std::vector<SourceDocument>().swap(owned->documents);  // consumed: nothing of it is needed any more
  // Keep the objects placed here, in order, in place.
  std::size_t kept = 0;
  for (std::size_t i = 0; i < n; ++i)
    if (present[i]) {
      if (kept != i) objects[kept] = std::move(objects[i]);
      ++kept;
    }
  objects.resize(kept);
  // What each tenant placed here expands to (10.3): the platform's objects.
  for (std::size_t i = 0; i < repo.tenants.size(); ++i) {
    if (!tenantSpecs[i]) continue;
    for (json& obj : expandTenant(*tenantSpecs[i])) {
      RenderedObject ro;
      ro.source = repo.tenants[i].source;
      ro.tenant = tenantSpecs[i]->name;
      finishObject(ro, std::move(obj), preformat);
      objects.push_back(std::move(ro));
    }
  }

  // Order (7) and duplicates, judged on the final objects; sorted in place.
  auto key = [](const RenderedObject& o) { return std::tie(o.group, o.ns, o.name, o.kind); };
  std::stable_sort(objects.begin(), objects.end(), [&](const RenderedObject& a, const RenderedObject& b) {
    int ra = kindRank(a.kind), rb = kindRank(b.kind);
    if (ra != rb) return ra < rb;
    return key(a) < key(b);
  });
  for (std::size_t i = 1; i < objects.size(); ++i) {
    const auto& a = objects[i - 1];
    const auto& b = objects[i];
    if (a.kind == b.kind && a.group == b.group && a.ns == b.ns && a.name == b.name) {
      std::string what = (a.group.empty() ? "" : a.group + "/") + identityOf(a.kind, a.ns, a.name);
      // A tenant's object clashing with another is the tenant's error.
      const RenderedObject& at = b.asTenant || !a.asTenant ? b : a;
      const RenderedObject& other = &at == &b ? a : b;
      result.errors.push_back(Diagnostic{at.source.path, at.source.line,
                                         "duplicate object " + what + ": also defined at " + other.source.path + ":" +
                                             std::to_string(other.source.line),
                                         at.asTenant ? at.tenant : std::string()});
    }
  }
  // Dependencies (7.1), judged on the final objects like duplicates.
  for (auto& e : resolveDependencies(objects)) result.errors.push_back(std::move(e));
  for (std::size_t i = 0; i < repo.tenants.size(); ++i) {
    if (!tenantSpecs[i]) continue;
    TenantInfo info;
    info.name = tenantSpecs[i]->name;
    info.namespaces = tenantSpecs[i]->namespaces;
    info.failed = std::ranges::any_of(result.errors, [&](const Diagnostic& e) { return e.tenant == info.name; });
    result.tenants.push_back(std::move(info));
  }
  if (!result.platformOk()) return result;
  // A failed tenant's own objects are left out; everything else goes on.
  // (Only that tenant's own objects may depend on them: 7.1.)
  std::vector<std::size_t> moved(objects.size(), SIZE_MAX);
  std::size_t left = 0;
  for (std::size_t i = 0; i < objects.size(); ++i) {
    const RenderedObject& o = objects[i];
    const TenantInfo* t = o.asTenant ? result.findTenant(o.tenant) : nullptr;
    if (!(t && t->failed)) moved[i] = left++;
  }
  if (left != objects.size()) {
    for (std::size_t i = 0; i < objects.size(); ++i) {
      if (moved[i] == SIZE_MAX) continue;
      auto& deps = objects[i].dependsOn;
      for (auto& d : deps) d = moved[d];
      std::erase(deps, SIZE_MAX);
      if (moved[i] != i) objects[moved[i]] = std::move(objects[i]);
    }
    objects.resize(left);
  }
  result.objects = std::move(objects);
  return result;
}

}  // namespace

}  // namespace gitfed::render

namespace gitfed::render {

const std::int64_t* SchedulePlan::find(const std::string& cluster) const {
  for (const auto& [name, n] : clusters)
    if (name == cluster) return &n;
  return nullptr;
}

namespace {

// Every considered cluster with its own preference, then the planner: the
// plan of every cluster, or one cluster's share when spread constraints or
// preferred affinity (a score per cluster) apply.
SchedulePlan planEvery(const Repository& repo, const ReplicaSchedule& s, const std::string* onlyCluster) {
  SchedulePlan out;
  const SourceDocument& d = repo.documents[s.target];
  const SourceDocument* ns = s.namespaceDocument >= 0 ? &repo.documents[static_cast<std::size_t>(s.namespaceDocument)] : nullptr;
  std::vector<const std::string*> names;
  std::vector<std::optional<ClusterPreference>> prefs;
  std::vector<const Labels*> labels;
  auto star = s.spec.clusters.find("*");
  const ClusterPreference* starPreference = star == s.spec.clusters.end() ? nullptr : &star->second;
  std::size_t self = SIZE_MAX, entry = 0;
  const bool spread = !d.placement.spread.empty();  // only a spread check reads the labels
  names.reserve(repo.clusters.size());
  prefs.reserve(repo.clusters.size());
  if (spread) labels.reserve(repo.clusters.size());
  for (std::size_t ci = 0; ci < repo.clusters.size(); ++ci) {
    const ClusterEntry& c = repo.clusters[ci];
    // Required affinity always applies; the rest of the placement only with
    // intersectWithClusterSelector, as in KubeFed (8.2).
    if (!d.placement.affinity.allows(c.labels)) continue;
    if (s.spec.intersectWithClusterSelector &&
        (!d.placement.matches(c.name, c.labels) || (ns && !ns->placement.matches(c.name, c.labels))))
      continue;
    if (onlyCluster && self == SIZE_MAX && c.name == *onlyCluster) self = names.size();
    names.push_back(&c.name);
    if (spread) labels.push_back(&c.labels);
    while (entry < s.registryEntries.size() && s.registryEntries[entry].first < ci) ++entry;
    const ClusterPreference* preference = entry < s.registryEntries.size() && s.registryEntries[entry].first == ci
                                              ? &s.registryEntries[entry].second
                                              : starPreference;  // an entry is not merged with "*"
    std::optional<ClusterPreference> p;
    if (preference) {
      p = *preference;
      p->preferredScore = d.placement.affinity.score(c.labels);
    }
    prefs.push_back(p);
  }
  if (names.empty()) return out;  // nothing considered: the RSP changes nothing, as in KubeFed
  out.active = true;
  std::string key = s.ns.empty() ? s.name : s.ns + "/" + s.name;  // KubeFed's QualifiedName
  if (onlyCluster && !spread) {
    // A render needs its own share only: no sort, no plan of every cluster.
    if (self != SIZE_MAX)
      out.clusters.emplace_back(*names[self], planShareIndexed(names, prefs, s.spec.totalReplicas, key, self));
    return out;
  }
  auto plan = planReplicasIndexed(names, prefs, s.spec.totalReplicas, s.spec.rebalance, key);
  if (std::string problem = satisfySpread(d.placement.spread, labels, prefs, plan.replicas); !problem.empty())
    out.error = d.identity + ": " + problem;
  out.clusters.reserve(onlyCluster ? 1 : names.size());
  for (std::size_t i = 0; i < names.size(); ++i)
    if (!onlyCluster || *names[i] == *onlyCluster) out.clusters.emplace_back(*names[i], plan.replicas[i] + plan.overflow[i]);
  return out;
}

}  // namespace

SchedulePlan scheduleOf(const Repository& repo, const ReplicaSchedule& s, const std::string* onlyCluster) {
  if (!onlyCluster) return planEvery(repo, s, nullptr);
  return scheduleOf(repo, s, ScheduleFleet(repo, *onlyCluster));
}

ScheduleFleet::ScheduleFleet(const Repository& repo, const std::string& name) : cluster(name) {
  names.reserve(repo.clusters.size());
  prefixes.reserve(repo.clusters.size());
  for (const ClusterEntry& c : repo.clusters) {
    if (self == SIZE_MAX && c.name == name) self = names.size();
    names.push_back(&c.name);
    prefixes.push_back(fnv1Prefix(c.name));
  }
}

void ScheduleFleet::cacheNamespaces(const Repository& repo) {
  // Worth it for a namespace of two RSPs or more; at most a million states.
  constexpr std::size_t kMaxStates = std::size_t{1} << 20;
  std::map<std::string_view, int> schedulesIn;
  for (const auto& s : repo.schedules)
    if (!s.ns.empty()) ++schedulesIn[s.ns];
  std::size_t states = 0;
  for (const auto& [ns, count] : schedulesIn) {
    if (count < 2 || states + prefixes.size() > kMaxStates) continue;
    std::vector<std::uint32_t> after;
    after.reserve(prefixes.size());
    for (std::uint32_t p : prefixes) after.push_back(fnv1Continue(fnv1Continue(p, ns), "/"));
    states += after.size();
    namespacePrefixes.emplace(std::string(ns), std::move(after));
  }
}

SchedulePlan scheduleOf(const Repository& repo, const ReplicaSchedule& s, const ScheduleFleet& fleet) {
  const SourceDocument& d = repo.documents[s.target];
  if (!d.placement.spread.empty() || !d.placement.affinity.preferred.empty()) return planEvery(repo, s, &fleet.cluster);
  // Every cluster's score is 0: a cluster has its entry's preference or the
  // "*" one, so the planner runs over those groups (planShareGrouped).
  SchedulePlan out;
  auto star = s.spec.clusters.find("*");
  std::optional<ClusterPreference> others;
  if (star != s.spec.clusters.end()) others = star->second;
  // KubeFed's QualifiedName, "namespace/name", its namespace part already
  // hashed into the fleet's prefixes when cached.
  const auto cached = s.ns.empty() ? fleet.namespacePrefixes.end() : fleet.namespacePrefixes.find(s.ns);
  const bool inCache = cached != fleet.namespacePrefixes.end();
  const std::vector<std::uint32_t>& fleetPrefixes = inCache ? cached->second : fleet.prefixes;
  const std::string keyPrefix = inCache ? s.ns + "/" : std::string();
  const std::string key = inCache || s.ns.empty() ? s.name : s.ns + "/" + s.name;
  if (d.placement.affinity.required.empty() && !s.spec.intersectWithClusterSelector) {
    // Every registry cluster is considered: the fleet is the registry.
    if (fleet.names.empty()) return out;
    out.active = true;
    if (fleet.self != SIZE_MAX)
      out.clusters.emplace_back(fleet.cluster,
                                planShareGrouped({fleet.names, fleetPrefixes, s.registryEntries, others, keyPrefix},
                                                 s.spec.totalReplicas, key, fleet.self));
    return out;
  }
  // Some clusters only (as planEvery chooses them).
  const SourceDocument* ns = s.namespaceDocument >= 0 ? &repo.documents[static_cast<std::size_t>(s.namespaceDocument)] : nullptr;
  std::vector<const std::string*> names;
  std::vector<std::uint32_t> prefixes;
  std::vector<std::pair<std::size_t, ClusterPreference>> entries;
  std::size_t self = SIZE_MAX, entry = 0;
  for (std::size_t ci = 0; ci < repo.clusters.size(); ++ci) {
    const ClusterEntry& c = repo.clusters[ci];
    if (!d.placement.affinity.allows(c.labels)) continue;
    if (s.spec.intersectWithClusterSelector &&
        (!d.placement.matches(c.name, c.labels) || (ns && !ns->placement.matches(c.name, c.labels))))
      continue;
    if (ci == fleet.self) self = names.size();
    while (entry < s.registryEntries.size() && s.registryEntries[entry].first < ci) ++entry;
    if (entry < s.registryEntries.size() && s.registryEntries[entry].first == ci)
      entries.emplace_back(names.size(), s.registryEntries[entry].second);
    names.push_back(fleet.names[ci]);
    prefixes.push_back(fleetPrefixes[ci]);
  }
  if (names.empty()) return out;
  out.active = true;
  if (self != SIZE_MAX)
    out.clusters.emplace_back(fleet.cluster, planShareGrouped({names, prefixes, entries, others, keyPrefix},
                                                              s.spec.totalReplicas, key, self));
  return out;
}

std::string checkSpreadWithoutSchedule(const Repository& repo, const SourceDocument& d) {
  json doc = d.value();
  std::int64_t base = 1;  // Kubernetes' default
  if (const json* spec = member(doc, "spec"))
    if (const json* t = member(*spec, "template"))
      if (const json* ts = member(*t, "spec"))
        if (const json* r = member(*ts, "replicas"); r && r->is_number_integer()) base = r->get<std::int64_t>();
  std::vector<const Labels*> labels;
  std::vector<std::int64_t> replicas;
  for (const auto& c : repo.clusters) {
    if (!d.placement.matches(c.name, c.labels)) continue;
    std::int64_t n = base;
    for (const auto& o : d.overrides)
      if (o.matches(c.name, c.labels))
        for (const auto& item : o.items)
          if (item.path.text == "/spec/replicas")
            n = item.op == PatchOp::Remove ? 1 : (item.value.is_number_integer() ? item.value.get<std::int64_t>() : n);
    labels.push_back(&c.labels);
    replicas.push_back(n);
  }
  for (std::size_t i = 0; i < d.placement.spread.size(); ++i) {
    const auto& c = d.placement.spread[i];
    if (!c.doNotSchedule) continue;
    SpreadDomains domains = spreadDomains(c, labels, replicas);
    if (domains.skew() > c.maxSkew)
      return d.identity + ": spec.placement.spreadConstraints[" + std::to_string(i) + "] (" + c.describe() +
             ") is not met by the replicas its overrides give: " + domains.describe() + " (skew " +
             std::to_string(domains.skew()) + ")";
  }
  return {};
}

bool RenderResult::platformOk() const {
  return std::ranges::none_of(errors, [](const Diagnostic& d) { return d.tenant.empty(); });
}

const TenantInfo* RenderResult::findTenant(std::string_view name) const {
  for (const auto& t : tenants)
    if (t.name == name) return &t;
  return nullptr;
}

}  // namespace gitfed::render
