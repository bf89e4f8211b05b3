#include "gitfed/render/depends_on.h"

#include <algorithm>
#include <map>
#include <optional>
#include <tuple>

#include "gitfed/render/renderer.h"

namespace gitfed::render {

namespace {

constexpr std::string_view kFormats = "<group>/namespaces/<namespace>/<kind>/<name> or <group>/<kind>/<name>";

std::string_view trim(std::string_view s) {
  const auto space = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; };
  while (!s.empty() && space(s.front())) s.remove_prefix(1);
  while (!s.empty() && space(s.back())) s.remove_suffix(1);
  return s;
}

std::vector<std::string_view> split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  for (;;) {
    auto at = s.find(sep);
    out.push_back(s.substr(0, at));
    if (at == std::string_view::npos) return out;
    s.remove_prefix(at + 1);
  }
}

std::string inQuotes(std::string_view s) { return "\"" + std::string(s) + "\""; }

std::string identity(const std::string& kind, const std::string& ns, const std::string& name) {
  return ns.empty() ? kind + " " + name : kind + " " + ns + "/" + name;
}

std::string identity(const RenderedObject& o) { return identity(o.kind, o.ns, o.name); }

}  // namespace

std::expected<std::vector<DependencyRef>, std::string> parseDependsOn(std::string_view value) {
  std::vector<DependencyRef> refs;
  const auto entries = split(value, ',');
  for (std::size_t i = 0; i < entries.size(); ++i) {
    const std::string_view entry = trim(entries[i]);
    const std::string where = entries.size() == 1 ? std::string() : "entry " + std::to_string(i + 1) + " ";
    if (entry.empty()) return std::unexpected(where + "is empty (expected " + std::string(kFormats) + ")");
    const auto fields = split(entry, '/');
    DependencyRef r;
    if (fields.size() == 3) {
      r = DependencyRef{std::string(fields[0]), std::string(fields[1]), "", std::string(fields[2])};
    } else if (fields.size() == 5) {
      if (fields[1] != "namespaces")
        return std::unexpected(where + inQuotes(entry) + ": the second of 5 fields must be \"namespaces\" (expected " +
                               std::string(kFormats) + ")");
      r = DependencyRef{std::string(fields[0]), std::string(fields[3]), std::string(fields[2]), std::string(fields[4])};
    } else {
      std::string hint;
      if (fields.size() == 4 && fields[1].starts_with("v") && fields[1].find_first_of("0123456789") == 1)
        hint = "; the group is written without its version";
      return std::unexpected(where + inQuotes(entry) + ": " + std::to_string(fields.size()) + " fields (expected " +
                             std::string(kFormats) + ")" + hint);
    }
    r.ns = std::string(trim(r.ns));
    r.name = std::string(trim(r.name));
    if (r.kind.empty()) return std::unexpected(where + inQuotes(entry) + ": the kind is empty");
    if (r.name.empty()) return std::unexpected(where + inQuotes(entry) + ": the name is empty");
    refs.push_back(std::move(r));
  }
  return refs;
}

std::string formatDependencyRef(const DependencyRef& r) {
  if (r.ns.empty()) return r.group + "/" + r.kind + "/" + r.name;
  return r.group + "/namespaces/" + r.ns + "/" + r.kind + "/" + r.name;
}

