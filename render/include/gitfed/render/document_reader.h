#pragma once
// Reading one file's text into JSON documents, the way kubectl reads them:
// YAML streams with libyaml's event parser (YAML 1.1 scalars, merge keys,
// anchors and aliases), JSON files as JSON. Limits (nesting depth, nodes after
// alias expansion) are enforced while reading, so hostile input fails fast in
// bounded memory. Pure and thread-safe (no shared state).

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string_view>
#include <vector>

#include "gitfed/render/diagnostic.h"

namespace gitfed::render {

struct ReadLimits {
  int maxDepth = 100;                // nesting levels of mappings and sequences
  std::uint64_t maxNodes = 1000000;  // nodes of one document, aliases expanded
};

struct Document {
  nlohmann::json value;  // never null: empty documents are skipped
  int line = 0;          // 1-based line where the document's content starts
};

struct ReadOutcome {
  std::vector<Document> documents;
  std::vector<Diagnostic> errors;  // `path` left empty: the caller knows the file
};

// A YAML stream of documents separated by `---`. A document with an error is
// left out and reported; reading goes on with the next document when the
// syntax allows it.
ReadOutcome readYamlStream(std::string_view text, const ReadLimits& limits = {});

// One JSON document (strings stay strings, numbers stay numbers). Duplicate
// keys are an error, as in YAML.
ReadOutcome readJsonDocument(std::string_view text, const ReadLimits& limits = {});

}  // namespace gitfed::render
