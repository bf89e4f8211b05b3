#include "gitfed/status/fleet_page.h"

#include <algorithm>
#include <array>
#include <map>
#include <set>

#include "page_parts.h"

namespace gitfed::status {

std::string htmlEscape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

namespace page {

const char* shownPhase(const ClusterRow& row) { return row.stale ? "Stale" : toString(row.phase); }

std::string searchKey(const ClusterStatus& c, const ClusterRow& row) {
  std::string key = c.name + " " + shownPhase(row);
  for (const auto& [k, v] : c.labels) key += " " + k + "=" + v;
  std::transform(key.begin(), key.end(), key.begin(), [](unsigned char ch) { return static_cast<char>(std::tolower(ch)); });
  return key;
}

}  // namespace page

namespace {

using page::shownPhase;

// Beyond this many clusters the tiles show only the name (the rest is in the
// tile's tooltip and the cluster's section), so a thousand fit on a screen.
constexpr std::size_t kCompactAbove = 120;

constexpr const char* kStyle = R"css(
:root{--synced:#2e7d32;--progressing:#1565c0;--drifted:#b26a00;--failed:#c62828;--stale:#616161;font-family:system-ui,sans-serif;color:#212121}
body{margin:0 auto;max-width:1400px;padding:0 1rem 2rem}
h1{margin:.8rem 0 .2rem;font-size:1.5rem}h2{font-size:1.15rem;margin:1.4rem 0 .5rem;border-bottom:1px solid #ddd}
h3{font-size:.95rem;margin:.8rem 0 .3rem}code{font-size:.9em}
.meta{color:#555;margin:0 0 .5rem}
ul.counts{list-style:none;padding:0;margin:.3rem 0;display:flex;flex-wrap:wrap;gap:.4rem}
ul.counts li{padding:.15rem .5rem;border-radius:.3rem;background:#eee}
.tiles{display:grid;grid-template-columns:repeat(auto-fill,minmax(11.5rem,1fr));gap:.35rem}
.tile{display:block;padding:.3rem .45rem;border-radius:.3rem;color:#fff;text-decoration:none;font-size:.78rem;line-height:1.25}
.tile .name{font-weight:600;font-size:.85rem;display:block;overflow:hidden;text-overflow:ellipsis;white-space:nowrap}
.phase-Synced{background:var(--synced)}.phase-Progressing{background:var(--progressing)}.phase-Drifted{background:var(--drifted)}
.phase-Failed{background:var(--failed)}.phase-Stale{background:var(--stale)}
.behind{font-weight:700}
table{border-collapse:collapse;font-size:.85rem}td,th{padding:.15rem .5rem;text-align:left;border-bottom:1px solid #eee;vertical-align:top}
.trow{display:flex;align-items:center;gap:.5rem;font-size:.75rem}.trow .tname{width:12rem;flex:none;overflow:hidden;text-overflow:ellipsis;white-space:nowrap}
.trow svg{flex:1;height:12px;background:#f4f4f4}.axis{display:flex;justify-content:space-between;margin-left:12.5rem;font-size:.7rem;color:#555}
.seg-Synced{fill:var(--synced)}.seg-Progressing{fill:var(--progressing)}.seg-Drifted{fill:var(--drifted)}.seg-Failed{fill:var(--failed)}.seg-Stale{fill:var(--stale)}
details.cluster{border:1px solid #ddd;border-radius:.3rem;margin:.3rem 0;padding:.2rem .6rem}
details.cluster summary{cursor:pointer;font-weight:600}.label{display:inline-block;background:#eee;border-radius:.2rem;padding:0 .3rem;margin:.1rem;font-size:.8rem}
.error{color:var(--failed)}.more{color:#555;font-style:italic}footer{margin-top:2rem;color:#777;font-size:.8rem}
#filter{width:min(30rem,100%);padding:.3rem;margin:.4rem 0}
.compact .tiles{grid-template-columns:repeat(auto-fill,minmax(5.8rem,1fr));gap:.2rem}.compact .tile .detail{display:none}
.compact .tile{padding:.15rem .3rem}
)css";

// Filtering (optional: the page is complete without it) and the page's own
// load time, in data-load-ms on <body>, for whoever measures it.
constexpr const char* kScript = R"js(
(function(){
  var f=document.getElementById('filter');f.hidden=false;
  f.addEventListener('input',function(){
    var q=f.value.trim().toLowerCase();
    document.querySelectorAll('[data-search]').forEach(function(e){
      e.style.display=(q===''||e.getAttribute('data-search').indexOf(q)>=0)?'':'none';});
  });
  addEventListener('load',function(){document.body.setAttribute('data-load-ms',String(Math.round(performance.now())));});
})();
)js";

std::string countsList(const std::vector<ClusterRow>& rows) {
  static constexpr std::array<const char*, 5> kPhases = {"Synced", "Progressing", "Drifted", "Failed", "Stale"};
  std::map<std::string, std::size_t> byPhase;
  std::size_t behind = 0, stale = 0;
  for (const auto& r : rows) {
    ++byPhase[shownPhase(r)];
    behind += r.latest && !r.upToDate ? 1u : 0u;
    stale += r.stale ? 1u : 0u;
  }
  std::string out = "<ul class=\"counts\" id=\"counts\">";
  out += "<li id=\"count-clusters\" data-count=\"" + std::to_string(rows.size()) + "\"><b>" +
         std::to_string(rows.size()) + "</b> clusters</li>";
  for (const char* p : kPhases) {
    std::string n = std::to_string(byPhase[p]);
    out += std::string("<li class=\"phase-count\" data-phase=\"") + p + "\" data-count=\"" + n + "\"><b>" + n + "</b> " +
           p + "</li>";
  }
  out += "<li id=\"count-behind\" data-count=\"" + std::to_string(behind) + "\"><b>" + std::to_string(behind) +
         "</b> not on the newest revision</li>";
  out += "<li id=\"count-stale\" data-count=\"" + std::to_string(stale) + "\"><b>" + std::to_string(stale) +
         "</b> stale</li></ul>";
  return out;
}

std::string tile(const ClusterStatus& c, const ClusterRow& r) {
  const std::string phase = shownPhase(r);
  const bool behind = r.latest && !r.upToDate;
  std::string out = "<a class=\"tile phase-" + phase + "\" href=\"#cluster-" + htmlEscape(c.name) +
                    "\" data-cluster=\"" + htmlEscape(c.name) + "\" data-phase=\"" + phase + "\" data-search=\"" +
                    htmlEscape(page::searchKey(c, r)) + "\" data-drifted=\"" + std::to_string(c.summary.drifted) +
                    "\" data-failed=\"" + std::to_string(c.summary.failed) + "\" data-progressing=\"" +
                    std::to_string(c.summary.progressing) + "\" data-newest=\"" + (behind ? "false" : "true") +
                    "\" title=\"" + htmlEscape(c.name + ": " + phase + ", " + formatAge(r.age) + " ago") + "\">";
  std::string counts;
  auto add = [&](std::size_t n, const char* what) {
    if (n > 0) counts += (counts.empty() ? "" : " · ") + std::to_string(n) + " " + what;
  };
  add(c.summary.drifted, "drifted");
  add(c.summary.failed, "failed");
  add(c.summary.progressing, "progressing");
  add(c.summary.degraded, "degraded");
  const std::string revision = shortId(r.appliedRevision) + (behind ? " (behind)" : r.latest ? " (newest)" : "");
  out += "<span class=\"name\">" + htmlEscape(c.name) + "</span><span class=\"detail\">" + phase + " · " +
         formatAge(r.age) + "<br><span class=\"rev" + std::string(behind ? " behind" : "") + "\">" +
         htmlEscape(revision) + "</span><br>" + (counts.empty() ? std::string("all objects in sync") : counts) +
         "</span></a>";
  return out;
}

std::string fleetSection(const FleetStatus& fleet, const std::vector<ClusterRow>& rows, const PageOptions& o) {
  // Groups by the label's value, sorted; clusters without it last.
  std::map<std::string, std::vector<std::size_t>> groups;
  std::vector<std::size_t> ungrouped;
  for (std::size_t i = 0; i < fleet.clusters.size(); ++i) {
    const auto& labels = fleet.clusters[i].labels;
    auto it = o.groupBy.empty() ? labels.end() : labels.find(o.groupBy);
    if (o.groupBy.empty() || it == labels.end()) ungrouped.push_back(i);
    else groups[it->second].push_back(i);
  }
  std::string out = "<section id=\"fleet\"><h2>The fleet at a glance</h2>";
  auto group = [&](const std::string& title, const std::string& value, const std::vector<std::size_t>& members) {
    out += "<div class=\"group\" data-group=\"" + htmlEscape(value) + "\">";
    if (!title.empty()) out += "<h3>" + htmlEscape(title) + " (" + std::to_string(members.size()) + ")</h3>";
    out += "<div class=\"tiles\">";
    for (std::size_t i : members) out += tile(fleet.clusters[i], rows[i]);
    out += "</div></div>";
  };
  for (const auto& [value, members] : groups) group(o.groupBy + "=" + value, value, members);
  if (!ungrouped.empty()) group(o.groupBy.empty() ? "" : "(no " + o.groupBy + ")", "", ungrouped);
  if (fleet.clusters.empty()) out += "<p>No cluster has reported yet.</p>";
  return out + "</section>";
}

std::string errorLine(const ReportError& e) {
  std::string where = !e.file.empty() ? e.file + (e.line > 0 ? ":" + std::to_string(e.line) : "") : e.object;
  std::string text = e.message;
  if (e.count > 0) {
    text = std::to_string(e.count) + " objects: " + e.message;
    std::string examples;
    for (const auto& x : e.examples) examples += (examples.empty() ? "" : ", ") + x;
    if (!examples.empty()) text += " (e.g. " + examples + (e.count > e.examples.size() ? ", ..." : "") + ")";
  }
  std::string out = "<li class=\"error\" data-file=\"" + htmlEscape(e.file) + "\" data-line=\"" +
                    std::to_string(e.line) + "\">";
  if (!e.tenant.empty()) out += "[tenant " + htmlEscape(e.tenant) + "] ";
  if (!where.empty()) out += "<code>" + htmlEscape(where) + "</code>: ";
  return out + htmlEscape(text) + "</li>";
}

std::string objectRow(const ObjectStatus& o) {
  std::string object = o.apiVersion + " " + o.kind + " " + (o.ns.empty() ? "" : o.ns + "/") + o.name;
  std::string out = "<tr class=\"object\" data-state=\"" + std::string(toString(o.state)) + "\"><td>" +
                    toString(o.state) + "</td><td>" + toString(o.health) + "</td><td>" + htmlEscape(object) +
                    (o.tenant.empty() ? "" : " [tenant " + htmlEscape(o.tenant) + "]") + "</td><td>";
  if (!o.message.empty()) out += htmlEscape(o.message);
  for (const auto& d : o.drift)
    out += "<div class=\"drift\"><code>" + htmlEscape(d.path) + "</code>: " + htmlEscape(d.desired.dump()) + " → " +
           htmlEscape(d.live.dump()) + "</div>";
  return out + "</td></tr>";
}

std::string clusterDetails(const ClusterStatus& c, const ClusterRow& r, const PageOptions& o) {
  const std::string phase = shownPhase(r);
  std::string out = "<details class=\"cluster\" id=\"cluster-" + htmlEscape(c.name) + "\" data-cluster=\"" +
                    htmlEscape(c.name) + "\" data-search=\"" + htmlEscape(page::searchKey(c, r)) + "\"><summary>" +
                    htmlEscape(c.name) + " — " + phase + "</summary>";
  out += "<p>";
  for (const auto& [k, v] : c.labels) out += "<span class=\"label\">" + htmlEscape(k + "=" + v) + "</span>";
  out += "</p><table class=\"facts\">";
  auto fact = [&](const char* k, const std::string& v) {
    out += std::string("<tr><th>") + k + "</th><td>" + htmlEscape(v) + "</td></tr>";
  };
  fact("source", c.source.url + " " + c.source.ref);
  fact("revision", c.source.revision.empty() ? "-" : c.source.revision);
  fact("applied", (c.sync.appliedRevision.empty() ? "-" : c.sync.appliedRevision) +
                      (r.upToDate ? " (the newest)" : r.latest ? " (newest: " + shortId(*r.latest) + ")" : ""));
  fact("last attempt", (c.sync.lastAttemptAt ? formatTime(*c.sync.lastAttemptAt) : "-") + " (" + formatAge(r.age) + " ago)");
  fact("last success", c.sync.lastSuccessAt ? formatTime(*c.sync.lastSuccessAt) : "-");
  const auto& s = c.summary;
  fact("objects", std::to_string(s.objects) + ": " + std::to_string(s.synced) + " synced, " + std::to_string(s.drifted) +
                      " drifted, " + std::to_string(s.missing) + " missing, " + std::to_string(s.failed) + " failed, " +
                      std::to_string(s.progressing) + " progressing, " + std::to_string(s.pruned) + " pruned");
  if (!c.sync.message.empty()) fact("message", c.sync.message);
  if (!c.agentVersion.empty()) fact("agent", c.agentVersion);
  out += "</table>";
  if (!c.sync.errors.empty()) {
    out += "<h3>Errors</h3><ul class=\"errors\">";
    for (std::size_t i = 0; i < c.sync.errors.size() && i < o.maxListed; ++i) out += errorLine(c.sync.errors[i]);
    out += "</ul>";
    if (c.sync.errors.size() > o.maxListed)
      out += "<p class=\"more\">and " + std::to_string(c.sync.errors.size() - o.maxListed) +
             " more errors (gitfed status --cluster " + htmlEscape(c.name) + ")</p>";
  }
  if (!c.objects.empty()) {
    out += "<h3>Objects not in sync</h3><table class=\"objects\"><tr><th>state</th><th>health</th><th>object</th>"
           "<th>detail</th></tr>";
    for (std::size_t i = 0; i < c.objects.size() && i < o.maxListed; ++i) out += objectRow(c.objects[i]);
    out += "</table>";
    std::size_t more = c.truncated + (c.objects.size() > o.maxListed ? c.objects.size() - o.maxListed : 0);
    if (more > 0)
      out += "<p class=\"more\">and " + std::to_string(more) + " more objects (gitfed status --cluster " +
             htmlEscape(c.name) + ")</p>";
  } else {
    out += "<p>No objects out of sync.</p>";
  }
  return out + "</details>";
}

}  // namespace

std::string renderFleetPage(const FleetStatus& fleet, const FleetHistory& history, const PageOptions& o) {
  std::vector<ClusterRow> rows;
  rows.reserve(fleet.clusters.size());
  for (const auto& c : fleet.clusters) rows.push_back(summarize(c, fleet.configRevision, o.now, o.staleAfter));

  std::string out;
  out.reserve(4096 + fleet.clusters.size() * 2048);
  out += "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
         "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; "
         "script-src 'unsafe-inline'; img-src data:\">"
         "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">";
  out += "<title>gitfed fleet: " + std::to_string(fleet.clusters.size()) + " clusters</title><style>";
  out += kStyle;
  out += "</style></head>\n<body data-clusters=\"" + std::to_string(fleet.clusters.size()) + "\"" +
         (fleet.clusters.size() > kCompactAbove ? " class=\"compact\"" : "") + ">";
  out += "<header><h1>gitfed fleet</h1><p class=\"meta\">status branch <code>" + htmlEscape(fleet.statusBranch) +
         "</code> at <code id=\"status-commit\">" + htmlEscape(shortId(fleet.statusCommit)) +
         "</code> · config branch <code>" + htmlEscape(fleet.configBranch) + "</code> at <code id=\"config-revision\">" +
         (fleet.configRevision ? htmlEscape(shortId(*fleet.configRevision)) : std::string("(none)")) +
         "</code> · made <time id=\"generated\">" + formatTime(o.now) + "</time></p>";
  out += countsList(rows);
  out += "<input id=\"filter\" type=\"search\" placeholder=\"filter: name, phase or label=value\" "
         "aria-label=\"filter clusters\" hidden></header>\n<main>";
  out += fleetSection(fleet, rows, o);
  out += "\n" + page::plansSection(fleet);
  std::set<std::string> current;
  for (const auto& c : fleet.clusters) current.insert(c.name);
  out += "\n" + page::convergenceSection(convergence(history, current, o.maxRevisions), fleet.configRevision);
  out += "\n" + page::timelineSection(fleet, rows, history, o);
  out += "\n<section id=\"clusters\"><h2>Clusters</h2>";
  for (std::size_t i = 0; i < fleet.clusters.size(); ++i) out += clusterDetails(fleet.clusters[i], rows[i], o) + "\n";
  out += "</section></main><footer>Made by " + htmlEscape(o.generator) + " from the status branch at " +
         htmlEscape(fleet.statusCommit) + ".";
  if (!fleet.warnings.empty() || !history.warnings.empty())
    out += " " + std::to_string(fleet.warnings.size() + history.warnings.size()) + " files were not valid reports.";
  out += "</footer><script>";
  out += kScript;
  out += "</script></body></html>\n";
  return out;
}

}  // namespace gitfed::status
