#include "gitfed/status/redact.h"

#include <algorithm>

namespace gitfed::status {
namespace {

using nlohmann::json;

constexpr const char* kLastApplied = "kubectl.kubernetes.io/last-applied-configuration";

bool isSecret(std::string_view apiVersion, std::string_view kind) { return kind == "Secret" && apiVersion == "v1"; }

std::optional<std::string> base64Decode(std::string_view in) {
  static const std::string chars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  unsigned val = 0;
  int bits = -8;
  for (char c : in) {
    if (c == '=' || c == '\n' || c == '\r') continue;
    auto pos = chars.find(c);
    if (pos == std::string::npos) return std::nullopt;
    val = (val << 6) + static_cast<unsigned>(pos);
    bits += 6;
    if (bits >= 0) {
      out.push_back(static_cast<char>((val >> bits) & 0xFF));
      bits -= 8;
    }
  }
  return out;
}

json redactSecretFields(const json& object) {
  if (!object.is_object()) return object;
  json out = object;
  for (const char* field : {"data", "stringData"}) {
    auto it = out.find(field);
    if (it == out.end()) continue;
    if (it->is_object()) {
      for (auto& [k, v] : it->items()) v = kRedacted;
    } else if (!it->is_null()) {
      *it = kRedacted;
    }
  }
  if (auto meta = out.find("metadata"); meta != out.end() && meta->is_object())
    if (auto ann = meta->find("annotations"); ann != meta->end() && ann->is_object())
      if (auto la = ann->find(kLastApplied); la != ann->end()) *la = kRedacted;
  return out;
}

}  // namespace

void Redactor::learn(const json& object) {
  if (!object.is_object() || !isSecret(object.value("apiVersion", ""), object.value("kind", ""))) return;
  auto add = [this](std::string v) {
    if (v.size() < kMinLength) return;
    if (std::find(values_.begin(), values_.end(), v) == values_.end()) values_.push_back(std::move(v));
  };
  if (auto it = object.find("data"); it != object.end() && it->is_object())
    for (const auto& [k, v] : it->items()) {
      if (!v.is_string()) continue;
      add(v.get<std::string>());
      if (auto decoded = base64Decode(v.get<std::string>())) add(*decoded);
    }
  if (auto it = object.find("stringData"); it != object.end() && it->is_object())
    for (const auto& [k, v] : it->items())
      if (v.is_string()) add(v.get<std::string>());
  std::sort(values_.begin(), values_.end(), [](const std::string& a, const std::string& b) {
    return a.size() != b.size() ? a.size() > b.size() : a < b;
  });
}

json Redactor::redactObject(const json& object) {
  if (!object.is_object() || !isSecret(object.value("apiVersion", ""), object.value("kind", ""))) return object;
  return redactSecretFields(object);
}

std::string Redactor::scrub(std::string text) const {
  for (const auto& v : values_) {
    std::size_t pos = 0;
    while ((pos = text.find(v, pos)) != std::string::npos) {
      text.replace(pos, v.size(), kRedacted);
      pos += std::char_traits<char>::length(kRedacted);
    }
  }
  return text;
}

void Redactor::scrubJson(json& value) const {
  if (value.is_string()) {
    value = scrub(value.get<std::string>());
  } else if (value.is_object() || value.is_array()) {
    for (auto& item : value) scrubJson(item);
  }
}

void Redactor::apply(ClusterStatus& report) const {
  report.sync.message = scrub(report.sync.message);
  for (auto& e : report.sync.errors) e.message = scrub(e.message);
  for (auto& o : report.objects) {
    o.message = scrub(o.message);
    for (auto& d : o.drift) {
      if (isSecret(o.apiVersion, o.kind)) {
        // Put the value where it sits in a Secret, redact that, take it back.
        for (json* side : {&d.desired, &d.live}) {
          try {
            json::json_pointer ptr(d.path);
            if (ptr.empty()) {
              *side = redactSecretFields(*side);
            } else {
              json whole = json::object();
              whole[ptr] = *side;
              *side = redactSecretFields(whole)[ptr];
            }
          } catch (const json::exception&) {
            *side = kRedacted;  // a path that cannot be placed: redact the whole value
          }
        }
      }
      scrubJson(d.desired);
      scrubJson(d.live);
    }
  }
}

bool sameExceptTimestamps(const json& a, const json& b) {
  auto strip = [](json doc) {
    if (doc.is_object())
      if (auto sync = doc.find("sync"); sync != doc.end() && sync->is_object()) {
        sync->erase("lastAttemptAt");
        sync->erase("lastSuccessAt");
      }
    return doc;
  };
  return strip(a) == strip(b);
}

}  // namespace gitfed::status
