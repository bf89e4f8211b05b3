#include "gitfed/status/report.h"

#include <algorithm>
#include <cctype>
#include <ctime>

#include "gitfed/render/document_reader.h"
#include "gitfed/render/writer.h"

namespace gitfed::status {
namespace {

using nlohmann::json;

Result<ClusterStatus> bad(const std::string& why) { return git::fail(ErrorCode::InvalidArgument, why, "status report"); }

std::string str(const json& doc, const char* key) {
  auto it = doc.find(key);
  return it != doc.end() && it->is_string() ? it->get<std::string>() : std::string();
}

std::size_t count(const json& doc, const char* key) {
  auto it = doc.find(key);
  return it != doc.end() && it->is_number_unsigned() ? it->get<std::size_t>()
         : it != doc.end() && it->is_number_integer() && it->get<long long>() >= 0
             ? static_cast<std::size_t>(it->get<long long>())
             : 0;
}

template <class E>
std::optional<E> parseEnum(std::string_view s, std::initializer_list<E> all) {
  for (E e : all)
    if (s == toString(e)) return e;
  return std::nullopt;
}

}  // namespace

const char* toString(Phase p) {
  switch (p) {
    case Phase::Synced: return "Synced";
    case Phase::Progressing: return "Progressing";
    case Phase::Drifted: return "Drifted";
    case Phase::Failed: return "Failed";
    case Phase::Stale: return "Stale";
  }
  return "?";
}

const char* toString(ObjectState s) {
  switch (s) {
    case ObjectState::Drifted: return "Drifted";
    case ObjectState::Missing: return "Missing";
    case ObjectState::Failed: return "Failed";
    case ObjectState::Progressing: return "Progressing";
    case ObjectState::Pruned: return "Pruned";
    case ObjectState::Suspended: return "Suspended";
    case ObjectState::Waiting: return "Waiting";
  }
  return "?";
}

const char* toString(Health h) {
  switch (h) {
    case Health::Healthy: return "Healthy";
    case Health::Progressing: return "Progressing";
    case Health::Degraded: return "Degraded";
    case Health::Unknown: return "Unknown";
  }
  return "?";
}

std::optional<Phase> parsePhase(std::string_view s) {
  return parseEnum(s, {Phase::Synced, Phase::Progressing, Phase::Drifted, Phase::Failed, Phase::Stale});
}

std::string formatTime(Clock::time_point t) {
  std::time_t secs = Clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::optional<Clock::time_point> parseTime(std::string_view s) {
  std::tm tm{};
  std::string text(s);
  const char* end = strptime(text.c_str(), "%Y-%m-%dT%H:%M:%S", &tm);
  if (end == nullptr) return std::nullopt;
  std::string_view rest(end);
  if (!rest.empty() && rest.front() == '.') {  // fractional seconds
    rest.remove_prefix(1);
    while (!rest.empty() && std::isdigit(static_cast<unsigned char>(rest.front()))) rest.remove_prefix(1);
  }
  if (rest != "Z") return std::nullopt;
  return Clock::from_time_t(timegm(&tm));
}

bool isValidClusterName(std::string_view name) {
  if (name.empty() || name.size() > 253) return false;
  auto alnum = [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); };
  if (!alnum(name.front()) || !alnum(name.back())) return false;
  for (char c : name)
    if (!alnum(c) && c != '-' && c != '.') return false;
  return name.find("..") == std::string_view::npos;
}

void limitObjects(ClusterStatus& report) {
  if (report.objects.size() <= kMaxObjects) return;
  report.truncated += report.objects.size() - kMaxObjects;
  report.objects.resize(kMaxObjects);
}

namespace {

// `s` cut to at most `max` bytes (at a UTF-8 character boundary), ending "...".
void clip(std::string& s, std::size_t max) {
  if (s.size() <= max) return;
  std::size_t cut = max > 3 ? max - 3 : 0;
  while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80) --cut;
  s.resize(cut);
  s += "...";
}

void clipValue(json& v) {
  if (v.is_null() || v.is_boolean() || v.is_number()) return;
  const std::size_t n = v.dump().size();
  if (n > kMaxValueBytes) v = "<" + std::to_string(n) + " bytes: not shown>";
}

}  // namespace

