#pragma once
// Writing rendered objects: a YAML stream (yaml-cpp's emitter; strings that
// would read back as another type are quoted) or a JSON `v1 List`.

#include <nlohmann/json.hpp>

#include <ostream>
#include <string>
#include <vector>

#include "gitfed/render/renderer.h"

namespace gitfed::render {

// One YAML document (no `---`), ending with a newline.
std::string toYaml(const nlohmann::json& value);

// Documents separated by `---` lines.
void writeYamlStream(std::ostream& out, const std::vector<RenderedObject>& objects);

// {"apiVersion": "v1", "kind": "List", "items": [...]}, indented, newline-terminated.
void writeJsonList(std::ostream& out, const std::vector<RenderedObject>& objects);

}  // namespace gitfed::render
