#pragma once
// Kubernetes OpenAPI v3 schemas (as saved with `kubectl get --raw
// /openapi/v3/apis/apps/v1`), and the openAPIV3Schema of CustomResourceDefinitions
// found in the repository, used to check rendered objects before they reach a
// cluster: unknown kinds, unknown fields, wrong types, missing required fields,
// values outside an enum. Immutable after loading: thread-safe to validate from.

#include <nlohmann/json.hpp>

#include <expected>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <tuple>
#include <vector>

namespace gitfed::review {

class SchemaSet {
 public:
  // Every *.json file in `dir` (not recursive): one OpenAPI v3 document each.
  static std::expected<SchemaSet, std::string> loadDirectory(const std::filesystem::path& dir);

  // An OpenAPI v3 document: components.schemas with x-kubernetes-group-version-kind.
  void addDocument(nlohmann::json document);
  // A CustomResourceDefinition (apiextensions.k8s.io/v1): each version's schema.
  void addCustomResourceDefinition(const nlohmann::json& crd);

  bool knows(const std::string& apiVersion, const std::string& kind) const;
  bool empty() const { return kinds_.empty(); }

  // Problems of `object` against the schema of its kind, each "/json/pointer: what".
  // Empty when valid, or when the kind is unknown (ask knows() first).
  std::vector<std::string> validate(const nlohmann::json& object) const;

 private:
  struct Root {
    std::size_t document;  // index into documents_
    const nlohmann::json* schema;
  };
  std::vector<std::shared_ptr<const nlohmann::json>> documents_;  // stable addresses
  std::map<std::pair<std::string, std::string>, Root> kinds_;    // (apiVersion, kind)
};

}  // namespace gitfed::review