void limitSize(ClusterStatus& r, std::size_t maxBytes) {
  clip(r.sync.message, kMaxMessageBytes);
  for (auto& e : r.sync.errors) {
    clip(e.message, kMaxMessageBytes);
    if (e.examples.size() > 5) e.examples.resize(5);
  }
  if (r.sync.errors.size() > kMaxErrors) {
    const std::size_t more = r.sync.errors.size() - (kMaxErrors - 1);
    r.sync.errors.resize(kMaxErrors - 1);
    r.sync.errors.push_back(ReportError{{}, 0, {}, std::to_string(more) + " more errors not shown", {}, more, {}});
  }
  for (auto& o : r.objects) {
    clip(o.message, kMaxMessageBytes);
    for (auto& d : o.drift) {
      clipValue(d.desired);
      clipValue(d.live);
    }
    if (o.drift.size() > 20) o.drift.resize(20);
  }
  limitObjects(r);
  // A cheap lower estimate of each object's text first: objects past twice
  // the bound can never fit, whatever the YAML adds.
  std::size_t estimate = 0, keepAtMost = 0;
  for (const auto& o : r.objects) {
    estimate += o.apiVersion.size() + o.kind.size() + o.ns.size() + o.name.size() + o.message.size() + o.tenant.size();
    for (const auto& d : o.drift) estimate += d.path.size() + d.desired.dump().size() + d.live.dump().size();
    if (estimate > 2 * maxBytes) break;
    ++keepAtMost;
  }
  if (keepAtMost < r.objects.size()) {
    r.truncated += r.objects.size() - keepAtMost;
    r.objects.resize(keepAtMost);
  }
  // Then as many of the first objects as fit: the largest count whose text
  // is within the bound (the text grows with the count).
  auto fits = [&](std::size_t keep) {
    ClusterStatus probe;
    probe.name = r.name;
    probe.labels = r.labels;
    probe.source = r.source;
    probe.sync = r.sync;
    probe.summary = r.summary;
    probe.objects.assign(r.objects.begin(), r.objects.begin() + static_cast<std::ptrdiff_t>(keep));
    probe.truncated = r.truncated + (r.objects.size() - keep) + 1;  // room for the field
    probe.agentVersion = r.agentVersion;
    return toYamlText(probe).size() <= maxBytes;
  };
  if (fits(r.objects.size())) return;
  std::size_t lo = 0, hi = r.objects.size();  // fits(lo) assumed; !fits(hi)
  while (hi - lo > 1) {
    const std::size_t mid = lo + (hi - lo) / 2;
    (fits(mid) ? lo : hi) = mid;
  }
  r.truncated += r.objects.size() - lo;
  r.objects.resize(lo);
  // Still too large without objects (labels, a long URL): errors go, then the rest is what it is.
  while (!r.sync.errors.empty() && toYamlText(r).size() > maxBytes) r.sync.errors.pop_back();
}

