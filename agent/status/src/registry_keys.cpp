#include "gitfed/status/registry_keys.h"

#include "gitfed/render/renderer.h"

namespace gitfed::status {

RegistryKeys registryKeys(const render::SourceTree& tree) {
  render::LoadOptions options;
  options.registryOnly = true;
  const render::Repository registry = render::loadRepository(tree, options);
  RegistryKeys out;
  out.clusters = registry.clusters.size();
  for (const auto& c : registry.clusters)
    if (!c.statusPublicKey.empty()) out.keys[c.name] = c.statusPublicKey;
  for (const auto& e : registry.errors) out.errors.push_back(e.format());
  return out;
}

Result<RegistryKeys> registryKeysAt(const git::Repository& repo, const std::string& commit) {
  auto tree = repo.tree(commit);
  if (!tree) return std::unexpected(tree.error());
  return registryKeys(**tree);
}

}  // namespace gitfed::status
