#include "gitfed/render/scalar.h"

#include <array>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <limits>

namespace gitfed::render {
namespace {

using nlohmann::json;

bool isDigit(char c) { return c >= '0' && c <= '9'; }

// The YAML 1.1 words, by length first (a plain scalar is compared with the
// few words of its length only).
bool isNullWord(std::string_view s) {
  switch (s.size()) {
    case 0: return true;
    case 1: return s[0] == '~';
    case 4: return s == "null" || s == "Null" || s == "NULL";
    default: return false;
  }
}
bool isTrueWord(std::string_view s) {
  switch (s.size()) {
    case 1: return s[0] == 'y' || s[0] == 'Y';
    case 2: return s == "on" || s == "On" || s == "ON";
    case 3: return s == "yes" || s == "Yes" || s == "YES";
    case 4: return s == "true" || s == "True" || s == "TRUE";
    default: return false;
  }
}
bool isFalseWord(std::string_view s) {
  switch (s.size()) {
    case 1: return s[0] == 'n' || s[0] == 'N';
    case 2: return s == "no" || s == "No" || s == "NO";
    case 3: return s == "off" || s == "Off" || s == "OFF";
    case 5: return s == "false" || s == "False" || s == "FALSE";
    default: return false;
  }
}
bool isInfOrNan(std::string_view s) {
  switch (s.size()) {
    case 4: return s == ".inf" || s == ".Inf" || s == ".INF" || s == ".nan" || s == ".NaN" || s == ".NAN";
    case 5:
      return (s[0] == '+' || s[0] == '-') && (s.substr(1) == ".inf" || s.substr(1) == ".Inf" || s.substr(1) == ".INF");
    default: return false;
  }
}

// Go's strconv.ParseInt(s, 0, 64) / ParseUint(s, 0, 64), underscores already removed.
// Returns nullopt when s is not an integer literal in range.
std::optional<json> parseGoInteger(std::string_view s) {
  bool negative = false;
  bool hasSign = false;
  if (!s.empty() && (s[0] == '+' || s[0] == '-')) {
    negative = s[0] == '-';
    hasSign = true;
    s.remove_prefix(1);
  }
  int base = 10;
  if (s.size() >= 2 && s[0] == '0') {
    char p = s[1];
    if (p == 'x' || p == 'X') {
      base = 16;
      s.remove_prefix(2);
    } else if (p == 'o' || p == 'O') {
      base = 8;
      s.remove_prefix(2);
    } else if (p == 'b' || p == 'B') {
      base = 2;
      s.remove_prefix(2);
    } else {
      base = 8;
      s.remove_prefix(1);
    }
  }
  if (s.empty()) return std::nullopt;
  std::uint64_t magnitude = 0;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), magnitude, base);
  if (ec != std::errc() || ptr != s.data() + s.size()) return std::nullopt;
  constexpr auto kMaxInt = static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());
  if (negative) {
    if (magnitude > kMaxInt + 1) return std::nullopt;
    if (magnitude == kMaxInt + 1) return json(std::numeric_limits<std::int64_t>::min());
    return json(-static_cast<std::int64_t>(magnitude));
  }
  if (magnitude <= kMaxInt) return json(static_cast<std::int64_t>(magnitude));
  if (hasSign) return std::nullopt;  // ParseUint takes no sign
  // kubectl decodes JSON numbers beyond int64 as float64; do the same.
  return json(static_cast<double>(magnitude));
}

// go-yaml v2's yamlStyleFloat: ^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$
bool isYamlStyleFloat(std::string_view s) {
  std::size_t i = 0;
  auto digits = [&] {
    std::size_t start = i;
    while (i < s.size() && isDigit(s[i])) ++i;
    return i - start;
  };
  if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
  if (i < s.size() && s[i] == '.') {
    ++i;
    if (digits() == 0) return false;
  } else {
    if (digits() == 0) return false;
    if (i < s.size() && s[i] == '.') {
      ++i;
      digits();
    }
  }
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
    if (digits() == 0) return false;
  }
  return i == s.size();
}

// An overflow is not a float: go-yaml leaves such a scalar a string.
std::optional<json> parseFloat(std::string_view s) {
  std::string copy(s);
  errno = 0;
  char* end = nullptr;
  double v = std::strtod(copy.c_str(), &end);
  if (end != copy.c_str() + copy.size()) return std::nullopt;
  if (std::isinf(v)) return std::nullopt;  // Go: ErrRange, the scalar stays a string
  return json(v);
}

}  // namespace

nlohmann::json normalizeNumber(double v) {
  if (std::isfinite(v) && std::trunc(v) == v && v >= -9223372036854775808.0 && v < 9223372036854775808.0)
    return json(static_cast<std::int64_t>(v));
  return json(v);
}

