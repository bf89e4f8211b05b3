// Reading RSP documents the short way (schedule_reader.h): the document's
// lines are read into a small tree of words and mappings held on the stack
// (no allocation), which is then checked field by field against what
// readYamlStream and parseReplicaSchedulingPreference would make of it.
// Everything outside that shape, and every value the general way would
// refuse or read differently (YAML 1.1 words, octal or signed numbers,
// nulls, duplicates, unknown fields), declines the document.

#include "gitfed/render/schedule_reader.h"

#include <algorithm>
#include <array>
#include <cstring>

#include "gitfed/render/scalar.h"

namespace gitfed::render {
namespace {

constexpr std::string_view kApiVersion = "scheduling.kubefed.io/v1alpha1";
constexpr std::string_view kKind = "ReplicaSchedulingPreference";

// What this reader reads at most; more is left to the general way.
constexpr std::size_t kMaxLines = 128;
constexpr std::size_t kMaxNodes = 256;
constexpr int kMaxDepth = 4;                // the root, spec, spec.clusters, one cluster's preferences
constexpr std::ptrdiff_t kMaxWord = 253;    // libyaml refuses keys over 1,024 characters
constexpr std::ptrdiff_t kMaxDigits = 10;   // kMaxScheduleNumber has 10

bool isAlnum(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'); }

// The characters of the words read here: none of them means anything to
// YAML inside a plain scalar that begins with a letter or a digit.
bool isWordChar(char c) { return isAlnum(c) || c == '.' || c == '_' || c == '-' || c == '/'; }

struct Line {
  const char* begin;  // after the indentation
  const char* end;    // before the trailing spaces
  int indent;
  int number;
};

// Text as trivial members (a std::string_view member would make the
// arrays below be initialized on every document).
struct Text {
  const char* data;
  std::size_t size;
  Text& operator=(std::string_view v) {
    data = v.data();
    size = v.size();
    return *this;
  }
  operator std::string_view() const { return std::string_view(data, size); }
};

// A scalar (text, quoted or plain) or a mapping (its entries linked from
// `first`). Trivial aggregates: the arrays are left uninitialized.
struct Node {
  Text text;
  bool quoted;
  bool mapping;
  int first;  // a mapping's first entry, -1: none
};
struct Entry {
  Text key;
  bool quoted;
  int value;  // a node
  int next;   // the next entry of the same mapping, -1: the last
};

class Parser {
 public:
  // False when the text is not lines of printable ASCII this reader reads.
  bool split(std::string_view document, int firstLine) {
    const char* p = document.data();
    const char* const end = p + document.size();
    int number = firstLine;
    while (p < end) {
      const char* nl = static_cast<const char*>(std::memchr(p, '\n', static_cast<std::size_t>(end - p)));
      const char* e = nl ? nl : end;
      // Comments too (what readSimpleYamlStream requires of the whole stream).
      for (const char* q = p; q < e; ++q)
        if (*q < 0x20 || *q > 0x7e) return false;
      const char* b = p;
      while (b < e && *b == ' ') ++b;
      if (b < e && *b != '#') {
        if (lineCount_ == kMaxLines) return false;
        const char* t = e;
        while (t[-1] == ' ') --t;
        lines_[lineCount_++] = Line{b, t, static_cast<int>(b - p), number};
      }
      ++number;
      if (!nl) break;
      p = nl + 1;
    }
    return lineCount_ > 0 && lines_[0].indent == 0;
  }

  int firstLine() const { return lines_[0].number; }

  // The root mapping; -1 when the lines are not one.
  int root() {
    std::size_t i = 0;
    int node = -1;
    return blockMapping(i, 1, node) ? node : -1;
  }

  const Node& node(int n) const { return nodes_[static_cast<std::size_t>(n)]; }
  const Entry& entry(int e) const { return entries_[static_cast<std::size_t>(e)]; }

 private:
  int newNode(std::string_view text, bool quoted, bool mapping) {
    if (nodeCount_ == kMaxNodes) return -1;
    Node& n = nodes_[nodeCount_];
    n.text = text;
    n.quoted = quoted;
    n.mapping = mapping;
    n.first = -1;
    return static_cast<int>(nodeCount_++);
  }

  // Appends an entry to a mapping (`last`: its last entry so far, -1: none).
  bool addEntry(int mapping, int& last, std::string_view key, bool quoted, int value) {
    if (entryCount_ == kMaxNodes) return false;
    const int e = static_cast<int>(entryCount_++);
    Entry& entry = entries_[static_cast<std::size_t>(e)];
    entry.key = key;
    entry.quoted = quoted;
    entry.value = value;
    entry.next = -1;
    if (last < 0)
      nodes_[static_cast<std::size_t>(mapping)].first = e;
    else
      entries_[static_cast<std::size_t>(last)].next = e;
    last = e;
    return true;
  }

  // 'word' or "word" (word characters and `*`, no escapes): its text.
  static bool quotedText(const char*& p, const char* end, std::string_view& text) {
    const char quote = *p++;
    const char* b = p;
    while (p < end && (isWordChar(*p) || *p == '*')) ++p;
    if (p == b || p == end || *p != quote || p - b > kMaxWord) return false;
    text = std::string_view(b, static_cast<std::size_t>(p - b));
    ++p;
    return true;
  }

  // A word (plain: beginning with a letter or a digit) or a quoted word.
  static bool scalar(const char*& p, const char* end, std::string_view& text, bool& quoted) {
    quoted = *p == '"' || *p == '\'';
    if (quoted) return quotedText(p, end, text);
    if (!isAlnum(*p)) return false;
    const char* b = p;
    while (p < end && isWordChar(*p)) ++p;
    if (p - b > kMaxWord) return false;
    text = std::string_view(b, static_cast<std::size_t>(p - b));
    return true;
  }

  // A key and its `:` (what follows is the caller's to check).
  static bool key(const char*& p, const char* end, std::string_view& text, bool& quoted) {
    if (!scalar(p, end, text, quoted) || p == end || *p != ':') return false;
    ++p;
    return true;
  }

  static const char* skipSpaces(const char* p, const char* end) {
    while (p < end && *p == ' ') ++p;
    return p;
  }

  // The block mapping whose first key begins lines_[i]; all its keys at that
  // line's indentation, its values on their key's line or a block below it.
  bool blockMapping(std::size_t& i, int depth, int& out) {
    if (depth > kMaxDepth || (out = newNode({}, false, true)) < 0) return false;
    const int indent = lines_[i].indent;
    int last = -1;
    while (true) {
      const Line& line = lines_[i];
      const char* p = line.begin;
      std::string_view k;
      bool quoted = false;
      if (!key(p, line.end, k, quoted)) return false;
      int value = -1;
      if (p == line.end) {  // the value is the block below (none: a null, left to the general way)
        if (++i == lineCount_ || lines_[i].indent <= indent || !blockMapping(i, depth + 1, value)) return false;
      } else {
        if (*p != ' ') return false;
        p = skipSpaces(p, line.end);
        if (*p == '{') {
          if (!flowMapping(p, line.end, depth + 1, value)) return false;
        } else {
          std::string_view text;
          bool q = false;
          if (!scalar(p, line.end, text, q) || (value = newNode(text, q, false)) < 0) return false;
        }
        if (p != line.end) return false;  // more on the line (a comment, a second word...)
        ++i;
      }
      if (!addEntry(out, last, k, quoted, value)) return false;
      if (i == lineCount_ || lines_[i].indent < indent) return true;
      if (lines_[i].indent > indent) return false;  // a continuation, or a block under a scalar
    }
  }

  // {key: value, ...} closing on this line; values words or flow mappings.
  bool flowMapping(const char*& p, const char* end, int depth, int& out) {
    if (depth > kMaxDepth || (out = newNode({}, false, true)) < 0) return false;
    int last = -1;
    p = skipSpaces(p + 1, end);
    if (p < end && *p == '}') {
      ++p;
      return true;
    }
    while (true) {
      if (p == end) return false;
      std::string_view k;
      bool quoted = false;
      if (!key(p, end, k, quoted) || p == end || *p != ' ') return false;
      p = skipSpaces(p, end);
      if (p == end) return false;
      int value = -1;
      if (*p == '{') {
        if (!flowMapping(p, end, depth + 1, value)) return false;
      } else {
        std::string_view text;
        bool q = false;
        if (!scalar(p, end, text, q) || (value = newNode(text, q, false)) < 0) return false;
      }
      if (!addEntry(out, last, k, quoted, value)) return false;
      p = skipSpaces(p, end);
      if (p == end) return false;
      if (*p == ',') {
        p = skipSpaces(p + 1, end);
        continue;
      }
      if (*p != '}') return false;
      ++p;
      return true;
    }
  }

  std::array<Line, kMaxLines> lines_;
  std::size_t lineCount_ = 0;
  std::array<Node, kMaxNodes> nodes_;
  std::size_t nodeCount_ = 0;
  std::array<Entry, kMaxNodes> entries_;
  std::size_t entryCount_ = 0;
};

// A scalar that the general way reads as a string: quoted, or a plain word
// that is no number, null or boolean.
std::optional<std::string_view> stringOf(std::string_view text, bool quoted) {
  if (quoted || plainScalarIsString(text)) return text;
  return std::nullopt;
}

// A plain decimal integer from 0 to kMaxScheduleNumber (a leading 0 is
// octal to the general way, and left to it).
std::optional<std::int64_t> numberOf(const Node& n) {
  const std::string_view text = n.text;
  if (n.mapping || n.quoted || text.empty() || static_cast<std::ptrdiff_t>(text.size()) > kMaxDigits ||
      (text[0] == '0' && text.size() > 1))
    return std::nullopt;
  std::int64_t v = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + (c - '0');
  }
  if (v > kMaxScheduleNumber) return std::nullopt;
  return v;
}

// Only the words true and false (YAML 1.1 has more; the general way reads those).
std::optional<bool> booleanOf(const Node& n) {
  if (n.mapping || n.quoted) return std::nullopt;
  const std::string_view text = n.text;
  if (text == "true") return true;
  if (text == "false") return false;
  return std::nullopt;
}

// Calls field(name, value node) for each entry of a mapping whose keys are
// strings and appear once each among `names` (bit i of `seen`: names[i]).
// False at anything else.
template <std::size_t N, class Field>
bool forFields(const Parser& parser, const Node& mapping, const std::array<std::string_view, N>& names, Field&& field) {
  unsigned seen = 0;
  for (int e = mapping.first; e >= 0; e = parser.entry(e).next) {
    const Entry& entry = parser.entry(e);
    auto key = stringOf(entry.key, entry.quoted);
    if (!key) return false;
    std::size_t i = 0;
    while (i < N && names[i] != *key) ++i;
    if (i == N || (seen & (1u << i)) != 0) return false;
    seen |= 1u << i;
    if (!field(i, parser.node(entry.value))) return false;
  }
  return true;
}

bool readPreference(const Parser& parser, const Node& n, ClusterPreference& p) {
  static constexpr std::array<std::string_view, 3> kFields = {"weight", "minReplicas", "maxReplicas"};
  if (!n.mapping) return false;
  const bool ok = forFields(parser, n, kFields, [&](std::size_t field, const Node& v) {
    auto number = numberOf(v);
    if (!number) return false;
    if (field == 0) p.weight = *number;
    if (field == 1) p.minReplicas = *number;
    if (field == 2) p.maxReplicas = *number;
    return true;
  });
  return ok && !(p.maxReplicas && p.minReplicas > *p.maxReplicas);
}

bool readClusters(const Parser& parser, const Node& n, ReplicaSchedulingSpec& spec) {
  if (!n.mapping) return false;
  for (int e = n.first; e >= 0; e = parser.entry(e).next) {
    const Entry& entry = parser.entry(e);
    auto name = stringOf(entry.key, entry.quoted);
    ClusterPreference p;
    if (!name || !readPreference(parser, parser.node(entry.value), p)) return false;
    if (!spec.clusters.emplace(std::string(*name), p).second) return false;  // a duplicate ("a" and a)
  }
  return true;
}

bool readSpec(const Parser& parser, const Node& n, ReplicaSchedulingSpec& spec) {
  static constexpr std::array<std::string_view, 5> kFields = {"targetKind", "totalReplicas", "rebalance",
                                                              "intersectWithClusterSelector", "clusters"};
  if (!n.mapping) return false;
  bool hasKind = false, hasTotal = false;
  const bool ok = forFields(parser, n, kFields, [&](std::size_t field, const Node& v) {
    switch (field) {
      case 0: {
        auto kind = v.mapping ? std::nullopt : stringOf(v.text, v.quoted);
        if (!kind || !isScheduleTargetKind(*kind)) return false;
        spec.targetKind.assign(*kind);
        return hasKind = true;
      }
      case 1: {
        auto total = numberOf(v);
        if (!total) return false;
        spec.totalReplicas = *total;
        return hasTotal = true;
      }
      case 2:
      case 3: {
        auto b = booleanOf(v);
        if (!b) return false;
        (field == 2 ? spec.rebalance : spec.intersectWithClusterSelector) = *b;
        return true;
      }
      default:
        return readClusters(parser, v, spec);
    }
  });
  if (!ok || !hasKind || !hasTotal) return false;
  completeScheduleClusters(spec);
  return true;
}

bool readMetadata(const Parser& parser, const Node& n, SimpleSchedule& out) {
  static constexpr std::array<std::string_view, 2> kFields = {"name", "namespace"};
  if (!n.mapping) return false;
  bool hasName = false;
  const bool ok = forFields(parser, n, kFields, [&](std::size_t field, const Node& v) {
    auto text = v.mapping ? std::nullopt : stringOf(v.text, v.quoted);
    if (!text) return false;
    (field == 0 ? out.name : out.ns).assign(*text);
    if (field == 0) hasName = true;
    return true;
  });
  return ok && hasName;
}

}  // namespace

std::optional<SimpleSchedule> readSimpleSchedule(std::string_view document, int firstLine) {
  Parser parser;
  if (!parser.split(document, firstLine)) return std::nullopt;
  const int root = parser.root();
  if (root < 0) return std::nullopt;
  static constexpr std::array<std::string_view, 4> kFields = {"apiVersion", "kind", "metadata", "spec"};
  SimpleSchedule out;
  out.line = parser.firstLine();
  unsigned present = 0;
  const bool ok = forFields(parser, parser.node(root), kFields, [&](std::size_t field, const Node& v) {
    present |= 1u << field;
    switch (field) {
      case 0:
      case 1: {
        auto text = v.mapping ? std::nullopt : stringOf(v.text, v.quoted);
        return text && *text == (field == 0 ? kApiVersion : kKind);
      }
      case 2:
        return readMetadata(parser, v, out);
      default:
        return readSpec(parser, v, out.spec);
    }
  });
  if (!ok || present != 0xF) return std::nullopt;
  return out;
}

TakenSchedules takeSimpleSchedules(std::string_view text, const ReadLimits& limits) {
  TakenSchedules out;
  // The readers count every key, value and mapping against the limits.
  if (limits.maxDepth <= kMaxDepth + 1 || limits.maxNodes <= 4 * kMaxNodes) return out;
  if (text.find(kKind) == std::string_view::npos) return out;
  struct Range {
    std::size_t begin, end;
  };
  std::vector<Range> taken;
  const char* const start = text.data();
  const char* const end = start + text.size();
  const char* document = start;
  int documentLine = 1;
  auto tryDocument = [&](const char* documentEnd) {
    std::string_view d(document, static_cast<std::size_t>(documentEnd - document));
    if (d.find(kKind) == std::string_view::npos) return;
    if (auto s = readSimpleSchedule(d, documentLine)) {
      out.schedules.push_back(std::move(*s));
      taken.push_back(Range{static_cast<std::size_t>(document - start), static_cast<std::size_t>(documentEnd - start)});
    }
  };
  int line = 1;
  for (const char* p = start; p < end;) {
    const char* nl = static_cast<const char*>(std::memchr(p, '\n', static_cast<std::size_t>(end - p)));
    const char* e = nl ? nl : end;
    if (e - p >= 3 && (std::memcmp(p, "---", 3) == 0 || std::memcmp(p, "...", 3) == 0)) {
      if (e - p != 3 || *p != '-') return TakenSchedules{};  // content after ---, or a document end marker
      tryDocument(p);
      document = nl ? nl + 1 : end;
      documentLine = line + 1;
    } else if (p < e && *p == '%') {
      return TakenSchedules{};  // a directive
    }
    ++line;
    if (!nl) break;
    p = nl + 1;
  }
  tryDocument(end);
  if (out.schedules.empty()) return out;
  // The rest: each taken document's lines left empty.
  out.rest.reserve(text.size());
  std::size_t at = 0;
  for (const auto& r : taken) {
    out.rest.append(text, at, r.begin - at);
    out.rest.append(static_cast<std::size_t>(std::count(start + r.begin, start + r.end, '\n')), '\n');
    at = r.end;
  }
  out.rest.append(text, at);
  return out;
}

}  // namespace gitfed::render
