// The one file that calls yaml-cpp.

#include "gitfed/render/writer.h"

#include <yaml-cpp/yaml.h>

#include "gitfed/render/scalar.h"

namespace gitfed::render {
namespace {

using nlohmann::json;

void emitString(YAML::Emitter& e, const std::string& s) {
  if (needsQuoting(s)) {
    e << YAML::DoubleQuoted << s;
  } else if (s.find('\n') != std::string::npos && s.back() == '\n' && s.find("\n\n") == std::string::npos &&
             s.find(" \n") == std::string::npos && s.front() != ' ' && s.find('\t') == std::string::npos &&
             s.find('\r') == std::string::npos) {
    // yaml-cpp writes `|` (clip): the final newline is implied, not written.
    e << YAML::Literal << s.substr(0, s.size() - 1);
  } else {
    e << s;
  }
}

void emit(YAML::Emitter& e, const json& v) {
  switch (v.type()) {
    case json::value_t::object:
      if (v.empty()) {
        e << YAML::Flow << YAML::BeginMap << YAML::EndMap;
        return;
      }
      e << YAML::BeginMap;
      for (auto it = v.begin(); it != v.end(); ++it) {
        e << YAML::Key;
        emitString(e, it.key());
        e << YAML::Value;
        emit(e, it.value());
      }
      e << YAML::EndMap;
      return;
    case json::value_t::array:
      if (v.empty()) {
        e << YAML::Flow << YAML::BeginSeq << YAML::EndSeq;
        return;
      }
      e << YAML::BeginSeq;
      for (const auto& item : v) emit(e, item);
      e << YAML::EndSeq;
      return;
    case json::value_t::string:
      emitString(e, v.get_ref<const std::string&>());
      return;
    case json::value_t::null:
      e << YAML::Null;
      return;
    case json::value_t::boolean:
      e << (v.get<bool>() ? "true" : "false");
      return;
    default:
      e << v.dump();  // numbers: JSON's text reads back as the same number
      return;
  }
}

}  // namespace

std::string toYaml(const json& value) {
  YAML::Emitter e;
  e.SetIndent(2);
  e.SetSeqFormat(YAML::Block);
  e.SetNullFormat(YAML::LowerNull);
  emit(e, value);
  std::string out = e.c_str();
  out += '\n';
  return out;
}

void writeYamlStream(std::ostream& out, const std::vector<RenderedObject>& objects) {
  bool first = true;
  for (const auto& o : objects) {
    if (!first) out << "---\n";
    first = false;
    out << toYaml(o.value);
  }
}

void writeJsonList(std::ostream& out, const std::vector<RenderedObject>& objects) {
  json list = {{"apiVersion", "v1"}, {"kind", "List"}, {"items", json::array()}};
  auto& items = list["items"];
  for (const auto& o : objects) items.push_back(o.value);
  out << list.dump(2) << '\n';
}

}  // namespace gitfed::render
