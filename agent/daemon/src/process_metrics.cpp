#include "gitfed/daemon/process_metrics.h"

#include <sys/resource.h>
#include <unistd.h>

#include <charconv>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>

namespace gitfed::daemon {
namespace {

std::string readAll(const char* path) {
  std::ifstream in(path);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

std::optional<long long> number(std::string_view s) {
  long long v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end == s.data()) return std::nullopt;
  return v;
}

}  // namespace

double residentMemoryBytes() {
  std::ifstream in("/proc/self/statm");
  long long size = 0, resident = 0;
  if (!(in >> size >> resident)) return 0;
  return static_cast<double>(resident) * static_cast<double>(::sysconf(_SC_PAGESIZE));
}

double cpuSeconds() {
  rusage u{};
  ::getrusage(RUSAGE_SELF, &u);
  auto tv = [](const timeval& t) { return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6; };
  return tv(u.ru_utime) + tv(u.ru_stime);
}

std::optional<long long> startTicksFromStat(std::string_view statLine) {
  // "PID (COMM) STATE PPID ...": fields counted after the last ')', which
  // ends the command name whatever it holds. STATE is field 3, starttime 22.
  auto close = statLine.rfind(')');
  if (close == std::string_view::npos) return std::nullopt;
  std::istringstream fields{std::string(statLine.substr(close + 1))};
  std::string field;
  for (int n = 3; fields >> field; ++n)
    if (n == 22) return number(field);
  return std::nullopt;
}

std::optional<long long> bootTimeFromProcStat(std::string_view procStat) {
  std::istringstream lines{std::string(procStat)};
  std::string line;
  while (std::getline(lines, line))
    if (line.starts_with("btime ")) return number(std::string_view(line).substr(6));
  return std::nullopt;
}

std::optional<double> processStartTime() {
  auto ticks = startTicksFromStat(readAll("/proc/self/stat"));
  auto boot = bootTimeFromProcStat(readAll("/proc/stat"));
  const long hz = ::sysconf(_SC_CLK_TCK);
  if (!ticks || !boot || hz <= 0) return std::nullopt;
  return static_cast<double>(*boot) + static_cast<double>(*ticks) / static_cast<double>(hz);
}

}  // namespace gitfed::daemon
