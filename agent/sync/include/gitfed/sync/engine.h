#pragma once
// Engine: one sync round of the rendered objects of a revision against a
// cluster (issue 4, part 2):
//
//   observe  one LIST per resource type with the ownership label selector,
//            compared locally (no request per object when nothing changed);
//            suspected drift is confirmed by a server-side dry-run apply
//   apply    server-side apply (field manager "gitfed", forced), Namespaces
//            and CRDs first, custom resources once their CRD is Established,
//            then the renderer's order; bounded parallelism within a stage;
//            a failure skips only what depends on it
//   prune    owned objects no longer in Git, in reverse order, only when
//            nothing failed this round and the revision is not empty
//   tenants  (docs/render-spec.md section 10) the platform's objects,
//            including what each Tenant expands to, first; then each
//            tenant's own objects, tenants in parallel, written (applied,
//            dry-run, pruned) impersonating the tenant's ServiceAccount; a
//            tenant whose files fail to render, or whose objects fail, blocks
//            neither the platform nor the other tenants
//   report   per object state, health, drift (Secrets redacted), errors
//
// An Engine holds a KubeClient reference (which must be thread-safe: the
// engine calls it from several threads) and a small cache of objects a dry run
// found in sync. One sync() at a time per Engine; not thread-safe.

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <vector>

#include "gitfed/kube/client.h"
#include "gitfed/render/renderer.h"
#include "gitfed/sync/diff.h"
#include "gitfed/sync/in_sync_cache.h"
#include "gitfed/sync/report.h"

namespace gitfed::sync {

enum class DriftMode { SelfHeal, ReportOnly };

struct SyncOptions {
  // Names the inventory: the value of the gitfed.io/inventory label and the
  // ConfigMap gitfed-inventory-<id>. A DNS label (lowercase, digits, '-').
  std::string inventoryId;
  std::string inventoryNamespace = "gitfed-system";
  // For objects of namespaced kinds written without a namespace.
  std::string defaultNamespace = "default";
  DriftMode driftMode = DriftMode::SelfHeal;
  bool prune = true;
  // Prune even when the revision renders to nothing (else refused).
  bool allowEmptyPrune = false;
  // Change nothing: server-side dry runs show what an apply would change.
  bool dryRun = false;
  // Hold what Git wants as MessagePack during a round, decoding an object
  // only while it is compared or sent: ~8 MB less at 10,000 objects, for
  // ~0.3 s more CPU when every object must be compared (a process's first
  // round). For long-running agents; a one-shot CLI keeps the trees.
  bool compactDesired = true;
  unsigned parallelism = 16;
  std::chrono::milliseconds crdEstablishedTimeout{60'000};
  std::chrono::milliseconds deleteTimeout{60'000};  // recreate: wait until the old object is gone
  // 0: assess health once; otherwise wait up to this long for what is not
  // healthy, then report what still is not as Degraded.
  std::chrono::milliseconds healthTimeout{0};
  // config.kubernetes.io/depends-on: how long a round waits for a dependency
  // to become healthy before its dependents wait for the next round.
  std::chrono::milliseconds dependencyTimeout{60'000};
  std::chrono::milliseconds pollInterval{250};
  // Drift rules of the engine's own (docs/render-spec.md section 7.2): by
  // default the built-in HPA rule. The revision's DriftRules
  // (RenderResult::driftRules) and the objects' annotations add to them.
  std::vector<render::DriftRule> driftRules = render::builtinDriftRules();
  // Objects per LIST page (memory: one page is held at a time).
  unsigned listPageSize = 250;
  // A tenant's own object refused by RBAC (403 naming the user) in one of
  // its namespaces is tried again until this long after the RoleBindings
  // (or Namespaces, ServiceAccount) of the tenant were written this round:
  // the API server's RBAC authorizer learns new bindings from a watch.
  std::chrono::milliseconds rbacPropagationTimeout{10'000};
  // Persistent errors (agent/sync/README.md): a failure class of a resource
  // type opens its circuit once this many objects failed with it twice; the
  // backoff waits of a round's writes sum to at most retryBudget.
  std::size_t breakerThreshold = 3;
  std::chrono::milliseconds retryBudget{60'000};
  // A progress line this often while a round runs (0: never).
  std::chrono::milliseconds progressInterval{30'000};
};

// Checks the options (inventory id, namespaces, parallelism); a message or "".
std::string validate(const SyncOptions& options);

class Engine {
 public:
  Engine(kube::KubeClient& client, SyncOptions options);

  // One round. A render error of the platform's files applies and prunes
  // nothing; one of a tenant's files withholds that tenant's own objects
  // (neither applied nor pruned) and everything else is synced. Either is
  // reported as Failed. `rendered` is consumed (objects are labelled in place).
  SyncReport sync(render::RenderResult rendered);
  // The same round as a dry run (options().dryRun set for it): what a sync
  // would change, changing nothing. A suspended cluster's round.
  SyncReport preview(render::RenderResult rendered);

  const SyncOptions& options() const { return options_; }

 private:
  kube::KubeClient& client_;
  SyncOptions options_;
  InSyncCache inSync_;
};

}  // namespace gitfed::sync
