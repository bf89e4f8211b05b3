// The fleet page's history sections: convergence per revision and the phase
// timeline (docs/status-spec.md, "History and convergence").

#include <algorithm>
#include <cstdio>

#include "page_parts.h"

namespace gitfed::status::page {
namespace {

constexpr double kWidth = 1000;  // the timeline's viewBox width

std::string number(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f", v);
  return buf;
}

std::string duration(std::chrono::seconds d) {
  long long s = std::max<long long>(d.count(), 0);
  if (s < 120) return std::to_string(s) + " s";
  if (s < 7200) return std::to_string(s / 60) + " min " + std::to_string(s % 60) + " s";
  return std::to_string(s / 3600) + " h " + std::to_string(s % 3600 / 60) + " min";
}

}  // namespace

std::string plansSection(const FleetStatus&) {
  // Reports do not carry replica-scheduling plans or rollout waves yet; when
  // they do, this section lists them per workload and wave.
  return "<section id=\"plans\"><h2>Scheduling and rollouts</h2>"
         "<p class=\"more\">No replica-scheduling plans or rollout waves in the reports.</p></section>";
}

std::string convergenceSection(const std::vector<Convergence>& revisions, const std::optional<std::string>& newest) {
  std::string out = "<section id=\"convergence\"><h2>Convergence</h2>";
  if (revisions.empty()) return out + "<p class=\"more\">No revision in the history's window.</p></section>";
  out += "<table><tr><th>revision</th><th>first reported</th><th>applied by</th><th>skipped</th>"
         "<th>converged</th></tr>";
  for (const auto& c : revisions) {
    auto d = c.duration();
    out += "<tr class=\"revision\" data-revision=\"" + htmlEscape(c.revision) + "\" data-converged=\"" +
           (c.converged() ? "true" : "false") + "\" data-reached=\"" + std::to_string(c.reached) + "\" data-fleet=\"" +
           std::to_string(c.fleet) + "\"" + (d ? " data-seconds=\"" + std::to_string(d->count()) + "\"" : "") + ">";
    out += "<td><code>" + htmlEscape(shortId(c.revision)) + "</code>" +
           (newest && *newest == c.revision ? " (newest)" : "") + "</td>";
    out += "<td>" + formatTime(c.firstSeen) + "</td>";
    out += "<td>" + std::to_string(c.reached) + " of " + std::to_string(c.fleet) + "</td>";
    out += "<td>" + std::to_string(c.skipped) + "</td>";
    out += "<td>" + (d ? "in " + duration(*d) : c.converged() ? std::string("skipped by all") : std::string("pending")) +
           "</td></tr>";
  }
  return out + "</table></section>";
}

std::string timelineSection(const FleetStatus& fleet, const std::vector<ClusterRow>& rows, const FleetHistory& history,
                            const PageOptions& o) {
  const auto since = history.since, now = o.now;
  const double span = std::max(1.0, std::chrono::duration<double>(now - since).count());
  auto x = [&](Clock::time_point t) {
    double s = std::chrono::duration<double>(std::clamp(t, since, now) - since).count();
    return s / span * kWidth;
  };
  std::string out = "<section id=\"timeline\"><h2>Timeline</h2><p class=\"meta\">Each cluster's phase from " +
                    formatTime(since) + " to " + formatTime(now) + "; one segment per report.";
  if (history.truncated) out += " The history was cut at " + std::to_string(history.commits) + " commits.";
  out += "</p><div class=\"axis\">";
  for (int i = 0; i <= 4; ++i) {
    auto t = since + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(span * i / 4));
    out += "<span>" + formatTime(t).substr(0, 16) + "</span>";
  }
  out += "</div>";
  for (std::size_t i = 0; i < fleet.clusters.size(); ++i) {
    const auto& c = fleet.clusters[i];
    out += "<div class=\"trow\" data-cluster=\"" + htmlEscape(c.name) + "\" data-search=\"" +
           htmlEscape(searchKey(c, rows[i])) + "\"><span class=\"tname\">" + htmlEscape(c.name) +
           "</span><svg viewBox=\"0 0 1000 12\" preserveAspectRatio=\"none\" role=\"img\" aria-label=\"" +
           htmlEscape(c.name) + " timeline\">";
    auto it = history.clusters.find(c.name);
    if (it != history.clusters.end()) {
      const auto& points = it->second;
      for (std::size_t k = 0; k < points.size(); ++k) {
        const auto& p = points[k];
        auto end = k + 1 < points.size() ? points[k + 1].at : now;
        double x0 = x(p.at), x1 = x(end);
        double w = std::max(x1 - x0, 0.5);
        out += "<rect class=\"seg seg-" + std::string(toString(p.phase)) + "\" data-phase=\"" + toString(p.phase) +
               "\" data-at=\"" + formatTime(p.at) + "\" x=\"" + number(std::min(x0, kWidth - w)) +
               "\" y=\"0\" width=\"" + number(w) + "\" height=\"12\"><title>" + toString(p.phase) + " " +
               htmlEscape(shortId(p.revision)) + " (applied " + htmlEscape(shortId(p.appliedRevision)) + ") from " +
               formatTime(p.at) + "</title></rect>";
      }
    }
    out += "</svg></div>";
  }
  return out + "</section>";
}

}  // namespace gitfed::status::page
