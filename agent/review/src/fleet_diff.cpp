#include "gitfed/review/fleet_diff.h"

#include <algorithm>
#include <atomic>
#include <map>
#include <set>
#include <sstream>
#include <thread>
#include <unordered_map>

#include "gitfed/render/writer.h"
#include "gitfed/review/unified_diff.h"

namespace gitfed::review {
namespace {

using nlohmann::json;

constexpr std::string_view kRedacted = "<redacted>";
constexpr std::string_view kRedactedChanged = "<redacted: changed>";
constexpr std::string_view kLastApplied = "kubectl.kubernetes.io/last-applied-configuration";

std::string keyOf(const render::RenderedObject& o) { return o.group + "/" + o.kind + "/" + o.ns + "/" + o.name; }

std::string sourceOf(const render::RenderedObject& o) {
  return o.source.path + (o.source.line > 0 ? ":" + std::to_string(o.source.line) : "");
}

ObjectChange changeOf(ObjectChange::Type type, const render::RenderedObject& o) {
  ObjectChange c;
  c.type = type;
  c.apiVersion = o.value.value("apiVersion", "");
  c.kind = o.kind;
  c.ns = o.ns;
  c.name = o.name;
  c.source = sourceOf(o);
  return c;
}

ClusterDiff diffCluster(const render::Repository& base, const render::Repository& head, const std::string& name,
                        const render::Labels& labels) {
  ClusterDiff cd;
  cd.cluster = name;
  auto b = render::renderCluster(base, name, labels);
  auto h = render::renderCluster(head, name, labels);
  cd.baseErrors = std::move(b.errors);
  cd.headErrors = std::move(h.errors);
  if (cd.hasErrors()) return cd;

  std::unordered_map<std::string, std::size_t> inBase;
  for (std::size_t i = 0; i < b.objects.size(); ++i) inBase.emplace(keyOf(b.objects[i]), i);
  std::unordered_map<std::string, std::size_t> inHead;
  for (std::size_t i = 0; i < h.objects.size(); ++i) inHead.emplace(keyOf(h.objects[i]), i);

  for (const auto& o : b.objects)
    if (!inHead.contains(keyOf(o))) {
      cd.changes.push_back(changeOf(ObjectChange::Type::Removed, o));
      ++cd.removed;
    }
  for (const auto& o : h.objects) {
    auto it = inBase.find(keyOf(o));
    if (it == inBase.end()) continue;
    const auto& before = b.objects[it->second];
    if (before.value == o.value) continue;
    ObjectChange c = changeOf(ObjectChange::Type::Changed, o);
    c.diff = unifiedDiff(render::toYaml(redactSecret(before.value, &o.value)),
                         render::toYaml(redactSecret(o.value, &before.value)));
    cd.changes.push_back(std::move(c));
    ++cd.changed;
  }
  for (const auto& o : h.objects)
    if (!inBase.contains(keyOf(o))) {
      cd.changes.push_back(changeOf(ObjectChange::Type::Added, o));
      ++cd.added;
    }
  return cd;
}

std::string plural(int n, const char* word) { return std::to_string(n) + " " + word; }

std::string counts(const ClusterDiff& c) {
  return plural(c.added, "added") + ", " + plural(c.removed, "removed") + ", " + plural(c.changed, "changed");
}

char marker(ObjectChange::Type t) {
  switch (t) {
    case ObjectChange::Type::Added:
      return '+';
    case ObjectChange::Type::Removed:
      return '-';
    case ObjectChange::Type::Changed:
      return '~';
  }
  return '?';
}

const char* typeName(ObjectChange::Type t) {
  switch (t) {
    case ObjectChange::Type::Added:
      return "added";
    case ObjectChange::Type::Removed:
      return "removed";
    case ObjectChange::Type::Changed:
      return "changed";
  }
  return "?";
}

void indentLines(std::ostringstream& out, const std::string& text, const std::string& prefix) {
  std::size_t start = 0;
  while (start < text.size()) {
    auto nl = text.find('\n', start);
    out << prefix << text.substr(start, nl == std::string::npos ? std::string::npos : nl - start) << '\n';
    if (nl == std::string::npos) break;
    start = nl + 1;
  }
}

void errorsText(std::ostringstream& out, const ClusterDiff& c, const std::string& indent) {
  for (const auto& e : c.baseErrors) out << indent << "base: " << e.format() << '\n';
  for (const auto& e : c.headErrors) out << indent << "head: " << e.format() << '\n';
}

// Markdown code spans cannot hold backticks; object names never do, but be safe.
std::string code(const std::string& s) {
  std::string t = s;
  std::replace(t.begin(), t.end(), '`', '\'');
  return "`" + t + "`";
}

std::string escapeMarkdown(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '|' || c == '<' || c == '>' || c == '*' || c == '_' || c == '`' || c == '[' || c == ']') out += '\\';
    out += c;
  }
  return out;
}

}  // namespace

