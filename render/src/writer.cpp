// Writing JSON values as YAML, in kubectl's layout (`- ` at its key's
// indentation, 2 spaces, block style). Written by hand rather than through
// yaml-cpp's emitter: yaml-cpp checks every scalar against a set of regular
// expressions and took 73% of the instructions of `gitfed render` (bench/).
// Which strings need quotes is decided by the reader's own rules
// (needsQuoting), so what we write reads back as the same value, for us and
// for kubectl; test/unit/render/writer_test.cpp checks that round trip (and
// cross-checks the output with yaml-cpp's parser).

#include "gitfed/render/writer.h"

#include <array>
#include <atomic>
#include <charconv>
#include <cstdio>
#include <thread>

#include "gitfed/render/scalar.h"

namespace gitfed::render {
namespace {

using nlohmann::json;

bool isIndicator(char c) {
  switch (c) {
    case '-': case '?': case ':': case ',': case '[': case ']': case '{': case '}': case '#': case '&':
    case '*': case '!': case '|': case '>': case '\'': case '"': case '%': case '@': case '`':
      return true;
    default:
      return false;
  }
}

// Can `s` be written without quotes and read back as this very string?
bool isPlainSafe(std::string_view s) {
  if (s.empty() || s.front() == ' ' || s.back() == ' ' || s.back() == ':') return false;
  if (isIndicator(s.front())) {
    // "-x", "?x", ":x" are plain in YAML when the next character is not a space.
    char c = s.front();
    if (!((c == '-' || c == '?' || c == ':') && s.size() > 1 && s[1] != ' ')) return false;
  }
  for (std::size_t i = 0; i < s.size(); ++i) {
    auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x20 || c == 0x7F || c >= 0x80) return false;  // control characters; non-ASCII goes quoted
    if (c == ':' && i + 1 < s.size() && s[i + 1] == ' ') return false;
    if (c == '#' && i > 0 && s[i - 1] == ' ') return false;
  }
  return !needsQuoting(s);
}

void writeDoubleQuoted(std::string& out, std::string_view s) {
  out += '"';
  for (std::size_t i = 0; i < s.size(); ++i) {
    auto c = static_cast<unsigned char>(s[i]);
    switch (c) {
      case '"': out += "\\\""; continue;
      case '\\': out += "\\\\"; continue;
      case '\n': out += "\\n"; continue;
      case '\t': out += "\\t"; continue;
      case '\r': out += "\\r"; continue;
      case '\0': out += "\\0"; continue;
      default: break;
    }
    if (c < 0x20 || c == 0x7F) {
      std::array<char, 8> buf{};
      std::snprintf(buf.data(), buf.size(), "\\x%02X", c);
      out += buf.data();
      continue;
    }
    // Unicode line breaks and the BOM would be folded or dropped by a reader.
    if (c == 0xC2 && i + 1 < s.size() && static_cast<unsigned char>(s[i + 1]) == 0x85) {
      out += "\\u0085";
      ++i;
      continue;
    }
    if (c == 0xE2 && i + 2 < s.size() && static_cast<unsigned char>(s[i + 1]) == 0x80 &&
        (static_cast<unsigned char>(s[i + 2]) == 0xA8 || static_cast<unsigned char>(s[i + 2]) == 0xA9)) {
      out += static_cast<unsigned char>(s[i + 2]) == 0xA8 ? "\\u2028" : "\\u2029";
      i += 2;
      continue;
    }
    if (c == 0xEF && i + 2 < s.size() && static_cast<unsigned char>(s[i + 1]) == 0xBB &&
        static_cast<unsigned char>(s[i + 2]) == 0xBF) {
      out += "\\uFEFF";
      i += 2;
      continue;
    }
    out += static_cast<char>(c);
  }
  out += '"';
}

// A literal block (`|`) keeps multi-line text readable. Only for text that a
// literal block holds exactly: no carriage returns or other control
// characters, no line that starts with a space where the block's
// indentation would be guessed from it, no blank line made of spaces.
bool literalFits(std::string_view s) {
  if (s.find('\n') == std::string_view::npos || s.front() == '\n' || s.front() == ' ') return false;
  std::size_t lineStart = 0;
  for (std::size_t i = 0; i < s.size(); ++i) {
    auto c = static_cast<unsigned char>(s[i]);
    if ((c < 0x20 && c != '\n' && c != '\t') || c == 0x7F) return false;
    if (c == 0xC2 || c == 0xE2 || c == 0xEF) return false;  // possible Unicode breaks/BOM: quote instead
    if (c == '\n') {
      std::string_view line = s.substr(lineStart, i - lineStart);
      if (!line.empty() && line.find_first_not_of(' ') == std::string_view::npos) return false;
      lineStart = i + 1;
    }
  }
  // Trailing spaces on the last line are kept by a literal block; fine.
  return true;
}

void writeLiteral(std::string& out, std::string_view s, int indent) {
  std::size_t trailing = 0;
  while (trailing < s.size() && s[s.size() - 1 - trailing] == '\n') ++trailing;
  out += trailing == 0 ? "|-" : trailing == 1 ? "|" : "|+";
  out += '\n';
  std::string_view body = s.substr(0, s.size() - trailing);
  std::size_t start = 0;
  while (true) {
    auto nl = body.find('\n', start);
    std::string_view line = body.substr(start, nl == std::string_view::npos ? std::string_view::npos : nl - start);
    if (!line.empty()) out.append(static_cast<std::size_t>(indent), ' ').append(line);
    out += '\n';
    if (nl == std::string_view::npos) break;
    start = nl + 1;
  }
  for (std::size_t i = 1; i < trailing; ++i) out += '\n';  // kept by `|+`
}

void writeString(std::string& out, std::string_view s, int indent) {
  if (isPlainSafe(s)) {
    out += s;
  } else if (literalFits(s)) {
    writeLiteral(out, s, indent);
    return;
  } else {
    writeDoubleQuoted(out, s);
  }
}

void writeScalar(std::string& out, const json& v, int indent) {
  switch (v.type()) {
    case json::value_t::string:
      writeString(out, v.get_ref<const std::string&>(), indent);
      return;
    case json::value_t::null:
      out += "null";
      return;
    case json::value_t::boolean:
      out += v.get<bool>() ? "true" : "false";
      return;
    case json::value_t::number_integer:
    case json::value_t::number_unsigned: {
      std::array<char, 24> buf{};
      auto r = v.is_number_unsigned() ? std::to_chars(buf.data(), buf.data() + buf.size(), v.get<std::uint64_t>())
                                      : std::to_chars(buf.data(), buf.data() + buf.size(), v.get<std::int64_t>());
      out.append(buf.data(), r.ptr);
      return;
    }
    default:
      out += v.dump();  // floats: the shortest text that reads back as the same double
      return;
  }
}

void writeValueAfterKey(std::string& out, const json& v, int indent);

void writeMapping(std::string& out, const json& m, int indent, bool firstInline) {
  bool first = true;
  for (auto it = m.begin(); it != m.end(); ++it) {
    if (!(first && firstInline)) out.append(static_cast<std::size_t>(indent), ' ');
    first = false;
    if (isPlainSafe(it.key()))
      out += it.key();
    else
      writeDoubleQuoted(out, it.key());
    out += ':';
    writeValueAfterKey(out, it.value(), indent);
  }
}

void writeSequence(std::string& out, const json& s, int indent) {
  for (const auto& item : s) {
    out.append(static_cast<std::size_t>(indent), ' ');
    out += '-';
    if (item.is_object() && !item.empty()) {
      out += ' ';
      writeMapping(out, item, indent + 2, true);
    } else if (item.is_array() && !item.empty()) {
      out += '\n';
      writeSequence(out, item, indent + 2);
    } else if (item.is_object()) {
      out += " {}\n";
    } else if (item.is_array()) {
      out += " []\n";
    } else {
      out += ' ';
      writeScalar(out, item, indent + 2);
      if (out.back() != '\n') out += '\n';
    }
  }
}

void writeValueAfterKey(std::string& out, const json& v, int indent) {
  if (v.is_object()) {
    if (v.empty()) {
      out += " {}\n";
      return;
    }
    out += '\n';
    writeMapping(out, v, indent + 2, false);
  } else if (v.is_array()) {
    if (v.empty()) {
      out += " []\n";
      return;
    }
    out += '\n';
    writeSequence(out, v, indent);  // kubectl's layout: `- ` at the key's indentation
  } else {
    out += ' ';
    writeScalar(out, v, indent + 2);
    if (out.back() != '\n') out += '\n';
  }
}

}  // namespace

