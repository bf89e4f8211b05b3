// Which round writes which Event, and what its message may say
// (round_events.h): counts, revision, file:line, tenants and object
// identities; never an error's text, so never a Secret's value.

#include <catch2/catch.hpp>

#include "gitfed/daemon/round_events.h"

using namespace gitfed;
using namespace gitfed::daemon;

namespace {

const std::string kRev = "1a2b3c4d5e6f7a8b9c0d1a2b3c4d5e6f7a8b9c0d";
const std::string kSecret = "hunter2-very-secret";

sync::ObjectReport object(const std::string& kind, const std::string& ns, const std::string& name, sync::Action action,
                          sync::State state = sync::State::Synced, std::string error = "") {
  sync::ObjectReport o;
  o.ref = {"v1", kind, ns, name};
  o.action = action;
  o.state = state;
  o.error = std::move(error);
  return o;
}

sync::SyncReport report(std::vector<sync::ObjectReport> objects, std::size_t desired) {
  sync::SyncReport r;
  r.objects = std::move(objects);
  r.summary.objects = desired;
  for (const auto& o : r.objects)
    if (o.state == sync::State::Failed) {
      r.phase = sync::Phase::Failed;
      r.errors.push_back(o.error);
    }
  return r;
}

}  // namespace

TEST_CASE("round events: a source that cannot be read", "[daemon][events]") {
  auto e = sourceStaleEvent(kRev);
  CHECK(e.type == EventType::Warning);
  CHECK(e.reason == "SourceStale");
  CHECK(e.message == "source not read; keeping revision 1a2b3c4d5e6f");
  CHECK(sourceStaleEvent("").message == "source not read; no revision cached");
}

TEST_CASE("round events: a revision that does not render names where, never what", "[daemon][events]") {
  std::vector<render::Diagnostic> errors = {
      {"apps/web.yaml", 14, "Secret shop/db: password " + kSecret + " is not valid"},
      {"apps/db.yaml", 3, "mapping values are not allowed here: " + kSecret},
      {"tenants/blog/a.yaml", 0, "refused", "blog"},
      {"apps/x.yaml", 9, "x"},
      {"", 0, "cannot read revision: " + kSecret}};
  auto e = renderFailedEvent(kRev, errors);
  CHECK(e.type == EventType::Warning);
  CHECK(e.reason == "RenderFailed");
  CHECK(e.message ==
        "revision 1a2b3c4d5e6f not applied: 5 render errors at apps/web.yaml:14, apps/db.yaml:3, "
        "tenants/blog/a.yaml (tenant blog) and 1 more");
  CHECK(e.message.find(kSecret) == std::string::npos);
  // An error without a file (the revision could not be read): the count only.
  CHECK(renderFailedEvent(kRev, {{"", 0, "cannot read revision " + kSecret}}).message ==
        "revision 1a2b3c4d5e6f not applied: 1 render error");
}

