// The one file that calls libyaml. Events are turned straight into JSON values
// (no intermediate node tree); anchors keep a copy of their value so aliases
// can be expanded, with their size counted against the node limit *before*
// anything is copied.

#include <yaml.h>

#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "gitfed/render/document_reader.h"
#include "gitfed/render/scalar.h"

namespace gitfed::render {
namespace {

using nlohmann::json;

// RAII owner of a libyaml parser.
class YamlParser {
 public:
  explicit YamlParser(std::string_view text) {
    yaml_parser_initialize(&parser_);
    yaml_parser_set_input_string(&parser_, reinterpret_cast<const unsigned char*>(text.data()),
                                 text.size());
  }
  ~YamlParser() { yaml_parser_delete(&parser_); }
  YamlParser(const YamlParser&) = delete;
  YamlParser& operator=(const YamlParser&) = delete;

  yaml_parser_t* get() { return &parser_; }

  Diagnostic error() const {
    std::string message = "invalid YAML: ";
    message += parser_.problem ? parser_.problem : "unknown error";
    if (parser_.context) {
      message += " ";
      message += parser_.context;
      message += " (line " + std::to_string(parser_.context_mark.line + 1) + ")";
    }
    return Diagnostic{{}, static_cast<int>(parser_.problem_mark.line) + 1, std::move(message)};
  }

 private:
  yaml_parser_t parser_{};
};

// RAII owner of one parsed event.
class YamlEvent {
 public:
  YamlEvent() = default;
  ~YamlEvent() { reset(); }
  YamlEvent(const YamlEvent&) = delete;
  YamlEvent& operator=(const YamlEvent&) = delete;

  bool next(YamlParser& parser) {
    reset();
    if (!yaml_parser_parse(parser.get(), &event_)) return false;
    live_ = true;
    return true;
  }
  const yaml_event_t& operator*() const { return event_; }
  const yaml_event_t* operator->() const { return &event_; }

 private:
  void reset() {
    if (live_) yaml_event_delete(&event_);
    live_ = false;
  }
  yaml_event_t event_{};
  bool live_ = false;
};

std::string_view text(const yaml_char_t* p) {
  return p ? std::string_view(reinterpret_cast<const char*>(p)) : std::string_view();
}

int lineOf(const yaml_event_t& e) { return static_cast<int>(e.start_mark.line) + 1; }

struct Anchor {
  json value;
  std::uint64_t nodes = 0;
  int depth = 0;  // nesting levels inside the value (a scalar: 0)
  bool complete = false;
};

// A mapping or sequence being built.
struct Frame {
  json value;
  bool isMap = false;
  bool hasKey = false;       // a key was read, its value is next
  json* slot = nullptr;       // where that value goes (a node of `value`: std::map nodes are stable)
  int keyLine = 0;
  bool mergePending = false;  // the key was `<<`
  // Keys written in the mapping itself, once a merge has happened (before
  // that, every key of `value` is one).
  std::optional<std::unordered_set<std::string>> explicitKeys;
  std::string anchor;
  bool keyIsItems = false;       // the root mapping's key just read is `items`
  bool recordItemLines = false;  // this is the root's `items` sequence
  std::uint64_t startNodes = 0;
  int maxChildDepth = 0;
};

class DocumentBuilder {
 public:
  explicit DocumentBuilder(const ReadLimits& limits) : limits_(limits) {}

  // Feeds one event of the document's body. Returns false once the document
  // has an error (later events are then ignored until the document ends).
  void feed(const yaml_event_t& e) {
    if (error_) return;
    switch (e.type) {
      case YAML_SCALAR_EVENT:
        onScalar(e);
        break;
      case YAML_ALIAS_EVENT:
        onAlias(e);
        break;
      case YAML_SEQUENCE_START_EVENT:
        open(e, false, text(e.data.sequence_start.anchor));
        break;
      case YAML_MAPPING_START_EVENT:
        open(e, true, text(e.data.mapping_start.anchor));
        break;
      case YAML_SEQUENCE_END_EVENT:
      case YAML_MAPPING_END_EVENT:
        close(e);
        break;
      default:
        break;
    }
  }

  const std::optional<Diagnostic>& error() const { return error_; }
  std::optional<json>& root() { return root_; }
  int rootLine() const { return rootLine_; }
  std::vector<int>& itemLines() { return itemLines_; }

