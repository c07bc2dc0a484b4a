// The `membership` scenario (//tools:sim --scenario=membership): passes over a sample of seeds at
// every fault level, and is deterministic — run twice per seed, identical trace hash and event
// count (on a mismatch the first differing event is reported). A 50-node run covers bigger sizes;
// 200-node runs are in membership_sim_test (short) and the benchmark.
#include <string>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "sim/scenarios/membership/membership_scenario.h"
#include "sim/test_seed.h"

namespace crema::membership {
namespace {

const char* LevelName(sim::FaultLevel level) {
  switch (level) {
    case sim::FaultLevel::kNone:
      return "none";
    case sim::FaultLevel::kDefault:
      return "default";
    case sim::FaultLevel::kHeavy:
      return "heavy";
  }
  return "?";
}

std::string SimLine(uint64_t seed, sim::FaultLevel level, int nodes) {
  std::string line = absl::StrCat("bazel run //tools:sim -- --seed=", seed,
                                  " --scenario=membership --faults=", LevelName(level));
  if (nodes != 0) absl::StrAppend(&line, " --nodes=", nodes);
  return line;
}

std::string Explain(sim::ScenarioOptions options) {
  options.keep_trace_records = true;
  const sim::ScenarioResult a = RunMembershipScenario(options);
  const sim::ScenarioResult b = RunMembershipScenario(options);
  return sim::FirstDifference(a.records, b.records).value_or("(identical when re-run)");
}

void RunTwice(uint64_t seed, sim::FaultLevel level, int nodes) {
  sim::ScenarioOptions options;
  options.seed = seed;
  options.faults = level;
  options.nodes = nodes;
  const sim::ScenarioResult a = RunMembershipScenario(options);
  const sim::ScenarioResult b = RunMembershipScenario(options);
  const std::string repro =
      absl::StrCat(sim::ReproCommand(seed), "\nor: ", SimLine(seed, level, nodes));
  EXPECT_TRUE(a.pass) << a.message << "\n" << repro;
  EXPECT_GT(a.events, 1000u);
  EXPECT_EQ(a.trace_hash, b.trace_hash)
      << "NON-DETERMINISM: " << sim::SummaryLine(seed, a) << " vs " << sim::SummaryLine(seed, b)
      << "\n" << Explain(options) << "\n" << repro;
  EXPECT_EQ(a.events, b.events) << repro;
  EXPECT_EQ(a.virtual_time, b.virtual_time) << repro;
}

TEST(MembershipScenarioTest, PassesAndIsDeterministicAcrossFaultLevels) {
  int i = 0;
  for (uint64_t seed : sim::TestSeeds(12)) {
    const sim::FaultLevel level = i % 3 == 0   ? sim::FaultLevel::kNone
                                  : i % 3 == 1 ? sim::FaultLevel::kDefault
                                               : sim::FaultLevel::kHeavy;
    ++i;
    RunTwice(seed, level, /*nodes=*/0);
  }
}

TEST(MembershipScenarioTest, FiftyNodesUnderHeavyFaults) {
  for (uint64_t seed : sim::TestSeeds(1)) RunTwice(seed, sim::FaultLevel::kHeavy, 50);
}

TEST(MembershipScenarioTest, DifferentSeedsDiffer) {
  sim::ScenarioOptions a;
  a.seed = 1;
  sim::ScenarioOptions b;
  b.seed = 2;
  EXPECT_NE(RunMembershipScenario(a).trace_hash, RunMembershipScenario(b).trace_hash);
}

TEST(MembershipScenarioTest, RegistersOnce) {
  sim::ScenarioRegistry registry;
  RegisterMembershipScenario(registry);
  EXPECT_NE(registry.Find("membership"), nullptr);
  EXPECT_FALSE(registry.Register("membership", "again", [](const sim::ScenarioOptions&) {
                 return sim::ScenarioResult{};
               }).ok());
}

}  // namespace
}  // namespace crema::membership
