#include "gitfed/daemon/revision_lag.h"

namespace gitfed::daemon {

void RevisionLag::update(const std::string& newest, const std::string& applied, Time now) {
  if (newest.empty()) return;
  if (newest == applied) since_.reset();
  else if (!since_) since_ = now;
}

}  // namespace gitfed::daemon
