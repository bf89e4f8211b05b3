// Stage: plan each object of the revision (stages.h, agent/sync/README.md
// "A round", step 2): identity, resource type, namespace, tenant, hash, and
// the fields ignore rules leave alone.

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

void plan(RoundState& s) {
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

    if (auto a = stringAt(o.value, {"metadata", "annotations", std::string(kIgnoreFieldsAnnotation).c_str()}); !a.empty()) {
      auto set = FieldSet::parse(a);
      if (!set) {
        s.fail(it, it.identity() + ": annotation " + std::string(kIgnoreFieldsAnnotation) + ": " + set.error());
        continue;
      }
      it.ignore = std::move(*set);
    }
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
  bool needed = false;
  for (const auto& rule : s.options.ignoreRules)
    if (rule.onlyWhenHpaTargets)
      for (const auto& it : s.items)
        if (it.plan != Plan::Failed && it.obj->group == rule.group && it.obj->kind == rule.kind) needed = true;
  if (!needed) return;
  auto hpa = s.client.resourceFor("autoscaling/v2", "HorizontalPodAutoscaler");
  if (!hpa) hpa = s.client.resourceFor("autoscaling/v1", "HorizontalPodAutoscaler");
  if (!hpa) return;
  ++s.lists;
  auto r = listPages(s.client, *hpa, "", "", s.options.listPageSize, [&](json& item) {
    const json& ref = item.contains("spec") ? item["spec"].value("scaleTargetRef", json::object()) : json::object();
    s.hpaTargets.insert(ObjectKey{ObjectRef::groupOf(stringAt(ref, {"apiVersion"})), stringAt(ref, {"kind"}),
                                 stringAt(item, {"metadata", "namespace"}), stringAt(ref, {"name"})});
  });
  if (!r) spdlog::warn("listing HorizontalPodAutoscalers failed ({}); HPA ignore rules do not apply this round", describe(r.error()));
}

}  // namespace

void applyIgnoreRules(RoundState& s) {
  loadHpaTargets(s);
  for (auto& it : s.items) {
    if (it.plan == Plan::Failed) continue;
    for (const auto& rule : s.options.ignoreRules) {
      if (rule.group != it.obj->group || rule.kind != it.obj->kind) continue;
      if (rule.onlyWhenHpaTargets && !s.hpaTargets.contains(it.key())) continue;
      it.ignore.merge(rule.fields);
    }
  }
}

}  // namespace gitfed::sync::stage
