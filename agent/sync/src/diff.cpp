#include "gitfed/sync/diff.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <cmath>

#include "gitfed/render/json_patch.h"

namespace gitfed::sync {

using nlohmann::json;

// ---- FieldSet ----------------------------------------------------------------

std::expected<FieldSet, std::string> FieldSet::parse(std::string_view list) {
  FieldSet set;
  std::size_t i = 0;
  while (i < list.size()) {
    while (i < list.size() && (list[i] == ',' || std::isspace(static_cast<unsigned char>(list[i])))) ++i;
    std::size_t start = i;
    while (i < list.size() && list[i] != ',' && !std::isspace(static_cast<unsigned char>(list[i]))) ++i;
    if (start == i) break;
    auto text = list.substr(start, i - start);
    auto pointer = render::parseJsonPointer(text);
    if (!pointer) return std::unexpected("\"" + std::string(text) + "\" is not a JSON pointer: " + pointer.error().message);
    set.add(std::move(pointer->tokens));
  }
  return set;
}

void FieldSet::add(std::vector<std::string> tokens) {
  if (std::find(pointers_.begin(), pointers_.end(), tokens) == pointers_.end()) pointers_.push_back(std::move(tokens));
}

void FieldSet::merge(const FieldSet& other) {
  for (const auto& p : other.pointers_) add(p);
}

bool FieldSet::covers(const std::vector<std::string>& path) const {
  for (const auto& p : pointers_) {
    if (p.size() > path.size()) continue;
    if (std::equal(p.begin(), p.end(), path.begin())) return true;
  }
  return false;
}

// ---- pointers ------------------------------------------------------------------

std::string escapePointerToken(std::string_view token) {
  std::string out;
  out.reserve(token.size());
  for (char c : token) {
    if (c == '~')
      out += "~0";
    else if (c == '/')
      out += "~1";
    else
      out += c;
  }
  return out;
}

std::string toPointer(const std::vector<std::string>& tokens) {
  std::string out;
  for (const auto& t : tokens) out += "/" + escapePointerToken(t);
  return out;
}

namespace {

std::optional<std::size_t> arrayIndex(const std::string& token, std::size_t size) {
  if (token.empty() || token.size() > 9 || !std::all_of(token.begin(), token.end(), [](char c) { return c >= '0' && c <= '9'; }))
    return std::nullopt;
  std::size_t i = std::stoul(token);
  if (i >= size) return std::nullopt;
  return i;
}

}  // namespace

const json* findAt(const json& doc, const std::vector<std::string>& tokens) {
  const json* cur = &doc;
  for (const auto& t : tokens) {
    if (cur->is_object()) {
      auto it = cur->find(t);
      if (it == cur->end()) return nullptr;
      cur = &*it;
    } else if (cur->is_array()) {
      auto i = arrayIndex(t, cur->size());
      if (!i) return nullptr;
      cur = &(*cur)[*i];
    } else {
      return nullptr;
    }
  }
  return cur;
}

bool setAt(json& doc, const std::vector<std::string>& tokens, json value) {
  json* cur = &doc;
  for (std::size_t k = 0; k < tokens.size(); ++k) {
    const auto& t = tokens[k];
    if (cur->is_null()) *cur = json::object();
    if (cur->is_object()) {
      cur = &(*cur)[t];
    } else if (cur->is_array()) {
      auto i = arrayIndex(t, cur->size());
      if (!i) return false;
      cur = &(*cur)[*i];
    } else {
      return false;
    }
  }
  *cur = std::move(value);
  return true;
}

// ---- quantities ---------------------------------------------------------------

std::optional<long double> parseQuantity(std::string_view s) {
  // <sign><digits>[.<digits>]<suffix>, suffix: Ki..Ei, n u m k M G T P E, e/E<int>, or none.
  std::size_t i = 0;
  bool negative = false;
  if (i < s.size() && (s[i] == '+' || s[i] == '-')) negative = s[i++] == '-';
  unsigned long long mantissa = 0;
  int exp10 = 0;
  int digits = 0;
  bool any = false;
  auto isDigit = [](char c) { return c >= '0' && c <= '9'; };
  while (i < s.size() && isDigit(s[i])) {
    any = true;
    if (digits < 18) {
      mantissa = mantissa * 10 + static_cast<unsigned>(s[i] - '0');
      if (mantissa != 0) ++digits;
    } else {
      ++exp10;
    }
    ++i;
  }
  if (i < s.size() && s[i] == '.') {
    ++i;
    while (i < s.size() && isDigit(s[i])) {
      any = true;
      if (digits < 18) {
        mantissa = mantissa * 10 + static_cast<unsigned>(s[i] - '0');
        if (mantissa != 0) ++digits;
        --exp10;
      }
      ++i;
    }
  }
  if (!any) return std::nullopt;
  std::string_view suffix = s.substr(i);
  int binaryPower = 0;  // multiples of 2^10
  static const std::array<std::pair<std::string_view, int>, 6> binary{
      {{"Ki", 1}, {"Mi", 2}, {"Gi", 3}, {"Ti", 4}, {"Pi", 5}, {"Ei", 6}}};
  static const std::array<std::pair<std::string_view, int>, 9> decimal{
      {{"n", -9}, {"u", -6}, {"m", -3}, {"", 0}, {"k", 3}, {"M", 6}, {"G", 9}, {"T", 12}, {"P", 15}}};
  bool known = false;
  for (const auto& [name, p] : binary)
    if (suffix == name) binaryPower = p, known = true;
  for (const auto& [name, p] : decimal)
    if (suffix == name) exp10 += p, known = true;
  if (suffix == "E") exp10 += 18, known = true;
  if (!known && suffix.size() >= 2 && (suffix[0] == 'e' || suffix[0] == 'E')) {
    std::size_t j = 1;
    bool neg = false;
    if (suffix[j] == '+' || suffix[j] == '-') neg = suffix[j++] == '-';
    if (j >= suffix.size() || suffix.size() - j > 3) return std::nullopt;
    int e = 0;
    for (; j < suffix.size(); ++j) {
      if (!isDigit(suffix[j])) return std::nullopt;
      e = e * 10 + (suffix[j] - '0');
    }
    exp10 += neg ? -e : e;
    known = true;
  }
  if (!known) return std::nullopt;
  // Nano-units: exact for every quantity Kubernetes writes (10^k for k <= 27
  // and 2^60 are exact in a long double's 64-bit mantissa).
  long double v = static_cast<long double>(mantissa);
  int e = exp10 + 9;
  if (e > 40 || e < -40) return std::nullopt;
  if (e >= 0)
    v *= std::pow(10.0L, e);
  else
    v = std::ceil(v / std::pow(10.0L, -e));  // the server rounds up to nano-units
  v *= std::pow(1024.0L, binaryPower);
  return negative ? -v : v;
}

bool quantitiesEqual(std::string_view a, std::string_view b) {
  auto x = parseQuantity(a);
  auto y = parseQuantity(b);
  return x && y && *x == *y;
}

// ---- comparison ----------------------------------------------------------------

namespace {

bool isEmptyContainer(const json& v) { return (v.is_object() || v.is_array()) && v.empty(); }

// Server bookkeeping under metadata, never compared.
bool isBookkeeping(const std::vector<std::string>& path) {
  if (path.size() == 1) return path[0] == "status";
  if (path.size() == 2 && path[0] == "metadata") {
    const auto& k = path[1];
    return k == "managedFields" || k == "resourceVersion" || k == "generation" || k == "uid" ||
           k == "creationTimestamp" || k == "selfLink" || k == "deletionTimestamp" ||
           k == "deletionGracePeriodSeconds";
  }
  return false;
}

// Values at these keys are resource quantities ("1000m" == "1").
bool inQuantityContext(const std::vector<std::string>& path) {
  if (path.size() < 2) return false;
  const auto& parent = path[path.size() - 2];
  const auto& key = path.back();
  return parent == "requests" || parent == "limits" || parent == "hard" || parent == "capacity" ||
         parent == "allocatable" || parent == "overhead" || key == "sizeLimit";
}

std::string scalarText(const json& v) { return v.is_string() ? v.get<std::string>() : v.dump(); }

bool scalarsEqual(const json& d, const json& l, const std::vector<std::string>& path) {
  if (d == l) return true;
  if ((d.is_string() || d.is_number()) && (l.is_string() || l.is_number()) && inQuantityContext(path))
    return quantitiesEqual(scalarText(d), scalarText(l));
  return false;
}

class Coverer {
 public:
  explicit Coverer(const FieldSet& ignore) : ignore_(ignore) {}

