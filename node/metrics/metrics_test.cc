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
