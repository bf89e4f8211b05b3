#pragma once
// The renderer: a repository (a SourceTree and root paths) and one cluster's
// identity in, the ordered objects that cluster runs out. Implements
// ../shared/spec/render.md. Loading (reading and classifying every file) is
// done once; rendering for a cluster reuses it, so rendering a fleet costs one
// read. Repository is immutable once loaded: render it from several threads.

#include <nlohmann/json.hpp>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "gitfed/render/diagnostic.h"
#include "gitfed/render/document_reader.h"
#include "gitfed/render/json_patch.h"
#include "gitfed/render/selector.h"
#include "gitfed/render/source_tree.h"
#include "gitfed/render/substitution.h"

namespace gitfed::render {

struct LoadOptions {
  std::vector<std::string> roots{""};  // paths inside the tree; "" is the whole tree
  std::uint64_t maxFileBytes = 8u << 20;
  ReadLimits limits;
  unsigned threads = 0;  // files are read in parallel; 0: one per core
};

// Where a document came from.
struct SourceRef {
  std::string path;  // relative to the tree's root
  int line = 0;
};

// A federated type's target (from a FederatedTypeConfig or the built-in table).
struct TargetType {
  std::string apiVersion;
  std::string kind;
  bool namespaced = true;
};

// A cluster registry entry (gitfed.io/v1alpha1 Cluster).
struct ClusterEntry {
  std::string name;
  std::string identity;  // "Cluster name", for messages
  Labels labels;
  SourceRef source;
};

// Where an object goes: the placement annotations of a plain object, or a
// federated object's spec.placement, checked once when loading.
struct Placement {
  enum class Mode { Everywhere, Nowhere, Names, Selector };
  Mode mode = Mode::Everywhere;
  std::vector<std::string> names;
  Selector selector;
  bool matches(const ClusterIdentity& cluster) const;
};

// One entry of a federated object's spec.overrides, checked once when loading.
struct Override {
  struct Item {
    PatchOp op = PatchOp::Replace;
    JsonPointer path;
    nlohmann::json value;
  };
  std::optional<std::string> clusterName;  // else `selector`
  Selector selector;
  std::vector<Item> items;
  bool matches(const ClusterIdentity& cluster) const;
};

// A plain or federated object of the repository. Kept compact: the document
// is held as MessagePack (a tenth of the memory of a JSON tree) and decoded
// when a cluster renders it; what placement needs is parsed once, here.
struct SourceDocument {
  std::string apiVersion;
  std::string kind;
  std::string name;
  std::string ns;                     // metadata.namespace, "" for none
  std::vector<std::uint8_t> packed;  // the document as read (MessagePack)
  nlohmann::json value() const { return nlohmann::json::from_msgpack(packed); }
  SourceRef source;
  std::string identity;  // "Kind ns/name", for messages
  Placement placement;
  // Federated objects only:
  bool federated = false;
  TargetType target;
  std::vector<Override> overrides;
};

struct Repository {
  std::vector<SourceDocument> documents;  // plain and federated objects, in file order
  std::vector<ClusterEntry> clusters;      // the registry, in file order
  std::map<std::string, TargetType> federatedTypes;  // from FederatedTypeConfigs, by federated kind
  std::vector<Diagnostic> errors;          // everything wrong with the repository as such
  std::size_t files = 0;                   // files read

  const ClusterEntry* findCluster(const std::string& name) const;
};

Repository loadRepository(const SourceTree& tree, const LoadOptions& options = {});

struct RenderedObject {
  nlohmann::json value;   // null when the render was asked for text (see Preformat)
  std::string text;       // the object as YAML or as an indented JSON item, when asked for
  SourceRef source;
  std::string group;      // API group ("" for the core group)
  std::string kind;
  std::string ns;         // "" for none
  std::string name;
};

struct RenderResult {
  std::vector<RenderedObject> objects;  // in apply order; empty when there are errors
  std::vector<Diagnostic> errors;       // every error found, repository errors first
  ClusterIdentity cluster;              // the effective identity used
  bool ok() const { return errors.empty(); }
};

// Renders `repo` for the cluster named `name`, whose local labels overlay the
// registry entry's labels (the local value wins on the same key).
RenderResult renderCluster(const Repository& repo, const std::string& name, const Labels& localLabels = {});
// The same, consuming the repository (one render of a big repository, as
// `gitfed render` does): each document's storage is released as it is
// rendered, and with a Preformat each object is formatted at once and only
// its text kept — memory stays a small multiple of the repository's size.
enum class Preformat { None, Yaml, Json };
RenderResult renderCluster(Repository&& repo, const std::string& name, const Labels& localLabels = {},
                           Preformat preformat = Preformat::None);

// The spec's kind rank (section 7): Namespace first, unknown kinds last.
int kindRank(const std::string& kind);

// The built-in federated target table (section 5.1); nullopt when unknown.
std::optional<TargetType> builtinTargetType(const std::string& targetKind);

}  // namespace gitfed::render
