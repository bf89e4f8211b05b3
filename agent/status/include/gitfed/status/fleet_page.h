#pragma once
// The fleet page (docs/status-spec.md, "The fleet page"): the status branch as
// one self-contained static HTML file: tiles per cluster, convergence per
// config revision, an SVG timeline of phases, and each cluster's errors and
// objects. Pure: the same inputs give the same bytes.

#include <chrono>
#include <cstddef>
#include <string>

#include "gitfed/status/history.h"
#include "gitfed/status/reader.h"

namespace gitfed::status {

struct PageOptions {
  Clock::time_point now;                            // the page's time (ages, the timeline's end)
  std::chrono::seconds staleAfter{15 * 60};         // as `gitfed status --stale-after`
  std::string groupBy;                              // a label key; "" = one group
  std::size_t maxListed = 50;                       // errors and objects listed per cluster
  std::size_t maxRevisions = 20;                    // rows of the convergence table
  std::string generator = "gitfed";                 // written in the footer (e.g. with the version)
};

std::string renderFleetPage(const FleetStatus& fleet, const FleetHistory& history, const PageOptions& options);

// Text with &, <, >, " and ' escaped for HTML content and attribute values.
std::string htmlEscape(std::string_view text);

}  // namespace gitfed::status
