#pragma once
// Errors from API responses: the server's own `Status` object (reason,
// message) turned into an Error, and the redaction of Secret values from
// messages (an admission webhook or policy may echo the object it rejects).

#include "gitfed/kube/client.h"

#include <nlohmann/json.hpp>

#include <string>
#include <string_view>
#include <vector>

namespace gitfed::kube {

// The Error for an HTTP response that is not a success. Uses the Status
// object in `body` when there is one (reason, message); otherwise the
// standard reason for the code and the start of the body as the message.
Error errorFromResponse(long status, std::string_view body, std::string target);

// The standard Status reason for an HTTP status ("NotFound" for 404...), or "".
std::string_view reasonForStatus(long status);

// The strings that must never appear in a message about `object`: when it is
// a Secret, every non-empty value of `data` (base64 and decoded) and of
// `stringData` (verbatim and base64), also in their JSON-escaped spelling.
// Empty for other kinds.
std::vector<std::string> secretValues(const nlohmann::json& object);

// `text` with every occurrence of each value replaced by "<redacted>"
// (overlapping or adjacent occurrences become one marker).
std::string redact(std::string text, const std::vector<std::string>& values);

// Base64 (standard alphabet, padding) for the redaction and the kubeconfig's
// *-data fields. decode returns nullopt for invalid input; whitespace is skipped.
std::string base64Encode(std::string_view data);
std::optional<std::string> base64Decode(std::string_view text);

}  // namespace gitfed::kube
