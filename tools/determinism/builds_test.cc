// Determinism across builds: an -O0 build of //tools:sim (tools/determinism/o0_binary.bzl) and the
// default -O2 build give the same summary line (events, virtual time, trace hash, verdict) for
// every scenario, and the same hash at every checkpoint of a million-event run. Compiler
// optimisation must not change what the simulation does (no uninitialised memory, no floating
// point or undefined behaviour on a decision path). Manual: `bazel test
// //tools/determinism:builds_test` (it rebuilds the simulator at -O0).
#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "sim/test_seed.h"
#include "tools/determinism/runs.h"

namespace crema::determinism {
namespace {

constexpr char kO2[] = "tools/sim";
constexpr char kO0[] = "tools/determinism/sim_O0";

TEST(BuildsTest, EveryScenarioAgreesBetweenO0AndO2) {
  for (const char* scenario : {"ping", "raft-kv", "membership"}) {
    for (uint64_t seed : sim::TestSeeds(3)) {
      for (const char* faults : {"--faults=default", "--faults=heavy"}) {
        const std::vector<std::string> args = {absl::StrCat("--scenario=", scenario),
                                               absl::StrCat("--seed=", seed), faults};
        EXPECT_EQ(HashLines(RunSim(kO2, args)), HashLines(RunSim(kO0, args)))
            << scenario << " " << faults << " " << sim::ReproCommand(seed);
      }
    }
  }
}

TEST(BuildsTest, AMillionEventsAgreeBetweenO0AndO2) {
  const uint64_t seed = sim::TestSeed();
  const std::vector<std::string> args = {
      "--scenario=ping", absl::StrCat("--seed=", seed),
      "--schedule=" + LongPingSchedule(seed, absl::Seconds(2300)), "--hash_every=100000"};
  const std::vector<std::string> o2 = HashLines(RunSim(kO2, args));
  const std::vector<std::string> o0 = HashLines(RunSim(kO0, args));
  ASSERT_GE(LastCheckpointEvents(o2), 1'000'000u);
  EXPECT_EQ(o2, o0) << sim::ReproCommand(seed);
}

}  // namespace
}  // namespace crema::determinism
