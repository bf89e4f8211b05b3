#include "gitfed/review/validate.h"

#include <algorithm>
#include <map>
#include <set>
#include <tuple>

namespace gitfed::review {
namespace {

using nlohmann::json;

const char* severityName(Finding::Severity s) { return s == Finding::Severity::Error ? "error" : "warning"; }

// Collects findings, merging the same finding seen on several clusters.
class Collector {
 public:
  void add(Finding::Severity severity, const std::string& path, int line, const std::string& message,
           const std::string& cluster = "") {
    auto key = std::make_tuple(path, line, message, severity == Finding::Severity::Error);
    auto it = index_.find(key);
    if (it == index_.end()) {
      it = index_.emplace(key, findings_.size()).first;
      findings_.push_back(Finding{severity, path, line, message, {}});
    }
    if (!cluster.empty()) {
      auto& cs = findings_[it->second].clusters;
      if (std::find(cs.begin(), cs.end(), cluster) == cs.end()) cs.push_back(cluster);
    }
  }

  ValidationReport take(std::size_t clusterCount) {
    for (auto& f : findings_) {
      std::sort(f.clusters.begin(), f.clusters.end());
      if (clusterCount > 1 && f.clusters.size() == clusterCount) f.clusters = {"all clusters"};
    }
    std::sort(findings_.begin(), findings_.end(), [](const Finding& a, const Finding& b) {
      return std::tie(a.path, a.line, a.message) < std::tie(b.path, b.line, b.message);
    });
    return ValidationReport{std::move(findings_)};
  }

 private:
  std::vector<Finding> findings_;
  std::map<std::tuple<std::string, int, std::string, bool>, std::size_t> index_;
};

std::string joinNames(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& n : names) out += (out.empty() ? "" : ", ") + n;
  return out;
}

}  // namespace

std::string Finding::format() const {
  std::string out;
  if (!path.empty()) out += path + (line > 0 ? ":" + std::to_string(line) : "") + ": ";
  out += std::string(severityName(severity)) + ": " + message;
  if (!clusters.empty()) out += " (clusters: " + joinNames(clusters) + ")";
  return out;
}

std::size_t ValidationReport::errors() const {
  return static_cast<std::size_t>(std::count_if(findings.begin(), findings.end(),
                                                [](const Finding& f) { return f.severity == Finding::Severity::Error; }));
}

std::size_t ValidationReport::warnings() const { return findings.size() - errors(); }

json ValidationReport::toJson() const {
  json list = json::array();
  for (const auto& f : findings)
    list.push_back({{"severity", severityName(f.severity)},
                    {"file", f.path},
                    {"line", f.line},
                    {"message", f.message},
                    {"clusters", f.clusters}});
  return {{"errors", errors()}, {"warnings", warnings()}, {"findings", std::move(list)}};
}

