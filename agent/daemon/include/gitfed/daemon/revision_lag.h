#pragma once
// RevisionLag: whether the cluster runs the newest revision of its source,
// and since when it has not (gitfed_revision_behind and
// gitfed_revision_behind_since_timestamp_seconds). The newest revision is
// the one the last poll saw on the remote; the applied one is the last
// revision fully applied (the report's appliedRevision). The cluster is
// behind from the first round that sees a revision it has not applied until
// it applies the newest; newer commits in between keep that first time.
// A plain value; the reconcile thread's.

#include <chrono>
#include <optional>
#include <string>

namespace gitfed::daemon {

class RevisionLag {
 public:
  using Time = std::chrono::system_clock::time_point;

  // After a round: `newest` from the poll (empty: not known, nothing
  // changes), `applied` from the last sync (empty: nothing applied yet).
  void update(const std::string& newest, const std::string& applied, Time now);

  bool behind() const { return since_.has_value(); }
  std::optional<Time> since() const { return since_; }

 private:
  std::optional<Time> since_;
};

}  // namespace gitfed::daemon
