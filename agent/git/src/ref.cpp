#include <algorithm>
#include <cctype>

#include "gitfed/git/ref.h"

namespace gitfed::git {
namespace {

bool validComponent(std::string_view c) {
  if (c.empty() || c == "." || c == ".." || c.front() == '.' || c.ends_with(".lock") || c.size() > 255) return false;
  return true;
}

}  // namespace

bool isFullCommitId(std::string_view text) {
  return text.size() == 40 &&
         std::all_of(text.begin(), text.end(), [](char c) { return std::isxdigit(static_cast<unsigned char>(c)); });
}

bool isValidRefName(std::string_view name) {
  if (name.empty() || name.size() > 1024) return false;
  if (name == "HEAD" || name == "@" || name.front() == '-' || name.front() == '/' || name.back() == '/' ||
      name.back() == '.')
    return false;
  if (name.find("..") != std::string_view::npos || name.find("@{") != std::string_view::npos ||
      name.find("//") != std::string_view::npos)
    return false;
  for (char c : name) {
    auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f) return false;
    switch (c) {
      case ' ': case '~': case '^': case ':': case '?': case '*': case '[': case '\\':
        return false;
      default:
        break;
    }
  }
  std::size_t start = 0;
  while (start <= name.size()) {
    auto slash = name.find('/', start);
    auto end = slash == std::string_view::npos ? name.size() : slash;
    if (!validComponent(name.substr(start, end - start))) return false;
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  return true;
}

Result<Ref> Ref::branch(std::string_view name) {
  if (!isValidRefName(name))
    return fail(ErrorCode::InvalidArgument,
                "invalid branch name \"" + std::string(name) + "\" (a branch or tag name, or a full 40-hex commit id)");
  return Ref{Kind::Branch, std::string(name)};
}

Result<Ref> Ref::tag(std::string_view name) {
  if (!isValidRefName(name))
    return fail(ErrorCode::InvalidArgument, "invalid tag name \"" + std::string(name) + "\"");
  return Ref{Kind::Tag, std::string(name)};
}

Result<Ref> Ref::commit(std::string_view id) {
  if (!isFullCommitId(id))
    return fail(ErrorCode::InvalidArgument,
                "invalid commit id \"" + std::string(id) + "\" (40 hex digits; abbreviations are not accepted)");
  std::string lower(id);
  std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
  return Ref{Kind::Commit, lower};
}

std::string Ref::fullName() const {
  switch (kind) {
    case Kind::Branch: return "refs/heads/" + name;
    case Kind::Tag: return "refs/tags/" + name;
    case Kind::Commit: return name;
  }
  return name;
}

std::string Ref::display() const {
  switch (kind) {
    case Kind::Branch: return "branch " + name;
    case Kind::Tag: return "tag " + name;
    case Kind::Commit: return "commit " + name;
  }
  return name;
}

Result<Ref> parseRef(std::string_view text) {
  if (isFullCommitId(text)) return Ref::commit(text);
  if (text.starts_with("refs/heads/")) return Ref::branch(text.substr(11));
  if (text.starts_with("refs/tags/")) return Ref::tag(text.substr(10));
  if (text.starts_with("refs/"))
    return fail(ErrorCode::InvalidArgument,
                "unsupported ref \"" + std::string(text) + "\" (refs/heads/..., refs/tags/..., a branch name or a commit id)");
  return Ref::branch(text);
}

}  // namespace gitfed::git
