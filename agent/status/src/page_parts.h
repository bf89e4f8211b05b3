#pragma once
// The fleet page's sections, one function each (fleet_page.cpp assembles them).
// Internal to gitfed::status.

#include <optional>
#include <string>
#include <vector>

#include "gitfed/status/fleet_page.h"

namespace gitfed::status::page {

// The phase a tile shows: Stale when the report is stale, else the report's.
const char* shownPhase(const ClusterRow& row);
// Lower-case "name phase k=v ..." that the filter matches.
std::string searchKey(const ClusterStatus& c, const ClusterRow& row);

// Replica-scheduling plans and rollout waves, as the reports carry them.
std::string plansSection(const FleetStatus& fleet);
// One row per config revision: first seen, reached/fleet, convergence time.
std::string convergenceSection(const std::vector<Convergence>& revisions, const std::optional<std::string>& newest);
// One SVG row per cluster: a segment per report in the window.
std::string timelineSection(const FleetStatus& fleet, const std::vector<ClusterRow>& rows, const FleetHistory& history,
                            const PageOptions& options);

}  // namespace gitfed::status::page
