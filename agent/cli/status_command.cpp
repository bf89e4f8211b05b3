// `gitfed status [options] REPOSITORY`: the fleet at a glance, from the status
// branch (docs/status-spec.md) of a repository URL or a local clone. One row
// per cluster, or one cluster's objects with --cluster. Reads only.

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <cstdio>
#include <cstdlib>
#include <expected>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>

#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "gitfed/git/libgit2.h"
#include "gitfed/git/url.h"
#include "gitfed/status/fleet_page.h"
#include "gitfed/status/history.h"
#include "gitfed/status/reader.h"

namespace gitfed::cli {
namespace {

using nlohmann::json;

constexpr const char* kStatusUsage =
    "usage: gitfed status [options] REPOSITORY\n"
    "\n"
    "Shows the fleet's status branch: one row per cluster (phase, the revision it\n"
    "applied against the config branch's newest, drifted and failed objects, age\n"
    "of its last report; STALE when the agent could not fetch, or has not\n"
    "reported for --stale-after). REPOSITORY is a URL (https://, ssh://, git://,\n"
    "file://) or the path of a local clone (its origin/ branches are read).\n"
    "\n"
    "  --cluster NAME          one cluster's report, object by object\n"
    "  --html FILE             write the fleet page: one self-contained HTML file\n"
    "                          (docs/status-spec.md, \"The fleet page\")\n"
    "  --group-by LABEL        (--html) group the tiles by this label's value\n"
    "  --history DURATION      (--html) the timeline's window, e.g. 7d, 12h (default 7d)\n"
    "  --output table|json     (default table)\n"
    "  --branch NAME           the config branch (default main)\n"
    "  --status-branch NAME    (default gitfed-status)\n"
    "  --stale-after DURATION  e.g. 90s, 15m, 2h (default 15m)\n"
    "  --cache DIR             keep the fetched status branch here (default: a temporary directory)\n"
    "  --public-keys FILE|DIR  verify per-cluster reports with these keys: lines \"CLUSTER PEM-FILE\", or a\n"
    "                          directory of CLUSTER.pub PEM files (default: the spec.statusPublicKey of each\n"
    "                          Cluster entry of the registry, at the config branch's newest commit)\n"
    "  credentials, read from files, for a URL:\n"
    "  --username NAME | --username-file FILE, --password-file FILE | --token-file FILE,\n"
    "  --ca-file FILE, --ssh-key FILE, --known-hosts FILE, --timeout DURATION (default 30s)\n";

int usageError(const std::string& message) {
  std::fprintf(stderr, "gitfed status: %s\n%s", message.c_str(), kStatusUsage);
  return 2;
}

std::optional<std::chrono::seconds> parseDuration(const std::string& text) {
  if (text.empty()) return std::nullopt;
  std::size_t used = 0;
  long long n = 0;
  try {
    n = std::stoll(text, &used);
  } catch (...) {
    return std::nullopt;
  }
  std::string unit = text.substr(used);
  if (n < 0) return std::nullopt;
  if (unit == "s" || unit.empty()) return std::chrono::seconds(n);
  if (unit == "m") return std::chrono::seconds(n * 60);
  if (unit == "h") return std::chrono::seconds(n * 3600);
  if (unit == "d") return std::chrono::seconds(n * 86400);
  return std::nullopt;
}

std::string readText(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return in ? text.str() : std::string();
}

// --public-keys: a directory of CLUSTER.pub PEM files, or a file of lines
// "CLUSTER PEM-FILE" (relative to the file's directory).
std::expected<status::PublicKeys, std::string> loadPublicKeys(const std::filesystem::path& where) {
  status::PublicKeys keys;
  std::error_code ec;
  if (std::filesystem::is_directory(where, ec)) {
    for (const auto& e : std::filesystem::directory_iterator(where, ec)) {
      if (e.path().extension() != ".pub") continue;
      std::string pem = readText(e.path());
      if (pem.empty()) return std::unexpected("cannot read " + e.path().string());
      keys[e.path().stem().string()] = pem;
    }
    return keys;
  }
  std::ifstream in(where);
  if (!in) return std::unexpected("cannot read " + where.string());
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream words(line);
    std::string name, file;
    if (!(words >> name) || name.starts_with("#")) continue;
    if (!(words >> file)) return std::unexpected(where.string() + ": \"" + line + "\": expected CLUSTER PEM-FILE");
    std::filesystem::path p = file;
    if (p.is_relative()) p = where.parent_path() / p;
    std::string pem = readText(p);
    if (pem.empty()) return std::unexpected("cannot read " + p.string());
    keys[name] = pem;
  }
  return keys;
}

// A temporary directory, removed when the command ends.
struct ScratchDir {
  std::filesystem::path path;
  ScratchDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "gitfed-status-XXXXXX").string();
    if (::mkdtemp(tmpl.data())) path = tmpl;
  }
  ~ScratchDir() {
    std::error_code ec;
    if (!path.empty()) std::filesystem::remove_all(path, ec);
  }
};

