#pragma once
// MeteredKubeClient: a KubeClient that forwards every call to another one and
// counts it by verb and outcome, for gitfed_kube_requests_total{verb,code}.
// Verbs are the API's: get, list, apply (server-side apply, dry runs
// included), delete, and the HTTP method of generic requests (e.g. the
// Lease's get/create/update). `code` is the HTTP status of a failure, "200"
// for a success, "error" for a transport failure. A LIST call that follows
// `continue` pages counts once. Discovery (served from the client's cache) is
// not counted. Thread-safe when the wrapped client is.

#include <functional>
#include <memory>
#include <string>

#include "gitfed/kube/client.h"

namespace gitfed::daemon {

class MeteredKubeClient final : public kube::KubeClient {
 public:
  using Observe = std::function<void(const std::string& verb, const std::string& code)>;
  MeteredKubeClient(kube::KubeClient& inner, Observe observe) : inner_(inner), observe_(std::move(observe)) {}
  // Owns `inner` (an impersonating view of another client).
  MeteredKubeClient(std::unique_ptr<kube::KubeClient> inner, Observe observe)
      : owned_(std::move(inner)), inner_(*owned_), observe_(std::move(observe)) {}

  kube::Result<kube::Resource> resourceFor(std::string_view apiVersion, std::string_view kind) override {
    return inner_.resourceFor(apiVersion, kind);
  }
  kube::Result<std::vector<kube::Resource>> resources() override { return inner_.resources(); }
  kube::Result<nlohmann::json> get(const kube::Resource& r, std::string_view ns, std::string_view name) override {
    return count("get", inner_.get(r, ns, name));
  }
  kube::Result<std::vector<nlohmann::json>> list(const kube::Resource& r, std::string_view ns,
                                                 std::string_view labelSelector) override {
    return count("list", inner_.list(r, ns, labelSelector));
  }
  kube::Result<nlohmann::json> apply(const kube::Resource& r, const nlohmann::json& object,
                                     const kube::ApplyOptions& options) override {
    return count("apply", inner_.apply(r, object, options));
  }
  kube::Result<void> remove(const kube::Resource& r, std::string_view ns, std::string_view name,
                            kube::Propagation propagation, std::optional<std::string> preconditionUid) override {
    return count("delete", inner_.remove(r, ns, name, propagation, std::move(preconditionUid)));
  }
  kube::Result<nlohmann::json> request(std::string_view method, std::string_view path, const nlohmann::json* body,
                                       std::string_view contentType) override {
    std::string verb;
    for (char c : method) verb += static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
    // A paged LIST the engine drives itself.
    if (verb == "get" && path.find("limit=") != std::string_view::npos) verb = "list";
    return count(verb, inner_.request(method, path, body, contentType));
  }
  // The wrapped client's impersonating view, counted like this one.
  kube::Result<std::unique_ptr<kube::KubeClient>> impersonating(const std::string& user) override {
    auto view = inner_.impersonating(user);
    if (!view) return std::unexpected(view.error());
    return std::unique_ptr<kube::KubeClient>(std::make_unique<MeteredKubeClient>(std::move(*view), observe_));
  }
  std::string impersonatedUser() const override { return inner_.impersonatedUser(); }

 private:
  template <class R>
  R count(const std::string& verb, R result) {
    if (observe_) {
      std::string code = result ? std::string("200") : result.error().status == 0 ? std::string("error")
                                                                                   : std::to_string(result.error().status);
      observe_(verb, code);
    }
    return result;
  }
  std::unique_ptr<kube::KubeClient> owned_;  // before inner_: it may refer to it
  kube::KubeClient& inner_;
  Observe observe_;
};

}  // namespace gitfed::daemon
