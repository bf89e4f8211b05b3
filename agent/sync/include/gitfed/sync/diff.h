#pragma once
// The pure comparison logic of the sync engine: is the live object what Git
// wants, over the fields gitfed sets; where do two objects differ; Secret
// redaction; the content hash. No I/O; every function is thread-safe.

#include <nlohmann/json.hpp>

#include <cstdint>
#include <expected>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "gitfed/sync/report.h"

namespace gitfed::sync {

// A set of JSON pointers (RFC 6901) whose subtrees are not compared: fields
// owned by another controller (an HPA's /spec/replicas). Thread-safe to read.
class FieldSet {
 public:
  // "/spec/replicas, /metadata/labels/x" (separated by commas or whitespace);
  // an error names the bad pointer.
  static std::expected<FieldSet, std::string> parse(std::string_view list);

  void add(std::vector<std::string> tokens);
  void merge(const FieldSet& other);
  bool empty() const { return pointers_.empty(); }
  // True when `path` is one of the pointers or lies below one.
  bool covers(const std::vector<std::string>& path) const;
  const std::vector<std::vector<std::string>>& pointers() const { return pointers_; }

 private:
  std::vector<std::vector<std::string>> pointers_;
};

// The local filter of the no-op path: true when every field present in
// `desired` has the same value in `live` (absent, null, {} and [] match each
// other; resource quantities compare by value, "1000m" == "1"; `status` and
// server bookkeeping under metadata are skipped). A false answer may still be
// normalisation by the server (defaulted list items, int-or-string): the
// engine confirms it with a server-side dry run before calling it drift.
bool coversDesired(const nlohmann::json& desired, const nlohmann::json& live, const FieldSet& ignore = {});

// Every difference between `want` (a dry-run result: what the object would be
// after applying) and `live`, leaf by leaf, skipping `status`,
// metadata.managedFields/resourceVersion/generation and `ignore`. Lists of
// different lengths are one entry for the whole list.
std::vector<DriftEntry> diffObjects(const nlohmann::json& want, const nlohmann::json& live,
                                    const FieldSet& ignore = {});

// A resource quantity in nano-units ("1000m" and "1" are both 10^9); nullopt
// when `text` is not a quantity or overflows.
std::optional<long double> parseQuantity(std::string_view text);
bool quantitiesEqual(std::string_view a, std::string_view b);

// A Secret's stringData folded into data (base64), as the server stores it;
// for comparing a desired Secret with a live one.
nlohmann::json foldStringData(const nlohmann::json& secret);

// Secrets: replaces every value under /data, /stringData and the
// last-applied-configuration annotation inside `value`, which sits at
// `pointer` in the object, with "<redacted>".
void redactSecretValue(nlohmann::json& value, std::string_view pointer);
void redactSecretDrift(std::vector<DriftEntry>& drift);
// Replaces each value of the Secret `secret` (data values, decoded and as
// written; stringData values, plain and base64) in `text` with "<redacted>".
std::string redactSecretText(std::string text, const nlohmann::json& secret);
inline constexpr std::string_view kRedacted = "<redacted>";

// JSON pointer helpers.
std::string escapePointerToken(std::string_view token);
std::string toPointer(const std::vector<std::string>& tokens);
const nlohmann::json* findAt(const nlohmann::json& doc, const std::vector<std::string>& tokens);
// Sets `value` at `tokens`, creating missing objects on the way; false when a
// step is not an object (or an array index out of range).
bool setAt(nlohmann::json& doc, const std::vector<std::string>& tokens, nlohmann::json value);

// FNV-1a 64 over the canonical JSON text (keys sorted), and as 16 hex digits.
std::uint64_t contentHashValue(const nlohmann::json& value);
std::string contentHash(const nlohmann::json& value);

std::string base64Encode(std::string_view bytes);
std::optional<std::string> base64Decode(std::string_view text);

}  // namespace gitfed::sync
