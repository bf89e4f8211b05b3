#include "gitfed/render/substitution.h"

namespace gitfed::render {
namespace {

using nlohmann::json;

constexpr std::string_view kOpen = "${cluster.";

std::string escapeToken(const std::string& key) {
  std::string out;
  for (char c : key) {
    if (c == '~')
      out += "~0";
    else if (c == '/')
      out += "~1";
    else
      out += c;
  }
  return out;
}

Result<void> walk(json& v, const ClusterIdentity& cluster, std::string& pointer) {
  if (v.is_string()) {
    const std::string& s = v.get_ref<const std::string&>();
    if (s.find(kOpen) == std::string::npos) return {};
    auto r = substituteString(s, cluster);
    if (!r) return fail(r.error().message + " (at " + (pointer.empty() ? "/" : pointer) + ")");
    v = std::move(*r);
    return {};
  }
  const std::size_t mark = pointer.size();
  if (v.is_object()) {
    for (auto it = v.begin(); it != v.end(); ++it) {
      pointer += '/';
      pointer += escapeToken(it.key());
      auto r = walk(it.value(), cluster, pointer);
      pointer.resize(mark);
      if (!r) return r;
    }
  } else if (v.is_array()) {
    for (std::size_t i = 0; i < v.size(); ++i) {
      pointer += '/';
      pointer += std::to_string(i);
      auto r = walk(v[i], cluster, pointer);
      pointer.resize(mark);
      if (!r) return r;
    }
  }
  return {};
}

}  // namespace

Result<std::string> substituteString(std::string_view s, const ClusterIdentity& cluster) {
  std::string out;
  out.reserve(s.size());
  std::size_t i = 0;
  while (i < s.size()) {
    if (s[i] == '$' && s.substr(i + 1).starts_with(kOpen)) {  // $${cluster. -> ${cluster.
      out += kOpen;
      i += 1 + kOpen.size();
      continue;
    }
    if (!s.substr(i).starts_with(kOpen)) {
      out += s[i++];
      continue;
    }
    auto close = s.find('}', i);
    if (close == std::string_view::npos)
      return fail("unterminated variable \"" + std::string(s.substr(i)) + "\" (missing '}')");
    std::string_view var = s.substr(i + 2, close - i - 2);  // cluster.xxx
    std::string_view name = var.substr(std::string_view("cluster.").size());
    if (name == "name") {
      out += cluster.name;
    } else if (name.starts_with("labels.")) {
      std::string_view rest = name.substr(std::string_view("labels.").size());
      auto dflt = rest.find(":-");
      std::string key(rest.substr(0, dflt));
      if (key.empty()) return fail("variable ${" + std::string(var) + "} names no label");
      auto it = cluster.labels.find(key);
      if (it != cluster.labels.end()) {
        out += it->second;
      } else if (dflt != std::string_view::npos) {
        out += rest.substr(dflt + 2);
      } else {
        return fail("variable ${" + std::string(var) + "}: cluster " + cluster.name + " has no label \"" + key +
                    "\" and the variable gives no default (write ${cluster.labels." + key + ":-DEFAULT})");
      }
    } else {
      return fail("unknown variable ${" + std::string(var) +
                  "} (known: ${cluster.name}, ${cluster.labels.KEY}, ${cluster.labels.KEY:-DEFAULT})");
    }
    i = close + 1;
  }
  return out;
}

Result<void> substituteValues(json& value, const ClusterIdentity& cluster) {
  std::string pointer;
  return walk(value, cluster, pointer);
}

}  // namespace gitfed::render