 private:
  void setError(int line, std::string message) {
    if (!error_) error_ = Diagnostic{{}, line, std::move(message)};
  }

  bool countNodes(std::uint64_t n, int line) {
    nodes_ += n;
    if (nodes_ > limits_.maxNodes) {
      setError(line, "document has more than " + std::to_string(limits_.maxNodes) +
                         " nodes once aliases are expanded");
      return false;
    }
    return true;
  }

  bool expectingKey() const { return !stack_.empty() && stack_.back().isMap && !stack_.back().hasKey; }

  void registerAnchor(std::string_view name, const json& value, std::uint64_t nodes, int depth) {
    if (name.empty()) return;
    Anchor& a = anchors_[std::string(name)];
    a.value = value;
    a.nodes = nodes;
    a.depth = depth;
    a.complete = true;
  }

  // Hands a finished value (scalar, collection or alias copy) to its parent.
  void deliver(json&& value, int line, int depth) {
    if (value.is_number_float() && !expectingKey()) value = normalizeNumber(value.get<double>());
    if (stack_.empty()) {
      root_ = std::move(value);
      rootLine_ = line;
      return;
    }
    Frame& top = stack_.back();
    top.maxChildDepth = std::max(top.maxChildDepth, depth);
    if (!top.isMap) {
      if (top.recordItemLines) itemLines_.push_back(line);
      top.value.push_back(std::move(value));
      return;
    }
    if (!top.hasKey) {  // this value is a key
      auto k = keyText(value);
      if (!k) return setError(line, k.error().message);
      deliverKey(std::move(*k), line, false);
      return;
    }
    top.hasKey = false;
    if (top.mergePending) {
      top.mergePending = false;
      addMerge(top, std::move(value), line);
      return;
    }
    *top.slot = std::move(value);
  }

  void deliverKey(std::string key, int line, bool isMerge) {
    Frame& top = stack_.back();
    top.keyLine = line;
    top.keyIsItems = stack_.size() == 1 && !isMerge && key == "items";
    if (isMerge) {
      top.mergePending = true;
      top.hasKey = true;
      return;
    }
    auto& object = top.value.get_ref<json::object_t&>();
    if (top.explicitKeys) {
      if (!top.explicitKeys->insert(key).second) return setError(line, "duplicate key \"" + key + "\" in a mapping");
      top.slot = &object[std::move(key)];  // may replace a merged value: written after `<<`, it wins
    } else {
      // One lookup: insert a placeholder, fill it when the value arrives.
      auto [it, inserted] = object.emplace(std::move(key), nullptr);
      if (!inserted) return setError(line, "duplicate key \"" + it->first + "\" in a mapping");
      top.slot = &it->second;
    }
    top.hasKey = true;
  }

  // go-yaml v2 (kubectl) semantics: a merge assigns its keys at the point it is
  // written, so keys written after `<<` win and keys written before it are
  // overwritten; in a list, the earlier mapping wins.
  void addMerge(Frame& top, json&& value, int line) {
    if (!top.explicitKeys) {
      top.explicitKeys.emplace();
      for (auto it = top.value.begin(); it != top.value.end(); ++it) top.explicitKeys->insert(it.key());
    }
    auto assign = [&](json& source) {
      for (auto it = source.begin(); it != source.end(); ++it) top.value[it.key()] = std::move(it.value());
    };
    if (value.is_object()) return assign(value);
    if (value.is_array()) {
      for (const auto& item : value)
        if (!item.is_object()) return setError(line, "a merge key (<<) list may hold only mappings");
      for (auto it = value.rbegin(); it != value.rend(); ++it) assign(*it);
      return;
    }
    setError(line, "a merge key (<<) needs a mapping or a list of mappings");
  }

  void onScalar(const yaml_event_t& e) {
    int line = lineOf(e);
    if (!countNodes(1, line)) return;
    std::string_view value(reinterpret_cast<const char*>(e.data.scalar.value), e.data.scalar.length);
    std::string_view tag = text(e.data.scalar.tag);
    bool plain = e.data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
    if (expectingKey() && plain && tag.empty() && value == "<<") {
      deliverKey({}, line, true);
      return;
    }
    Result<json> resolved = json();
    if (!tag.empty() && tag != "!")
      resolved = resolveTaggedScalar(tag, value);
    else if (plain && tag.empty())
      resolved = resolvePlainScalar(value);
    else
      resolved = json(std::string(value));
    if (!resolved) return setError(line, resolved.error().message);
    std::string_view anchor = text(e.data.scalar.anchor);
    if (!anchor.empty()) registerAnchor(anchor, *resolved, 1, 0);
    deliver(std::move(*resolved), line, 0);
  }