json toJson(const ClusterStatus& r) {
  json doc = json::object();
  doc["apiVersion"] = "gitfed.io/v1alpha1";
  doc["kind"] = "ClusterStatus";
  doc["metadata"] = {{"name", r.name}};
  if (!r.labels.empty()) doc["metadata"]["labels"] = r.labels;
  doc["source"] = {{"url", r.source.url}, {"ref", r.source.ref}, {"revision", r.source.revision}};
  json sync = {{"phase", toString(r.sync.phase)}, {"appliedRevision", r.sync.appliedRevision}, {"message", r.sync.message}};
  if (r.sync.lastAttemptAt) sync["lastAttemptAt"] = formatTime(*r.sync.lastAttemptAt);
  if (r.sync.lastSuccessAt) sync["lastSuccessAt"] = formatTime(*r.sync.lastSuccessAt);
  if (r.sync.suspended) {
    sync["suspended"] = {{"by", r.sync.suspended->by}};
    if (!r.sync.suspended->reason.empty()) sync["suspended"]["reason"] = r.sync.suspended->reason;
  }
  json errors = json::array();
  for (const auto& e : r.sync.errors) {
    json item = json::object();
    if (!e.file.empty()) item["file"] = e.file;
    if (e.line > 0) item["line"] = e.line;
    if (!e.object.empty()) item["object"] = e.object;
    if (!e.tenant.empty()) item["tenant"] = e.tenant;
    if (e.count > 0) item["count"] = e.count;
    if (!e.examples.empty()) item["objects"] = e.examples;
    item["message"] = e.message;
    errors.push_back(std::move(item));
  }
  sync["errors"] = std::move(errors);
  doc["sync"] = std::move(sync);
  const Summary& s = r.summary;
  doc["summary"] = {{"objects", s.objects}, {"synced", s.synced},           {"drifted", s.drifted}, {"missing", s.missing},
                    {"failed", s.failed},   {"progressing", s.progressing}, {"pruned", s.pruned},
                    {"degraded", s.degraded}, {"suspended", s.suspended}, {"waiting", s.waiting}};
  json objects = json::array();
  for (const auto& o : r.objects) {
    json item = {{"apiVersion", o.apiVersion}, {"kind", o.kind}, {"name", o.name},
                 {"state", toString(o.state)}, {"health", toString(o.health)}};
    if (!o.ns.empty()) item["namespace"] = o.ns;
    if (!o.tenant.empty()) item["tenant"] = o.tenant;
    if (!o.message.empty()) item["message"] = o.message;
    if (!o.drift.empty()) {
      json drift = json::array();
      for (const auto& d : o.drift) drift.push_back({{"path", d.path}, {"desired", d.desired}, {"live", d.live}});
      item["drift"] = std::move(drift);
    }
    objects.push_back(std::move(item));
  }
  doc["objects"] = std::move(objects);
  if (r.truncated > 0) doc["truncated"] = r.truncated;
  doc["agent"] = {{"version", r.agentVersion}};
  return doc;
}

Result<ClusterStatus> fromJson(const json& doc) {
  if (!doc.is_object()) return bad("not a mapping");
  if (str(doc, "apiVersion") != "gitfed.io/v1alpha1" || str(doc, "kind") != "ClusterStatus")
    return bad("not a gitfed.io/v1alpha1 ClusterStatus");
  ClusterStatus r;
  const json meta = doc.value("metadata", json::object());
  r.name = str(meta, "name");
  if (!isValidClusterName(r.name)) return bad("invalid metadata.name \"" + r.name + "\"");
  if (auto it = meta.find("labels"); it != meta.end() && it->is_object())
    for (const auto& [k, v] : it->items())
      if (v.is_string()) r.labels[k] = v.get<std::string>();
  const json source = doc.value("source", json::object());
  r.source.url = str(source, "url");
  r.source.ref = str(source, "ref");
  r.source.revision = str(source, "revision");
  const json sync = doc.value("sync", json::object());
  auto phase = parsePhase(str(sync, "phase"));
  if (!phase) return bad("invalid sync.phase \"" + str(sync, "phase") + "\"");
  r.sync.phase = *phase;
  r.sync.appliedRevision = str(sync, "appliedRevision");
  r.sync.lastAttemptAt = parseTime(str(sync, "lastAttemptAt"));
  r.sync.lastSuccessAt = parseTime(str(sync, "lastSuccessAt"));
  r.sync.message = str(sync, "message");
  if (auto it = sync.find("suspended"); it != sync.end() && it->is_object())
    r.sync.suspended = ClusterStatus::Sync::Suspended{str(*it, "by"), str(*it, "reason")};
  if (auto it = sync.find("errors"); it != sync.end() && it->is_array())
    for (const auto& e : *it) {
      if (!e.is_object()) continue;
      ReportError re;
      re.file = str(e, "file");
      re.line = static_cast<int>(count(e, "line"));
      re.object = str(e, "object");
      re.message = str(e, "message");
      re.tenant = str(e, "tenant");
      re.count = count(e, "count");
      if (auto ex = e.find("objects"); ex != e.end() && ex->is_array())
        for (const auto& o : *ex)
          if (o.is_string()) re.examples.push_back(o.get<std::string>());
      r.sync.errors.push_back(std::move(re));
    }
  const json summary = doc.value("summary", json::object());
  r.summary = Summary{count(summary, "objects"), count(summary, "synced"),      count(summary, "drifted"),
                      count(summary, "missing"), count(summary, "failed"),      count(summary, "progressing"),
                      count(summary, "pruned"),  count(summary, "degraded"),
                      count(summary, "suspended"), count(summary, "waiting")};
  if (auto it = doc.find("objects"); it != doc.end() && it->is_array())
    for (const auto& o : *it) {
      if (!o.is_object()) continue;
      ObjectStatus os;
      os.apiVersion = str(o, "apiVersion");
      os.kind = str(o, "kind");
      os.ns = str(o, "namespace");
      os.name = str(o, "name");
      os.state = parseEnum(str(o, "state"), {ObjectState::Drifted, ObjectState::Missing, ObjectState::Failed,
                                             ObjectState::Progressing, ObjectState::Pruned, ObjectState::Suspended,
                                             ObjectState::Waiting})
                     .value_or(ObjectState::Drifted);
      os.health = parseEnum(str(o, "health"), {Health::Healthy, Health::Progressing, Health::Degraded, Health::Unknown})
                      .value_or(Health::Unknown);
      os.message = str(o, "message");
      os.tenant = str(o, "tenant");
      if (auto d = o.find("drift"); d != o.end() && d->is_array())
        for (const auto& item : *d)
          if (item.is_object())
            os.drift.push_back(Drift{str(item, "path"), item.value("desired", json()), item.value("live", json())});
      r.objects.push_back(std::move(os));
    }
  r.truncated = count(doc, "truncated");
  r.agentVersion = str(doc.value("agent", json::object()), "version");
  return r;
}

