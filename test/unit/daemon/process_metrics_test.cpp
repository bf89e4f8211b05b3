// gitfed::daemon process metrics: the start time from /proc (as Prometheus'
// Go client reads it), resident memory and CPU time.

#include <catch2/catch.hpp>

#include <chrono>

#include "gitfed/daemon/process_metrics.h"

using namespace gitfed::daemon;

TEST_CASE("process metrics: field 22 of /proc/PID/stat, after a command name with spaces and parentheses",
          "[daemon]") {
  // pid (comm) state ppid pgrp session tty tpgid flags minflt cminflt majflt
  // cmajflt utime stime cutime cstime priority nice threads itrealvalue starttime
  const char* line = "4242 (my (odd) agent) S 1 4242 4242 0 -1 4194560 1 0 0 0 3 4 0 0 20 0 5 0 987654 1000 ...\n";
  CHECK(startTicksFromStat(line) == 987654);
  CHECK_FALSE(startTicksFromStat("4242 (short) S 1 2"));
  CHECK_FALSE(startTicksFromStat("no parenthesis"));
}

TEST_CASE("process metrics: the boot time from /proc/stat", "[daemon]") {
  CHECK(bootTimeFromProcStat("cpu  1 2 3\nintr 5\nbtime 1765000000\nprocesses 9\n") == 1765000000);
  CHECK_FALSE(bootTimeFromProcStat("cpu  1 2 3\n"));
}

TEST_CASE("process metrics: this process started a moment ago, and uses memory and CPU", "[daemon]") {
  const double now = std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  auto started = processStartTime();
  REQUIRE(started);
  CHECK(*started <= now + 1);
  CHECK(*started > now - 24 * 3600);  // a test binary does not run for a day
  CHECK(processStartTime() == started);  // the same at every read
  CHECK(residentMemoryBytes() > 0);
  volatile double x = 0;
  for (int i = 0; i < 2'000'000; ++i) x = x + 1;
  CHECK(cpuSeconds() > 0);
}