// "ref #12 signed", "branch": where a cluster's report was read.
std::string originText(const status::FleetStatus& fleet, const std::string& name) {
  auto it = fleet.origins.find(name);
  if (it == fleet.origins.end()) return "branch";
  const auto& o = it->second;
  if (o.where == status::ReportOrigin::Where::Branch) return o.hasRef ? "branch (ref older)" : "branch";
  return "ref #" + std::to_string(o.sequence) + " " + status::toString(o.signature);
}

void printTable(const status::FleetStatus& fleet, const std::vector<status::ClusterRow>& rows) {
  std::printf("status branch %s at %s; config branch %s at %s\n", fleet.statusBranch.c_str(),
              status::shortId(fleet.statusCommit).c_str(), fleet.configBranch.c_str(),
              fleet.configRevision ? status::shortId(*fleet.configRevision).c_str() : "(none)");
  std::size_t width = 7;
  for (const auto& r : rows) width = std::max(width, r.name.size());
  // The REPORT column (where each report was read) only when the fleet has per-cluster refs.
  const bool refs = fleet.refs > 0;
  if (refs)
    std::printf("%-*s  %-11s  %-8s  %-10s  %7s  %6s  %-10s  %s\n", static_cast<int>(width), "CLUSTER", "PHASE", "APPLIED",
                "REVISION", "DRIFTED", "FAILED", "AGE", "REPORT");
  else
    std::printf("%-*s  %-11s  %-8s  %-10s  %7s  %6s  %s\n", static_cast<int>(width), "CLUSTER", "PHASE", "APPLIED",
                "REVISION", "DRIFTED", "FAILED", "AGE");
  for (const auto& r : rows) {
    std::string revision = status::shortId(r.revision);
    if (r.latest && r.revision != *r.latest) revision += " (old)";
    std::string applied = status::shortId(r.appliedRevision) + (r.upToDate || !r.latest ? "" : "*");
    std::string age = status::formatAge(r.age) + (r.stale ? " STALE" : "") + (r.suspended ? " SUSPENDED" : "");
    if (refs)
      std::printf("%-*s  %-11s  %-8s  %-10s  %7zu  %6zu  %-10s  %s\n", static_cast<int>(width), r.name.c_str(),
                  status::toString(r.phase), applied.c_str(), revision.c_str(), r.drifted, r.failed, age.c_str(),
                  originText(fleet, r.name).c_str());
    else
      std::printf("%-*s  %-11s  %-8s  %-10s  %7zu  %6zu  %s\n", static_cast<int>(width), r.name.c_str(),
                  status::toString(r.phase), applied.c_str(), revision.c_str(), r.drifted, r.failed, age.c_str());
  }
  std::size_t behind = 0, stale = 0;
  for (const auto& r : rows) {
    behind += r.upToDate || !r.latest ? 0u : 1u;
    stale += r.stale ? 1u : 0u;
  }
  std::size_t bad = 0;
  for (const auto& [name, o] : fleet.origins) bad += o.signature == status::SignatureState::Bad ? 1u : 0u;
  std::string extra;
  if (refs) extra = "; " + std::to_string(fleet.refs) + " per-cluster refs, keys: " + fleet.keySource;
  if (bad) extra += "; " + std::to_string(bad) + " BAD SIGNATURE";
  std::printf("%zu cluster%s; %zu not on the newest revision (*); %zu stale%s\n", rows.size(),
              rows.size() == 1 ? "" : "s", behind, stale, extra.c_str());
}

json originJson(const status::FleetStatus& fleet, const std::string& name) {
  auto it = fleet.origins.find(name);
  status::ReportOrigin o = it == fleet.origins.end() ? status::ReportOrigin{} : it->second;
  json j = {{"from", status::toString(o.where)}, {"hasRef", o.hasRef}};
  if (o.where == status::ReportOrigin::Where::Ref) {
    j["commit"] = o.commit;
    j["sequence"] = o.sequence;
    j["signature"] = status::toString(o.signature);
  }
  return j;
}