  bool covers(const json& d, const json* l) {
    if (d.is_null()) return l == nullptr || l->is_null();
    if (l == nullptr || l->is_null()) return isEmptyContainer(d);
    if (d.is_object()) {
      if (!l->is_object()) return false;
      for (auto it = d.begin(); it != d.end(); ++it) {
        path_.push_back(it.key());
        bool skip = isBookkeeping(path_) || (!ignore_.empty() && ignore_.covers(path_));
        bool ok = true;
        if (!skip) {
          auto li = l->find(it.key());
          ok = covers(it.value(), li == l->end() ? nullptr : &*li);
        }
        path_.pop_back();
        if (!ok) return false;
      }
      return true;
    }
    if (d.is_array()) {
      if (!l->is_array() || l->size() != d.size()) return false;
      for (std::size_t i = 0; i < d.size(); ++i) {
        path_.push_back(std::to_string(i));
        bool skip = !ignore_.empty() && ignore_.covers(path_);
        bool ok = skip || covers(d[i], &(*l)[i]);
        path_.pop_back();
        if (!ok) return false;
      }
      return true;
    }
    return scalarsEqual(d, *l, path_);
  }

 private:
  const FieldSet& ignore_;
  std::vector<std::string> path_;
};

class Differ {
 public:
  Differ(const FieldSet& ignore, std::vector<DriftEntry>& out) : ignore_(ignore), out_(out) {}

