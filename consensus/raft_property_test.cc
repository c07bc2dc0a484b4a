// Randomised tests over the pure core (testing/random_run.h): 3-5 replica in-memory clusters
// under random schedules, checking the five Raft invariants and linearizable reads after every
// step, then liveness after healing.
//
// Seeds come from crema::sim::TestSeeds (CREMA_SEED=... replays one, CREMA_SEEDS=N sweeps N); a
// sweep runs every seed and reports how many failed and the first failure. The RapidCheck
// property draws seeds and lengths too, so a failure shrinks to a short run.
#include <string>

#include "absl/strings/str_cat.h"
#include "consensus/testing/random_run.h"
#include "gtest/gtest.h"
#include "rapidcheck.h"
#include "rapidcheck/gtest.h"
#include "sim/test_seed.h"

namespace crema::raft::testing {
namespace {

void Sweep(Schedule schedule, int seeds, int steps) {
  int failed = 0, ran = 0;
  std::string first_failure;
  for (uint64_t seed : crema::sim::TestSeeds(seeds)) {
    ++ran;
    RandomRun run(seed, schedule);
    absl::Status st = run.Run(steps);
    if (st.ok()) continue;
    if (++failed == 1) {
      first_failure = absl::StrCat("seed ", seed, " (", run.description(), "): ", st.message(),
                                   "\nreproduce: ", crema::sim::ReproCommand(seed));
    }
  }
  EXPECT_EQ(failed, 0) << failed << " of " << ran << " seeds failed; first: " << first_failure;
}

TEST(RaftProperty, InvariantsHoldUnderRandomFaults) { Sweep(Schedule::kMixed, 40, 3000); }

// Figure 8 (Raft §5.4.2) and friends: frequent leader changes with partial replication.
TEST(RaftProperty, CommitRulesHoldUnderLeaderChurn) { Sweep(Schedule::kLeaderChurn, 60, 2000); }

RC_GTEST_PROP(RaftProperty, RandomRunsAreSafeAndLive, ()) {
  const uint64_t seed = *rc::gen::arbitrary<uint64_t>();
  const bool churn = *rc::gen::arbitrary<bool>();
  const int steps = *rc::gen::inRange(0, 1500);
  RandomRun run(seed, churn ? Schedule::kLeaderChurn : Schedule::kMixed);
  absl::Status st = run.Run(steps);
  RC_ASSERT(st.ok());
}

}  // namespace
}  // namespace crema::raft::testing
