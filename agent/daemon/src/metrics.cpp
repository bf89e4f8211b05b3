#include "gitfed/daemon/metrics.h"

#include <algorithm>
#include <cassert>
#include <cmath>
#include <cstdio>
#include <cstdlib>

namespace gitfed::daemon {

std::string formatValue(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  char buf[64];
  if (v == std::floor(v) && std::fabs(v) < 1e15) {
    std::snprintf(buf, sizeof buf, "%lld", static_cast<long long>(v));
  } else {
    std::snprintf(buf, sizeof buf, "%.17g", v);
    // Shortest form that reads back the same.
    for (int precision = 6; precision < 17; ++precision) {
      char shorter[64];
      std::snprintf(shorter, sizeof shorter, "%.*g", precision, v);
      if (std::strtod(shorter, nullptr) == v) {
        std::snprintf(buf, sizeof buf, "%s", shorter);
        break;
      }
    }
  }
  return buf;
}

std::string escapeLabelValue(const std::string& v) {
  std::string out;
  out.reserve(v.size());
  for (char c : v) {
    if (c == '\\') out += "\\\\";
    else if (c == '"') out += "\\\"";
    else if (c == '\n') out += "\\n";
    else out += c;
  }
  return out;
}

std::vector<double> durationBuckets() { return {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300}; }

std::string MetricFamily::series(const std::string& suffix, const LabelValues& values, const std::string& extra) const {
  assert(values.size() == labelNames_.size());
  std::string s = name_ + suffix;
  if (labelNames_.empty() && extra.empty()) return s;
  s += '{';
  bool first = true;
  for (std::size_t i = 0; i < labelNames_.size() && i < values.size(); ++i) {
    if (!first) s += ',';
    first = false;
    s += labelNames_[i] + "=\"" + escapeLabelValue(values[i]) + "\"";
  }
  if (!extra.empty()) s += (first ? "" : ",") + extra;
  return s + '}';
}

void MetricFamily::header(std::string& out, const char* type) const {
  std::string help;
  for (char c : help_) help += c == '\n' ? std::string("\\n") : c == '\\' ? std::string("\\\\") : std::string(1, c);
  out += "# HELP " + name_ + " " + help + "\n# TYPE " + name_ + " " + type + "\n";
}

void Counter::inc(const LabelValues& labels, double by) {
  assert(by >= 0);
  std::lock_guard lock(mu_);
  values_[labels] += by;
}

void Counter::raiseTo(const LabelValues& labels, double v) {
  std::lock_guard lock(mu_);
  auto& current = values_[labels];
  current = std::max(current, v);
}

double Counter::value(const LabelValues& labels) const {
  std::lock_guard lock(mu_);
  auto it = values_.find(labels);
  return it == values_.end() ? 0 : it->second;
}

void Counter::render(std::string& out) const {
  header(out, "counter");
  std::lock_guard lock(mu_);
  if (values_.empty() && labelNames_.empty()) out += name_ + " 0\n";
  for (const auto& [labels, v] : values_) out += series("", labels) + " " + formatValue(v) + "\n";
}

void Gauge::set(const LabelValues& labels, double v) {
  std::lock_guard lock(mu_);
  values_[labels] = v;
}

double Gauge::value(const LabelValues& labels) const {
  std::lock_guard lock(mu_);
  auto it = values_.find(labels);
  return it == values_.end() ? 0 : it->second;
}

void Gauge::clear() {
  std::lock_guard lock(mu_);
  values_.clear();
}

void Gauge::render(std::string& out) const {
  header(out, "gauge");
  std::lock_guard lock(mu_);
  if (values_.empty() && labelNames_.empty()) out += name_ + " 0\n";
  for (const auto& [labels, v] : values_) out += series("", labels) + " " + formatValue(v) + "\n";
}

Histogram::Histogram(std::string name, std::string help, std::vector<std::string> labelNames, std::vector<double> buckets)
    : MetricFamily(std::move(name), std::move(help), std::move(labelNames)), buckets_(std::move(buckets)) {
  std::sort(buckets_.begin(), buckets_.end());
  buckets_.erase(std::unique(buckets_.begin(), buckets_.end()), buckets_.end());
}

void Histogram::observe(const LabelValues& labels, double v) {
  std::lock_guard lock(mu_);
  auto& s = series_[labels];
  if (s.counts.empty()) s.counts.assign(buckets_.size(), 0);
  auto it = std::lower_bound(buckets_.begin(), buckets_.end(), v);
  if (it != buckets_.end()) ++s.counts[static_cast<std::size_t>(it - buckets_.begin())];
  s.sum += v;
  ++s.count;
}

std::uint64_t Histogram::count(const LabelValues& labels) const {
  std::lock_guard lock(mu_);
  auto it = series_.find(labels);
  return it == series_.end() ? 0 : it->second.count;
}

void Histogram::render(std::string& out) const {
  header(out, "histogram");
  std::lock_guard lock(mu_);
  auto one = [&](const LabelValues& labels, const Series* s) {
    std::uint64_t cumulative = 0;
    for (std::size_t i = 0; i < buckets_.size(); ++i) {
      if (s) cumulative += s->counts[i];
      out += series("_bucket", labels, "le=\"" + formatValue(buckets_[i]) + "\"") + " " + std::to_string(cumulative) + "\n";
    }
    out += series("_bucket", labels, "le=\"+Inf\"") + " " + std::to_string(s ? s->count : 0) + "\n";
    out += series("_sum", labels) + " " + formatValue(s ? s->sum : 0) + "\n";
    out += series("_count", labels) + " " + std::to_string(s ? s->count : 0) + "\n";
  };
  if (series_.empty() && labelNames_.empty()) one({}, nullptr);
  for (const auto& [labels, s] : series_) one(labels, &s);
}

Counter& Registry::counter(std::string name, std::string help, std::vector<std::string> labelNames) {
  auto f = std::make_unique<Counter>(std::move(name), std::move(help), std::move(labelNames));
  auto& ref = *f;
  std::lock_guard lock(mu_);
  families_.push_back(std::move(f));
  return ref;
}

Gauge& Registry::gauge(std::string name, std::string help, std::vector<std::string> labelNames) {
  auto f = std::make_unique<Gauge>(std::move(name), std::move(help), std::move(labelNames));
  auto& ref = *f;
  std::lock_guard lock(mu_);
  families_.push_back(std::move(f));
  return ref;
}

Histogram& Registry::histogram(std::string name, std::string help, std::vector<double> buckets,
                               std::vector<std::string> labelNames) {
  auto f = std::make_unique<Histogram>(std::move(name), std::move(help), std::move(labelNames), std::move(buckets));
  auto& ref = *f;
  std::lock_guard lock(mu_);
  families_.push_back(std::move(f));
  return ref;
}

void Registry::onScrape(std::function<void()> fn) {
  std::lock_guard lock(mu_);
  scrapeHooks_.push_back(std::move(fn));
}

std::string Registry::render() const {
  std::vector<std::function<void()>> hooks;
  {
    std::lock_guard lock(mu_);
    hooks = scrapeHooks_;
  }
  for (const auto& h : hooks) h();
  std::string out;
  std::lock_guard lock(mu_);
  for (const auto& f : families_) f->render(out);
  return out;
}

}  // namespace gitfed::daemon
