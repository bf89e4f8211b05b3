#pragma once
// Every clusters/<name>.yaml of one commit of the status branch, parsed
// (reader.cpp); files that are not valid reports become warnings. Internal to
// gitfed::status.

#include <string>
#include <vector>

#include "gitfed/git/repository.h"
#include "gitfed/status/report.h"

namespace gitfed::status {

// Sorted by name.
Result<void> readReportTree(const git::Repository& repo, const std::string& commit, std::vector<ClusterStatus>& clusters,
                            std::vector<std::string>& warnings);

}  // namespace gitfed::status
