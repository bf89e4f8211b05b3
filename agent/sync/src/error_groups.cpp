#include "gitfed/sync/error_groups.h"

#include <map>
#include <utility>

#include "gitfed/sync/circuit_breaker.h"

namespace gitfed::sync {

std::string errorWithoutIdentity(const ObjectReport& o) {
  const std::string prefix = o.ref.identity() + ": ";
  if (o.error.starts_with(prefix)) return o.error.substr(prefix.size());
  return o.error;
}

std::vector<ErrorGroup> groupErrors(const std::vector<ObjectReport>& objects) {
  std::vector<ErrorGroup> groups;
  std::map<std::pair<std::string, std::string>, std::size_t> byKey;  // (tenant, shape) -> group
  for (std::size_t i = 0; i < objects.size(); ++i) {
    const ObjectReport& o = objects[i];
    if (o.state != State::Failed || o.error.empty()) continue;
    std::string message = errorWithoutIdentity(o);
    auto [it, added] = byKey.try_emplace({o.tenant, messageShape(message)}, groups.size());
    // The group's text is about all of them: without one member's retry note.
    if (added) groups.push_back(ErrorGroup{std::string(withoutRetryNote(message)), o.tenant, 0, {}});
    ErrorGroup& g = groups[it->second];
    ++g.count;
    g.members.push_back(i);
  }
  return groups;
}

}  // namespace gitfed::sync
