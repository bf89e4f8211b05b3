#pragma once
// Reading one file's text into JSON documents, the way kubectl reads them:
// YAML streams with libyaml's event parser (YAML 1.1 scalars, merge keys,
// anchors and aliases), JSON files as JSON. Limits (nesting depth, nodes after
// alias expansion) are enforced while reading, so hostile input fails fast in
// bounded memory. Pure and thread-safe (no shared state).

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
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
  // When the document is a mapping with an `items` sequence: the line of each
  // item (a list's errors name the item's line). May be shorter than the
  // sequence (then the document's line stands in).
  std::vector<int> itemLines;
};

struct ReadOutcome {
  std::vector<Document> documents;
  std::vector<Diagnostic> errors;  // `path` left empty: the caller knows the file
};

// A YAML stream of documents separated by `---`. A document with an error is
// left out and reported; reading goes on with the next document when the
// syntax allows it.
ReadOutcome readYamlStream(std::string_view text, const ReadLimits& limits = {});

// The two ways readYamlStream reads, apart (for tests). readSimpleYamlStream
// reads the subset of YAML nearly every manifest is written in (printable
// ASCII; block collections; flow collections, plain and quoted scalars on one
// line; comments; `---`) without libyaml, and returns nullopt for anything
// else and for every error; readYamlStream then uses
// readYamlStreamWithLibyaml, the reference. Where the first reads, both give
// the same outcome.
std::optional<ReadOutcome> readSimpleYamlStream(std::string_view text, const ReadLimits& limits = {});
ReadOutcome readYamlStreamWithLibyaml(std::string_view text, const ReadLimits& limits = {});

// One JSON document (strings stay strings, numbers stay numbers). Duplicate
// keys are an error, as in YAML.
ReadOutcome readJsonDocument(std::string_view text, const ReadLimits& limits = {});

// kubectl's lists (render-spec section 2, "Lists, as kubectl reads them"): a
// mapping with an `items` key stands for its items. Appends to `out` the
// documents `doc` stands for (itself when it is not a list), and to `errors`
// what is wrong with the list or an item (`path` left empty, the item's line).
void expandList(Document&& doc, std::vector<Document>& out, std::vector<Diagnostic>& errors);

// "a mapping", "a list", "a string", "a number", "a boolean", "null": for
// messages about a value of the wrong type.
std::string jsonTypeName(const nlohmann::json& value);

}  // namespace gitfed::render
