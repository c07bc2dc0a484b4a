// The ping scenario over many seeds and fault settings: it must PASS (no acked add lost, none
// invented, convergence after healing), and its oracle must be able to FAIL.
#include "sim/ping_scenario.h"

#include <gtest/gtest.h>

#include "sim/ping_client.h"
#include "sim/test_seed.h"

namespace crema::sim {
namespace {

void ExpectPasses(const ScenarioOptions& options, const PingScenarioParams& params = {}) {
  const ScenarioResult result = RunPingScenario(options, params);
  EXPECT_TRUE(result.pass) << result.message << "\n" << ReproCommand(options.seed)
                           << "\nor: bazel run //tools:sim -- --seed=" << options.seed
                           << " --scenario=ping --nodes=" << options.nodes;
}

TEST(PingScenarioTest, WithoutFaultsEveryAddIsAcknowledged) {
  for (uint64_t seed : TestSeeds(5)) {
    ScenarioOptions options;
    options.seed = seed;
    options.faults = FaultLevel::kNone;
    const ScenarioResult result = RunPingScenario(options);
    EXPECT_TRUE(result.pass) << result.message << " " << ReproCommand(seed);
    EXPECT_NE(result.message.find("indeterminate=0"), std::string::npos)
        << result.message << " " << ReproCommand(seed);
  }
}

TEST(PingScenarioTest, FiveNodesHeavyFaults) {
  for (uint64_t seed : TestSeeds(30)) {
    ScenarioOptions options;
    options.seed = seed;
    options.nodes = 5;
    options.faults = FaultLevel::kHeavy;
    ExpectPasses(options);
  }
}

TEST(PingScenarioTest, ThreeNodesDefaultFaultsWithPartitionsForcedOn) {
  for (uint64_t seed : TestSeeds(30)) {
    ScenarioOptions options;
    options.seed = seed;
    options.nodes = 3;
    options.overrides.partitions = true;
    options.overrides.crashes = true;
    options.overrides.pauses = true;
    ExpectPasses(options);
  }
}

TEST(PingScenarioTest, OracleDetectsLostAndInventedAdds) {
  PingLedger ledger;
  ledger.acked_by_server[1] = 5;
  ledger.indeterminate_by_server[1] = 2;
  ledger.acked_by_server[2] = 1;
  ping::GCounter counter;
  counter.Increment(1, 5);
  counter.Increment(2, 1);
  EXPECT_EQ(CheckPingCounter(counter, {1, 2}, ledger), "");
  counter.Increment(1, 2);  // 7 = 5 acked + 2 indeterminate: still fine
  EXPECT_EQ(CheckPingCounter(counter, {1, 2}, ledger), "");
  counter.Increment(1, 1);
  EXPECT_NE(CheckPingCounter(counter, {1, 2}, ledger).find("INVENTED"), std::string::npos);
  ping::GCounter lost;
  lost.Increment(1, 4);
  lost.Increment(2, 1);
  EXPECT_NE(CheckPingCounter(lost, {1, 2}, ledger).find("LOST"), std::string::npos);
}

}  // namespace
}  // namespace crema::sim