Result<json> resolvePlainScalar(std::string_view s) {
  if (s.empty()) return json(nullptr);
  char c = s[0];
  // Fast path: every null/bool/inf/nan word is at most 6 characters long, and
  // numbers start with a digit, a sign or a dot.
  if (s.size() > 6 && !isDigit(c) && c != '+' && c != '-' && c != '.') return json(std::string(s));
  switch (c) {  // the first letters of the null, bool, inf and nan words
    case '~': case 'n': case 'N': case 'y': case 'Y': case 't': case 'T': case 'f': case 'F': case 'o': case 'O':
    case '.': case '+': case '-':
      break;
    default:
      if (!isDigit(c)) return json(std::string(s));
  }
  if (c == '~' || c == 'n' || c == 'N') {
    if (isNullWord(s)) return json(nullptr);
  }
  if (isTrueWord(s)) return json(true);
  if (isFalseWord(s)) return json(false);
  if (isInfOrNan(s))
    return fail("the value " + std::string(s) + " is not a number JSON can hold (quote it to make it a string)");
  if (c == '.') {
    // go-yaml: strconv.ParseFloat on the raw text.
    std::size_t i = 1;
    while (i < s.size() && isDigit(s[i])) ++i;
    if (i == 1) return json(std::string(s));
    if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
      std::size_t j = i + 1;
      if (j < s.size() && (s[j] == '+' || s[j] == '-')) ++j;
      std::size_t k = j;
      while (k < s.size() && isDigit(s[k])) ++k;
      if (k == j || k != s.size()) return json(std::string(s));
      i = k;
    }
    if (i != s.size()) return json(std::string(s));
    if (auto f = parseFloat(s)) return *f;
    return json(std::string(s));
  }
  if (isDigit(c) || c == '+' || c == '-') {
    std::string plain;
    plain.reserve(s.size());
    for (char ch : s)
      if (ch != '_') plain.push_back(ch);
    if (auto i = parseGoInteger(plain)) return *i;
    if (isYamlStyleFloat(plain)) {
      if (auto f = parseFloat(plain)) return *f;
    }
    return json(std::string(s));
  }
  return json(std::string(s));
}

bool plainScalarIsString(std::string_view s) {
  if (s.empty()) return false;
  const char c = s[0];
  if (isDigit(c) || c == '+' || c == '-' || c == '.') {
    auto r = resolvePlainScalar(s);
    return r && r->is_string();
  }
  // What else resolvePlainScalar reads as something other than a string:
  // the null and boolean words, all of them at most five letters long.
  return s.size() > 5 || (!isNullWord(s) && !isTrueWord(s) && !isFalseWord(s));
}

Result<json> resolveTaggedScalar(std::string_view tag, std::string_view text) {
  constexpr std::string_view kPrefix = "tag:yaml.org,2002:";
  if (!tag.starts_with(kPrefix)) return json(std::string(text));  // `!` and local tags
  std::string_view type = tag.substr(kPrefix.size());
  if (type == "str" || type == "binary" || type == "timestamp") return json(std::string(text));
  if (type != "int" && type != "float" && type != "bool" && type != "null")
    return json(std::string(text));
  auto value = resolvePlainScalar(text);
  if (!value) return value;
  bool ok = (type == "int" && value->is_number_integer()) ||
            (type == "float" && value->is_number()) || (type == "bool" && value->is_boolean()) ||
            (type == "null" && value->is_null());
  if (!ok) return fail("cannot read \"" + std::string(text) + "\" as !!" + std::string(type));
  return value;
}

std::string formatGoFloat32(double v) {
  float f = static_cast<float>(v);
  if (std::isnan(f)) return ".nan";
  if (std::isinf(f)) return f > 0 ? ".inf" : "-.inf";
  if (f == 0.0f) return std::signbit(f) ? "-0" : "0";
  std::array<char, 64> buf{};
  auto r = std::to_chars(buf.data(), buf.data() + buf.size(), f, std::chars_format::scientific);
  std::string_view sci(buf.data(), static_cast<std::size_t>(r.ptr - buf.data()));
  bool negative = false;
  if (sci[0] == '-') {
    negative = true;
    sci.remove_prefix(1);
  }
  auto e = sci.find('e');
  std::string digits;
  for (char ch : sci.substr(0, e))
    if (ch != '.') digits.push_back(ch);
  int exp10 = std::atoi(std::string(sci.substr(e + 1)).c_str());
  int nd = static_cast<int>(digits.size());
  int dp = exp10 + 1;  // position of the decimal point in digits
  int exp = dp - 1;
  std::string out = negative ? "-" : "";
  if (exp < -4 || exp >= 6) {
    out += digits[0];
    if (nd > 1) {
      out += '.';
      out += digits.substr(1);
    }
    out += 'e';
    out += exp < 0 ? '-' : '+';
    int a = exp < 0 ? -exp : exp;
    if (a < 10) out += '0';
    out += std::to_string(a);
    return out;
  }
  if (dp <= 0) {
    out += "0.";
    out.append(static_cast<std::size_t>(-dp), '0');
    out += digits;
  } else if (dp >= nd) {
    out += digits;
    out.append(static_cast<std::size_t>(dp - nd), '0');
  } else {
    out += digits.substr(0, static_cast<std::size_t>(dp));
    out += '.';
    out += digits.substr(static_cast<std::size_t>(dp));
  }
  return out;
}

Result<std::string> keyText(const json& key) {
  switch (key.type()) {
    case json::value_t::string:
      return key.get<std::string>();
    case json::value_t::boolean:
      return std::string(key.get<bool>() ? "true" : "false");
    case json::value_t::number_integer:
      return std::to_string(key.get<std::int64_t>());
    case json::value_t::number_unsigned:
      return std::to_string(key.get<std::uint64_t>());
    case json::value_t::number_float:
      return formatGoFloat32(key.get<double>());
    case json::value_t::null:
      return fail("a mapping key may not be null");
    default:
      return fail("a mapping key must be a scalar");
  }
}

bool needsQuoting(std::string_view text) {
  // plainScalarIsString is resolvePlainScalar's answer without making the
  // JSON string (the writer asks this of every string it writes).
  return text == "<<" || !plainScalarIsString(text);
}

}  // namespace gitfed::render
