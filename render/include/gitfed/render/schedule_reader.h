#pragma once
// The short way of reading ReplicaSchedulingPreferences (bench/schedule): an
// RSP document written in the shape nearly every RSP is written in (block
// and one-line flow mappings of plain words, numbers, true/false and a few
// quoted names, full-line comments) is read straight from its text into its
// name and its checked spec, without a JSON tree. Anything else, and every
// RSP with an error, is declined and read the general way (readYamlStream,
// then parseReplicaSchedulingPreference), so this reader never decides what
// a document means when it is not sure: whatever it reads, it reads as the
// general way does (schedule_reader_test compares the two). Pure, thread-safe.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "gitfed/render/document_reader.h"
#include "gitfed/render/schedule.h"

namespace gitfed::render {

struct SimpleSchedule {
  std::string ns;  // "" when the RSP has no namespace
  std::string name;
  int line = 0;  // where the document's content starts, as readYamlStream says
  ReplicaSchedulingSpec spec;
};

// One document's text (what lies between two `---` lines); `firstLine` is
// the line number of its first line. nullopt: leave it to the general way.
std::optional<SimpleSchedule> readSimpleSchedule(std::string_view document, int firstLine);

// The RSPs of a YAML stream that readSimpleSchedule reads, in order, and the
// stream without them (each of their lines left empty, so that every other
// document keeps its lines). Nothing is taken from a stream with directives,
// document end markers or content after `---` (the general way reads those),
// nor under limits lower than any such RSP needs.
struct TakenSchedules {
  std::vector<SimpleSchedule> schedules;
  std::string rest;  // only when schedules is not empty
};
TakenSchedules takeSimpleSchedules(std::string_view text, const ReadLimits& limits);

}  // namespace gitfed::render
