// gitfed::daemon::RevisionLag: behind the newest revision, and since when.

#include <catch2/catch.hpp>

#include "gitfed/daemon/revision_lag.h"

using namespace gitfed::daemon;
using namespace std::chrono_literals;

TEST_CASE("revision lag: behind from the first round that sees an unapplied revision until the newest is applied",
          "[daemon]") {
  const RevisionLag::Time t0{std::chrono::seconds(1'000'000)};
  RevisionLag lag;
  CHECK_FALSE(lag.behind());
  lag.update("a", "a", t0);
  CHECK_FALSE(lag.behind());
  lag.update("b", "a", t0 + 10s);  // b seen, not applied yet
  CHECK(lag.behind());
  CHECK(lag.since() == t0 + 10s);
  lag.update("c", "a", t0 + 70s);  // a newer commit keeps the first time
  CHECK(lag.since() == t0 + 10s);
  lag.update("", "a", t0 + 80s);  // the newest is not known (source not read): nothing changes
  CHECK(lag.since() == t0 + 10s);
  lag.update("c", "b", t0 + 90s);  // b applied, but c is newer
  CHECK(lag.since() == t0 + 10s);
  lag.update("c", "c", t0 + 100s);
  CHECK_FALSE(lag.behind());
  CHECK_FALSE(lag.since());
}

TEST_CASE("revision lag: nothing applied yet is behind", "[daemon]") {
  const RevisionLag::Time t0{std::chrono::seconds(5)};
  RevisionLag lag;
  lag.update("a", "", t0);
  CHECK(lag.behind());
  CHECK(lag.since() == t0);
}
