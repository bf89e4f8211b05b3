#include "gitfed/kube/url.h"

namespace gitfed::kube {
namespace {

bool unreserved(unsigned char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
         c == '_' || c == '~';
}

std::string escape(std::string_view s, std::string_view alsoKeep) {
  static constexpr char hex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(s.size());
  for (char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if (unreserved(c) || alsoKeep.find(ch) != std::string_view::npos) {
      out += ch;
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

}  // namespace

std::string escapeQueryValue(std::string_view value) { return escape(value, ""); }

std::string escapePathSegment(std::string_view segment) {
  // "." and ".." as whole segments would be resolved away by a URL normaliser.
  if (segment == "." || segment == "..") return segment == "." ? "%2E" : "%2E%2E";
  return escape(segment, ":@");
}

std::string groupVersionPath(std::string_view group, std::string_view version) {
  if (group.empty()) return "/api/" + escapePathSegment(version);
  return "/apis/" + escapePathSegment(group) + "/" + escapePathSegment(version);
}

std::string resourcePath(const Resource& r, std::string_view ns, std::string_view name) {
  std::string path = groupVersionPath(r.group, r.version);
  if (r.namespaced && !ns.empty()) path += "/namespaces/" + escapePathSegment(ns);
  path += "/" + escapePathSegment(r.plural);
  if (!name.empty()) path += "/" + escapePathSegment(name);
  return path;
}

std::string queryString(const std::vector<std::pair<std::string, std::string>>& params) {
  std::string out;
  for (const auto& [key, value] : params) {
    if (value.empty()) continue;
    out += out.empty() ? '?' : '&';
    out += escapeQueryValue(key);
    out += '=';
    out += escapeQueryValue(value);
  }
  return out;
}

}  // namespace gitfed::kube
