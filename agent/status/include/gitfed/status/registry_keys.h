#pragma once
// The public keys that verify the fleet's signed status reports, read from
// the registry (docs/status-spec.md, "Authentic reports"): every Cluster
// entry's spec.statusPublicKey in the config repository at one commit
// (render's registry-only load: the Cluster entries and the Tenants that may
// not hold them; no other document is checked). Plain functions;
// thread-safe.

#include <string>
#include <vector>

#include "gitfed/git/repository.h"
#include "gitfed/render/source_tree.h"
#include "gitfed/status/report.h"
#include "gitfed/status/signing.h"

namespace gitfed::status {

struct RegistryKeys {
  PublicKeys keys;                  // cluster -> PEM, for the entries that have a key
  std::size_t clusters = 0;         // entries in the registry, with a key or not
  std::vector<std::string> errors;  // "PATH:LINE: message" of the files read (a bad key, an unreadable file)
};

RegistryKeys registryKeys(const render::SourceTree& tree);
// The registry of `commit` (its tree must be in `repo`).
Result<RegistryKeys> registryKeysAt(const git::Repository& repo, const std::string& commit);

}  // namespace gitfed::status
