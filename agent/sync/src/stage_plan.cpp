// Stage: plan each object of the revision (stages.h, agent/sync/README.md
// "A round", step 2): identity, resource type, namespace, tenant, hash, and
// the fields ignore rules leave alone.

#include <algorithm>
#include <array>
#include <map>
#if defined(__GLIBC__)
#include <malloc.h>
#endif

#include <spdlog/spdlog.h>

#include "describe.h"
#include "list_pages.h"
#include "stages.h"

namespace gitfed::sync::stage {

using nlohmann::json;

namespace {

// A per-object list of fields (gitfed.io/ignore-fields, gitfed.io/warn-fields).
bool fieldsOfAnnotation(RoundState& s, Item& it, std::string_view annotation, FieldSet& into) {
  auto a = stringAt(it.obj->value, {"metadata", "annotations", std::string(annotation).c_str()});
  if (a.empty()) return true;
  auto set = FieldSet::parse(a);
  if (!set) {
    s.fail(it, it.identity() + ": annotation " + std::string(annotation) + ": " + set.error());
    return false;
  }
  into.merge(*set);
  return true;
}

void collectRules(RoundState& s) {
  s.rules.clear();
  s.ruleFields.clear();
  for (const std::vector<render::DriftRule>* list :
       std::array<const std::vector<render::DriftRule>*, 2>{&s.options.driftRules, &s.rendered.driftRules})
    for (const auto& rule : *list) {
      FieldSet fields;
      for (const auto& p : rule.paths) fields.add(p.tokens);
      s.rules.push_back(&rule);
      s.ruleFields.push_back(std::move(fields));
    }
}

render::Labels mapOf(const json& metadata, const char* field) {
  render::Labels out;
  if (auto m = metadata.find(field); m != metadata.end() && m->is_object())
    for (const auto& [k, v] : m->items())
      if (v.is_string()) out.emplace(k, v.get<std::string>());
  return out;
}

void mergeRule(RoundState& s, Item& it, std::size_t rule) {
  (s.rules[rule]->mode == render::DriftMode::Warn ? it.warn : it.ignore).merge(s.ruleFields[rule]);
}

// The rules whose target selects the object (its namespace defaulted, its
// labels and annotations as rendered); an HPA rule is held until the HPAs are known.
void matchDriftRules(RoundState& s, Item& it) {
  const auto& o = *it.obj;
  const auto slash = it.apiVersion.find('/');
  const std::string_view version = slash == std::string::npos ? std::string_view(it.apiVersion)
                                                              : std::string_view(it.apiVersion).substr(slash + 1);
  std::optional<render::Labels> labels, annotations;
  for (std::size_t r = 0; r < s.rules.size(); ++r) {
    const auto& rule = *s.rules[r];
    render::ObjectFacts facts{o.group, version, o.kind, o.ns, o.name};
    if (rule.target.usesMetadata()) {
      const json& md = o.value["metadata"];
      if (!labels) labels = mapOf(md, "labels"), annotations = mapOf(md, "annotations");
      facts.labels = &*labels;
      facts.annotations = &*annotations;
    }
    if (!rule.target.matches(facts)) continue;
    if (rule.onlyHpaTargets) it.hpaRules.push_back(static_cast<std::uint16_t>(r));
    else mergeRule(s, it, r);
  }
}

}  // namespace

void plan(RoundState& s) {
  collectRules(s);
  auto& objects = s.rendered.objects;
  s.items.resize(objects.size());
  // CRDs of this revision, by the (group, kind) they define.
  std::map<std::pair<std::string, std::string>, std::size_t> crds;
  std::map<std::size_t, bool> crdNamespaced;  // read here: the CRD's own tree is released when prepared
  for (std::size_t i = 0; i < objects.size(); ++i) {
    const auto& o = objects[i];
    if (o.group == "apiextensions.k8s.io" && o.kind == "CustomResourceDefinition") {
      const json& spec = o.value.contains("spec") ? o.value["spec"] : json::object();
      crds[{stringAt(spec, {"group"}), stringAt(spec, {"names", "kind"})}] = i;
      crdNamespaced[i] = stringAt(spec, {"scope"}) != "Cluster";
    }
  }
  std::map<std::pair<std::string, std::string>, kube::Result<const kube::Resource*>> resolved;
  for (std::size_t i = 0; i < objects.size(); ++i) {
    auto& o = objects[i];
    Item& it = s.items[i];
    it.obj = &o;
    it.apiVersion = stringAt(o.value, {"apiVersion"});
    it.isSecret = o.group.empty() && o.kind == "Secret";

    if (!fieldsOfAnnotation(s, it, kIgnoreFieldsAnnotation, it.ignore) ||
        !fieldsOfAnnotation(s, it, kWarnFieldsAnnotation, it.warn))
      continue;
    // Suspended in Git: planned like any other (observe must know it), never written.
    if (stringAt(o.value, {"metadata", "annotations", std::string(kReconcileAnnotation).c_str()}) == "disabled")
      it.plan = Plan::Suspended;

    auto rk = std::make_pair(it.apiVersion, o.kind);
    auto found = resolved.find(rk);
    if (found == resolved.end()) {
      auto r = s.client.resourceFor(it.apiVersion, o.kind);
      found = resolved.emplace(rk, r ? kube::Result<const kube::Resource*>(s.intern(*r))
                                     : kube::Result<const kube::Resource*>(std::unexpected(r.error())))
                  .first;
    }
    bool namespaced = true;
    if (found->second) {
      it.resource = *found->second;
      namespaced = it.resource->namespaced;
    } else if (auto c = crds.find({o.group, o.kind}); c != crds.end() && found->second.error().notFound()) {
      it.crd = c->second;  // resolved once its CRD is Established
      namespaced = crdNamespaced[c->second];
    } else if (found->second.error().notFound()) {
      s.fail(it, it.identity() + ": the server has no resource type " + it.apiVersion + " " + o.kind +
                   " (is its CustomResourceDefinition installed?)");
      continue;
    } else {
      s.fail(it, it.identity() + ": discovery failed: " + describe(found->second.error()));
      continue;
    }
    // Namespace: the default for namespaced kinds written without one;
    // none for cluster-scoped kinds. (A tenant's object without one is
    // refused by the renderer; when that check is off, it goes to the
    // default namespace like any other, and RBAC refuses it there.)
    json& meta = o.value["metadata"];
    if (namespaced && o.ns.empty()) {
      o.ns = s.options.defaultNamespace;
      meta["namespace"] = o.ns;
    } else if (!namespaced && !o.ns.empty()) {
      o.ns.clear();
      meta.erase("namespace");
    }
    if (auto [pos, inserted] = s.index.emplace(KeyView{o.group, o.kind, o.ns, o.name}, i); !inserted) {
      const auto& first = objects[pos->second].source;
      s.fail(it, it.identity() + ": duplicate object: also defined at " + first.path + ":" + std::to_string(first.line));
      continue;
    }
    if (!prepareTenant(s, it, meta)) continue;
    matchDriftRules(s, it);
    // The hash of what Git wants; labels and the hash are added when it is sent.
    it.hash = contentHashValue(o.value);
    if (s.options.compactDesired) {
      it.packed = json::to_msgpack(o.value);
      o.value = json();
    }
  }
#ifdef __GLIBC__
  // The trees just packed are free memory now: give it back to the system
  // before the round's own working set grows.
  if (s.options.compactDesired) ::malloc_trim(0);
#endif
}

namespace {

void loadHpaTargets(RoundState& s) {
  if (std::ranges::none_of(s.items, [](const Item& it) { return it.plan != Plan::Failed && !it.hpaRules.empty(); }))
    return;
  auto hpa = s.client.resourceFor("autoscaling/v2", "HorizontalPodAutoscaler");
  if (!hpa) hpa = s.client.resourceFor("autoscaling/v1", "HorizontalPodAutoscaler");
  if (!hpa) return;
  ++s.lists;
  auto r = listPages(s.client, *hpa, "", "", s.options.listPageSize, [&](json& item) {
    const json& ref = item.contains("spec") ? item["spec"].value("scaleTargetRef", json::object()) : json::object();
    s.hpaTargets.insert(ObjectKey{ObjectRef::groupOf(stringAt(ref, {"apiVersion"})), stringAt(ref, {"kind"}),
                                 stringAt(item, {"metadata", "namespace"}), stringAt(ref, {"name"})});
  });
  if (!r) spdlog::warn("listing HorizontalPodAutoscalers failed ({}); HPA drift rules do not apply this round", describe(r.error()));
}

}  // namespace

void applyDriftRules(RoundState& s) {
  loadHpaTargets(s);
  for (auto& it : s.items) {
    if (it.plan == Plan::Failed) continue;
    if (!it.hpaRules.empty() && s.hpaTargets.contains(it.key()))
      for (auto r : it.hpaRules) mergeRule(s, it, r);
    std::vector<std::uint16_t>().swap(it.hpaRules);
    if (it.warn.empty()) continue;
    // A field both ignored and warned about is ignored; warn fields are sent
    // with their live values like ignored ones.
    FieldSet warn;
    for (const auto& p : it.warn.pointers())
      if (!it.ignore.covers(p)) warn.add(p);
    it.ignore.merge(warn);
    it.warn = std::move(warn);
  }
}

}  // namespace gitfed::sync::stage
