#include "gitfed/kube/status.h"

#include <algorithm>
#include <array>
#include <cctype>

namespace gitfed::kube {

std::string Error::format() const {
  std::string out = target.empty() ? std::string("kube") : target;
  out += ": ";
  if (status != 0) {
    out += std::to_string(status);
    if (!reason.empty()) out += " " + reason;
  } else {
    out += reason.empty() ? std::string("error") : reason;
  }
  if (!message.empty()) out += ": " + message;
  return out;
}

std::string_view reasonForStatus(long status) {
  switch (status) {
    case 400: return "BadRequest";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "NotFound";
    case 405: return "MethodNotAllowed";
    case 406: return "NotAcceptable";
    case 409: return "Conflict";
    case 410: return "Expired";
    case 413: return "RequestEntityTooLarge";
    case 415: return "UnsupportedMediaType";
    case 422: return "Invalid";
    case 429: return "TooManyRequests";
    case 500: return "InternalError";
    case 502: return "BadGateway";
    case 503: return "ServiceUnavailable";
    case 504: return "Timeout";
    default: return "";
  }
}

namespace {

// The first `max` bytes of a non-JSON body, on one line, for a message.
std::string snippet(std::string_view body, size_t max = 300) {
  std::string out;
  for (char c : body.substr(0, max)) out += (c == '\n' || c == '\r' || c == '\t') ? ' ' : c;
  while (!out.empty() && out.back() == ' ') out.pop_back();
  if (body.size() > max) out += "...";
  return out;
}

}  // namespace

Error errorFromResponse(long status, std::string_view body, std::string target) {
  Error e;
  e.status = static_cast<int>(status);
  e.target = std::move(target);
  auto doc = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (doc.is_object() && doc.value("kind", "") == "Status") {
    if (auto it = doc.find("reason"); it != doc.end() && it->is_string()) e.reason = it->get<std::string>();
    if (auto it = doc.find("message"); it != doc.end() && it->is_string()) e.message = it->get<std::string>();
  } else {
    e.message = snippet(body);
  }
  if (e.reason.empty()) e.reason = std::string(reasonForStatus(status));
  return e;
}

std::string base64Encode(std::string_view data) {
  static constexpr char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((data.size() + 2) / 3 * 4);
  auto byte = [&](size_t k) -> unsigned { return static_cast<unsigned char>(data[k]); };
  size_t i = 0;
  for (; i + 2 < data.size(); i += 3) {
    const unsigned v = byte(i) << 16 | byte(i + 1) << 8 | byte(i + 2);
    out += alphabet[v >> 18 & 63];
    out += alphabet[v >> 12 & 63];
    out += alphabet[v >> 6 & 63];
    out += alphabet[v & 63];
  }
  if (i + 1 == data.size()) {
    const unsigned v = byte(i) << 16;
    out += alphabet[v >> 18 & 63];
    out += alphabet[v >> 12 & 63];
    out += "==";
  } else if (i + 2 == data.size()) {
    const unsigned v = byte(i) << 16 | byte(i + 1) << 8;
    out += alphabet[v >> 18 & 63];
    out += alphabet[v >> 12 & 63];
    out += alphabet[v >> 6 & 63];
    out += '=';
  }
  return out;
}

std::optional<std::string> base64Decode(std::string_view text) {
  std::string clean;
  clean.reserve(text.size());
  for (char c : text)
    if (!std::isspace(static_cast<unsigned char>(c))) clean += c;
  if (clean.size() % 4 != 0) return std::nullopt;
  auto value = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
  };
  std::string out;
  out.reserve(clean.size() / 4 * 3);
  for (size_t i = 0; i < clean.size(); i += 4) {
    const bool last = i + 4 == clean.size();
    int v[4];
    int pad = 0;
    for (int j = 0; j < 4; ++j) {
      const char c = clean[i + static_cast<size_t>(j)];
      if (c == '=' && last && j >= 2) {
        v[j] = 0;
        ++pad;
      } else {
        if (pad > 0) return std::nullopt;  // data after padding
        v[j] = value(c);
        if (v[j] < 0) return std::nullopt;
      }
    }
    const unsigned n = static_cast<unsigned>(v[0] << 18 | v[1] << 12 | v[2] << 6 | v[3]);
    out += static_cast<char>(n >> 16 & 0xff);
    if (pad < 2) out += static_cast<char>(n >> 8 & 0xff);
    if (pad < 1) out += static_cast<char>(n & 0xff);
  }
  return out;
}

std::vector<std::string> secretValues(const nlohmann::json& object) {
  std::vector<std::string> out;
  if (!object.is_object() || object.value("kind", "") != "Secret") return out;
  auto add = [&](const std::string& v) {
    if (v.empty()) return;
    out.push_back(v);
    // As it appears inside a JSON or Go-quoted string in a message.
    std::string escaped = nlohmann::json(v).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    escaped = escaped.substr(1, escaped.size() - 2);
    if (escaped != v) out.push_back(escaped);
  };
  if (auto data = object.find("data"); data != object.end() && data->is_object()) {
    for (const auto& [key, value] : data->items()) {
      if (!value.is_string()) continue;
      const auto& encoded = value.get_ref<const std::string&>();
      add(encoded);
      if (auto decoded = base64Decode(encoded)) add(*decoded);
    }
  }
  if (auto data = object.find("stringData"); data != object.end() && data->is_object()) {
    for (const auto& [key, value] : data->items()) {
      if (!value.is_string()) continue;
      const auto& plain = value.get_ref<const std::string&>();
      add(plain);
      add(base64Encode(plain));
    }
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

std::string redact(std::string text, const std::vector<std::string>& values) {
  // Mark every byte covered by any occurrence of any value (occurrences may
  // overlap), then replace each covered run with one marker: no value can
  // survive partially, and markers are never themselves rewritten.
  std::vector<bool> covered(text.size(), false);
  bool any = false;
  for (const auto& v : values) {
    if (v.empty()) continue;
    for (size_t pos = text.find(v); pos != std::string::npos; pos = text.find(v, pos + 1)) {
      std::fill(covered.begin() + static_cast<std::ptrdiff_t>(pos),
                covered.begin() + static_cast<std::ptrdiff_t>(pos + v.size()), true);
      any = true;
    }
  }
  if (!any) return text;
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size();) {
    if (!covered[i]) {
      out += text[i++];
      continue;
    }
    out += "<redacted>";
    while (i < text.size() && covered[i]) ++i;
  }
  return out;
}

}  // namespace gitfed::kube
