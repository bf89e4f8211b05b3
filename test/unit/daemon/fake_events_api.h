#pragma once
// The Events endpoints of an API server, for the event recorder's and the
// agent's unit tests: POST and PATCH of core/v1 Events (a PATCH merges
// count, lastTimestamp and message; 404 for an unknown name, 409 for a
// POST of a taken one), and the involved ConfigMap's GET (for its uid).
// `down` fails every request as a transport error; `forbidden` answers 403;
// `gate`, when set, holds each request until it returns (a slow server).
// Thread-safe: the recorder's thread calls it.

#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "gitfed/kube/client.h"

namespace gitfed::test {

class FakeEventsApi final : public kube::KubeClient {
 public:
  struct Call {
    std::string method, path;
    nlohmann::json body;
  };

  bool down = false;
  bool forbidden = false;
  std::optional<std::string> configMapUid;  // the involved ConfigMap exists, with this uid
  std::function<void()> gate;

  kube::Result<kube::Resource> resourceFor(std::string_view apiVersion, std::string_view kind) override {
    if (apiVersion != "v1" || kind != "ConfigMap") return std::unexpected(kube::Error{404, "NotFound", "no such kind", ""});
    return kube::Resource{"", "v1", "ConfigMap", "configmaps", true, {}};
  }
  kube::Result<std::vector<kube::Resource>> resources() override { return std::unexpected(unsupported()); }
  kube::Result<nlohmann::json> get(const kube::Resource&, std::string_view ns, std::string_view name) override {
    std::lock_guard lock(mu_);
    calls_.push_back({"GET", "configmaps/" + std::string(ns) + "/" + std::string(name), nullptr});
    if (!configMapUid) return std::unexpected(kube::Error{404, "NotFound", "not found", "get ConfigMap"});
    return nlohmann::json{{"metadata", {{"name", name}, {"namespace", ns}, {"uid", *configMapUid}}}};
  }
  kube::Result<std::vector<nlohmann::json>> list(const kube::Resource&, std::string_view, std::string_view) override {
    return std::unexpected(unsupported());
  }
  kube::Result<nlohmann::json> apply(const kube::Resource&, const nlohmann::json&, const kube::ApplyOptions&) override {
    return std::unexpected(unsupported());
  }
  kube::Result<void> remove(const kube::Resource&, std::string_view, std::string_view, kube::Propagation,
                            std::optional<std::string>) override {
    return std::unexpected(unsupported());
  }
  kube::Result<nlohmann::json> request(std::string_view method, std::string_view path, const nlohmann::json* body,
                                       std::string_view contentType) override {
    if (gate) gate();
    std::lock_guard lock(mu_);
    calls_.push_back({std::string(method), std::string(path), body ? *body : nlohmann::json()});
    const std::string target = std::string(method) + " " + std::string(path);
    if (down) return std::unexpected(kube::Error{0, "ConnectionFailed", "connection refused", target});
    if (forbidden) return std::unexpected(kube::Error{403, "Forbidden", "events is forbidden", target});
    const std::string prefix = "/api/v1/namespaces/gitfed-system/events";
    if (method == "POST" && path == prefix && body) {
      const std::string name = (*body)["metadata"]["name"];
      if (events_.contains(name)) return std::unexpected(kube::Error{409, "AlreadyExists", "exists", target});
      events_[name] = *body;
      return *body;
    }
    if (method == "PATCH" && path.starts_with(prefix + "/") && body) {
      if (contentType != "application/merge-patch+json")
        return std::unexpected(kube::Error{415, "UnsupportedMediaType", std::string(contentType), target});
      auto it = events_.find(std::string(path.substr(prefix.size() + 1)));
      if (it == events_.end()) return std::unexpected(kube::Error{404, "NotFound", "not found", target});
      for (auto& [k, v] : body->items()) it->second[k] = v;
      return it->second;
    }
    return std::unexpected(kube::Error{405, "MethodNotAllowed", "", target});
  }

  std::vector<Call> calls() const {
    std::lock_guard lock(mu_);
    return calls_;
  }
  // The stored Events, by name.
  std::map<std::string, nlohmann::json> events() const {
    std::lock_guard lock(mu_);
    return events_;
  }
  void forget(const std::string& name) {  // the API server's TTL
    std::lock_guard lock(mu_);
    events_.erase(name);
  }

 private:
  static kube::Error unsupported() { return kube::Error{501, "", "not in this fake", ""}; }
  mutable std::mutex mu_;
  std::vector<Call> calls_;
  std::map<std::string, nlohmann::json> events_;
};

}  // namespace gitfed::test
