#pragma once
// Shared by the sync unit tests: a one-file render for cluster c1, the
// engine's test options, lookups in a report, small manifests.

#include <catch2/catch.hpp>

#include <algorithm>
#include <stdexcept>
#include <string>

#include "fake_kube_client.h"
#include "gitfed/render/renderer.h"
#include "gitfed/sync/engine.h"
#include "support/memory_tree.h"

namespace gitfed::test::sync {

using namespace gitfed::sync;
using gitfed::test::FakeKubeClient;

inline gitfed::render::RenderResult render(const std::string& yaml) {
  gitfed::test::MemoryTree tree;
  tree.file("all.yaml", yaml);
  auto repo = gitfed::render::loadRepository(tree);
  auto r = gitfed::render::renderCluster(repo, "c1");
  for (const auto& e : r.errors) UNSCOPED_INFO(e.format());
  return r;
}

inline SyncOptions options() {
  SyncOptions o;
  o.inventoryId = "c1";
  o.parallelism = 4;
  o.pollInterval = std::chrono::milliseconds(1);
  o.crdEstablishedTimeout = std::chrono::milliseconds(500);
  o.deleteTimeout = std::chrono::milliseconds(500);
  return o;
}

inline const ObjectReport& find(const SyncReport& r, const std::string& kind, const std::string& name) {
  for (const auto& o : r.objects)
    if (o.ref.kind == kind && o.ref.name == name) return o;
  FAIL("no " << kind << " " << name << " in the report");
  throw std::logic_error("unreachable");
}

inline bool has(const SyncReport& r, const std::string& kind, const std::string& name) {
  return std::any_of(r.objects.begin(), r.objects.end(),
                     [&](const auto& o) { return o.ref.kind == kind && o.ref.name == name; });
}

inline std::string cm(const std::string& name, const std::string& ns, const std::string& value = "v",
               const std::string& extra = "") {
  return "---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: " + name + (ns.empty() ? "" : "\n  namespace: " + ns) +
         extra + "\ndata:\n  k: " + value + "\n";
}
inline std::string ns(const std::string& name) { return "---\napiVersion: v1\nkind: Namespace\nmetadata:\n  name: " + name + "\n"; }

inline const char* kCrd = R"(---
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: widgets.example.com}
spec:
  group: example.com
  scope: Namespaced
  names: {kind: Widget, plural: widgets}
  versions: [{name: v1, served: true, storage: true}]
)";
inline const char* kWidget = R"(---
apiVersion: example.com/v1
kind: Widget
metadata: {name: w1, namespace: shop}
spec: {size: 3}
)";

inline std::string inventoryText(FakeKubeClient& fake) {
  auto c = fake.object("v1", "ConfigMap", "gitfed-system", "gitfed-inventory-c1");
  return c ? (*c)["data"]["objects"].get<std::string>() : std::string();
}

}  // namespace gitfed::test::sync
