#pragma once
// JSON Pointer (RFC 6901) and the three override operations of the render
// spec (section 5.4): RFC 6902 add, replace (that also sets a missing member of
// an existing mapping) and remove. Pure functions.

#include <nlohmann/json.hpp>

#include <string>
#include <string_view>
#include <vector>

#include "gitfed/render/diagnostic.h"

namespace gitfed::render {

struct JsonPointer {
  std::string text;                 // as written
  std::vector<std::string> tokens;  // unescaped reference tokens
};

// Parses "/a/b~1c/0". The pointer must be non-empty and start with '/'; `~`
// must be followed by 0 or 1.
Result<JsonPointer> parseJsonPointer(std::string_view text);

enum class PatchOp { Add, Replace, Remove };

// Applies one operation to `doc`. `value` is ignored for Remove.
Result<void> applyPatch(nlohmann::json& doc, PatchOp op, const JsonPointer& path, const nlohmann::json& value);

}  // namespace gitfed::render
