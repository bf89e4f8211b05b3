#include "gitfed/render/selector.h"

#include <algorithm>
#include <cctype>

namespace gitfed::render {
namespace {

using nlohmann::json;

bool isAlnum(char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0; }

bool isQualifiedName(std::string_view s) {
  if (s.empty() || s.size() > 63) return false;
  if (!isAlnum(s.front()) || !isAlnum(s.back())) return false;
  return std::all_of(s.begin(), s.end(), [](char c) { return isAlnum(c) || c == '-' || c == '_' || c == '.'; });
}

bool isDnsSubdomain(std::string_view s) {
  if (s.empty() || s.size() > 253) return false;
  std::size_t start = 0;
  while (true) {
    auto dot = s.find('.', start);
    auto label = s.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start);
    if (label.empty() || label.size() > 63) return false;
    auto ok = [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'; };
    if (!std::all_of(label.begin(), label.end(), ok) || label.front() == '-' || label.back() == '-') return false;
    if (dot == std::string_view::npos) return true;
    start = dot + 1;
  }
}

enum class Tok { Ident, Not, Eq, NotEq, Open, Close, Comma, Compare, End };

struct Token {
  Tok type;
  std::string text;
};

bool isSpecial(char c) { return c == '!' || c == '=' || c == '(' || c == ')' || c == ',' || c == '<' || c == '>'; }

std::vector<Token> lex(std::string_view s) {
  std::vector<Token> out;
  std::size_t i = 0;
  while (i < s.size()) {
    char c = s[i];
    if (std::isspace(static_cast<unsigned char>(c))) {
      ++i;
    } else if (c == '!' && i + 1 < s.size() && s[i + 1] == '=') {
      out.push_back({Tok::NotEq, "!="});
      i += 2;
    } else if (c == '!') {
      out.push_back({Tok::Not, "!"});
      ++i;
    } else if (c == '=') {
      i += (i + 1 < s.size() && s[i + 1] == '=') ? 2u : 1u;
      out.push_back({Tok::Eq, "="});
    } else if (c == '(') {
      out.push_back({Tok::Open, "("});
      ++i;
    } else if (c == ')') {
      out.push_back({Tok::Close, ")"});
      ++i;
    } else if (c == ',') {
      out.push_back({Tok::Comma, ","});
      ++i;
    } else if (c == '<' || c == '>') {
      out.push_back({Tok::Compare, std::string(1, c)});
      ++i;
    } else {
      std::size_t j = i;
      while (j < s.size() && !isSpecial(s[j]) && !std::isspace(static_cast<unsigned char>(s[j]))) ++j;
      out.push_back({Tok::Ident, std::string(s.substr(i, j - i))});
      i = j;
    }
  }
  out.push_back({Tok::End, ""});
  return out;
}

class Parser {
 public:
  explicit Parser(std::string_view text) : text_(text), tokens_(lex(text)) {}

  Result<Selector> parse() {
    std::vector<Requirement> reqs;
    if (peek().type == Tok::End) return Selector{};
    while (true) {
      auto r = requirement();
      if (!r) return std::unexpected(r.error());
      reqs.push_back(std::move(*r));
      if (peek().type == Tok::End) break;
      if (peek().type != Tok::Comma) return error("expected ',' but found '" + peek().text + "'");
      next();
    }
    return Selector(std::move(reqs));
  }

 private:
  const Token& peek() const { return tokens_[pos_]; }
  const Token& next() { return tokens_[pos_ < tokens_.size() - 1 ? pos_++ : pos_]; }

  std::unexpected<Diagnostic> error(const std::string& what) const {
    return fail("invalid label selector \"" + std::string(text_) + "\": " + what);
  }

  Result<std::string> key() {
    const Token& t = next();
    if (t.type != Tok::Ident) return error("expected a label key but found '" + t.text + "'");
    if (!isValidLabelKey(t.text)) return error("invalid label key \"" + t.text + "\"");
    return t.text;
  }

  Result<std::string> value() {
    if (peek().type != Tok::Ident) return std::string();  // `key=` selects an empty value
    std::string v = next().text;
    if (!isValidLabelValue(v)) return error("invalid label value \"" + v + "\"");
    return v;
  }

  Result<Requirement> requirement() {
    if (peek().type == Tok::Not) {
      next();
      auto k = key();
      if (!k) return std::unexpected(k.error());
      return Requirement{*k, Requirement::Op::DoesNotExist, {}};
    }
    auto k = key();
    if (!k) return std::unexpected(k.error());
    const Token& op = peek();
    switch (op.type) {
      case Tok::End:
      case Tok::Comma:
        return Requirement{*k, Requirement::Op::Exists, {}};
      case Tok::Eq:
      case Tok::NotEq: {
        next();
        auto v = value();
        if (!v) return std::unexpected(v.error());
        return Requirement{*k, op.type == Tok::Eq ? Requirement::Op::In : Requirement::Op::NotIn, {*v}};
      }
      case Tok::Ident:
        if (op.text == "in" || op.text == "notin") {
          bool in = op.text == "in";
          next();
          auto vs = valueSet();
          if (!vs) return std::unexpected(vs.error());
          return Requirement{*k, in ? Requirement::Op::In : Requirement::Op::NotIn, std::move(*vs)};
        }
        return error("unknown operator \"" + op.text + "\" after key \"" + *k + "\"");
      case Tok::Compare:
        return error("operator '" + op.text + "' is not supported (use =, ==, !=, in, notin, key, !key)");
      default:
        return error("unexpected '" + op.text + "' after key \"" + *k + "\"");
    }
  }

