// gitfed::daemon metrics: Prometheus text exposition format.

#include <catch2/catch.hpp>

#include "gitfed/daemon/metrics.h"

using namespace gitfed::daemon;

TEST_CASE("metrics: counters, gauges and histograms in the text format", "[daemon]") {
  Registry r;
  auto& requests = r.counter("gitfed_kube_requests_total", "API calls.", {"verb", "code"});
  auto& leader = r.gauge("gitfed_leader", "1 when leading.");
  auto& duration = r.histogram("gitfed_reconcile_duration_seconds", "Round duration.", {0.1, 1, 10}, {"phase"});
  requests.inc({"get", "200"});
  requests.inc({"get", "200"});
  requests.inc({"apply", "422"});
  leader.set(1);
  duration.observe({"Synced"}, 0.05);
  duration.observe({"Synced"}, 0.5);
  duration.observe({"Synced"}, 50);
  CHECK(requests.value({"get", "200"}) == 2);
  CHECK(duration.count({"Synced"}) == 3);
  const std::string text = r.render();
  CHECK(text ==
        "# HELP gitfed_kube_requests_total API calls.\n"
        "# TYPE gitfed_kube_requests_total counter\n"
        "gitfed_kube_requests_total{verb=\"apply\",code=\"422\"} 1\n"
        "gitfed_kube_requests_total{verb=\"get\",code=\"200\"} 2\n"
        "# HELP gitfed_leader 1 when leading.\n"
        "# TYPE gitfed_leader gauge\n"
        "gitfed_leader 1\n"
        "# HELP gitfed_reconcile_duration_seconds Round duration.\n"
        "# TYPE gitfed_reconcile_duration_seconds histogram\n"
        "gitfed_reconcile_duration_seconds_bucket{phase=\"Synced\",le=\"0.1\"} 1\n"
        "gitfed_reconcile_duration_seconds_bucket{phase=\"Synced\",le=\"1\"} 2\n"
        "gitfed_reconcile_duration_seconds_bucket{phase=\"Synced\",le=\"10\"} 2\n"
        "gitfed_reconcile_duration_seconds_bucket{phase=\"Synced\",le=\"+Inf\"} 3\n"
        "gitfed_reconcile_duration_seconds_sum{phase=\"Synced\"} 50.55\n"
        "gitfed_reconcile_duration_seconds_count{phase=\"Synced\"} 3\n");
}

TEST_CASE("metrics: an unlabelled family with no value yet renders 0", "[daemon]") {
  Registry r;
  r.counter("a_total", "A.");
  r.histogram("h_seconds", "H.", {1});
  CHECK(r.render() ==
        "# HELP a_total A.\n# TYPE a_total counter\na_total 0\n"
        "# HELP h_seconds H.\n# TYPE h_seconds histogram\n"
        "h_seconds_bucket{le=\"1\"} 0\nh_seconds_bucket{le=\"+Inf\"} 0\nh_seconds_sum 0\nh_seconds_count 0\n");
}

TEST_CASE("metrics: values and label values are written as Prometheus reads them", "[daemon]") {
  CHECK(formatValue(1) == "1");
  CHECK(formatValue(0.25) == "0.25");
  CHECK(formatValue(1795307420.9145186) == "1795307420.9145186");
  CHECK(formatValue(1.0 / 0.0) == "+Inf");
  CHECK(escapeLabelValue("a\"b\\c\nd") == "a\\\"b\\\\c\\nd");
  Registry r;
  auto& g = r.gauge("g", "G.", {"x"});
  g.set({"q\"uote"}, 2);
  CHECK(r.render().find("g{x=\"q\\\"uote\"} 2\n") != std::string::npos);
  g.clear();
  CHECK(r.render().find("g{") == std::string::npos);
}

TEST_CASE("metrics: scrape hooks run before rendering", "[daemon]") {
  Registry r;
  auto& g = r.gauge("process_resident_memory_bytes", "RSS.");
  int calls = 0;
  r.onScrape([&] { g.set(++calls); });
  CHECK(r.render().find("process_resident_memory_bytes 1\n") != std::string::npos);
  CHECK(r.render().find("process_resident_memory_bytes 2\n") != std::string::npos);
}

TEST_CASE("metrics: a counter mirrored from a total kept elsewhere never goes down", "[daemon]") {
  Registry r;
  auto& cpu = r.counter("process_cpu_seconds_total", "CPU.");
  cpu.raiseTo(1.5);
  cpu.raiseTo(1.25);  // a lower reading is ignored
  CHECK(cpu.value() == 1.5);
  cpu.raiseTo(2);
  CHECK(r.render() == "# HELP process_cpu_seconds_total CPU.\n# TYPE process_cpu_seconds_total counter\n"
                      "process_cpu_seconds_total 2\n");
}
