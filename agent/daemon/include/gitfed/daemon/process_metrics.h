#pragma once
// The standard process metrics of Prometheus' client libraries
// (process_resident_memory_bytes, process_cpu_seconds_total,
// process_start_time_seconds), read from /proc and getrusage. Pure reads of
// the process's own state; thread-safe.

#include <optional>
#include <string_view>

namespace gitfed::daemon {

// Resident memory in bytes (/proc/self/statm); 0 when unreadable.
double residentMemoryBytes();

// User and system CPU time of the process, in seconds.
double cpuSeconds();

// When the process started, in unix seconds: its start time in clock ticks
// after boot (/proc/self/stat, field 22) plus the boot time (/proc/stat,
// btime), as the Go client computes it. nullopt when /proc cannot be read.
std::optional<double> processStartTime();

// The pieces of processStartTime(), for tests: field 22 of a
// /proc/PID/stat line (the command name may hold spaces and parentheses),
// and the btime line of /proc/stat.
std::optional<long long> startTicksFromStat(std::string_view statLine);
std::optional<long long> bootTimeFromProcStat(std::string_view procStat);

}  // namespace gitfed::daemon
