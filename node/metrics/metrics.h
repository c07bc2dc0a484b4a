// Metrics: counters, gauges and histograms with labels, exposed in the Prometheus text format.
// A thin layer over prometheus-cpp's core library (Debian's prometheus-cpp-dev): it does the
// storage and the exposition; this file fixes how Crema names and uses metrics, and needs no
// machine access, so node logic (consensus, membership, cache) can record into it.
//
// Example:
//   MetricsRegistry registry;
//   CounterFamily& requests = registry.AddCounter("crema_requests_total", "Requests served");
//   Counter ok = requests.With({{"command", "get"}, {"outcome", "ok"}});   // cache the handle
//   ok.Inc();
//   registry.AddCollectHook([&] { entries_gauge.Set(cache.size()); });  // refresh at scrape
//   std::string text = registry.ExposeText();                          // for GET /metrics
//
// Contract:
//   * Names follow Prometheus conventions (snake_case, a `crema_` prefix, `_total` for counters,
//     a base unit suffix such as `_seconds` or `_bytes`); registering a name twice is a programmer
//     error (abort). Label sets should be bounded (command names, shard ids, peer ids), never keys.
//   * Handles (`Counter`, `Gauge`, `Histogram`) stay valid as long as the registry; With() on a
//     family returns the same series for the same labels.
//   * Collect hooks run, in registration order, at the start of every ExposeText().
// Thread safety: prometheus-cpp's values are atomic and its families locked; Crema still uses a
// registry from one node's loop thread only (collect hooks run on the caller's thread).
#ifndef CREMA_NODE_METRICS_METRICS_H_
#define CREMA_NODE_METRICS_METRICS_H_

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/time/time.h"

namespace crema::metrics {

using Labels = std::map<std::string, std::string>;

class Counter {
 public:
  Counter() = default;
  explicit Counter(prometheus::Counter* c) : c_(c) {}
  void Inc(double v = 1) { if (c_) c_->Increment(v); }
  double value() const { return c_ ? c_->Value() : 0; }

 private:
  prometheus::Counter* c_ = nullptr;  // null: a no-op handle
};

class Gauge {
 public:
  Gauge() = default;
  explicit Gauge(prometheus::Gauge* g) : g_(g) {}
  void Set(double v) { if (g_) g_->Set(v); }
  void Inc(double v = 1) { if (g_) g_->Increment(v); }
  void Dec(double v = 1) { if (g_) g_->Decrement(v); }
  double value() const { return g_ ? g_->Value() : 0; }

 private:
  prometheus::Gauge* g_ = nullptr;
};

class Histogram {
 public:
  Histogram() = default;
  // `buckets`: the histogram's upper bounds (its family's), for ObserveTimes; may be null.
  explicit Histogram(prometheus::Histogram* h, const std::vector<double>* buckets = nullptr)
      : h_(h), buckets_(buckets) {}
  void Observe(double v) { if (h_) h_->Observe(v); }
  void ObserveDuration(absl::Duration d) { Observe(absl::ToDoubleSeconds(d)); }
  // `times` observations of the same value, as one update of the histogram (the same counts and
  // sum as `times` calls of Observe).
  void ObserveTimes(double v, uint64_t times);
  void ObserveDurationTimes(absl::Duration d, uint64_t times) {
    ObserveTimes(absl::ToDoubleSeconds(d), times);
  }
  // Observations so far (0 for a no-op handle); for tests and diagnostics.
  uint64_t count() const { return h_ ? h_->Collect().histogram.sample_count : 0; }

 private:
  prometheus::Histogram* h_ = nullptr;
  const std::vector<double>* buckets_ = nullptr;
};

class CounterFamily {
 public:
  explicit CounterFamily(prometheus::Family<prometheus::Counter>* f) : f_(f) {}
  Counter With(const Labels& labels) { return Counter(&f_->Add(labels)); }

 private:
  prometheus::Family<prometheus::Counter>* f_;
};

class GaugeFamily {
 public:
  explicit GaugeFamily(prometheus::Family<prometheus::Gauge>* f) : f_(f) {}
  Gauge With(const Labels& labels) { return Gauge(&f_->Add(labels)); }
  // Drops a series (e.g. a peer that left), so stale values are not exposed.
  void Remove(const Labels& labels);

 private:
  prometheus::Family<prometheus::Gauge>* f_;
};

class HistogramFamily {
 public:
  HistogramFamily(prometheus::Family<prometheus::Histogram>* f, std::vector<double> buckets)
      : f_(f), buckets_(std::move(buckets)) {}
  Histogram With(const Labels& labels) { return Histogram(&f_->Add(labels, buckets_), &buckets_); }

 private:
  prometheus::Family<prometheus::Histogram>* f_;
  std::vector<double> buckets_;
};

// Latency buckets in seconds, 50 µs .. 10 s, roughly x2.5 apart.
std::vector<double> LatencyBucketsSeconds();

class MetricsRegistry {
 public:
  MetricsRegistry();
  MetricsRegistry(const MetricsRegistry&) = delete;
  MetricsRegistry& operator=(const MetricsRegistry&) = delete;

  CounterFamily& AddCounter(std::string_view name, std::string_view help);
  GaugeFamily& AddGauge(std::string_view name, std::string_view help);
  HistogramFamily& AddHistogram(std::string_view name, std::string_view help,
                                std::vector<double> buckets = LatencyBucketsSeconds());

  void AddCollectHook(std::function<void()> hook) { hooks_.push_back(std::move(hook)); }

  // Runs the collect hooks, then renders every family (Prometheus text format 0.0.4).
  std::string ExposeText();

 private:
  void CheckNew(std::string_view name);
  std::shared_ptr<prometheus::Registry> registry_;
  std::vector<std::string> names_;
  std::vector<std::unique_ptr<CounterFamily>> counters_;
  std::vector<std::unique_ptr<GaugeFamily>> gauges_;
  std::vector<std::unique_ptr<HistogramFamily>> histograms_;
  std::vector<std::function<void()>> hooks_;
};

}  // namespace crema::metrics

#endif  // CREMA_NODE_METRICS_METRICS_H_
