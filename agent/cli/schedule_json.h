#pragma once
// `gitfed schedule --output json`, written item by item: the same bytes as
// nlohmann::json's dump(2) of {"items": [{"clusters": {...}, "name", "namespace",
// "targetKind", "totalReplicas"}]} (keys in that sorted order, clusters sorted
// by name), without holding the document of every RSP's plan in memory.
// Not thread-safe (one writer, one stream).

#include <nlohmann/json.hpp>

#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace gitfed::cli {

class ScheduleJsonWriter {
 public:
  explicit ScheduleJsonWriter(std::FILE* out) : out_(out) {}

  // One item; `clusters` sorted by name (std::string's order), names distinct.
  void item(std::string_view ns, std::string_view name, std::string_view targetKind, std::int64_t totalReplicas,
            const std::vector<std::pair<const std::string*, std::int64_t>>& clusters) {
    buffer_ = items_++ ? ",\n    {\n      \"clusters\": " : "{\n  \"items\": [\n    {\n      \"clusters\": ";
    if (clusters.empty()) {
      buffer_ += "{}";
    } else {
      buffer_ += "{\n";
      for (std::size_t i = 0; i < clusters.size(); ++i) {
        buffer_ += i ? ",\n        " : "        ";
        appendString(*clusters[i].first);
        buffer_ += ": ";
        buffer_ += std::to_string(clusters[i].second);
      }
      buffer_ += "\n      }";
    }
    buffer_ += ",\n      \"name\": ";
    appendString(name);
    buffer_ += ",\n      \"namespace\": ";
    appendString(ns);
    buffer_ += ",\n      \"targetKind\": ";
    appendString(targetKind);
    buffer_ += ",\n      \"totalReplicas\": ";
    buffer_ += std::to_string(totalReplicas);
    buffer_ += "\n    }";
    flush();
  }

  // Closes the document (and its line).
  void finish() {
    buffer_ = items_ ? "\n  ]\n}\n" : "{\n  \"items\": []\n}\n";
    flush();
  }

 private:
  // nlohmann's own escaping (a string as dump() writes it).
  void appendString(std::string_view s) {
    bool plain = true;  // printable ASCII but '"' and '\\': written as it is
    for (char c : s) plain = plain && c >= 0x20 && c < 0x7f && c != '"' && c != '\\';
    if (!plain) {
      buffer_ += nlohmann::json(std::string(s)).dump();
      return;
    }
    buffer_ += '"';
    buffer_ += s;
    buffer_ += '"';
  }
  void flush() { std::fwrite(buffer_.data(), 1, buffer_.size(), out_); }

  std::FILE* out_;
  std::string buffer_;
  std::size_t items_ = 0;
};

}  // namespace gitfed::cli
