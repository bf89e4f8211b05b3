#pragma once
// Metrics: a small registry of counters, gauges and histograms with labels,
// rendered in Prometheus' text exposition format (version 0.0.4) for GET
// /metrics. Just what the agent needs; no dependency. Families are created
// once at start-up and live as long as the registry; every update and
// render() is thread-safe (a mutex per family).

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace gitfed::daemon {

using LabelValues = std::vector<std::string>;

class MetricFamily {
 public:
  MetricFamily(std::string name, std::string help, std::vector<std::string> labelNames)
      : name_(std::move(name)), help_(std::move(help)), labelNames_(std::move(labelNames)) {}
  virtual ~MetricFamily() = default;
  MetricFamily(const MetricFamily&) = delete;
  MetricFamily& operator=(const MetricFamily&) = delete;
  virtual void render(std::string& out) const = 0;
  const std::string& name() const { return name_; }

 protected:
  // name{a="x",b="y"} with `extra` appended inside the braces (le="...").
  std::string series(const std::string& suffix, const LabelValues& values, const std::string& extra = {}) const;
  void header(std::string& out, const char* type) const;
  std::string name_, help_;
  std::vector<std::string> labelNames_;
  mutable std::mutex mu_;
};

class Counter final : public MetricFamily {
 public:
  using MetricFamily::MetricFamily;
  void inc(const LabelValues& labels = {}, double by = 1);
  // For a total kept elsewhere (the process's CPU time): takes `v` when it is
  // higher, so the counter never goes down.
  void raiseTo(const LabelValues& labels, double v);
  void raiseTo(double v) { raiseTo({}, v); }
  double value(const LabelValues& labels = {}) const;
  void render(std::string& out) const override;

 private:
  std::map<LabelValues, double> values_;
};

class Gauge final : public MetricFamily {
 public:
  using MetricFamily::MetricFamily;
  void set(const LabelValues& labels, double v);
  void set(double v) { set({}, v); }
  double value(const LabelValues& labels = {}) const;
  // Forgets every series (before setting a new complete set, e.g. objects by state).
  void clear();
  void render(std::string& out) const override;

 private:
  std::map<LabelValues, double> values_;
};

class Histogram final : public MetricFamily {
 public:
  Histogram(std::string name, std::string help, std::vector<std::string> labelNames, std::vector<double> buckets);
  void observe(const LabelValues& labels, double v);
  void observe(double v) { observe({}, v); }
  std::uint64_t count(const LabelValues& labels = {}) const;
  void render(std::string& out) const override;

 private:
  struct Series {
    std::vector<std::uint64_t> counts;  // per bucket (not cumulative)
    double sum = 0;
    std::uint64_t count = 0;
  };
  std::vector<double> buckets_;  // upper bounds, ascending, without +Inf
  std::map<LabelValues, Series> series_;
};

class Registry {
 public:
  Counter& counter(std::string name, std::string help, std::vector<std::string> labelNames = {});
  Gauge& gauge(std::string name, std::string help, std::vector<std::string> labelNames = {});
  Histogram& histogram(std::string name, std::string help, std::vector<double> buckets,
                       std::vector<std::string> labelNames = {});
  // Runs before each render (e.g. to read the process's memory).
  void onScrape(std::function<void()> fn);
  std::string render() const;

 private:
  mutable std::mutex mu_;
  std::vector<std::unique_ptr<MetricFamily>> families_;
  std::vector<std::function<void()>> scrapeHooks_;
};

// A number as Prometheus writes it: integers without a fraction, +Inf, NaN.
std::string formatValue(double v);
// A label value with \, " and newline escaped.
std::string escapeLabelValue(const std::string& v);

// 0.005 .. 10 seconds and beyond: request-sized and reconcile-sized durations.
std::vector<double> durationBuckets();

}  // namespace gitfed::daemon