ValidationReport validateFleet(const render::Repository& repo, const ValidateOptions& options) {
  using Severity = Finding::Severity;
  Collector c;
  std::set<std::string> registry;
  for (const auto& cl : repo.clusters) registry.insert(cl.name);
  for (const auto& e : options.extra) registry.insert(e.name);  // named on the command line: known too

  std::vector<ExtraCluster> clusters;
  for (const auto& cl : repo.clusters) clusters.push_back({cl.name, {}});
  for (const auto& e : options.extra) {
    auto it = std::find_if(clusters.begin(), clusters.end(), [&](const ExtraCluster& x) { return x.name == e.name; });
    if (it != clusters.end())
      it->labels = e.labels;
    else
      clusters.push_back(e);
  }
  if (clusters.empty())
    c.add(Severity::Warning, "", 0,
          "the repository has no cluster registry (gitfed.io/v1alpha1 Cluster) and no --cluster was given: "
          "nothing could be rendered");

  // Names that point nowhere: placement lists, cluster-names annotations, overrides.
  if (!registry.empty()) {
    for (const auto& d : repo.documents) {
      if (d.placement.mode == render::Placement::Mode::Names)
        for (const auto& n : d.placement.names)
          if (!registry.contains(n))
            c.add(Severity::Warning, d.source.path, d.source.line,
                  d.identity + ": placement names cluster \"" + n + "\", which is not in the registry");
      for (std::size_t i = 0; i < d.overrides.size(); ++i)
        if (d.overrides[i].clusterName && !registry.contains(*d.overrides[i].clusterName))
          c.add(Severity::Warning, d.source.path, d.source.line,
                d.identity + ": spec.overrides[" + std::to_string(i) + "] names cluster \"" +
                    *d.overrides[i].clusterName + "\", which is not in the registry");
    }
  }

  // Replica scheduling (render spec 8.6).
  for (const auto& s : repo.schedules) {
    const auto& d = repo.documents[s.target];
    std::int64_t minimums = 0;
    auto plan = render::scheduleOf(repo, s);
    for (const auto& [name, n] : plan.clusters) {
      (void)n;
      auto it = s.spec.clusters.find(name);
      if (it == s.spec.clusters.end()) it = s.spec.clusters.find("*");
      if (it != s.spec.clusters.end()) minimums += it->second.minReplicas;
    }
    if (plan.active && s.spec.totalReplicas < minimums)
      c.add(Severity::Warning, s.source.path, s.source.line,
            s.identity + ": totalReplicas " + std::to_string(s.spec.totalReplicas) + " is below the sum of minReplicas (" +
                std::to_string(minimums) + "): later clusters in the plan get less than their minimum");
    for (const auto& [name, pref] : s.spec.clusters)
      if (name != "*" && !repo.findCluster(name))
        c.add(Severity::Warning, s.source.path, s.source.line,
              s.identity + ": spec.clusters names cluster \"" + name + "\", which is not in the registry");
    if (!plan.active) continue;
    for (std::size_t i = 0; i < d.overrides.size(); ++i)
      for (const auto& item : d.overrides[i].items)
        if (item.path.text == "/spec/replicas") {
          bool replaced = std::ranges::any_of(plan.clusters, [&](const auto& cl) {
            const auto* entry = repo.findCluster(cl.first);
            return d.overrides[i].matches(render::ClusterIdentity{cl.first, entry ? entry->labels : render::Labels{}});
          });
          if (replaced)
            c.add(Severity::Warning, d.source.path, d.source.line,
                  d.identity + ": spec.overrides[" + std::to_string(i) + "] sets /spec/replicas, which " + s.identity +
                      " replaces on the clusters it schedules (the override has no effect there)");
        }
    if (std::ranges::all_of(plan.clusters, [](const auto& cl) { return cl.second == 0; }))
      c.add(Severity::Warning, s.source.path, s.source.line, s.identity + ": " + d.identity + " gets 0 replicas on every cluster");
  }

  // Render every cluster: errors, schema problems, and who gets what.
  std::vector<std::size_t> placedCount(repo.documents.size(), 0);
  std::vector<std::size_t> tenantPlaced(repo.tenants.size(), 0);
  // Kinds defined by a CustomResourceDefinition of this very repository.
  std::set<std::pair<std::string, std::string>> repoKinds;  // (group, kind)
  for (const auto& d : repo.documents)
    if (d.kind == "CustomResourceDefinition") {
      json crd = d.value();
      if (!crd.contains("spec") || !crd["spec"].is_object()) continue;
      const json& spec = crd["spec"];
      if (spec.contains("group") && spec["group"].is_string() && spec.contains("names") && spec["names"].is_object())
        repoKinds.emplace(spec["group"].get<std::string>(), spec["names"].value("kind", ""));
    }
  SchemaSet withCrds;
  const SchemaSet* schemas = options.schemas;

  for (const auto& cl : clusters) {
    auto r = render::renderCluster(repo, cl.name, cl.labels);
    for (const auto& e : r.errors) c.add(Severity::Error, e.path, e.line, e.message, cl.name);
    // Where things go does not depend on whether they render.
    for (std::size_t t = 0; t < repo.tenants.size(); ++t)
      if (repo.tenants[t].placement.matches(r.cluster)) ++tenantPlaced[t];
    for (const auto& d : repo.documents) {
      bool tenantHere = d.tenant < 0 || repo.tenants[static_cast<std::size_t>(d.tenant)].placement.matches(r.cluster);
      if (tenantHere && d.placement.matches(r.cluster)) ++placedCount[static_cast<std::size_t>(&d - repo.documents.data())];
    }
    // A tenant's errors leave the rest of the cluster's objects to check.
    if (!r.platformOk()) continue;
    if (r.ok() && r.objects.empty())
      c.add(Severity::Warning, "", 0, "cluster " + cl.name + " receives no objects", cl.name);
    if (!schemas) continue;
    for (const auto& o : r.objects) {
      std::string apiVersion = o.value.value("apiVersion", "");
      std::string id = o.kind + " " + (o.ns.empty() ? o.name : o.ns + "/" + o.name);
      if (!schemas->knows(apiVersion, o.kind)) {
        // A kind defined by a CRD of this very repository is checked against it.
        if (!repoKinds.contains({o.group, o.kind})) {
          c.add(Severity::Warning, o.source.path, o.source.line,
                id + ": kind " + o.kind + " (" + apiVersion + ") is not known to the schemas", cl.name);
          continue;
        }
        if (withCrds.empty()) {
          withCrds = *options.schemas;
          for (const auto& d : repo.documents)
            if (d.kind == "CustomResourceDefinition") withCrds.addCustomResourceDefinition(d.value());
        }
        for (const auto& p : withCrds.validate(o.value)) c.add(Severity::Error, o.source.path, o.source.line, id + ": " + p, cl.name);
        continue;
      }
      for (const auto& p : schemas->validate(o.value)) c.add(Severity::Error, o.source.path, o.source.line, id + ": " + p, cl.name);
    }
  }

  // Objects that go nowhere (among the clusters we know).
  if (!clusters.empty())
    for (std::size_t i = 0; i < repo.documents.size(); ++i)
      if (placedCount[i] == 0) {
        const auto& d = repo.documents[i];
        bool annotated = !d.federated && d.placement.mode != render::Placement::Mode::Everywhere;
        if (d.federated || annotated)
          c.add(Severity::Warning, d.source.path, d.source.line,
                d.identity + ": " + (d.federated ? "placement" : "placement annotation") +
                    " selects no cluster of the registry");
      }
  if (!clusters.empty())
    for (std::size_t t = 0; t < repo.tenants.size(); ++t)
      if (tenantPlaced[t] == 0)
        c.add(Severity::Warning, repo.tenants[t].source.path, repo.tenants[t].source.line,
              repo.tenants[t].identity + ": placement selects no cluster of the registry (its files go nowhere)");
  return c.take(clusters.size());
}

}  // namespace gitfed::review
