// kubectl's lists: apimachinery's unstructured decoder makes every object with
// an `items` key a list (whatever its kind), gives kindless items the list's
// apiVersion and its kind without the `List` suffix, and cli-runtime's
// FlattenListVisitor refuses a list nested in a list. render-spec section 2
// has the table of outcomes; the kubectl corpus test checks them against
// kubectl itself.

#include <string>
#include <utility>

#include "gitfed/render/document_reader.h"

namespace gitfed::render {

using nlohmann::json;

std::string jsonTypeName(const json& v) {
  switch (v.type()) {
    case json::value_t::object:
      return "a mapping";
    case json::value_t::array:
      return "a list";
    case json::value_t::string:
      return "a string";
    case json::value_t::boolean:
      return "a boolean";
    case json::value_t::null:
      return "null";
    default:
      return "a number";
  }
}

namespace {

// An object's string field, or "" (missing, null or not a string), as
// unstructured's GetKind/GetAPIVersion read it.
std::string stringField(const json& object, const char* key) {
  auto it = object.find(key);
  return it != object.end() && it->is_string() ? it->get<std::string>() : std::string();
}

}  // namespace

void expandList(Document&& doc, std::vector<Document>& out, std::vector<Diagnostic>& errors) {
  auto items = doc.value.is_object() ? doc.value.find("items") : doc.value.end();
  std::string kind = doc.value.is_object() ? stringField(doc.value, "kind") : std::string();
  // Not a list, or a list without a kind (reported as any kindless document).
  if (!doc.value.is_object() || items == doc.value.end() || kind.empty()) {
    out.push_back(std::move(doc));
    return;
  }
  if (items->is_null()) return;  // `items:` with no value: an empty list, as in kubectl
  if (!items->is_array()) {
    errors.push_back(Diagnostic{{}, doc.line,
                                kind + ": items must be a sequence (the objects of the list), not " + jsonTypeName(*items)});
    return;
  }
  const std::string apiVersion = stringField(doc.value, "apiVersion");
  const std::string itemKind = kind.ends_with("List") ? kind.substr(0, kind.size() - 4) : kind;
  auto& list = items->get_ref<json::array_t&>();
  for (std::size_t i = 0; i < list.size(); ++i) {
    int line = i < doc.itemLines.size() ? doc.itemLines[i] : doc.line;
    json& item = list[i];
    std::string which = kind + " item " + std::to_string(i + 1);
    if (!item.is_object()) {
      errors.push_back(Diagnostic{{}, line, which + " is " + jsonTypeName(item) + ", not a mapping (a Kubernetes object)"});
      continue;
    }
    auto nested = item.find("items");
    if (nested != item.end() && nested->is_array()) {
      errors.push_back(Diagnostic{{}, line, which + " is itself a list: a list inside a list is not read (kubectl refuses it too)"});
      continue;
    }
    if (stringField(item, "kind").empty() && stringField(item, "apiVersion").empty()) {
      if (!apiVersion.empty()) item["apiVersion"] = apiVersion;
      if (!itemKind.empty()) item["kind"] = itemKind;
    }
    out.push_back(Document{std::move(item), line, {}});
  }
}

}  // namespace gitfed::render
