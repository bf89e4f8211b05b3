#pragma once
// listPages: a LIST one page at a time through KubeClient::request, handing
// each item to a callback, so that memory holds one page and not the whole
// list (KubeClient::list gathers every page). When a continue token expires
// the LIST starts over once, so `onItem` may see an item twice. Thread-safe
// if the client is.

#include <nlohmann/json.hpp>

#include <functional>
#include <string>
#include <string_view>

#include "gitfed/kube/client.h"

namespace gitfed::sync {

std::string urlEncode(std::string_view text);

// The collection path of `r` ("/api/v1/namespaces/ns/configmaps"); all
// namespaces when `ns` is empty.
std::string collectionPath(const kube::Resource& r, std::string_view ns);

kube::Result<void> listPages(kube::KubeClient& client, const kube::Resource& r, std::string_view ns,
                             std::string_view labelSelector, unsigned pageSize,
                             const std::function<void(nlohmann::json& item)>& onItem);

}  // namespace gitfed::sync
