#include "node/metrics/metrics.h"

#include <gtest/gtest.h>

#include "node/metrics/crema_metrics.h"

namespace crema::metrics {
namespace {

TEST(MetricsTest, ExposesCountersGaugesHistogramsWithLabels) {
  MetricsRegistry registry;
  Counter c = registry.AddCounter("crema_test_total", "A test counter.").With({{"k", "v"}});
  GaugeFamily& gauges = registry.AddGauge("crema_test_gauge", "A test gauge.");
  Histogram h = registry.AddHistogram("crema_test_seconds", "A test histogram.", {0.1, 1}).With({});
  int hook_runs = 0;
  registry.AddCollectHook([&] {
    ++hook_runs;
    gauges.With({}).Set(42);
  });
  c.Inc();
  c.Inc(2);
  h.ObserveDuration(absl::Milliseconds(50));
  const std::string text = registry.ExposeText();
  EXPECT_EQ(hook_runs, 1);
  EXPECT_NE(text.find("# TYPE crema_test_total counter"), std::string::npos) << text;
  EXPECT_NE(text.find("crema_test_total{k=\"v\"} 3"), std::string::npos) << text;
  EXPECT_NE(text.find("crema_test_gauge 42"), std::string::npos) << text;
  EXPECT_NE(text.find("crema_test_seconds_bucket{le=\"0.1\"} 1"), std::string::npos) << text;
  EXPECT_EQ(c.value(), 3);
}

// ObserveTimes(v, n) leaves the histogram exactly as n calls of Observe(v) would, in every bucket
// (including on a bucket's bound and past the last one).
TEST(MetricsTest, ObserveTimesEqualsRepeatedObserve) {
  for (double v : {0.05, 0.1, 0.5, 1.0, 7.0}) {
    MetricsRegistry one_by_one, at_once;
    Histogram a = one_by_one.AddHistogram("crema_t_seconds", "t", {0.1, 1}).With({});
    Histogram b = at_once.AddHistogram("crema_t_seconds", "t", {0.1, 1}).With({});
    for (int i = 0; i < 5; ++i) a.Observe(v);
    b.ObserveTimes(v, 5);
    b.ObserveTimes(v, 0);
    EXPECT_EQ(b.count(), 5u) << v;
    EXPECT_EQ(one_by_one.ExposeText(), at_once.ExposeText()) << v;
  }
}

TEST(MetricsTest, RemovedGaugeSeriesDisappear) {
  MetricsRegistry registry;
  GaugeFamily& phi = registry.AddGauge("crema_phi_test", "phi");
  phi.With({{"peer", "2"}}).Set(1.5);
  EXPECT_NE(registry.ExposeText().find("peer=\"2\""), std::string::npos);
  phi.Remove({{"peer", "2"}});
  phi.Remove({{"peer", "9"}});  // absent: no-op
  EXPECT_EQ(registry.ExposeText().find("peer=\"2\""), std::string::npos);
}

TEST(MetricsTest, CremaCatalogueRegistersOnce) {
  MetricsRegistry registry;
  FrontEndMetrics front(&registry);
  NodeMetrics node(&registry);
  front.Requests("resp", "get", OutcomeOf(absl::OkStatus())).Inc();
  node.ShardHasLeader(3).Set(1);
  node.Members("alive").Set(3);
  const std::string text = registry.ExposeText();
  EXPECT_NE(text.find("crema_requests_total{command=\"get\",outcome=\"ok\",protocol=\"resp\"} 1"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("crema_shard_has_leader{shard=\"3\"} 1"), std::string::npos);
  EXPECT_STREQ(OutcomeOf(absl::UnavailableError("x")), "unavailable");
}

TEST(MetricsDeathTest, DuplicateNameAborts) {
  MetricsRegistry registry;
  registry.AddCounter("crema_dup_total", "x");
  EXPECT_DEATH(registry.AddCounter("crema_dup_total", "x"), "registered twice");
}

}  // namespace
}  // namespace crema::metrics
