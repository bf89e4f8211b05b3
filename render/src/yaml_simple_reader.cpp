// The subset of YAML nearly every manifest is written in, read straight into
// JSON values without libyaml: block mappings and sequences, flow collections
// on one line, plain and quoted scalars on one line, comments, `---`. Anything
// else (and every error) returns nullopt, and readYamlStream reads the text
// with libyaml instead, so this reader never decides what a file means when it
// is not sure: whatever it accepts, it reads as libyaml and DocumentBuilder do
// (document_reader_test compares the two on every case it accepts).

#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "gitfed/render/document_reader.h"
#include "gitfed/render/scalar.h"

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace gitfed::render {
namespace {

using nlohmann::json;

// Characters that begin something other than a plain scalar (YAML's
// indicators). '-', '?' and ':' may begin one in YAML; only '-' is accepted
// here, before a character that is not a space (a negative number).
bool isIndicator(char c) {
  switch (c) {
    case '-': case '?': case ':': case ',': case '[': case ']': case '{': case '}': case '#':
    case '&': case '*': case '!': case '|': case '>': case '\'': case '"': case '%': case '@': case '`':
      return true;
    default:
      return false;
  }
}

bool isFlowIndicator(char c) { return c == ',' || c == '[' || c == ']' || c == '{' || c == '}'; }

// Nesting deeper than this is left to libyaml (and keeps the recursion short).
constexpr int kMaxDepth = 64;
// libyaml refuses simple keys longer than 1024 characters.
constexpr std::ptrdiff_t kMaxKey = 1000;

class SimpleReader {
 public:
  SimpleReader(std::string_view text, const ReadLimits& limits)
      : end_(text.data() + text.size()), limits_(limits), lineStart_(text.data()) {
    lineEnd_ = findLineEnd(lineStart_);
  }

  std::optional<ReadOutcome> read() {
    ReadOutcome out;
    while (true) {
      if (!skipToContent()) return std::nullopt;
      if (state_ == State::End) break;
      if (state_ == State::DocumentStart) {  // empty documents have nothing to read
        nextLine();
        continue;
      }
      nodes_ = 0;
      Document doc;
      doc.line = line_;
      rootItemLines_.clear();
      if (!blockNodeHere(doc.value, nullptr)) return std::nullopt;
      if (state_ == State::Content) return std::nullopt;  // more after the root node: libyaml's error
      doc.itemLines = std::move(rootItemLines_);
      out.documents.push_back(std::move(doc));
    }
    return out;
  }

 private:
  enum class State { Content, DocumentStart, End };

  const char* findLineEnd(const char* p) const {
    const void* nl = std::memchr(p, '\n', static_cast<std::size_t>(end_ - p));
    return nl ? static_cast<const char*>(nl) : end_;
  }

  void nextLine() {
    if (lineEnd_ == end_) {
      lineStart_ = end_;
      atEnd_ = true;
      return;
    }
    lineStart_ = lineEnd_ + 1;
    lineEnd_ = findLineEnd(lineStart_);
    ++line_;
  }

  // From the current line on, passes blank and comment lines; stops at a
  // line with content (state Content: content_, indent_), a `---` line or the
  // end. False for a line this reader leaves to libyaml.
  bool skipToContent() {
    for (; !atEnd_; nextLine()) {
      const char* p = lineStart_;
      while (p < lineEnd_ && *p == ' ') ++p;
      if (p == lineEnd_ || *p == '#') continue;
      if (p == lineStart_) {
        const auto length = lineEnd_ - p;
        if (length >= 3 && (std::memcmp(p, "---", 3) == 0 || std::memcmp(p, "...", 3) == 0)) {
          if (length != 3 || *p != '-') return false;  // content after ---, or a document end marker
          state_ = State::DocumentStart;
          return true;
        }
        if (*p == '%') return false;  // a directive
      }
      content_ = p;
      indent_ = static_cast<int>(p - lineStart_);
      state_ = State::Content;
      return true;
    }
    state_ = State::End;
    return true;
  }

  bool countNode() { return ++nodes_ < limits_.maxNodes; }

  bool open() { return ++depth_ < kMaxDepth && depth_ < limits_.maxDepth && countNode(); }

  const char* skipSpaces(const char* p) const {
    while (p < lineEnd_ && *p == ' ') ++p;
    return p;
  }

  bool isSequenceEntry(const char* p) const { return *p == '-' && (p + 1 == lineEnd_ || p[1] == ' '); }

  // Only spaces, or a comment after a space, from p to the end of the line.
  bool restIsEmpty(const char* p) const {
    const char* q = skipSpaces(p);
    return q == lineEnd_ || (*q == '#' && q > p);
  }

  // A quoted scalar at p ending on this line: its text, and where it ends
  // (nullptr when it is not such a scalar). Double-quoted ones with an escape
  // are left to libyaml.
  const char* quoted(const char* p, std::string& text) const {
    const char quote = *p++;
    text.clear();
    while (true) {
      const void* found = std::memchr(p, quote, static_cast<std::size_t>(lineEnd_ - p));
      if (!found) return nullptr;
      const char* q = static_cast<const char*>(found);
      if (quote == '"') {
        if (std::memchr(p, '\\', static_cast<std::size_t>(q - p))) return nullptr;
        text.append(p, q);
        return q + 1;
      }
      text.append(p, q);
      if (q + 1 < lineEnd_ && q[1] == '\'') {  // '' stands for '
        text.push_back('\'');
        p = q + 2;
        continue;
      }
      return q + 1;
    }
  }

  // A plain scalar's value as a mapping's or a sequence's (not a key's).
  bool plainValue(std::string_view text, json& out) {
    auto resolved = resolvePlainScalar(text);
    if (!resolved) return false;
    out = std::move(*resolved);
    if (out.is_number_float()) out = normalizeNumber(out.get<double>());
    return countNode();
  }

  // A key's JSON text, from its plain or quoted spelling.
  bool keyOf(std::string_view text, bool plain, std::string& key) {
    if (!countNode()) return false;
    if (text == "<<" && plain) return false;  // a merge
    if (!plain || plainScalarIsString(text)) {
      key.assign(text);
      return true;
    }
    auto resolved = resolvePlainScalar(text);
    if (!resolved) return false;
    if (resolved->is_string()) {
      key = std::move(resolved->get_ref<std::string&>());
      return true;
    }
    auto k = keyText(*resolved);
    if (!k) return false;
    key = std::move(*k);
    return true;
  }

  // A block mapping's key at p: its text, and where its value begins (after
  // the `:`). False when p holds no key this reader reads.
  bool blockKey(const char* p, std::string& key, const char*& after) {
    if (*p == '"' || *p == '\'') {
      std::string text;
      const char* q = quoted(p, text);
      if (!q || q >= lineEnd_ || *q != ':' || (q + 1 < lineEnd_ && q[1] != ' ')) return false;
      after = q + 1;
      return keyOf(text, false, key);
    }
    if (isIndicator(*p)) return false;
    for (const char* q = p; q < lineEnd_ && q - p < kMaxKey; ++q) {
      if (*q == ':' && (q + 1 == lineEnd_ || q[1] == ' ')) {
        const char* last = q;
        while (last[-1] == ' ') --last;
        after = q + 1;
        return keyOf(std::string_view(p, static_cast<std::size_t>(last - p)), true, key);
      }
      if (*q == '#' && q[-1] == ' ') return false;
    }
    return false;
  }

  // The block node that begins at content_ on the current line: a mapping or
  // a sequence. itemLines: where to put the line of each item of the root's
  // `items` sequence (nullptr: not that sequence).
  bool blockNodeHere(json& out, std::vector<int>* itemLines) {
    if (isSequenceEntry(content_)) return blockSequence(indent_, out, itemLines);
    return blockMapping(indent_, content_, out);
  }

  // After a value that ends its line: the next content line may not be
  // indented deeper than the collection at `indent` (libyaml would read it
  // as the scalar's continuation, or refuse it).
  bool endOfValueLine(int indent) {
    nextLine();
    if (!skipToContent()) return false;
    return state_ != State::Content || indent_ <= indent;
  }

  // A value that begins on its key's or entry's line at p: a flow
  // collection, a quoted or a plain scalar, with nothing after it but a comment.
  bool inlineValue(const char* p, json& out, std::vector<int>* itemLines) {
    if (*p == '{' || *p == '[') return flowCollection(p, out, itemLines) && restIsEmpty(p);
    if (*p == '"' || *p == '\'') {
      std::string text;
      const char* q = quoted(p, text);
      if (!q || !restIsEmpty(q)) return false;
      out = std::move(text);
      return countNode();
    }
    if (isIndicator(*p) && !(*p == '-' && p + 1 < lineEnd_ && p[1] != ' ')) return false;
    const char* last = p;
    for (const char* q = p; q < lineEnd_; ++q) {
      if (*q == ':' && (q + 1 == lineEnd_ || q[1] == ' ')) return false;  // a mapping value here: libyaml's error
      if (*q == '#' && q[-1] == ' ') break;
      if (*q != ' ') last = q + 1;
    }
    return plainValue(std::string_view(p, static_cast<std::size_t>(last - p)), out);
  }

  // The block mapping whose first key is at p, column n of the current line
  // (already read into key and after when `keyRead`).
  bool blockMapping(int n, const char* p, json& out, std::string key = {}, const char* after = nullptr,
                    bool keyRead = false) {
    if (!open()) return false;
    const bool root = depth_ == 1;
    out = json::object();
    auto& object = out.get_ref<json::object_t&>();
    while (true) {
      if (!keyRead && !blockKey(p, key, after)) return false;
      keyRead = false;
      std::vector<int>* itemLines = root && key == "items" ? &rootItemLines_ : nullptr;
      json value;
      const char* v = skipSpaces(after);
      if (v == lineEnd_ || *v == '#') {  // the value is on the lines below, or null
        nextLine();
        if (!skipToContent()) return false;
        if (state_ == State::Content && indent_ > n) {
          if (!blockNodeHere(value, itemLines)) return false;
        } else if (state_ == State::Content && indent_ == n && isSequenceEntry(content_)) {
          if (!blockSequence(n, value, itemLines)) return false;
        } else if (!countNode()) {
          return false;
        }
      } else if (!inlineValue(v, value, itemLines) || !endOfValueLine(n)) {
        return false;
      }
      if (!object.emplace(std::move(key), std::move(value)).second) return false;  // a duplicate: libyaml's error
      if (state_ != State::Content || indent_ < n) break;
      if (indent_ > n || isSequenceEntry(content_)) return false;
      p = content_;
    }
    --depth_;
    return true;
  }

  // The block sequence whose first `-` is at column s of the current line.
  bool blockSequence(int s, json& out, std::vector<int>* itemLines) {
    if (!open()) return false;
    out = json::array();
    while (true) {
      const char* v = skipSpaces(content_ + 1);
      int line = line_;
      json item;
      if (v == lineEnd_ || *v == '#') {  // the item is on the lines below
        nextLine();
        if (!skipToContent()) return false;
        if (state_ != State::Content || indent_ <= s) return false;  // a null item
        line = line_;
        if (!blockNodeHere(item, nullptr)) return false;
      } else if (isSequenceEntry(v)) {
        return false;  // - - a
      } else {
        std::string key;
        const char* after = nullptr;
        if (blockKey(v, key, after)) {  // a mapping begins on the entry's line
          if (!blockMapping(static_cast<int>(v - lineStart_), v, item, std::move(key), after, true)) return false;
        } else if (!inlineValue(v, item, nullptr) || !endOfValueLine(s)) {
          return false;
        }
      }
      out.push_back(std::move(item));
      if (itemLines) itemLines->push_back(line);
      if (state_ != State::Content || indent_ < s) break;
      if (indent_ > s) return false;
      if (!isSequenceEntry(content_)) break;  // an indentless sequence ends at its mapping's next key
    }
    --depth_;
    return true;
  }

  // A flow scalar at p (a key's when `key`): quoted, or plain up to `, ] }`
  // or `: `. Moves p past it.
  bool flowScalar(const char*& p, bool isKey, json& value, std::string& key) {
    if (*p == '"' || *p == '\'') {
      std::string text;
      const char* q = quoted(p, text);
      if (!q) return false;
      p = q;
      if (isKey) return keyOf(text, false, key);
      value = std::move(text);
      return countNode();
    }
    if (isIndicator(*p) && !(*p == '-' && p + 1 < lineEnd_ && !isIndicator(p[1]) && p[1] != ' ')) return false;
    const char* q = p;
    const char* last = p;
    for (; q < lineEnd_; ++q) {
      const char c = *q;
      if (c == ']' || c == '}' || c == ',') break;
      if (c == '[' || c == '{' || c == '?') return false;
      if (c == ':') {
        if (q + 1 == lineEnd_) return false;
        if (q[1] == ' ') break;
        if (isFlowIndicator(q[1]) || q[1] == '?') return false;  // libyaml's "found unexpected ':'"
      }
      if (c == '#' && q[-1] == ' ') return false;  // a comment inside a flow collection
      if (c != ' ') last = q + 1;
    }
    if (q == lineEnd_ || last == p) return false;  // goes on on the next line, or empty
    std::string_view text(p, static_cast<std::size_t>(last - p));
    p = q;
    if (isKey) return keyOf(text, true, key);
    return plainValue(text, value);
  }

  bool flowValue(const char*& p, json& out) {
    if (p == lineEnd_) return false;
    if (*p == '{' || *p == '[') return flowCollection(p, out, nullptr);
    std::string unused;
    return flowScalar(p, false, out, unused);
  }

  // A flow mapping or sequence at p that closes on this line; moves p past it.
  bool flowCollection(const char*& p, json& out, std::vector<int>* itemLines) {
    if (!open()) return false;
    const bool isMap = *p == '{';
    const char close = isMap ? '}' : ']';
    out = isMap ? json::object() : json::array();
    p = skipSpaces(p + 1);
    if (p < lineEnd_ && *p == close) {
      ++p;
      --depth_;
      return true;
    }
    std::string key;
    json unused;
    while (true) {
      if (p == lineEnd_) return false;
      json value;
      if (isMap) {
        if (!flowScalar(p, true, unused, key)) return false;
        if (p == lineEnd_ || *p != ':' || p + 1 == lineEnd_ || p[1] != ' ') return false;
        p = skipSpaces(p + 1);
        if (p == lineEnd_ || (isFlowIndicator(*p) && *p != '[' && *p != '{')) return false;  // an empty value
        if (!flowValue(p, value)) return false;
        if (!out.get_ref<json::object_t&>().emplace(std::move(key), std::move(value)).second) return false;
      } else {
        if (!flowValue(p, value)) return false;
        out.push_back(std::move(value));
        if (itemLines) itemLines->push_back(line_);
      }
      p = skipSpaces(p);
      if (p == lineEnd_) return false;
      if (*p == ',') {
        p = skipSpaces(p + 1);
        if (p == lineEnd_ || *p == close || *p == ',') return false;  // a trailing or an empty entry
        continue;
      }
      if (*p != close) return false;
      ++p;
      break;
    }
    --depth_;
    return true;
  }

  const char* end_;
  const ReadLimits& limits_;
  const char* lineStart_;
  const char* lineEnd_ = nullptr;
  int line_ = 1;
  bool atEnd_ = false;
  State state_ = State::End;
  const char* content_ = nullptr;
  int indent_ = 0;
  int depth_ = 0;
  std::uint64_t nodes_ = 0;
  std::vector<int> rootItemLines_;  // of the root mapping's `items` sequence
};

// Whether the text holds only what this reader reads: printable ASCII and
// line feeds (no tabs, carriage returns, byte order marks, other encodings).
bool onlyPlainAscii(std::string_view text) {
  std::size_t i = 0;
#if defined(__SSE2__)
  // Sixteen bytes at a time: as signed bytes, everything outside 0x20-0x7e
  // but DEL is below 0x20 (bytes from 0x80 on are negative).
  const __m128i space = _mm_set1_epi8(0x20), newline = _mm_set1_epi8('\n'), del = _mm_set1_epi8(0x7f);
  for (; i + 16 <= text.size(); i += 16) {
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(text.data() + i));
    const __m128i bad = _mm_or_si128(_mm_andnot_si128(_mm_cmpeq_epi8(v, newline), _mm_cmplt_epi8(v, space)),
                                     _mm_cmpeq_epi8(v, del));
    if (_mm_movemask_epi8(bad) != 0) return false;
  }
#endif
  for (; i < text.size(); ++i) {
    const char c = text[i];
    if ((c < 0x20 || c > 0x7e) && c != '\n') return false;
  }
  return true;
}

}  // namespace

std::optional<ReadOutcome> readSimpleYamlStream(std::string_view text, const ReadLimits& limits) {
  if (!onlyPlainAscii(text)) return std::nullopt;
  SimpleReader reader(text, limits);
  return reader.read();
}

}  // namespace gitfed::render
