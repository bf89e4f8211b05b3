#include "gitfed/render/json_patch.h"

#include <charconv>

namespace gitfed::render {
namespace {

using nlohmann::json;

// An array index as RFC 6901 writes it: "0" or digits without a leading zero.
bool parseIndex(std::string_view token, std::size_t& index) {
  if (token.empty() || (token.size() > 1 && token[0] == '0')) return false;
  auto [p, ec] = std::from_chars(token.data(), token.data() + token.size(), index);
  return ec == std::errc() && p == token.data() + token.size();
}

std::string prefix(const JsonPointer& path, std::size_t n) {
  std::string out;
  for (std::size_t i = 0; i < n; ++i) {
    out += '/';
    for (char c : path.tokens[i]) {
      if (c == '~')
        out += "~0";
      else if (c == '/')
        out += "~1";
      else
        out += c;
    }
  }
  return out;
}

}  // namespace

Result<JsonPointer> parseJsonPointer(std::string_view text) {
  if (text.empty() || text[0] != '/') return fail("path \"" + std::string(text) + "\" must start with '/'");
  JsonPointer p{std::string(text), {}};
  std::string token;
  for (std::size_t i = 1; i <= text.size(); ++i) {
    if (i == text.size() || text[i] == '/') {
      p.tokens.push_back(std::move(token));
      token.clear();
      continue;
    }
    if (text[i] == '~') {
      if (i + 1 < text.size() && (text[i + 1] == '0' || text[i + 1] == '1')) {
        token += text[i + 1] == '0' ? '~' : '/';
        ++i;
        continue;
      }
      return fail("path \"" + std::string(text) + "\": '~' must be followed by 0 or 1");
    }
    token += text[i];
  }
  return p;
}

Result<void> applyPatch(json& doc, PatchOp op, const JsonPointer& path, const json& value) {
  json* parent = &doc;
  const std::size_t last = path.tokens.size() - 1;
  for (std::size_t i = 0; i < last; ++i) {
    const std::string& t = path.tokens[i];
    if (parent->is_object()) {
      auto it = parent->find(t);
      if (it == parent->end())
        return fail("path " + path.text + ": " + prefix(path, i + 1) + " does not exist");
      parent = &*it;
    } else if (parent->is_array()) {
      std::size_t index = 0;
      if (!parseIndex(t, index) || index >= parent->size())
        return fail("path " + path.text + ": " + prefix(path, i + 1) + " does not exist (list of " +
                    std::to_string(parent->size()) + ")");
      parent = &(*parent)[index];
    } else {
      return fail("path " + path.text + ": " + prefix(path, i) + " is not a mapping or a list");
    }
  }
  const std::string& t = path.tokens[last];
  if (parent->is_object()) {
    auto it = parent->find(t);
    switch (op) {
      case PatchOp::Add:
      case PatchOp::Replace:
        if (it == parent->end())
          parent->emplace(t, value);
        else
          *it = value;
        return {};
      case PatchOp::Remove:
        if (it == parent->end()) return fail("remove " + path.text + ": there is nothing at that path");
        parent->erase(it);
        return {};
    }
  }
  if (parent->is_array()) {
    std::size_t index = 0;
    const std::size_t size = parent->size();
    if (op == PatchOp::Add && t == "-") {
      parent->push_back(value);
      return {};
    }
    if (!parseIndex(t, index))
      return fail("path " + path.text + ": \"" + t + "\" is not an index of the list at " + prefix(path, last));
    switch (op) {
      case PatchOp::Add:
        if (index > size)
          return fail("add " + path.text + ": index " + t + " is out of range (list of " + std::to_string(size) + ")");
        parent->insert(parent->begin() + static_cast<std::ptrdiff_t>(index), value);
        return {};
      case PatchOp::Replace:
        if (index >= size)
          return fail("replace " + path.text + ": index " + t + " is out of range (list of " + std::to_string(size) +
                      ")");
        (*parent)[index] = value;
        return {};
      case PatchOp::Remove:
        if (index >= size)
          return fail("remove " + path.text + ": there is nothing at that path (list of " + std::to_string(size) +
                      ")");
        parent->erase(static_cast<std::size_t>(index));
        return {};
    }
  }
  return fail("path " + path.text + ": " + prefix(path, last) + " is not a mapping or a list");
}

}  // namespace gitfed::render
