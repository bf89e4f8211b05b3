#pragma once
// Parsing the API server's discovery documents into Resources: the
// aggregated form (apidiscovery.k8s.io/v2 APIGroupDiscoveryList, one request
// for /api and one for /apis) and the legacy per-group-version form
// (APIVersions, APIGroupList, APIResourceList). Pure functions; the cache
// and the requests live in CurlKubeClient.

#include "gitfed/kube/client.h"

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace gitfed::kube {

// A group's versions in order of preference and their resources (no
// subresources).
struct DiscoveredGroup {
  std::string name;  // "" for the core group
  std::vector<std::string> versions;  // preferred first
  std::vector<Resource> resources;    // of every version
};

// The Accept header asking for aggregated discovery, with plain JSON as the
// fallback for servers without it.
inline constexpr const char* kAggregatedDiscoveryAccept =
    "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,"
    "application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,"
    "application/json";

// Whether a response's Content-Type is an aggregated discovery document.
bool isAggregatedDiscovery(std::string_view contentType);

// APIGroupDiscoveryList -> groups. An error names what is malformed.
Result<std::vector<DiscoveredGroup>> parseAggregatedDiscovery(const nlohmann::json& doc);

// Legacy: APIVersions of /api -> its versions; APIGroupList of /apis ->
// groups with versions (preferred first, resources empty); APIResourceList of
// one group-version -> its resources (subresources "x/status" skipped).
Result<std::vector<std::string>> parseApiVersions(const nlohmann::json& doc);
Result<std::vector<DiscoveredGroup>> parseApiGroupList(const nlohmann::json& doc);
Result<std::vector<Resource>> parseApiResourceList(const nlohmann::json& doc, const std::string& group,
                                                   const std::string& version);

// Each resource once, in the most preferred version of its group that serves
// it (what listing by label, e.g. for pruning, should walk).
std::vector<Resource> preferredResources(const std::vector<DiscoveredGroup>& groups);

}  // namespace gitfed::kube