namespace {

using Key = std::tuple<std::string_view, std::string_view, std::string_view, std::string_view>;  // group, kind, ns, name

// Strongly connected components of size > 1 (Tarjan, iterative): the cycles.
std::vector<std::vector<std::size_t>> cycles(const std::vector<RenderedObject>& objects) {
  const std::size_t n = objects.size();
  constexpr std::size_t kNone = SIZE_MAX;
  std::vector<std::size_t> index(n, kNone), low(n, 0);
  std::vector<char> onStack(n, 0);
  std::vector<std::size_t> stack;
  std::vector<std::vector<std::size_t>> out;
  std::size_t next = 0;
  for (std::size_t root = 0; root < n; ++root) {
    if (index[root] != kNone || objects[root].dependsOn.empty()) continue;
    std::vector<std::pair<std::size_t, std::size_t>> work{{root, 0}};  // node, next edge
    index[root] = low[root] = next++;
    stack.push_back(root);
    onStack[root] = 1;
    while (!work.empty()) {
      auto& [v, e] = work.back();
      const auto& edges = objects[v].dependsOn;
      if (e < edges.size()) {
        const std::size_t w = edges[e++];
        if (index[w] == kNone) {
          index[w] = low[w] = next++;
          stack.push_back(w);
          onStack[w] = 1;
          work.emplace_back(w, 0);
        } else if (onStack[w]) {
          low[v] = std::min(low[v], index[w]);
        }
        continue;
      }
      const std::size_t done = v;
      work.pop_back();
      if (!work.empty()) low[work.back().first] = std::min(low[work.back().first], low[done]);
      if (low[done] != index[done]) continue;
      std::vector<std::size_t> component;
      for (;;) {
        const std::size_t w = stack.back();
        stack.pop_back();
        onStack[w] = 0;
        component.push_back(w);
        if (w == done) break;
      }
      if (component.size() > 1) {
        std::sort(component.begin(), component.end());
        out.push_back(std::move(component));
      }
    }
  }
  return out;
}

// A shortest path within `component` from its first object back to it.
std::vector<std::size_t> cycleThrough(const std::vector<RenderedObject>& objects, const std::vector<std::size_t>& component) {
  const std::size_t start = component.front();
  std::map<std::size_t, std::size_t> parent;  // node -> the node it was reached from
  std::vector<std::size_t> frontier{start};
  auto inComponent = [&](std::size_t v) { return std::binary_search(component.begin(), component.end(), v); };
  while (!frontier.empty()) {
    std::vector<std::size_t> further;
    for (auto v : frontier)
      for (auto w : objects[v].dependsOn) {
        if (!inComponent(w)) continue;
        if (w == start) {
          std::vector<std::size_t> path{start};
          for (std::size_t x = v; x != start; x = parent[x]) path.push_back(x);
          std::reverse(path.begin() + 1, path.end());
          return path;
        }
        if (parent.emplace(w, v).second) further.push_back(w);
      }
    frontier = std::move(further);
  }
  return component;  // not reached: a component of size > 1 has a cycle through each member
}

}  // namespace

std::vector<Diagnostic> resolveDependencies(std::vector<RenderedObject>& objects) {
  std::vector<Diagnostic> errors;
  std::map<Key, std::size_t> byKey;
  std::multimap<std::tuple<std::string_view, std::string_view, std::string_view>, std::size_t> byName;  // group, kind, name
  bool any = false;
  for (std::size_t i = 0; i < objects.size(); ++i) {
    const auto& o = objects[i];
    byKey.emplace(Key{o.group, o.kind, o.ns, o.name}, i);
    byName.emplace(std::tuple{std::string_view(o.group), std::string_view(o.kind), std::string_view(o.name)}, i);
    any = any || !o.dependsOnAnnotation.empty();
  }
  if (!any) return errors;
  auto error = [&](const RenderedObject& o, const std::string& what) {
    errors.emplace_back(o.source.path, o.source.line,
                        identity(o) + ": " + std::string(kDependsOnAnnotation) + ": " + what,
                        o.asTenant ? o.tenant : std::string());
  };
  for (std::size_t i = 0; i < objects.size(); ++i) {
    RenderedObject& o = objects[i];
    o.dependsOn.clear();
    if (o.dependsOnAnnotation.empty()) continue;
    auto refs = parseDependsOn(o.dependsOnAnnotation);
    if (!refs) {
      error(o, refs.error());
      continue;
    }
    for (const auto& r : *refs) {
      const std::string entry = inQuotes(formatDependencyRef(r));
      auto found = byKey.find(Key{r.group, r.kind, r.ns, r.name});
      if (found == byKey.end()) {
        std::string hint;
        auto [lo, hi] = byName.equal_range(std::tuple{std::string_view(r.group), std::string_view(r.kind),
                                                      std::string_view(r.name)});
        if (lo != hi) {
          const RenderedObject& near = objects[lo->second];
          hint = " (" + identity(near) + " exists: write " +
                 inQuotes(formatDependencyRef(DependencyRef{near.group, near.kind, near.ns, near.name})) + ")";
        }
        error(o, entry + ": no such object in this cluster's render" + hint);
        continue;
      }
      const std::size_t d = found->second;
      if (d == i) {
        error(o, entry + ": an object cannot depend on itself");
        continue;
      }
      const RenderedObject& dep = objects[d];
      if (dep.asTenant && !dep.tenant.empty() && (!o.asTenant || o.tenant != dep.tenant)) {
        error(o, entry + ": " + identity(dep) + " belongs to tenant " + dep.tenant +
                     "; only that tenant's own objects may depend on it");
        continue;
      }
      if (std::find(o.dependsOn.begin(), o.dependsOn.end(), d) == o.dependsOn.end()) o.dependsOn.push_back(d);
    }
  }
  for (const auto& component : cycles(objects)) {
    const auto path = cycleThrough(objects, component);
    std::string text;
    for (auto v : path) text += identity(objects[v]) + " -> ";
    text += identity(objects[path.front()]);
    for (auto v : component) error(objects[v], "dependency cycle: " + text);
    for (auto v : component) objects[v].dependsOn.clear();  // no order among them: the render fails anyway
  }
  return errors;
}

}  // namespace gitfed::render
