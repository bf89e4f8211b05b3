#pragma once
// Building API paths and query strings. Every name, namespace and query value
// is percent-encoded here, so callers never splice raw strings into a URL.

#include "gitfed/kube/client.h"

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace gitfed::kube {

// "/api/v1" for the core group, "/apis/GROUP/VERSION" otherwise.
std::string groupVersionPath(std::string_view group, std::string_view version);

// The collection or object path of `r`: .../namespaces/NS/PLURAL[/NAME] for a
// namespaced resource with a namespace (all namespaces when `ns` is empty),
// .../PLURAL[/NAME] for a cluster-scoped one (`ns` ignored).
std::string resourcePath(const Resource& r, std::string_view ns, std::string_view name = {});

// Percent-encodes everything but RFC 3986 unreserved characters (for query
// values); pathSegment also keeps ':' and '@', which are legal in a path
// segment and common in names (system:controller:...).
std::string escapeQueryValue(std::string_view value);
std::string escapePathSegment(std::string_view segment);

// "?k1=v1&k2=v2" with values escaped, skipping pairs whose value is empty;
// "" when nothing remains.
std::string queryString(const std::vector<std::pair<std::string, std::string>>& params);

}  // namespace gitfed::kube