json rowJson(const status::ClusterRow& r) {
  json j = {{"name", r.name},
            {"phase", status::toString(r.phase)},
            {"appliedRevision", r.appliedRevision},
            {"revision", r.revision},
            {"upToDate", r.upToDate},
            {"drifted", r.drifted},
            {"failed", r.failed},
            {"stale", r.stale}};
  j["ageSeconds"] = r.age ? json(r.age->count()) : json(nullptr);
  j["suspended"] = r.suspended ? json{{"by", r.suspended->by}, {"reason", r.suspended->reason}} : json(nullptr);
  return j;
}

void printCluster(const status::ClusterStatus& c, const status::ClusterRow& row) {
  std::printf("cluster %s: %s%s\n", c.name.c_str(), status::toString(c.sync.phase), row.stale ? " (STALE)" : "");
  std::printf("  source       %s %s\n", c.source.url.c_str(), c.source.ref.c_str());
  std::printf("  revision     %s\n", c.source.revision.empty() ? "-" : c.source.revision.c_str());
  std::printf("  applied      %s%s\n", c.sync.appliedRevision.empty() ? "-" : c.sync.appliedRevision.c_str(),
              row.upToDate ? " (the newest)" : row.latest ? (" (newest: " + *row.latest + ")").c_str() : "");
  std::printf("  last attempt %s (%s ago)\n",
              c.sync.lastAttemptAt ? status::formatTime(*c.sync.lastAttemptAt).c_str() : "-", status::formatAge(row.age).c_str());
  std::printf("  last success %s\n", c.sync.lastSuccessAt ? status::formatTime(*c.sync.lastSuccessAt).c_str() : "-");
  if (c.sync.suspended)
    std::printf("  suspended    by %s%s\n", c.sync.suspended->by.c_str(),
                c.sync.suspended->reason.empty() ? "" : (" (" + c.sync.suspended->reason + ")").c_str());
  if (!c.sync.message.empty()) std::printf("  message      %s\n", c.sync.message.c_str());
  const auto& s = c.summary;
  std::printf(
      "  objects      %zu: %zu synced, %zu drifted, %zu missing, %zu failed, %zu progressing, %zu degraded, %zu waiting, "
      "%zu suspended, %zu pruned\n",
      s.objects, s.synced, s.drifted, s.missing, s.failed, s.progressing, s.degraded, s.waiting, s.suspended, s.pruned);
  if (!c.labels.empty()) {
    std::string labels;
    for (const auto& [k, v] : c.labels) labels += (labels.empty() ? "" : ",") + k + "=" + v;
    std::printf("  labels       %s\n", labels.c_str());
  }
  if (!c.sync.errors.empty()) {
    std::printf("errors:\n");
    for (const auto& e : c.sync.errors) {
      std::string where = !e.file.empty() ? e.file + (e.line > 0 ? ":" + std::to_string(e.line) : "") : e.object;
      if (!e.tenant.empty()) where = "[tenant " + e.tenant + "] " + where;
      if (e.count > 0 && !e.examples.empty()) {  // a group of objects with the same error
        std::string examples;
        for (const auto& x : e.examples) examples += (examples.empty() ? "" : ", ") + x;
        if (e.count > e.examples.size()) examples += ", ...";
        std::printf("  %s%zu objects: %s (e.g. %s)\n", e.tenant.empty() ? "" : ("[tenant " + e.tenant + "] ").c_str(),
                    e.count, e.message.c_str(), examples.c_str());
        continue;
      }
      if (where.empty())  // not about one file or object (a LIST, the inventory...)
        std::printf("  %s\n", e.message.c_str());
      else
        std::printf("  %s: %s\n", where.c_str(), e.message.c_str());
    }
  }
  if (c.objects.empty()) {
    std::printf("no objects out of sync\n");
    return;
  }
  bool tenants = std::any_of(c.objects.begin(), c.objects.end(), [](const auto& o) { return !o.tenant.empty(); });
  if (tenants)
    std::printf("%-12s  %-12s  %-16s  %-40s  %s\n", "STATE", "HEALTH", "TENANT", "OBJECT", "DETAIL");
  else
    std::printf("%-12s  %-12s  %-40s  %s\n", "STATE", "HEALTH", "OBJECT", "DETAIL");
  for (const auto& o : c.objects) {
    std::string object = o.apiVersion + " " + o.kind + " " + (o.ns.empty() ? "" : o.ns + "/") + o.name;
    std::string detail = o.message;
    for (const auto& d : o.drift)
      detail += (detail.empty() ? "" : "; ") + d.path + ": " + d.desired.dump() + " -> " + d.live.dump();
    if (tenants)
      std::printf("%-12s  %-12s  %-16s  %-40s  %s\n", status::toString(o.state), status::toString(o.health),
                  o.tenant.empty() ? "-" : o.tenant.c_str(), object.c_str(), detail.c_str());
    else
      std::printf("%-12s  %-12s  %-40s  %s\n", status::toString(o.state), status::toString(o.health), object.c_str(),
                  detail.c_str());
  }
  if (c.truncated > 0) std::printf("... and %zu more objects (report truncated)\n", c.truncated);
}