TEST_CASE("round events: what a sync did", "[daemon][events]") {
  using A = sync::Action;
  using S = sync::State;
  SECTION("nothing changed, nothing failed: no event") {
    CHECK_FALSE(syncEvent(kRev, report({object("ConfigMap", "shop", "web", A::None)}, 1), true));
    CHECK_FALSE(syncEvent(kRev, report({}, 0), true));
  }
  SECTION("applied: every change counted") {
    auto e = syncEvent(kRev, report({object("Namespace", "", "shop", A::Created), object("ConfigMap", "shop", "web", A::Updated),
                                     object("Secret", "shop", "db", A::Created), object("ConfigMap", "shop", "old", A::Pruned),
                                     object("Deployment", "shop", "api", A::Healed)},
                                    4),
                       true);
    REQUIRE(e);
    CHECK(e->type == EventType::Normal);
    CHECK(e->reason == "Applied");
    CHECK(e->message == "revision 1a2b3c4d5e6f: 2 created, 1 updated, 1 healed, 1 pruned; 4 objects");
  }
  SECTION("drift healed, nothing else applied: the healed objects named") {
    auto e = syncEvent(kRev, report({object("ConfigMap", "shop", "web", A::Healed), object("Namespace", "", "shop", A::None)}, 2),
                       true);
    REQUIRE(e);
    CHECK(e->reason == "DriftHealed");
    CHECK(e->message == "revision 1a2b3c4d5e6f: 1 healed (ConfigMap shop/web); 2 objects");
  }
  SECTION("pruned only") {
    auto e = syncEvent(kRev, report({object("ConfigMap", "shop", "old", A::Pruned)}, 1), true);
    REQUIRE(e);
    CHECK(e->type == EventType::Normal);
    CHECK(e->reason == "Pruned");
    CHECK(e->message == "revision 1a2b3c4d5e6f: 1 pruned; 1 object");
  }
  SECTION("objects failed: a warning naming them, never quoting their errors") {
    std::vector<sync::ObjectReport> objects;
    for (int i = 0; i < 5; ++i)
      objects.push_back(object("Secret", "shop", "s" + std::to_string(i), A::None, S::Failed,
                               "Secret shop/s: apply failed: 422 Invalid: data[password]: " + kSecret));
    objects.push_back(object("ConfigMap", "shop", "web", A::Created));
    auto r = report(objects, 6);
    r.pruneSkipped = true;
    auto e = syncEvent(kRev, r, true);
    REQUIRE(e);
    CHECK(e->type == EventType::Warning);
    CHECK(e->reason == "SyncFailed");
    CHECK(e->message ==
          "revision 1a2b3c4d5e6f: 5 objects failed (Secret shop/s0, Secret shop/s1, Secret shop/s2 and 2 more); "
          "prune skipped; 1 created; 6 objects");
    CHECK(e->message.find(kSecret) == std::string::npos);
  }
  SECTION("an error outside objects (a LIST, the inventory): counted") {
    auto r = report({object("ConfigMap", "shop", "web", A::None)}, 1);
    r.phase = sync::Phase::Failed;
    r.errors = {"list ConfigMaps: 500 " + kSecret};
    auto e = syncEvent(kRev, r, true);
    REQUIRE(e);
    CHECK(e->reason == "SyncFailed");
    CHECK(e->message == "revision 1a2b3c4d5e6f: 1 error; 1 object");
  }
  SECTION("report-only: drift found is a warning; in self-heal it was healed") {
    auto r = report({object("ConfigMap", "shop", "web", A::None, S::Drifted), object("Secret", "shop", "db", A::None, S::Missing)}, 2);
    r.phase = sync::Phase::Drifted;
    auto e = syncEvent(kRev, r, false);
    REQUIRE(e);
    CHECK(e->type == EventType::Warning);
    CHECK(e->reason == "DriftDetected");
    CHECK(e->message ==
          "revision 1a2b3c4d5e6f: 2 objects drifted, not healed (report-only): ConfigMap shop/web, Secret shop/db; 2 objects");
  }
  SECTION("tenants' render errors: a warning with where and what was applied anyway") {
    auto r = report({object("ConfigMap", "shop", "web", A::Created)}, 1);
    r.phase = sync::Phase::Failed;
    r.renderErrors = {{"tenants/blog/app.yaml", 7, "image " + kSecret + " refused", "blog"}};
    auto e = syncEvent(kRev, r, true);
    REQUIRE(e);
    CHECK(e->type == EventType::Warning);
    CHECK(e->reason == "RenderFailed");
    CHECK(e->message == "revision 1a2b3c4d5e6f: 1 render error at tenants/blog/app.yaml:7 (tenant blog); 1 created; 1 object");
  }
}

TEST_CASE("round events: a message is at most 1,024 bytes, cut on a character", "[daemon][events]") {
  std::string name(400, 'n');
  name += "\xC3\xA9";  // é: never cut in the middle
  std::vector<sync::ObjectReport> objects;
  for (int i = 0; i < 4; ++i)
    objects.push_back(object("ConfigMap", "shop", name + std::to_string(i), sync::Action::None, sync::State::Failed, "x"));
  auto e = syncEvent(kRev, report(objects, 4), true);
  REQUIRE(e);
  CHECK(e->message.size() <= kMaxEventMessage);
  CHECK(e->message.ends_with("..."));
  const auto body = e->message.substr(0, e->message.size() - 3);
  CHECK((static_cast<unsigned char>(body.back()) & 0xC0) != 0xC0);  // not the first byte of a cut character
}