  void diff(const json* w, const json* l) {
    bool wAbsent = w == nullptr || w->is_null();
    bool lAbsent = l == nullptr || l->is_null();
    if (wAbsent && lAbsent) return;
    if (!wAbsent && !lAbsent && w->is_object() && l->is_object()) {
      for (auto it = w->begin(); it != w->end(); ++it) {
        auto li = l->find(it.key());
        child(it.key(), &it.value(), li == l->end() ? nullptr : &*li);
      }
      for (auto it = l->begin(); it != l->end(); ++it)
        if (!w->contains(it.key())) child(it.key(), nullptr, &it.value());
      return;
    }
    if (!wAbsent && !lAbsent && w->is_array() && l->is_array() && w->size() == l->size()) {
      for (std::size_t i = 0; i < w->size(); ++i) child(std::to_string(i), &(*w)[i], &(*l)[i]);
      return;
    }
    if (!wAbsent && !lAbsent && *w == *l) return;
    if (wAbsent && isEmptyContainer(*l)) return;
    if (lAbsent && isEmptyContainer(*w)) return;
    DriftEntry e;
    e.path = toPointer(path_);
    if (!wAbsent) e.desired = *w;
    if (!lAbsent) e.live = *l;
    out_.push_back(std::move(e));
  }

 private:
  void child(const std::string& key, const json* w, const json* l) {
    path_.push_back(key);
    if (!isBookkeeping(path_) && (ignore_.empty() || !ignore_.covers(path_))) diff(w, l);
    path_.pop_back();
  }

