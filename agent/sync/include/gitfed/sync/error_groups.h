#pragma once
// Failed objects whose errors have the same shape (messageShape of the error
// without the object's own identity) and the same tenant, as one group: the
// log's one line per group and the status report's one sync.errors[] entry
// per group (docs/status-spec.md). Pure.

#include <cstddef>
#include <string>
#include <vector>

#include "gitfed/sync/report.h"

namespace gitfed::sync {

struct ErrorGroup {
  std::string message;  // the first member's error without its identity and retry note ("apply failed: 500 ...")
  std::string tenant;
  std::size_t count = 0;
  std::vector<std::size_t> members;  // indices into the objects, in order (count of them)
};

// How many members a report or a log line names.
inline constexpr std::size_t kGroupExamples = 5;

// The error of `o` without the leading "Kind ns/name: " (the whole error when
// it does not start with it).
std::string errorWithoutIdentity(const ObjectReport& o);

// Groups in order of their first member; every failed object with an error
// is in exactly one group (a group of one is an error of one object).
std::vector<ErrorGroup> groupErrors(const std::vector<ObjectReport>& objects);

}  // namespace gitfed::sync
