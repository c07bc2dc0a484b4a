// The determinism self-check, in one process: the ping scenario for many seeds, twice each, must
// give identical trace hashes and event counts. On a mismatch both runs are repeated with every
// event kept and the first differing event is reported. (sim/cross_process_test.cc checks the same
// across two processes, and that a planted non-determinism is caught.)
#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "sim/ping_scenario.h"
#include "sim/test_seed.h"

namespace crema::sim {
namespace {

std::string Explain(uint64_t seed) {
  ScenarioOptions options;
  options.seed = seed;
  options.keep_trace_records = true;
  const ScenarioResult a = RunPingScenario(options);
  const ScenarioResult b = RunPingScenario(options);
  return FirstDifference(a.records, b.records).value_or("(identical when re-run with records)");
}

TEST(DeterminismTest, PingScenarioTwicePerSeedIsIdentical) {
  int failures = 0;
  for (uint64_t seed : TestSeeds(100)) {
    ScenarioOptions options;
    options.seed = seed;
    options.faults = seed % 3 == 0 ? FaultLevel::kHeavy : FaultLevel::kDefault;
    const ScenarioResult a = RunPingScenario(options);
    const ScenarioResult b = RunPingScenario(options);
    const std::string sim_line = absl::StrCat("bazel run //tools:sim -- --seed=", seed,
                                              " --scenario=ping --faults=",
                                              seed % 3 == 0 ? "heavy" : "default");
    EXPECT_TRUE(a.pass) << a.message << "\n" << ReproCommand(seed) << "\nor: " << sim_line;
    if (a.trace_hash != b.trace_hash || a.events != b.events) {
      ADD_FAILURE() << "NON-DETERMINISM for seed " << seed << ": " << SummaryLine(seed, a)
                    << " vs " << SummaryLine(seed, b) << "\n"
                    << Explain(seed) << "\n" << ReproCommand(seed) << "\nor twice: " << sim_line;
      if (++failures >= 3) return;
    }
  }
}

TEST(DeterminismTest, FirstDifferenceNamesTheEvent) {
  std::vector<TraceEvent> a = {{0, 10, 1, "net.send", "x", 1}, {1, 20, 2, "loop.post", "", 0}};
  std::vector<TraceEvent> b = a;
  EXPECT_EQ(FirstDifference(a, b), std::nullopt);
  b[1].node = 3;
  const std::optional<std::string> diff = FirstDifference(a, b);
  ASSERT_TRUE(diff.has_value());
  EXPECT_NE(diff->find("event #1"), std::string::npos) << *diff;
  EXPECT_NE(diff->find("node=3"), std::string::npos) << *diff;
  b.pop_back();
  EXPECT_NE(FirstDifference(a, b)->find("run B ends"), std::string::npos);
}

}  // namespace
}  // namespace crema::sim
