// InSyncCache (agent/sync/include/gitfed/sync/in_sync_cache.h).

#include <catch2/catch.hpp>

#include "gitfed/sync/in_sync_cache.h"

using gitfed::sync::InSyncCache;

TEST_CASE("in-sync cache: only what the last round found or used is kept", "[sync][cache]") {
  InSyncCache c;
  CHECK_FALSE(c.known(1));
  c.note(1);
  c.note(2);
  c.note(2);
  CHECK_FALSE(c.known(1));  // this round's keys count from the next round
  c.endRound();
  CHECK(c.size() == 2);
  CHECK(c.known(1));  // used: kept
  c.endRound();
  CHECK(c.size() == 1);
  CHECK(c.known(1));
  CHECK_FALSE(c.known(2));  // not seen last round: forgotten
  c.endRound();
  c.endRound();
  CHECK(c.size() == 0);
}