void appendYaml(std::string& out, const json& value) {
  if (value.is_object() && !value.empty()) {
    writeMapping(out, value, 0, false);
  } else if (value.is_array() && !value.empty()) {
    writeSequence(out, value, 0);
  } else if (value.is_object()) {
    out += "{}\n";
  } else if (value.is_array()) {
    out += "[]\n";
  } else {
    writeScalar(out, value, 0);
    if (out.back() != '\n') out += '\n';
  }
}

std::string toYaml(const json& value) {
  std::string out;
  appendYaml(out, value);
  return out;
}

namespace {

// Formats every object (in parallel for big outputs: formatting is most of
// the cost of writing) and writes them in order.
template <class Format>
void writeObjects(std::FILE* out, const std::vector<RenderedObject>& objects, const char* separator,
                  const char* prefix, const char* suffix, Format format) {
  std::fputs(prefix, out);
  // Objects formatted while rendering (Preformat): write their text as it is.
  if (!objects.empty() && !objects.front().text.empty()) {
    for (std::size_t i = 0; i < objects.size(); ++i) {
      if (i > 0) std::fputs(separator, out);
      const std::string& t = objects[i].text;
      if (!t.empty()) {
        std::fwrite(t.data(), 1, t.size(), out);
      } else {
        std::string s;
        format(s, objects[i].value);
        std::fwrite(s.data(), 1, s.size(), out);
      }
    }
    std::fputs(suffix, out);
    return;
  }
  constexpr std::size_t kChunk = 256;
  const std::size_t chunks = (objects.size() + kChunk - 1) / kChunk;
  std::vector<std::string> text(chunks);
  auto formatChunk = [&](std::size_t c) {
    std::string& s = text[c];
    for (std::size_t i = c * kChunk; i < std::min(objects.size(), (c + 1) * kChunk); ++i) {
      if (i > 0) s += separator;
      if (!objects[i].text.empty())
        s += objects[i].text;
      else
        format(s, objects[i].value);
    }
  };
  unsigned threads = std::min<unsigned>(std::max(1u, std::thread::hardware_concurrency()), static_cast<unsigned>(chunks));
  if (threads <= 1) {
    for (std::size_t c = 0; c < chunks; ++c) {
      formatChunk(c);
      std::fwrite(text[c].data(), 1, text[c].size(), out);
      std::string().swap(text[c]);
    }
  } else {
    std::atomic<std::size_t> next{0};
    {
      std::vector<std::jthread> pool;
      for (unsigned t = 0; t < threads; ++t)
        pool.emplace_back([&] {
          for (std::size_t c = next++; c < chunks; c = next++) formatChunk(c);
        });
    }
    for (auto& s : text) {
      std::fwrite(s.data(), 1, s.size(), out);
      std::string().swap(s);
    }
  }
  std::fputs(suffix, out);
}

}  // namespace

void appendJsonItemText(std::string& out, const json& value) {
  std::string item = value.dump(2);
  out += "    ";
  for (char c : item) {
    out += c;
    if (c == '\n') out += "    ";
  }
}

void writeYamlStream(std::FILE* out, const std::vector<RenderedObject>& objects) {
  writeObjects(out, objects, "---\n", "", "", [](std::string& s, const json& v) { appendYaml(s, v); });
}

void writeJsonList(std::FILE* out, const std::vector<RenderedObject>& objects) {
  if (objects.empty()) {
    std::fputs("{\n  \"apiVersion\": \"v1\",\n  \"items\": [],\n  \"kind\": \"List\"\n}\n", out);
    return;
  }
  // The same text as json{{"apiVersion","v1"},{"items",[...]},{"kind","List"}}.dump(2),
  // without building the list.
  writeObjects(out, objects, ",\n", "{\n  \"apiVersion\": \"v1\",\n  \"items\": [\n", "\n  ],\n  \"kind\": \"List\"\n}\n",
               [](std::string& s, const json& v) { appendJsonItemText(s, v); });
}

}  // namespace gitfed::render
