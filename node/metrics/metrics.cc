#include "node/metrics/metrics.h"

#include <prometheus/text_serializer.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>

namespace crema::metrics {

std::vector<double> LatencyBucketsSeconds() {
  return {0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01,
          0.025,   0.05,   0.1,     0.25,   0.5,   1,      2.5,    5,     10};
}

void GaugeFamily::Remove(const Labels& labels) {
  if (f_->Has(labels)) f_->Remove(&f_->Add(labels));
}

MetricsRegistry::MetricsRegistry() : registry_(std::make_shared<prometheus::Registry>()) {}

void MetricsRegistry::CheckNew(std::string_view name) {
  if (std::find(names_.begin(), names_.end(), name) != names_.end()) {
    std::fprintf(stderr, "metrics: %.*s registered twice\n", static_cast<int>(name.size()),
                 name.data());
    std::abort();
  }
  names_.emplace_back(name);
}

CounterFamily& MetricsRegistry::AddCounter(std::string_view name, std::string_view help) {
  CheckNew(name);
  auto& f = prometheus::BuildCounter().Name(std::string(name)).Help(std::string(help)).Register(
      *registry_);
  counters_.push_back(std::make_unique<CounterFamily>(&f));
  return *counters_.back();
}

GaugeFamily& MetricsRegistry::AddGauge(std::string_view name, std::string_view help) {
  CheckNew(name);
  auto& f =
      prometheus::BuildGauge().Name(std::string(name)).Help(std::string(help)).Register(*registry_);
  gauges_.push_back(std::make_unique<GaugeFamily>(&f));
  return *gauges_.back();
}

void Histogram::ObserveTimes(double v, uint64_t times) {
  if (h_ == nullptr || times == 0) return;
  if (times == 1 || buckets_ == nullptr) {
    for (uint64_t i = 0; i < times; ++i) h_->Observe(v);
    return;
  }
  // The bucket Observe would pick: the first upper bound >= v (or the +Inf bucket).
  std::vector<double> increments(buckets_->size() + 1, 0.0);
  increments[std::lower_bound(buckets_->begin(), buckets_->end(), v) - buckets_->begin()] =
      static_cast<double>(times);
  h_->ObserveMultiple(increments, v * static_cast<double>(times));
}

HistogramFamily& MetricsRegistry::AddHistogram(std::string_view name, std::string_view help,
                                               std::vector<double> buckets) {
  CheckNew(name);
  auto& f = prometheus::BuildHistogram().Name(std::string(name)).Help(std::string(help)).Register(
      *registry_);
  histograms_.push_back(std::make_unique<HistogramFamily>(&f, std::move(buckets)));
  return *histograms_.back();
}

std::string MetricsRegistry::ExposeText() {
  for (const auto& hook : hooks_) hook();
  return prometheus::TextSerializer().Serialize(registry_->Collect());
}

}  // namespace crema::metrics
