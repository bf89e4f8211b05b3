#pragma once
// How kubectl (go-yaml v2 + sigs.k8s.io/yaml) reads a plain YAML scalar, and how
// a non-string mapping key becomes a JSON key. Pure functions.

#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <string_view>

#include "gitfed/render/diagnostic.h"

namespace gitfed::render {

// Resolves a plain (unquoted, untagged) scalar by YAML 1.1 rules: null, bool,
// integer (decimal, 0x, 0o, 0b, leading-0 octal, underscores), float, string.
// Floats stay floats here (a float key is written differently from an integer
// key); values pass through normalizeNumber.
// `.inf`, `-.inf` and `.nan` are errors: JSON cannot hold them.
Result<nlohmann::json> resolvePlainScalar(std::string_view text);

// Whether resolvePlainScalar(text) is the string `text` itself (without
// making it: a key's common case).
bool plainScalarIsString(std::string_view text);

// Resolves a scalar carrying an explicit tag (`!!str`, `!!int`, ...). Unknown
// tags read as strings, as in go-yaml v2.
Result<nlohmann::json> resolveTaggedScalar(std::string_view tag, std::string_view text);

// The JSON object key for a resolved YAML key: strings stay, booleans become
// "true"/"false", integers their decimal text, floats Go's %g of the float32
// value (as sigs.k8s.io/yaml does). A null key is an error.
Result<std::string> keyText(const nlohmann::json& key);

// True when `text`, written plain, would be read back as something other than
// this very string: such strings must be quoted when writing YAML.
bool needsQuoting(std::string_view text);

// A float as kubectl ends up holding it: integral values within int64 become
// integers (kubectl's JSON round trip does the same), others stay floats.
nlohmann::json normalizeNumber(double v);

// Go's strconv.FormatFloat(v, 'g', -1, 32).
std::string formatGoFloat32(double v);

}  // namespace gitfed::render