// --html: the fleet page, written whole (a temporary file renamed over FILE).
int writePage(const status::FleetStatus& fleet, const std::filesystem::path& repository, const std::string& file,
              const std::string& groupBy, std::chrono::seconds window, std::chrono::seconds staleAfter,
              status::Clock::time_point now) {
  status::HistoryOptions options;
  options.since = now - window;
  auto history = status::readHistory(repository, fleet.statusCommit, options);
  if (!history) {
    std::fprintf(stderr, "gitfed status: history of %s: %s\n", fleet.statusBranch.c_str(),
                 history.error().format().c_str());
    return 1;
  }
  for (const auto& w : history->warnings) std::fprintf(stderr, "gitfed status: warning: %s\n", w.c_str());
  status::PageOptions page;
  page.now = now;
  page.staleAfter = staleAfter;
  page.groupBy = groupBy;
  page.generator = std::string("gitfed ") + GITFED_VERSION;
  const std::string html = status::renderFleetPage(fleet, *history, page);
  const std::string tmp = file + ".tmp";
  {
    std::FILE* f = std::fopen(tmp.c_str(), "wb");
    if (!f) {
      std::fprintf(stderr, "gitfed status: cannot write %s: %s\n", tmp.c_str(), std::strerror(errno));
      return 1;
    }
    bool ok = std::fwrite(html.data(), 1, html.size(), f) == html.size();
    ok = std::fclose(f) == 0 && ok;
    if (!ok) {
      std::fprintf(stderr, "gitfed status: cannot write %s: %s\n", tmp.c_str(), std::strerror(errno));
      std::remove(tmp.c_str());
      return 1;
    }
  }
  std::error_code ec;
  std::filesystem::rename(tmp, file, ec);
  if (ec) {
    std::fprintf(stderr, "gitfed status: cannot write %s: %s\n", file.c_str(), ec.message().c_str());
    std::remove(tmp.c_str());
    return 1;
  }
  std::printf("wrote %s: %zu clusters, %zu bytes, %zu commits of history\n", file.c_str(), fleet.clusters.size(),
              html.size(), history->commits);
  return 0;
}

}  // namespace

