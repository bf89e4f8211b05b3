#pragma once
// Writing rendered objects: a YAML stream in kubectl's layout, or a JSON
// `v1 List`. Strings that would read back as another type (`"true"`, `"80"`,
// `"<<"`) are quoted, by the reader's own rules, so the output means to kubectl
// what it means to gitfed. Pure functions; thread-safe.

#include <nlohmann/json.hpp>

#include <cstdio>
#include <string>
#include <vector>

#include "gitfed/render/renderer.h"

namespace gitfed::render {

// One YAML document (no `---`), ending with a newline.
std::string toYaml(const nlohmann::json& value);
void appendYaml(std::string& out, const nlohmann::json& value);

// The texts the writers below use for one object, for renderers that format
// objects as soon as they are built (Preformat): YAML, and a JSON List item
// (indented for its place in the List).
inline void appendYamlText(std::string& out, const nlohmann::json& value) { appendYaml(out, value); }
void appendJsonItemText(std::string& out, const nlohmann::json& value);

// Documents separated by `---` lines. Objects rendered with a Preformat are
// written from their text.
void writeYamlStream(std::FILE* out, const std::vector<RenderedObject>& objects);

// {"apiVersion": "v1", "items": [...], "kind": "List"}, indented by 2, newline-terminated.
void writeJsonList(std::FILE* out, const std::vector<RenderedObject>& objects);

}  // namespace gitfed::render