std::string ObjectChange::id() const {
  return apiVersion + " " + kind + " " + (ns.empty() ? name : ns + "/" + name);
}

bool FleetDiff::hasErrors() const {
  return std::any_of(clusters.begin(), clusters.end(), [](const ClusterDiff& c) { return c.hasErrors(); });
}

bool FleetDiff::hasChanges() const {
  return std::any_of(clusters.begin(), clusters.end(), [](const ClusterDiff& c) { return !c.changes.empty(); });
}

json redactSecret(const json& object, const json* other) {
  if (object.value("kind", "") != "Secret" || object.value("apiVersion", "") != "v1") return object;
  json out = object;
  for (const char* field : {"data", "stringData"}) {
    auto it = out.find(field);
    if (it == out.end() || !it->is_object()) continue;
    const json* otherField = nullptr;
    if (other && other->contains(field) && (*other)[field].is_object()) otherField = &(*other)[field];
    for (auto v = it->begin(); v != it->end(); ++v) {
      bool changed = other && (!otherField || !otherField->contains(v.key()) || (*otherField)[v.key()] != v.value());
      v.value() = std::string(changed ? kRedactedChanged : kRedacted);
    }
  }
  if (auto md = out.find("metadata"); md != out.end() && md->is_object()) {
    if (auto a = md->find("annotations"); a != md->end() && a->is_object() && a->contains(kLastApplied))
      (*a)[std::string(kLastApplied)] = std::string(kRedacted);
  }
  return out;
}

FleetDiff diffFleet(const render::Repository& base, const render::Repository& head,
                    const std::vector<ExtraCluster>& extra) {
  std::map<std::string, render::Labels> clusters;
  for (const auto& c : base.clusters) clusters.emplace(c.name, render::Labels{});
  for (const auto& c : head.clusters) clusters.emplace(c.name, render::Labels{});
  for (const auto& e : extra) clusters[e.name] = e.labels;

  std::vector<std::pair<std::string, render::Labels>> work(clusters.begin(), clusters.end());
  FleetDiff out;
  out.clusters.resize(work.size());
  // Clusters are independent: render them on every core.
  std::atomic<std::size_t> next{0};
  auto worker = [&] {
    for (std::size_t i = next++; i < work.size(); i = next++)
      out.clusters[i] = diffCluster(base, head, work[i].first, work[i].second);
  };
  unsigned threads = std::max(1u, std::min<unsigned>(std::thread::hardware_concurrency(),
                                                     static_cast<unsigned>(work.size())));
  {
    std::vector<std::jthread> pool;
    for (unsigned t = 1; t < threads; ++t) pool.emplace_back(worker);
    worker();
  }
  return out;
}

std::string formatText(const FleetDiff& diff) {
  std::ostringstream out;
  for (const auto& c : diff.clusters) {
    if (c.hasErrors()) {
      out << "cluster " << c.cluster << ": render errors\n";
      errorsText(out, c, "  ");
      continue;
    }
    if (c.changes.empty()) {
      out << "cluster " << c.cluster << ": no changes\n";
      continue;
    }
    out << "cluster " << c.cluster << ": " << counts(c) << '\n';
    for (const auto& ch : c.changes) {
      out << "  " << marker(ch.type) << ' ' << ch.id() << "  (" << ch.source << ")\n";
      if (!ch.diff.empty()) indentLines(out, ch.diff, "      ");
    }
  }
  out << "\nsummary:\n";
  std::size_t width = 7;
  for (const auto& c : diff.clusters) width = std::max(width, c.cluster.size());
  auto row = [&](const std::string& a, const std::string& b, const std::string& c, const std::string& d) {
    out << "  " << a << std::string(width - a.size() + 2, ' ');
    for (const auto* s : {&b, &c, &d}) out << std::string(s->size() < 8 ? 8 - s->size() : 0, ' ') << *s << ' ';
    out << '\n';
  };
  row("cluster", "added", "removed", "changed");
  for (const auto& c : diff.clusters) {
    if (c.hasErrors())
      row(c.cluster, "error", "error", "error");
    else
      row(c.cluster, std::to_string(c.added), std::to_string(c.removed), std::to_string(c.changed));
  }
  return out.str();
}

