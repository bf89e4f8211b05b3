#pragma once
// One round's state (agent/sync/src/round_state.h) over a FakeKubeClient,
// for the tests of each stage on its own: start() renders a revision and
// makes a fresh RoundState; throughObserve() runs the stages before apply
// (tenants, plan, inventory read, drift rules, observe, drift) as Round does.

#include <memory>
#include <string>

#include "round_state.h"
#include "stages.h"
#include "sync_test_support.h"

namespace gitfed::test::sync {

struct StageRound {
  FakeKubeClient fake;
  SyncOptions options = gitfed::test::sync::options();
  render::RenderResult rendered;
  InSyncCache cache;
  std::unique_ptr<RoundState> s;

  RoundState& start(const std::string& yaml) {
    rendered = render(yaml);
    s = std::make_unique<RoundState>(fake, options, rendered, cache);
    return *s;
  }

  RoundState& throughObserve(const std::string& yaml) {
    start(yaml);
    stage::setUpTenants(*s);
    stage::plan(*s);
    auto inv = s->store.load();
    REQUIRE(inv);
    s->stored = *inv;
    stage::applyDriftRules(*s);
    stage::observe(*s);
    stage::confirmDrift(*s);
    return *s;
  }

  // A whole round by the engine (e.g. to have objects and an inventory live).
  SyncReport syncAll(const std::string& yaml) {
    Engine engine(fake, options);
    return engine.sync(render(yaml));
  }

  Item& item(const std::string& kind, const std::string& name) {
    for (auto& it : s->items)
      if (it.obj->kind == kind && it.obj->name == name) return it;
    FAIL("no item " << kind << " " << name);
    throw std::logic_error("unreachable");
  }
};

}  // namespace gitfed::test::sync