  Result<std::vector<std::string>> valueSet() {
    if (next().type != Tok::Open) return error("expected '(' after in/notin");
    std::vector<std::string> values;
    while (true) {
      auto v = value();
      if (!v) return std::unexpected(v.error());
      values.push_back(std::move(*v));
      const Token& t = next();
      if (t.type == Tok::Close) break;
      if (t.type != Tok::Comma) return error("expected ',' or ')' in a value list but found '" + t.text + "'");
    }
    if (values.size() == 1 && values[0].empty()) return error("the value list of in/notin may not be empty");
    std::sort(values.begin(), values.end());
    return values;
  }

  std::string_view text_;
  std::vector<Token> tokens_;
  std::size_t pos_ = 0;
};

}  // namespace

bool isValidLabelKey(std::string_view key) {
  auto slash = key.find('/');
  if (slash == std::string_view::npos) return isQualifiedName(key);
  return isDnsSubdomain(key.substr(0, slash)) && isQualifiedName(key.substr(slash + 1));
}

bool isValidLabelValue(std::string_view value) { return value.empty() || isQualifiedName(value); }

bool Requirement::matches(const Labels& labels) const {
  auto it = labels.find(key);
  bool has = it != labels.end();
  switch (op) {
    case Op::Exists:
      return has;
    case Op::DoesNotExist:
      return !has;
    case Op::In:
      return has && std::find(values.begin(), values.end(), it->second) != values.end();
    case Op::NotIn:
      return !has || std::find(values.begin(), values.end(), it->second) == values.end();
  }
  return false;
}

bool Selector::matches(const Labels& labels) const {
  return std::all_of(requirements_.begin(), requirements_.end(),
                     [&](const Requirement& r) { return r.matches(labels); });
}

Result<Selector> parseSelector(std::string_view text) { return Parser(text).parse(); }

Result<Selector> selectorFromJson(const json& selector) {
  if (selector.is_null()) return Selector{};
  if (!selector.is_object()) return fail("a label selector must be a mapping");
  std::vector<Requirement> reqs;
  for (const auto& [field, v] : selector.items()) {
    if (field != "matchLabels" && field != "matchExpressions")
      return fail("unknown field \"" + field + "\" in a label selector (expected matchLabels, matchExpressions)");
  }
  if (auto ml = selector.find("matchLabels"); ml != selector.end() && !ml->is_null()) {
    if (!ml->is_object()) return fail("matchLabels must be a mapping of strings");
    for (const auto& [k, v] : ml->items()) {
      if (!v.is_string()) return fail("matchLabels \"" + k + "\" must be a string (quote it)");
      if (!isValidLabelKey(k)) return fail("matchLabels: invalid label key \"" + k + "\"");
      if (!isValidLabelValue(v.get<std::string>()))
        return fail("matchLabels: invalid label value \"" + v.get<std::string>() + "\" for \"" + k + "\"");
      reqs.push_back(Requirement{k, Requirement::Op::In, {v.get<std::string>()}});
    }
  }
  if (auto me = selector.find("matchExpressions"); me != selector.end() && !me->is_null()) {
    if (!me->is_array()) return fail("matchExpressions must be a list");
    for (const auto& e : *me) {
      if (!e.is_object()) return fail("a matchExpressions entry must be a mapping");
      auto key = e.value("key", json());
      auto op = e.value("operator", json());
      if (!key.is_string() || !isValidLabelKey(key.get<std::string>()))
        return fail("matchExpressions: missing or invalid key");
      if (!op.is_string()) return fail("matchExpressions \"" + key.get<std::string>() + "\": missing operator");
      std::string o = op.get<std::string>();
      std::vector<std::string> values;
      if (auto vs = e.find("values"); vs != e.end() && !vs->is_null()) {
        if (!vs->is_array()) return fail("matchExpressions \"" + key.get<std::string>() + "\": values must be a list");
        for (const auto& v : *vs) {
          if (!v.is_string())
            return fail("matchExpressions \"" + key.get<std::string>() + "\": values must be strings (quote them)");
          values.push_back(v.get<std::string>());
        }
      }
      Requirement r{key.get<std::string>(), Requirement::Op::In, values};
      if (o == "In" || o == "NotIn") {
        r.op = o == "In" ? Requirement::Op::In : Requirement::Op::NotIn;
        if (values.empty())
          return fail("matchExpressions \"" + r.key + "\": operator " + o + " needs at least one value");
      } else if (o == "Exists" || o == "DoesNotExist") {
        r.op = o == "Exists" ? Requirement::Op::Exists : Requirement::Op::DoesNotExist;
        if (!values.empty()) return fail("matchExpressions \"" + r.key + "\": operator " + o + " takes no values");
      } else {
        return fail("matchExpressions \"" + r.key + "\": unknown operator \"" + o +
                    "\" (expected In, NotIn, Exists, DoesNotExist)");
      }
      reqs.push_back(std::move(r));
    }
  }
  return Selector(std::move(reqs));
}

}  // namespace gitfed::render
