// Stage: health (stages.h, agent/sync/README.md "A round", step 9): the
// objects still Progressing polled until healthy or the deadline (then
// Degraded); each object's reported state.

#include <thread>

#include "describe.h"
#include "gitfed/sync/health.h"
#include "parallel.h"
#include "stages.h"

namespace gitfed::sync::stage {

using nlohmann::json;

// ---- health ---------------------------------------------------------------------------------------

void pollHealth(RoundState& s, const std::vector<std::size_t>& indices, Clock::time_point deadline) {
  for (;;) {
    std::vector<std::size_t> waiting;
    for (auto i : indices) {
      const Item& it = s.items[i];
      const bool exists = it.plan == Plan::InSync || it.plan == Plan::Drifted || it.plan == Plan::Suspended;
      if (exists && it.resource != nullptr && it.health == Health::Progressing) waiting.push_back(i);
    }
    if (waiting.empty() || Clock::now() >= deadline) return;
    std::this_thread::sleep_for(s.options.pollInterval);
    parallelFor(waiting.size(), s.options.parallelism, [&](std::size_t k) {
      Item& it = s.items[waiting[k]];
      ++s.gets;
      auto live = s.client.get(*it.resource, it.obj->ns, it.obj->name);
      if (!live) return;
      auto h = assessHealth(*live);
      it.health = h.health;
      it.healthMessage = h.message;
    });
  }
}

void waitForHealth(RoundState& s) {
  if (s.options.dryRun || s.options.healthTimeout.count() <= 0) return;
  std::vector<std::size_t> unhealthy;
  for (std::size_t i = 0; i < s.items.size(); ++i)
    if (s.items[i].plan == Plan::InSync && s.items[i].health == Health::Progressing) unhealthy.push_back(i);
  if (unhealthy.empty()) return;
  pollHealth(s, unhealthy, Clock::now() + s.options.healthTimeout);
  for (auto i : unhealthy) {
    auto& r = s.items[i];
    if (r.health != Health::Progressing) continue;
    r.health = Health::Degraded;
    r.healthMessage = "not healthy after " + seconds(s.options.healthTimeout) + ": " + r.healthMessage;
  }
}

void finishState(Item& it) {
  auto& r = it;
  switch (it.plan) {
    case Plan::Failed:
    case Plan::Skipped:
      r.state = State::Failed;
      return;
    case Plan::Suspended:
      r.state = State::Suspended;
      return;
    case Plan::Waiting:
      r.state = State::Waiting;
      return;
    case Plan::Drifted:
      if (r.state != State::Missing) r.state = State::Drifted;
      return;
    case Plan::Apply:  // not reached: applyAll decides every Apply
    case Plan::Suspect:
      r.state = State::Missing;
      return;
    case Plan::InSync:
      if (r.state == State::Missing) return;  // dry run: custom resource of a CRD not installed yet
      r.state = r.health == Health::Progressing ? State::Progressing : State::Synced;
      return;
  }
}

}  // namespace gitfed::sync::stage