std::string formatMarkdown(const FleetDiff& diff, std::size_t maxDiffLines) {
  std::ostringstream out;
  out << "### gitfed fleet diff\n\n";
  if (diff.hasErrors()) out << "**Render errors: this change breaks rendering for some clusters.**\n\n";
  out << "| cluster | added | removed | changed |\n|---|---:|---:|---:|\n";
  for (const auto& c : diff.clusters) {
    if (c.hasErrors())
      out << "| " << escapeMarkdown(c.cluster) << " | error | error | error |\n";
    else
      out << "| " << escapeMarkdown(c.cluster) << " | " << c.added << " | " << c.removed << " | " << c.changed << " |\n";
  }
  out << '\n';
  for (const auto& c : diff.clusters) {
    if (c.hasErrors()) {
      out << "<details open><summary><b>" << escapeMarkdown(c.cluster) << "</b>: render errors</summary>\n\n";
      for (const auto& e : c.baseErrors) out << "- base: " << code(e.format()) << '\n';
      for (const auto& e : c.headErrors) out << "- head: " << code(e.format()) << '\n';
      out << "\n</details>\n\n";
      continue;
    }
    if (c.changes.empty()) continue;
    out << "<details><summary><b>" << escapeMarkdown(c.cluster) << "</b>: " << counts(c) << "</summary>\n\n";
    for (const auto& ch : c.changes) out << "- " << typeName(ch.type) << ' ' << code(ch.id()) << '\n';
    for (const auto& ch : c.changes) {
      if (ch.diff.empty()) continue;
      out << "\n" << code(ch.id()) << ":\n\n```diff\n";
      std::size_t lines = 0;
      std::size_t start = 0;
      std::size_t total = static_cast<std::size_t>(std::count(ch.diff.begin(), ch.diff.end(), '\n'));
      while (start < ch.diff.size() && lines < maxDiffLines) {
        auto nl = ch.diff.find('\n', start);
        std::string line = ch.diff.substr(start, nl - start);
        // A line of only ``` would close the fence early.
        if (line.find("```") != std::string::npos) line = line.substr(0, 1) + " " + line.substr(1);
        out << line << '\n';
        ++lines;
        start = nl + 1;
      }
      out << "```\n";
      if (total > lines) out << "\n_… " << (total - lines) << " more lines not shown_\n";
    }
    out << "\n</details>\n\n";
  }
  return out.str();
}

json toJson(const FleetDiff& diff) {
  json clusters = json::array();
  for (const auto& c : diff.clusters) {
    json changes = json::array();
    for (const auto& ch : c.changes) {
      json j = {{"type", typeName(ch.type)}, {"apiVersion", ch.apiVersion}, {"kind", ch.kind},
                {"namespace", ch.ns},        {"name", ch.name},             {"source", ch.source}};
      if (!ch.diff.empty()) j["diff"] = ch.diff;
      changes.push_back(std::move(j));
    }
    auto errs = [](const std::vector<render::Diagnostic>& list) {
      json a = json::array();
      for (const auto& e : list) a.push_back({{"file", e.path}, {"line", e.line}, {"message", e.message}});
      return a;
    };
    clusters.push_back({{"name", c.cluster},
                        {"added", c.added},
                        {"removed", c.removed},
                        {"changed", c.changed},
                        {"errors", {{"base", errs(c.baseErrors)}, {"head", errs(c.headErrors)}}},
                        {"changes", std::move(changes)}});
  }
  return {{"clusters", std::move(clusters)}, {"hasChanges", diff.hasChanges()}, {"hasErrors", diff.hasErrors()}};
}

}  // namespace gitfed::review