int statusCommand(const Args& args) {
  std::string repository, cluster, output = "table", branch = "main", statusBranch = "gitfed-status", cacheDir;
  std::string htmlFile, groupBy, publicKeys;
  std::chrono::seconds staleAfter(15 * 60), historyWindow(7 * 86400);
  git::RemoteOptions remote;
  remote.timeouts.operation = std::chrono::seconds(30);
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "-h" || a == "--help") {
      std::fputs(kStatusUsage, stdout);
      return 0;
    }
    std::string flag = a, value;
    bool inlineValue = false;
    if (a.starts_with("--") && a.find('=') != std::string::npos) {
      flag = a.substr(0, a.find('='));
      value = a.substr(a.find('=') + 1);
      inlineValue = true;
    }
    auto next = [&]() -> bool {
      if (inlineValue) return true;
      if (i + 1 >= args.size()) return false;
      value = args[++i];
      return true;
    };
    if (!flag.starts_with("-")) {
      if (!repository.empty()) return usageError("one REPOSITORY only");
      repository = a;
      continue;
    }
    if (!next()) return usageError(flag + " needs a value");
    if (flag == "--cluster") cluster = value;
    else if (flag == "--output" || flag == "-o") output = value;
    else if (flag == "--branch") branch = value;
    else if (flag == "--status-branch") statusBranch = value;
    else if (flag == "--cache") cacheDir = value;
    else if (flag == "--html") htmlFile = value;
    else if (flag == "--group-by") groupBy = value;
    else if (flag == "--public-keys") publicKeys = value;
    else if (flag == "--username") remote.credentials.username = value;
    else if (flag == "--username-file") remote.credentials.usernameFile = value;
    else if (flag == "--password-file") remote.credentials.passwordFile = value;
    else if (flag == "--token-file") remote.credentials.tokenFile = value;
    else if (flag == "--ca-file") remote.credentials.caFile = value;
    else if (flag == "--ssh-key") remote.credentials.sshKeyFile = value;
    else if (flag == "--known-hosts") remote.credentials.knownHostsFile = value;
    else if (flag == "--stale-after" || flag == "--timeout" || flag == "--history") {
      auto d = parseDuration(value);
      if (!d) return usageError(flag + ": not a duration: \"" + value + "\" (e.g. 90s, 15m, 2h, 7d)");
      if (flag == "--stale-after") staleAfter = *d;
      else if (flag == "--history") historyWindow = *d;
      else remote.timeouts.operation = *d;
    } else {
      return usageError("unknown option " + flag);
    }
  }
  if (repository.empty()) return usageError("REPOSITORY is required");
  if (output != "table" && output != "json") return usageError("--output must be table or json");
  if (!htmlFile.empty() && !cluster.empty()) return usageError("--html shows the whole fleet: not with --cluster");

  status::PublicKeys keys;
  if (!publicKeys.empty()) {
    auto loaded = loadPublicKeys(publicKeys);
    if (!loaded) {
      std::fprintf(stderr, "gitfed status: --public-keys: %s\n", loaded.error().c_str());
      return 2;
    }
    keys = std::move(*loaded);
  }
  // Without --public-keys the reader takes the registry's keys (reader.h).
  git::Libgit2 libgit2;
  status::Result<status::FleetStatus> fleet;
  std::error_code ec;
  ScratchDir scratch;
  std::filesystem::path readFrom = repository;  // where the status branch's history is, once read
  if (std::filesystem::is_directory(repository, ec)) {
    fleet = status::readLocalFleetStatus(repository, statusBranch, branch, publicKeys.empty() ? nullptr : &keys);
  } else {
    auto url = git::parseRemoteUrl(repository);
    if (!url) {
      std::fprintf(stderr, "gitfed status: %s\n", url.error().format().c_str());
      return 2;
    }
    remote.url = repository;
    std::filesystem::path cache = cacheDir.empty() ? scratch.path / "status.git" : std::filesystem::path(cacheDir);
    fleet = status::readFleetStatus(remote, cache, statusBranch, branch, publicKeys.empty() ? nullptr : &keys);
    readFrom = cache;
  }
  if (!fleet) {
    std::fprintf(stderr, "gitfed status: %s\n", fleet.error().format().c_str());
    return 1;
  }
  for (const auto& w : fleet->warnings) std::fprintf(stderr, "gitfed status: warning: %s\n", w.c_str());
  if (!publicKeys.empty() && fleet->refs > 0) fleet->keySource = "--public-keys " + publicKeys;
  const auto now = status::Clock::now();
  if (!htmlFile.empty()) return writePage(*fleet, readFrom, htmlFile, groupBy, historyWindow, staleAfter, now);
  std::vector<status::ClusterRow> rows;
  for (const auto& c : fleet->clusters) rows.push_back(status::summarize(c, fleet->configRevision, now, staleAfter));

  if (!cluster.empty()) {
    for (std::size_t i = 0; i < fleet->clusters.size(); ++i) {
      if (fleet->clusters[i].name != cluster) continue;
      if (output == "json") {
        json j = status::toJson(fleet->clusters[i]);
        j["status"] = rowJson(rows[i]);
        j["status"]["report"] = originJson(*fleet, rows[i].name);
        std::printf("%s\n", j.dump(2).c_str());
      } else {
        printCluster(fleet->clusters[i], rows[i]);
        std::printf("report from  %s\n", originText(*fleet, fleet->clusters[i].name).c_str());
      }
      return 0;
    }
    std::fprintf(stderr, "gitfed status: no report of cluster \"%s\" on %s\n", cluster.c_str(), statusBranch.c_str());
    return 1;
  }
  if (output == "json") {
    json j = {{"statusBranch", {{"name", fleet->statusBranch}, {"commit", fleet->statusCommit}}},
              {"configBranch",
               {{"name", fleet->configBranch},
                {"revision", fleet->configRevision ? json(*fleet->configRevision) : json(nullptr)}}},
              {"clusters", json::array()}};
    j["refs"] = fleet->refs;
    j["publicKeys"] = fleet->keySource;
    for (const auto& r : rows) {
      json row = rowJson(r);
      row["report"] = originJson(*fleet, r.name);
      j["clusters"].push_back(std::move(row));
    }
    std::printf("%s\n", j.dump(2).c_str());
  } else {
    printTable(*fleet, rows);
  }
  return 0;
}

GITFED_COMMAND("status", "show the fleet's status branch: one row per cluster, or one cluster's objects",
               statusCommand);

}  // namespace gitfed::cli
