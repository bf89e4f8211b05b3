#include "gitfed/sync/engine.h"

#include <spdlog/spdlog.h>

#include "describe.h"
#include "progress_ticker.h"
#include "round_state.h"
#include "stages.h"

namespace gitfed::sync {

namespace {

bool isDnsLabel(std::string_view s, std::size_t max) {
  if (s.empty() || s.size() > max) return false;
  auto ok = [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'; };
  return std::all_of(s.begin(), s.end(), ok) && s.front() != '-' && s.back() != '-';
}

}  // namespace

std::string validate(const SyncOptions& o) {
  // gitfed-inventory-<id> must be a valid name; the id is also a label value.
  if (!isDnsLabel(o.inventoryId, 46))
    return "inventory id \"" + o.inventoryId + "\" must be 1-46 lowercase letters, digits or '-', not starting or ending with '-'";
  if (!isDnsLabel(o.inventoryNamespace, 63)) return "inventory namespace \"" + o.inventoryNamespace + "\" is not a namespace name";
  if (!isDnsLabel(o.defaultNamespace, 63)) return "default namespace \"" + o.defaultNamespace + "\" is not a namespace name";
  if (o.parallelism == 0 || o.parallelism > 256) return "parallelism must be 1..256";
  if (o.listPageSize == 0) return "listPageSize must be positive";
  return {};
}

namespace {

// One sync round: the stages of stages.h, in order, over one RoundState.
class Round {
 public:
  Round(kube::KubeClient& client, const SyncOptions& options, render::RenderResult& rendered, InSyncCache& cache)
      : s(client, options, rendered, cache) {}

  SyncReport run() {
    auto start = Clock::now();
    {
      ProgressTicker ticker(s.options.progressInterval, [this] { return progressLine(); });
      runStages();
    }
    collectReport(std::chrono::duration<double>(Clock::now() - start).count());
    spdlog::info("sync {}: {} ({} objects, {} applied, {} pruned, {} requests in {:.2f}s)", s.options.inventoryId,
                 toString(s.report.phase), s.report.summary.objects, s.applies.load(), s.report.summary.pruned,
                 s.lists + s.gets + s.applies + s.dryRuns + s.deletes + s.inventoryWrites, s.report.stats.seconds);
    return std::move(s.report);
  }

 private:
  void runStages() {
    if (auto bad = validate(s.options); !bad.empty()) {
      s.report.errors.push_back("invalid sync options: " + bad);
      s.report.message = "invalid sync options; nothing applied, nothing pruned";
      return;
    }
    if (!s.rendered.platformOk()) {
      for (const auto& d : s.rendered.errors) s.report.errors.push_back(d.format());
      s.report.renderErrors = s.rendered.errors;
      s.report.message = "render failed (" + std::to_string(s.rendered.errors.size()) + " error" +
                         (s.rendered.errors.size() == 1 ? "" : "s") + "); nothing applied, nothing pruned";
      return;
    }
    stage::setUpTenants(s);
    stage::plan(s);
    auto inv = s.store.load();
    ++s.gets;
    if (!inv) {
      s.report.errors.push_back("inventory " + s.options.inventoryNamespace + "/" + s.store.configMapName() +
                                ": cannot be read: " + describe(inv.error()));
      s.report.message = "inventory unreadable; nothing applied, nothing pruned";
      for (auto& it : s.items)
        if (it.plan != Plan::Failed) it.state = State::Missing, it.health = Health::Unknown;
      return;
    }
    s.stored = *inv;
    stage::applyDriftRules(s);
    s.step = "listing";
    stage::observe(s);
    s.step = "confirming drift";
    stage::confirmDrift(s);
    if (!s.options.dryRun && !stage::inventoryCovers(s) &&
        !stage::writeInventory(s, stage::unionInventory(s), "before applying")) {
      for (auto& it : s.items)
        if (it.plan == Plan::Apply) s.fail(it, it.identity() + ": not applied: the inventory could not be written");
      s.report.pruneSkipped = s.options.prune;
      s.report.pruneMessage = "the inventory could not be written";
      for (auto& it : s.items) stage::finishState(it);
      return;
    }
    s.step = "applying";
    stage::apply(s);
    s.step = "pruning";
    stage::prune(s);
    stage::writeFinalInventory(s);
    s.step = "waiting for health";
    stage::waitForHealth(s);
    for (auto& it : s.items) stage::finishState(it);
  }

  // The items' and the prune candidates' reports, the counters, the tenants, the phase.
  void collectReport(double seconds) {
    s.report.objects.reserve(s.items.size() + s.pruneReports.size());
    for (auto& it : s.items) {
      if (!it.error.empty()) s.report.errors.push_back(it.error);
      ObjectReport r;
      r.ref = it.ref();
      r.tenant = it.obj->tenant;
      r.asTenant = it.obj->asTenant;
      const auto& src = it.obj->source;
      if (!src.path.empty()) r.source = src.line > 0 ? src.path + ":" + std::to_string(src.line) : src.path;
      r.state = it.state;
      r.health = it.health;
      r.healthMessage = std::move(it.healthMessage);
      r.action = it.action;
      r.drift = std::move(it.drift);
      r.error = std::move(it.error);
      s.report.objects.push_back(std::move(r));
    }
    s.items.clear();
    for (auto& r : s.pruneReports) {
      if (!r.error.empty()) s.report.errors.push_back(r.error);
      s.report.objects.push_back(std::move(r));
    }
    s.report.stats.lists = s.lists;
    s.report.stats.gets = s.gets;
    s.report.stats.applies = s.applies;
    s.report.stats.dryRuns = s.dryRuns;
    s.report.stats.deletes = s.deletes;
    s.report.stats.inventoryWrites = s.inventoryWrites;
    s.report.stats.seconds = seconds;
    stage::reportTenants(s);
    finalize(s.report);
    if (s.report.message.empty()) s.report.message = summaryMessage(s.report);
  }

  std::string progressLine() const {
    const std::size_t total = s.toWrite.load(), done = s.written.load(), failed = s.failedObjects.load();
    return "sync " + s.options.inventoryId + ": in progress (" + s.step.load() + "): " + std::to_string(done) + " of " +
           std::to_string(total) + " writes done, " + std::to_string(failed) + " failed, " +
           std::to_string(total > done ? total - done : 0) + " left";
  }

  RoundState s;
};

}  // namespace

Engine::Engine(kube::KubeClient& client, SyncOptions options) : client_(client), options_(std::move(options)) {}

SyncReport Engine::sync(render::RenderResult rendered) {
  Round round(client_, options_, rendered, inSync_);
  auto report = round.run();
  // Objects not seen this round (changed, deleted) leave the cache.
  inSync_.endRound();
  return report;
}

SyncReport Engine::preview(render::RenderResult rendered) {
  SyncOptions dry = options_;
  dry.dryRun = true;
  Round round(client_, dry, rendered, inSync_);
  auto report = round.run();
  inSync_.endRound();
  return report;
}

}  // namespace gitfed::sync
