// The JSON side of document reading: nlohmann's SAX parser (iterative, so deep
// nesting cannot overflow the stack) building values with the same limits and
// duplicate-key rule as the YAML reader.

#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "gitfed/render/document_reader.h"
#include "gitfed/render/scalar.h"

namespace gitfed::render {
namespace {

using nlohmann::json;

int lineAt(std::string_view text, std::size_t offset) {
  offset = std::min(offset, text.size());
  return 1 + static_cast<int>(std::count(text.begin(), text.begin() + static_cast<std::ptrdiff_t>(offset), '\n'));
}

class Builder : public nlohmann::json_sax<json> {
 public:
  Builder(std::string_view text, const ReadLimits& limits) : text_(text), limits_(limits) {}

  bool null() override { return put(json(nullptr)); }
  bool boolean(bool v) override { return put(json(v)); }
  bool number_integer(number_integer_t v) override { return put(json(v)); }
  bool number_unsigned(number_unsigned_t v) override {
    // kubectl decodes JSON numbers beyond int64 as float64.
    if (v > static_cast<number_unsigned_t>(INT64_MAX)) return put(json(static_cast<double>(v)));
    return put(json(static_cast<number_integer_t>(v)));
  }
  bool number_float(number_float_t v, const string_t&) override { return put(normalizeNumber(v)); }
  bool string(string_t& v) override { return put(json(std::move(v))); }
  bool binary(binary_t&) override { return fail_("binary values are not JSON"); }

  bool start_object(std::size_t) override { return open(json::object()); }
  bool start_array(std::size_t) override { return open(json::array()); }
  bool end_object() override { return close(); }
  bool end_array() override { return close(); }

  bool key(string_t& k) override {
    if (stack_.back().value.contains(k)) return fail_("duplicate key \"" + k + "\" in an object");
    stack_.back().key = std::move(k);
    return true;
  }

  bool parse_error(std::size_t position, const std::string&, const nlohmann::detail::exception& ex) override {
    std::string what = ex.what();
    // "[json.exception.parse_error.101] parse error at line 1, column 2: syntax error ..."
    auto colon = what.find(": ", what.find("parse error"));
    std::string detail = colon == std::string::npos ? what : what.substr(colon + 2);
    if (!error_) error_ = Diagnostic{{}, lineAt(text_, position > 0 ? position - 1 : 0), "invalid JSON: " + detail};
    return false;
  }

  std::optional<Diagnostic> error_;
  std::optional<json> root_;

 private:
  struct Frame {
    json value;
    std::string key;
  };

  bool fail_(std::string message) {
    if (!error_) error_ = Diagnostic{{}, 0, std::move(message)};
    return false;
  }

  bool count() {
    if (++nodes_ > limits_.maxNodes)
      return fail_("document has more than " + std::to_string(limits_.maxNodes) + " nodes");
    return true;
  }

  bool put(json&& v) {
    if (!count()) return false;
    if (stack_.empty()) {
      root_ = std::move(v);
      return true;
    }
    Frame& top = stack_.back();
    if (top.value.is_array())
      top.value.push_back(std::move(v));
    else
      top.value.emplace(std::move(top.key), std::move(v));
    return true;
  }

  bool open(json&& v) {
    if (!count()) return false;
    if (static_cast<int>(stack_.size()) >= limits_.maxDepth)
      return fail_("nesting deeper than " + std::to_string(limits_.maxDepth) + " levels");
    stack_.push_back(Frame{std::move(v), {}});
    return true;
  }

  bool close() {
    json v = std::move(stack_.back().value);
    stack_.pop_back();
    --nodes_;  // put() counts it again
    return put(std::move(v));
  }

  std::string_view text_;
  const ReadLimits& limits_;
  std::vector<Frame> stack_;
  std::uint64_t nodes_ = 0;
};

// The line of each element of the root object's "items" array (a list's
// items), from a scan of text the parser has already accepted: strings are
// skipped whole (JSON strings hold no raw newline), nesting is counted.
std::vector<int> itemLinesOf(std::string_view t) {
  std::vector<int> lines;
  int depth = 0;
  int line = 1;
  std::string_view lastString;
  std::string_view key;  // the root object's key whose value is being read
  bool inItems = false;
  bool expectElement = false;
  for (std::size_t i = 0; i < t.size(); ++i) {
    char c = t[i];
    if (c == '\n') {
      ++line;
      continue;
    }
    if (c == ' ' || c == '\t' || c == '\r') continue;
    if (inItems && depth == 2 && expectElement && c != ']') lines.push_back(line);
    expectElement = false;
    switch (c) {
      case '"': {
        std::size_t start = ++i;
        while (i < t.size() && t[i] != '"') i += t[i] == '\\' ? 2u : 1u;
        lastString = t.substr(start, std::min(i, t.size()) - start);
        break;
      }
      case ':':
        if (depth == 1) key = lastString;
        break;
      case '[':
        if (depth == 1 && key == "items") inItems = expectElement = true;
        ++depth;
        break;
      case '{':
        ++depth;
        break;
      case ']':
        if (inItems && depth == 2) return lines;
        --depth;
        break;
      case '}':
        --depth;
        break;
      case ',':
        if (inItems && depth == 2) expectElement = true;
        break;
      default:
        break;
    }
  }
  return lines;
}

}  // namespace

ReadOutcome readJsonDocument(std::string_view text, const ReadLimits& limits) {
  ReadOutcome out;
  Builder builder(text, limits);
  bool ok = json::sax_parse(text.begin(), text.end(), &builder, json::input_format_t::json, true);
  if (!ok || builder.error_) {
    Diagnostic d = builder.error_ ? *builder.error_ : Diagnostic{{}, 0, "invalid JSON"};
    out.errors.push_back(std::move(d));
    return out;
  }
  if (builder.root_ && !builder.root_->is_null()) {
    std::vector<int> itemLines;
    if (builder.root_->is_object() && builder.root_->contains("items")) itemLines = itemLinesOf(text);
    out.documents.push_back(Document{std::move(*builder.root_), 1, std::move(itemLines)});
  }
  return out;
}

}  // namespace gitfed::render
