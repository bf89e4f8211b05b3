// The fleet page's HTML (docs/status-spec.md, "The fleet page"): tiles and
// counts, grouping, errors with file and line, drift, limits, the timeline's
// segments, escaping of every value taken from a report, no external assets.
// (The page in a real browser: test/browser.)

#include <catch2/catch.hpp>

#include <regex>

#include "gitfed/status/fleet_page.h"

using namespace gitfed::status;
using namespace std::chrono_literals;

namespace {

const Clock::time_point kNow = Clock::from_time_t(1'800'000'000);
const std::string kA(40, 'a'), kB(40, 'b');

ClusterStatus cluster(const std::string& name, Phase phase, const std::string& applied,
                      std::map<std::string, std::string> labels = {}) {
  ClusterStatus c;
  c.name = name;
  c.labels = std::move(labels);
  c.source = {"https://git.example/fleet.git", "main", kA};
  c.sync.phase = phase;
  c.sync.appliedRevision = applied;
  c.sync.lastAttemptAt = kNow - 30s;
  c.summary = {10, 10, 0, 0, 0, 0, 0};
  return c;
}

FleetStatus fleetOf(std::vector<ClusterStatus> clusters) {
  FleetStatus f;
  f.statusBranch = "gitfed-status";
  f.statusCommit = std::string(40, 'f');
  f.configBranch = "main";
  f.configRevision = kA;
  f.clusters = std::move(clusters);
  return f;
}

std::size_t count(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (auto p = text.find(what); p != std::string::npos; p = text.find(what, p + what.size())) ++n;
  return n;
}

PageOptions options() {
  PageOptions o;
  o.now = kNow;
  return o;
}

}  // namespace

TEST_CASE("fleet page: a tile per cluster, the shown phase and the counts") {
  auto failed = cluster("us-east", Phase::Failed, kB);
  failed.summary.failed = 2;
  auto old = cluster("ap-south", Phase::Synced, kA);
  old.sync.lastAttemptAt = kNow - 2h;  // beyond staleAfter: shown Stale
  auto page = renderFleetPage(fleetOf({cluster("eu-west", Phase::Synced, kA), failed, old}), {}, options());
  CHECK(page.starts_with("<!DOCTYPE html>"));
  CHECK(count(page, "class=\"tile ") == 3);
  CHECK(page.find("data-cluster=\"us-east\" data-phase=\"Failed\"") != std::string::npos);
  CHECK(page.find("data-cluster=\"ap-south\" data-phase=\"Stale\"") != std::string::npos);
  CHECK(page.find("data-failed=\"2\"") != std::string::npos);
  CHECK(page.find("id=\"count-clusters\" data-count=\"3\"") != std::string::npos);
  CHECK(page.find("data-phase=\"Failed\" data-count=\"1\"") != std::string::npos);
  CHECK(page.find("data-phase=\"Stale\" data-count=\"1\"") != std::string::npos);
  CHECK(page.find("data-phase=\"Synced\" data-count=\"1\"") != std::string::npos);
  CHECK(page.find("id=\"count-behind\" data-count=\"1\"") != std::string::npos);  // us-east applied kB
  CHECK(page.find("bbbbbbb (behind)") != std::string::npos);
  CHECK(count(page, "<details class=\"cluster\"") == 3);
}

TEST_CASE("fleet page: nothing is loaded from elsewhere") {
  auto page = renderFleetPage(fleetOf({cluster("eu", Phase::Synced, kA)}), {}, options());
  CHECK(page.find("default-src 'none'") != std::string::npos);
  std::smatch m;
  CHECK_FALSE(std::regex_search(page, m, std::regex(R"((src|href)\s*=\s*"(https?:)?//)")));
  CHECK(page.find("<link") == std::string::npos);
}

TEST_CASE("fleet page: --group-by groups tiles by a label's value, clusters without it last") {
  auto page = renderFleetPage(fleetOf({cluster("a", Phase::Synced, kA, {{"region", "us"}}),
                                       cluster("b", Phase::Synced, kA, {{"region", "eu"}}), cluster("c", Phase::Synced, kA),
                                       cluster("d", Phase::Synced, kA, {{"region", "eu"}})}),
                              {}, [] {
                                auto o = options();
                                o.groupBy = "region";
                                return o;
                              }());
  auto eu = page.find("<h3>region=eu (2)</h3>"), us = page.find("<h3>region=us (1)</h3>"),
       none = page.find("<h3>(no region) (1)</h3>");
  REQUIRE(eu != std::string::npos);
  REQUIRE(us != std::string::npos);
  REQUIRE(none != std::string::npos);
  CHECK(eu < us);
  CHECK(us < none);
  CHECK(page.find("data-cluster=\"b\"", eu) < us);
  CHECK(page.find("data-cluster=\"c\"", none) != std::string::npos);
}

TEST_CASE("fleet page: errors with file and line, drift entries, and the limits per cluster") {
  auto c = cluster("eu", Phase::Failed, kA);
  c.sync.errors.push_back({"apps/web.yaml", 12, "", "unknown field \"spce\""});
  c.sync.errors.push_back({"", 0, "v1/ConfigMap/shop/x", "forbidden"});
  ObjectStatus o{"v1", "Secret", "shop", "db", ObjectState::Drifted, Health::Healthy,
                 {{"/data/password", "<redacted>", "<redacted>"}}, ""};
  for (int i = 0; i < 60; ++i) c.objects.push_back(o);
  c.truncated = 5;
  auto page = renderFleetPage(fleetOf({c}), {}, options());
  CHECK(page.find("data-file=\"apps/web.yaml\" data-line=\"12\"><code>apps/web.yaml:12</code>: unknown field "
                  "&quot;spce&quot;") != std::string::npos);
  CHECK(page.find("<code>v1/ConfigMap/shop/x</code>: forbidden") != std::string::npos);
  CHECK(count(page, "<tr class=\"object\"") == 50);
  CHECK(page.find("and 15 more objects") != std::string::npos);
  CHECK(page.find("<code>/data/password</code>: &quot;&lt;redacted&gt;&quot;") != std::string::npos);
}

TEST_CASE("fleet page: values from reports are escaped") {
  auto c = cluster("eu", Phase::Failed, kA, {{"team", "<script>alert(1)</script>"}});
  c.sync.message = "\"><img src=x onerror=alert(1)>";
  c.sync.errors.push_back({"a<b>.yaml", 1, "", "<svg onload=alert(1)>"});
  auto page = renderFleetPage(fleetOf({c}), {}, options());
  CHECK(page.find("<script>alert") == std::string::npos);
  CHECK(page.find("<img") == std::string::npos);
  CHECK(page.find("<svg onload") == std::string::npos);
  CHECK(page.find("team=&lt;script&gt;alert(1)&lt;/script&gt;") != std::string::npos);
  CHECK(count(page, "<script>") == 1);  // the page's own
}

TEST_CASE("fleet page: the timeline has one segment per report, the convergence table one row per revision") {
  FleetHistory h;
  h.since = kNow - 24h;
  h.clusters["eu"] = {{kNow - 30h, Phase::Synced, kB, kB},
                      {kNow - 2h, Phase::Progressing, kA, kB},
                      {kNow - 1h, Phase::Synced, kA, kA}};
  h.clusters["gone"] = {{kNow - 3h, Phase::Failed, kA, kB}};  // no longer on the branch: not shown
  auto page = renderFleetPage(fleetOf({cluster("eu", Phase::Synced, kA)}), h, options());
  auto row = page.find("<div class=\"trow\" data-cluster=\"eu\"");
  REQUIRE(row != std::string::npos);
  auto end = page.find("</div>", row);
  std::string eu = page.substr(row, end - row);
  CHECK(count(eu, "<rect class=\"seg ") == 3);
  // The segment from before the window starts at x=0; the last runs to the end.
  CHECK(eu.find("data-phase=\"Synced\" data-at=\"" + formatTime(kNow - 30h) + "\" x=\"0.00\"") != std::string::npos);
  CHECK(eu.find("x=\"958.33\" y=\"0\" width=\"41.67\"") != std::string::npos);
  CHECK(page.find("data-cluster=\"gone\"") == std::string::npos);
  CHECK(count(page, "<tr class=\"revision\"") == 2);
  CHECK(page.find("data-revision=\"" + kA + "\" data-converged=\"true\" data-reached=\"1\" data-fleet=\"1\" "
                  "data-seconds=\"3600\"") != std::string::npos);
}