  void onAlias(const yaml_event_t& e) {
    int line = lineOf(e);
    std::string name(text(e.data.alias.anchor));
    auto it = anchors_.find(name);
    if (it == anchors_.end()) return setError(line, "unknown anchor \"" + name + "\" referenced");
    const Anchor& a = it->second;
    if (!a.complete) return setError(line, "alias *" + name + " refers to a node that contains it");
    if (static_cast<int>(stack_.size()) + a.depth > limits_.maxDepth)
      return setError(line, "nesting deeper than " + std::to_string(limits_.maxDepth) + " levels");
    if (!countNodes(a.nodes, line)) return;
    if (expectingKey() && !a.value.is_primitive())
      return setError(line, "a mapping key must be a scalar");
    deliver(json(a.value), line, a.depth);
  }

  void open(const yaml_event_t& e, bool isMap, std::string_view anchor) {
    int line = lineOf(e);
    if (expectingKey()) return setError(line, "a mapping key must be a scalar");
    if (static_cast<int>(stack_.size()) >= limits_.maxDepth)
      return setError(line, "nesting deeper than " + std::to_string(limits_.maxDepth) + " levels");
    if (!countNodes(1, line)) return;
    Frame f;
    f.isMap = isMap;
    f.value = isMap ? json::object() : json::array();
    f.anchor = std::string(anchor);
    f.startNodes = nodes_;
    f.keyLine = line;
    f.recordItemLines = !isMap && stack_.size() == 1 && stack_[0].isMap && stack_[0].hasKey && stack_[0].keyIsItems;
    if (!f.anchor.empty()) anchors_[f.anchor] = Anchor{};  // incomplete until closed
    lines_.push_back(line);
    stack_.push_back(std::move(f));
  }

  void close(const yaml_event_t&) {
    Frame f = std::move(stack_.back());
    stack_.pop_back();
    int line = lines_.back();
    lines_.pop_back();
    int depth = f.maxChildDepth + 1;
    if (!f.anchor.empty()) registerAnchor(f.anchor, f.value, nodes_ - f.startNodes + 1, depth);
    deliver(std::move(f.value), line, depth);
  }

  const ReadLimits& limits_;
  std::vector<Frame> stack_;
  std::vector<int> lines_;
  std::unordered_map<std::string, Anchor> anchors_;
  std::uint64_t nodes_ = 0;
  std::optional<json> root_;
  int rootLine_ = 0;
  std::vector<int> itemLines_;
  std::optional<Diagnostic> error_;
};

}  // namespace

ReadOutcome readYamlStream(std::string_view input, const ReadLimits& limits) {
  if (auto simple = readSimpleYamlStream(input, limits)) return std::move(*simple);
  return readYamlStreamWithLibyaml(input, limits);
}

ReadOutcome readYamlStreamWithLibyaml(std::string_view input, const ReadLimits& limits) {
  ReadOutcome out;
  YamlParser parser(input);
  YamlEvent event;
  std::optional<DocumentBuilder> doc;
  while (true) {
    if (!event.next(parser)) {
      out.errors.push_back(parser.error());
      break;
    }
    yaml_event_type_t type = event->type;
    if (type == YAML_STREAM_END_EVENT) break;
    if (type == YAML_DOCUMENT_START_EVENT) {
      doc.emplace(limits);
      continue;
    }
    if (type == YAML_DOCUMENT_END_EVENT) {
      if (doc) {
        if (doc->error()) {
          out.errors.push_back(*doc->error());
        } else if (doc->root() && !doc->root()->is_null()) {
          out.documents.push_back(Document{std::move(*doc->root()), doc->rootLine(), std::move(doc->itemLines())});
        }
      }
      doc.reset();
      continue;
    }
    if (doc) doc->feed(*event);
  }
  return out;
}

}  // namespace gitfed::render
