// The dynamo scenario over many fresh seeds per CI run (parameterised, sharded), plus a
// determinism check. Each seed's cluster size, swarm draw and fault level (heavy for 1 in 4)
// derive from the seed, so CREMA_SEED=<seed> replays one exactly; a failure prints the //tools:sim
// command and the test's own repro command. Bigger sweeps: sim/scenarios/dynamo/sweep.sh.
#include "sim/scenarios/dynamo/dynamo_scenario.h"

#include <cstdio>
#include <sstream>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "sim/test_seed.h"

namespace crema::dynamo {
namespace {

constexpr int kSeedsPerRun = 100;  // ~40 s CPU; the 2,000-seed sweep is sweep.sh

const std::vector<uint64_t>& Seeds() {
  static const std::vector<uint64_t> seeds = sim::TestSeeds(kSeedsPerRun);
  return seeds;
}

sim::ScenarioOptions OptionsFor(uint64_t seed) {
  sim::ScenarioOptions options;
  options.seed = seed;
  options.faults = seed % 4 == 1 ? sim::FaultLevel::kHeavy : sim::FaultLevel::kDefault;
  return options;
}

std::string SimCommand(const sim::ScenarioOptions& o) {
  return absl::StrCat("bazel run //tools:sim -- --seed=", o.seed, " --scenario=dynamo",
                      o.faults == sim::FaultLevel::kHeavy ? " --faults=heavy" : "");
}

class DynamoSeedTest : public ::testing::TestWithParam<int> {};

TEST_P(DynamoSeedTest, ReadsConvergenceDurabilityHintsAndAntiEntropy) {
  const size_t index = static_cast<size_t>(GetParam());
  if (index >= Seeds().size()) GTEST_SKIP() << "fewer seeds (CREMA_SEED/CREMA_SEEDS)";
  sim::ScenarioOptions options = OptionsFor(Seeds()[index]);
  std::fprintf(stderr, "dynamo seed=%llu\n", static_cast<unsigned long long>(options.seed));
  std::ostringstream log;
  options.log = &log;
  const sim::ScenarioResult result = RunDynamoScenario(options);
  EXPECT_TRUE(result.pass) << result.message << "\n"
                           << log.str() << "reproduce with:\n  " << SimCommand(options) << "\n  "
                           << sim::ReproCommand(options.seed);
}

INSTANTIATE_TEST_SUITE_P(Seeds, DynamoSeedTest, ::testing::Range(0, kSeedsPerRun));

// Seeds that once failed (docs/dynamo.md has what each found); they run on every CI run.
//   277  checker: a sloppy read was checked before the healed cluster agreed on membership.
//   1461 a stand-in paused inside the commit that stored a hint spent its 3 s window there; the
//        oracle measured the window from the acknowledgement instead of the stamp.
//   1585 a wiped replica whose first recovery failed (disk full) after creating its identity
//        marker restarted as an "intact" empty disk and answered a QUORUM read "absent".
//   2449 a duplicated replica write in one group commit was acknowledged although the commit of
//        its first copy failed (disk full); an R=ONE read then missed a W=ALL write.
//   3927 a joining node's first writes went only to the owners of its own ring (itself among
//        them), not also to those of the ring without it that the others still used: an R=ONE~
//        read through such an owner missed a W=ALL~ write.
//   4397 (oracle) a stand-in crashed inside the commit removing a delivered hint after the
//        removal's write reached the disk; the checker, never told the hint ended, reported it
//        "never ended" (and skipped its lost-hint check when a restart recovered no hints).
//   5094 a stand-in cut off from the owners for longer than the 3 s hint window expired the
//        hint that was the only copy of a W=ONE~ write, and the write was lost.
//   5485 SIGSEGV: two removals of the same hint (delivered, expired) in one group commit; the
//        second dereferenced the hint the first had removed.
//   6753, 7021, 8261 a copy of a client request delayed across the coordinator's restart (which
//        forgot its duplicate table) was executed again, writing the value at a new version;
//        client requests now carry the coordinator's session (messages.h).
//   11411083258887890325 (a fresh seed of a CI run, heavy, W=ONE~ R=ALL~ sloppy) an ALL~ read
//        returned an older version than one acknowledged before it began, on the code before the
//        fixes above for 3927..8261; it passes with them (which fix: not traced).
constexpr uint64_t kOnceFailingSeeds[] = {277,  1461, 1585, 2449, 3927, 4397,
                                          5094, 5485, 6753, 7021, 8261, 11411083258887890325u};

class DynamoRegressionTest : public ::testing::TestWithParam<uint64_t> {};

TEST_P(DynamoRegressionTest, OnceFailingSeedPasses) {
  sim::ScenarioOptions options = OptionsFor(GetParam());
  std::fprintf(stderr, "dynamo seed=%llu\n", static_cast<unsigned long long>(options.seed));
  std::ostringstream log;
  options.log = &log;
  const sim::ScenarioResult result = RunDynamoScenario(options);
  EXPECT_TRUE(result.pass) << result.message << "\n"
                           << log.str() << "reproduce with:\n  " << SimCommand(options);
}

INSTANTIATE_TEST_SUITE_P(Seeds, DynamoRegressionTest, ::testing::ValuesIn(kOnceFailingSeeds));

TEST(DynamoDeterminismTest, SameSeedSameTrace) {
  for (uint64_t seed : sim::TestSeeds(2)) {
    const sim::ScenarioOptions options = OptionsFor(seed);
    const sim::ScenarioResult a = RunDynamoScenario(options);
    const sim::ScenarioResult b = RunDynamoScenario(options);
    EXPECT_EQ(a.trace_hash, b.trace_hash) << SimCommand(options) << " --check_determinism";
    EXPECT_EQ(a.events, b.events);
    EXPECT_EQ(a.message, b.message);
  }
}

}  // namespace
}  // namespace crema::dynamo