  const FieldSet& ignore_;
  std::vector<DriftEntry>& out_;
  std::vector<std::string> path_;
};

}  // namespace

bool coversDesired(const json& desired, const json& live, const FieldSet& ignore) {
  Coverer c(ignore);
  return c.covers(desired, &live);
}

std::vector<DriftEntry> diffObjects(const json& want, const json& live, const FieldSet& ignore) {
  std::vector<DriftEntry> out;
  Differ d(ignore, out);
  d.diff(&want, &live);
  return out;
}

// ---- Secrets --------------------------------------------------------------------

json foldStringData(const json& secret) {
  json s = secret;
  auto sd = s.find("stringData");
  if (sd == s.end()) return s;
  if (sd->is_object()) {
    json& data = s["data"];
    if (!data.is_object()) data = json::object();
    for (auto it = s["stringData"].begin(); it != s["stringData"].end(); ++it)
      if (it.value().is_string()) data[it.key()] = base64Encode(it.value().get<std::string>());
  }
  s.erase("stringData");
  return s;
}

namespace {

constexpr std::string_view kLastApplied = "/metadata/annotations/kubectl.kubernetes.io~1last-applied-configuration";

bool isSecretValuePointer(std::string_view p) {
  return p.starts_with("/data/") || p.starts_with("/stringData/") || p == kLastApplied;
}

void redactWalk(json& v, std::string& pointer) {
  if (isSecretValuePointer(pointer)) {
    v = std::string(kRedacted);
    return;
  }
  if (v.is_object()) {
    for (auto it = v.begin(); it != v.end(); ++it) {
      auto size = pointer.size();
      pointer += "/" + escapePointerToken(it.key());
      redactWalk(it.value(), pointer);
      pointer.resize(size);
    }
  } else if (v.is_array()) {
    for (std::size_t i = 0; i < v.size(); ++i) {
      auto size = pointer.size();
      pointer += "/" + std::to_string(i);
      redactWalk(v[i], pointer);
      pointer.resize(size);
    }
  }
}

}  // namespace

void redactSecretValue(json& value, std::string_view pointer) {
  std::string p(pointer);
  redactWalk(value, p);
}

void redactSecretDrift(std::vector<DriftEntry>& drift) {
  for (auto& e : drift) {
    if (e.desired) redactSecretValue(*e.desired, e.path);
    if (e.live) redactSecretValue(*e.live, e.path);
  }
}

std::string redactSecretText(std::string text, const json& secret) {
  std::vector<std::string> values;
  auto addValue = [&](std::string v) {
    // Very short values are not meaningful secrets and would blank out the
    // message; every form a server may echo is redacted otherwise.
    if (v.size() < 3) return;
    std::string escaped = json(v).dump();
    escaped = escaped.substr(1, escaped.size() - 2);
    if (escaped != v) values.push_back(escaped);
    values.push_back(std::move(v));
  };
  if (auto d = secret.find("data"); d != secret.end() && d->is_object())
    for (const auto& v : *d)
      if (v.is_string()) {
        addValue(v.get<std::string>());
        if (auto plain = base64Decode(v.get<std::string>())) addValue(*plain);
      }
  if (auto d = secret.find("stringData"); d != secret.end() && d->is_object())
    for (const auto& v : *d)
      if (v.is_string()) {
        addValue(v.get<std::string>());
        addValue(base64Encode(v.get<std::string>()));
      }
  if (auto a = secret.find("metadata"); a != secret.end() && a->is_object())
    if (const json* last = findAt(*a, {"annotations", "kubectl.kubernetes.io/last-applied-configuration"});
        last && last->is_string())
      addValue(last->get<std::string>());
  std::sort(values.begin(), values.end(), [](const auto& a, const auto& b) { return a.size() > b.size(); });
  for (const auto& v : values) {
    std::size_t pos = 0;
    while ((pos = text.find(v, pos)) != std::string::npos) {
      text.replace(pos, v.size(), kRedacted);
      pos += kRedacted.size();
    }
  }
  return text;
}

// ---- hashing and base64 ------------------------------------------------------------

std::uint64_t contentHashValue(const json& value) {
  // Streams the text through the hash without building it in memory.
  struct Fnv {
    std::uint64_t h = 1469598103934665603ull;
    void add(const char* p, std::size_t n) {
      for (std::size_t i = 0; i < n; ++i) {
        h ^= static_cast<unsigned char>(p[i]);
        h *= 1099511628211ull;
      }
    }
  };
  struct Adapter final : nlohmann::detail::output_adapter_protocol<char> {
    Fnv* fnv;
    explicit Adapter(Fnv* f) : fnv(f) {}
    void write_character(char c) override { fnv->add(&c, 1); }
    void write_characters(const char* s, std::size_t length) override { fnv->add(s, length); }
  };
  Fnv fnv;
  auto adapter = std::make_shared<Adapter>(&fnv);
  nlohmann::detail::serializer<json> serializer(adapter, ' ', nlohmann::detail::error_handler_t::replace);
  serializer.dump(value, false, false, 0);
  return fnv.h;
}

std::string contentHash(const json& value) {
  std::uint64_t h = contentHashValue(value);
  static const char* hex = "0123456789abcdef";
  std::string out(16, '0');
  for (int i = 15; i >= 0; --i, h >>= 4) out[static_cast<std::size_t>(i)] = hex[h & 0xf];
  return out;
}

namespace {
constexpr std::string_view kB64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
}

std::string base64Encode(std::string_view in) {
  std::string out;
  out.reserve((in.size() + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    unsigned v = static_cast<unsigned>(static_cast<unsigned char>(in[i])) << 16 |
                 static_cast<unsigned>(static_cast<unsigned char>(in[i + 1])) << 8 |
                 static_cast<unsigned>(static_cast<unsigned char>(in[i + 2]));
    for (int k = 3; k >= 0; --k) out += kB64[(v >> (6 * k)) & 63];
  }
  if (i < in.size()) {
    unsigned v = static_cast<unsigned>(static_cast<unsigned char>(in[i])) << 16;
    if (i + 1 < in.size()) v |= static_cast<unsigned>(static_cast<unsigned char>(in[i + 1])) << 8;
    out += kB64[(v >> 18) & 63];
    out += kB64[(v >> 12) & 63];
    out += i + 1 < in.size() ? kB64[(v >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

std::optional<std::string> base64Decode(std::string_view in) {
  std::string out;
  unsigned v = 0;
  int bits = 0;
  std::size_t pad = 0;
  for (char c : in) {
    if (c == '=') {
      ++pad;
      continue;
    }
    if (pad) return std::nullopt;
    auto k = kB64.find(c);
    if (k == std::string_view::npos) return std::nullopt;
    v = (v << 6) | static_cast<unsigned>(k);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((v >> bits) & 0xff);
    }
  }
  if (pad > 2 || (in.size() % 4) != 0) return std::nullopt;
  return out;
}

}  // namespace gitfed::sync
