#pragma once
// Redaction: Secrets never leave the cluster. Values under a Secret's `data`
// and `stringData`, and its kubectl.kubernetes.io/last-applied-configuration
// annotation, are written as "<redacted>" wherever a report would show them
// (drift entries); values the Redactor has learned (from the Secrets the
// agent applies or reads) are cut out of every free-text field (messages,
// errors, drift values of any object). Immutable once filled; thread-safe for
// concurrent const use.

#include <nlohmann/json.hpp>

#include <vector>
#include <string>

#include "gitfed/status/report.h"

namespace gitfed::status {

class Redactor {
 public:
  // Remembers the secret values of `object` if it is a Secret (data values
  // base64-decoded and as written, stringData values). Values shorter than
  // kMinLength are not scrubbed from free text (they would shred it); the
  // structural redaction covers them.
  void learn(const nlohmann::json& object);
  static constexpr std::size_t kMinLength = 3;

  // A copy of a Secret with data, stringData and the last-applied annotation
  // redacted; any other object unchanged.
  static nlohmann::json redactObject(const nlohmann::json& object);

  // `text` with every learned value replaced by "<redacted>".
  std::string scrub(std::string text) const;

  // Redacts a whole report in place: drift entries of Secrets (whatever path
  // they are at), and learned values in every string.
  void apply(ClusterStatus& report) const;

 private:
  void scrubJson(nlohmann::json& value) const;
  std::vector<std::string> values_;  // distinct, longest first
};

// Two report documents equal apart from sync.lastAttemptAt and sync.lastSuccessAt.
bool sameExceptTimestamps(const nlohmann::json& a, const nlohmann::json& b);

}  // namespace gitfed::status
