#include "gitfed/kube/retry.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <ctime>
#include <string>

namespace gitfed::kube {

TokenBucket::TokenBucket(double qps, int burst)
    : qps_(qps), burst_(std::max(1, burst)), tokens_(std::max(1, burst)) {}

std::chrono::nanoseconds TokenBucket::reserve(std::chrono::steady_clock::time_point now) {
  if (qps_ <= 0) return std::chrono::nanoseconds::zero();
  std::lock_guard lock(mutex_);
  if (last_ && now > *last_) {
    const double elapsed = std::chrono::duration<double>(now - *last_).count();
    tokens_ = std::min(burst_, tokens_ + elapsed * qps_);
  }
  if (!last_ || now > *last_) last_ = now;
  tokens_ -= 1.0;
  if (tokens_ >= 0) return std::chrono::nanoseconds::zero();
  // The deficit is paid back at qps tokens per second, measured from last_
  // (which may be ahead of `now` only if the clock went backwards; it cannot).
  const double wait = -tokens_ / qps_;
  return std::chrono::nanoseconds(static_cast<std::int64_t>(std::ceil(wait * 1e9)));
}

std::chrono::milliseconds backoffDelay(const RetryPolicy& policy, int retry, double unit) {
  using std::chrono::milliseconds;
  const double base = static_cast<double>(policy.baseDelay.count());
  const double cap = static_cast<double>(policy.maxDelay.count());
  const int exponent = std::clamp(retry - 1, 0, 62);
  const double d = std::min(cap, base * std::ldexp(1.0, exponent));
  const double u = std::clamp(unit, 0.0, 1.0);
  return milliseconds(static_cast<std::int64_t>(std::floor(d / 2 + u * d / 2)));
}

namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

int monthIndex(std::string_view m) {
  static constexpr std::string_view months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  for (int i = 0; i < 12; ++i)
    if (m == months[i]) return i;
  return -1;
}

// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
long long daysFromCivil(long long y, unsigned m, unsigned d) {
  y -= m <= 2;
  const long long era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<long long>(doe) - 719468;
}

std::optional<std::chrono::system_clock::time_point> parseHttpDate(std::string_view s) {
  // IMF-fixdate: "Sun, 06 Nov 1994 08:49:37 GMT"
  // RFC 850:     "Sunday, 06-Nov-94 08:49:37 GMT"
  // asctime:     "Sun Nov  6 08:49:37 1994"
  char wk[16] = {}, mon[4] = {}, tz[4] = {};
  int day = 0, year = 0, hh = 0, mm = 0, ss = 0;
  const std::string str(s);
  int n = 0;
  bool ok = false;
  if (std::sscanf(str.c_str(), "%15[A-Za-z], %2d %3s %4d %2d:%2d:%2d %3s%n", wk, &day, mon, &year, &hh, &mm, &ss,
                  tz, &n) == 8 &&
      static_cast<size_t>(n) == str.size() && std::string_view(tz) == "GMT") {
    ok = true;
  } else if (std::sscanf(str.c_str(), "%15[A-Za-z], %2d-%3s-%2d %2d:%2d:%2d %3s%n", wk, &day, mon, &year, &hh,
                         &mm, &ss, tz, &n) == 8 &&
             static_cast<size_t>(n) == str.size() && std::string_view(tz) == "GMT") {
    year += year < 70 ? 2000 : 1900;
    ok = true;
  } else if (std::sscanf(str.c_str(), "%3s %3s %d %2d:%2d:%2d %4d%n", wk, mon, &day, &hh, &mm, &ss, &year, &n) ==
                 7 &&
             static_cast<size_t>(n) == str.size()) {
    ok = true;
  }
  if (!ok) return std::nullopt;
  const int m = monthIndex(mon);
  if (m < 0 || day < 1 || day > 31 || hh > 23 || mm > 59 || ss > 60 || year < 1970) return std::nullopt;
  const long long days = daysFromCivil(year, static_cast<unsigned>(m + 1), static_cast<unsigned>(day));
  const long long secs = days * 86400 + hh * 3600 + mm * 60 + ss;
  return std::chrono::system_clock::time_point(std::chrono::seconds(secs));
}

}  // namespace

std::optional<std::chrono::milliseconds> parseRetryAfter(std::string_view value,
                                                         std::chrono::system_clock::time_point now) {
  value = trim(value);
  if (value.empty()) return std::nullopt;
  if (std::all_of(value.begin(), value.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    long long secs = 0;
    auto [ptr, ec] = std::from_chars(value.data(), value.data() + value.size(), secs);
    if (ec == std::errc::result_out_of_range || secs > 1'000'000'000) secs = 1'000'000'000;  // saturate
    else if (ec != std::errc() || ptr != value.data() + value.size()) return std::nullopt;
    return std::chrono::milliseconds(secs * 1000);
  }
  auto when = parseHttpDate(value);
  if (!when) return std::nullopt;
  if (*when <= now) return std::chrono::milliseconds::zero();
  return std::chrono::ceil<std::chrono::milliseconds>(*when - now);
}

bool idempotentMethod(std::string_view method) { return method != "POST"; }

bool retryableStatus(long status, std::string_view method) {
  if (status == 429 || status == 503) return true;
  if (status == 500 || status == 502 || status == 504) return idempotentMethod(method);
  return false;
}

}  // namespace gitfed::kube