std::string toYamlText(const ClusterStatus& report) {
  json doc = toJson(report);
  std::string out;
  // One single-key mapping at a time: the spec's key order, not the map's.
  for (const char* key : {"apiVersion", "kind", "metadata", "source", "sync", "summary", "objects", "truncated", "agent"}) {
    auto it = doc.find(key);
    if (it == doc.end()) continue;
    out += render::toYaml(json{{key, *it}});
  }
  return out;
}

Result<json> parseReportJson(std::string_view yaml) {
  auto outcome = render::readYamlStream(yaml);
  if (!outcome.errors.empty())
    return git::fail(ErrorCode::InvalidArgument, outcome.errors.front().format(), "status report");
  if (outcome.documents.size() != 1)
    return git::fail(ErrorCode::InvalidArgument, "expected one YAML document", "status report");
  return std::move(outcome.documents.front().value);
}

Result<ClusterStatus> parseReport(std::string_view yaml) {
  auto doc = parseReportJson(yaml);
  if (!doc) return std::unexpected(doc.error());
  return fromJson(*doc);
}

std::string commitMessage(const ClusterStatus& r) {
  std::string rev = r.source.revision.substr(0, 7);
  if (rev.empty()) rev = "(no revision)";
  std::string out = r.name + ": " + toString(r.sync.phase) + " " + rev;
  auto plural = [](std::size_t n, const char* what) {
    return std::to_string(n) + " " + what + (n == 1 ? "" : "s");
  };
  switch (r.sync.phase) {
    case Phase::Synced:
      out += " (" + plural(r.summary.objects, "object") + ")";
      break;
    case Phase::Progressing:
      out += " (" + std::to_string(r.summary.progressing) + " progressing)";
      break;
    case Phase::Drifted:
      out += " (" + std::to_string(r.summary.drifted) + " drifted)";
      break;
    case Phase::Failed: {
      std::size_t renderErrors = 0;
      for (const auto& e : r.sync.errors) renderErrors += e.file.empty() ? 0u : 1u;
      if (renderErrors > 0)
        out += ": " + plural(renderErrors, "render error");
      else
        out += ": " + std::to_string(std::max<std::size_t>(r.summary.failed, r.sync.errors.size())) + " failed";
      break;
    }
    case Phase::Stale:
      out += " (source not fetched)";
      break;
  }
  return out;
}

}  // namespace gitfed::status
