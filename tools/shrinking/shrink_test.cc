// Shrinking on a planted bug (ping's rename-without-sync): the farm finds a failing seed, the
// shrinker reduces its schedule to a fraction of its size, the shrunk schedule still fails with the
// same signature, and it keeps failing — event for event the same run — when every input the
// scenario draws comes out different ("unrelated code changes": --perturb_inputs_for_test),
// while the bare seed does not.
#include "tools/shrinking/shrink.h"

#include <gtest/gtest.h>

#include <algorithm>

#include <cstdlib>
#include <fstream>
#include <string>

#include "absl/strings/str_cat.h"
#include "sim/test_seed.h"
#include "tools/seed_farm/child_process.h"
#include "tools/seed_farm/sweep.h"

namespace crema::shrink {
namespace {

std::string Runfile(const std::string& path) {
  const char* dir = std::getenv("TEST_SRCDIR");
  return absl::StrCat(dir ? dir : ".", "/crema/", path);
}

std::string Tmp(const std::string& name) {
  const char* dir = std::getenv("TEST_TMPDIR");
  return absl::StrCat(dir ? dir : "/tmp", "/", name);
}

// The summary line of one run.
std::string Summary(std::vector<std::string> args) {
  args.insert(args.begin(), {Runfile("tools/sim"), "--quiet"});
  absl::StatusOr<farm::ChildProcess::Completed> done =
      farm::ChildProcess::RunToCompletion(args, absl::Minutes(2));
  EXPECT_TRUE(done.ok());
  return done.ok() && !done->stdout_lines.empty() ? done->stdout_lines.back() : "";
}

TEST(ShrinkTest, PlantedPingBugShrinksAndReplaysFromItsSchedule) {
  const std::vector<std::string> planted = {"--planted_bug=rename-without-sync"};
  farm::SweepOptions sweep;
  sweep.sim_binary = Runfile("tools/sim");
  sweep.scenario = "ping";
  sweep.seeds = farm::ConsecutiveSeeds(sim::TestSeed(), 100);
  sweep.extra_args = planted;
  sweep.jobs = 2;
  sweep.stop_after_failures = 1;
  const farm::SweepResult found = farm::RunSweep(sweep);
  uint64_t seed = 0;
  for (const farm::SeedOutcome& o : found.outcomes) {
    if (!o.pass) seed = o.seed;
  }
  ASSERT_NE(seed, 0u) << "no failing seed in 100 (the bug fails ~12% of seeds)";

  ShrinkOptions o;
  o.sim_binary = sweep.sim_binary;
  o.scenario = "ping";
  o.seed = seed;
  o.extra_args = planted;
  o.jobs = 2;
  o.log = &std::cerr;
  const ShrinkResult r = Shrink(o);
  ASSERT_EQ(r.error, "") << "seed " << seed;
  std::cerr << "seed " << seed << ": " << DescribeShrink(r) << "\n";
  EXPECT_EQ(r.signature, "counter | acknowledged add lost | final");
  EXPECT_FALSE(r.shrunk_run.pass);
  EXPECT_EQ(r.shrunk_run.signature, r.signature);
  // The fault schedule (what happened when) shrinks at least 3x, or to the 3 entries a lost
  // durable write may need (a crash, a restart, one more fault) when it started below 9; the
  // run's parameters are few (~12) and a durability bug needs some of them on (disk faults,
  // crashes), so the whole size is only required to shrink. Measured over 60 fresh seeds:
  // schedules 7-60 -> 1-3 entries, parameters 6-13 -> 1-9 (a size-only 3x bar failed 2-5 of 20
  // seeds whose shrinks were already 1-minimal).
  EXPECT_LE(r.shrunk.ListEntries(), std::max<size_t>(3, r.original.ListEntries() / 3))
      << "schedule at least 3x smaller";
  EXPECT_LT(r.shrunk.Size(), r.original.Size());
  // Shrinking ends only when no single nemesis entry can be dropped and no parameter stepped
  // down without losing the failure (ddmin's 1-minimality). How many entries that leaves depends
  // on the seed: often a crash or two, sometimes ~10 whose timing the failure needs together
  // (seed 8821476794980626448: 42 -> 9 entries, no single one removable), so no fixed count is
  // promised; finishing within the budget is.
  EXPECT_FALSE(r.budget_exhausted) << "the shrink did not reach a 1-minimal schedule";
  // Not compared: the shrunk run's event count. Fewer faults can mean a longer run (messages
  // delivered instead of dropped): seed 5208678866027135259 went 71 -> 3 entries and
  // 5,614 -> 5,720 events. The schedule's size is what shrinking minimises.

  const std::string file = Tmp("shrunk.schedule.json");
  std::ofstream(file) << r.shrunk.ToJson();
  const std::vector<std::string> replay = {"--scenario=ping", absl::StrCat("--seed=", seed),
                                           planted[0], "--schedule=" + file};
  const std::string line = Summary(replay);
  EXPECT_NE(line.find("result=FAIL"), std::string::npos) << line;
  std::vector<std::string> perturbed = replay;
  perturbed.push_back("--perturb_inputs_for_test");
  EXPECT_EQ(Summary(perturbed), line) << "the schedule is data: the same run whatever is drawn";
  const std::string bare = Summary({"--scenario=ping", absl::StrCat("--seed=", seed), planted[0],
                                    "--perturb_inputs_for_test"});
  EXPECT_NE(bare.substr(bare.find(' ')), line.substr(line.find(' ')))
      << "the bare seed depends on what is drawn";
}

TEST(ShrinkTest, PassingSeedOrMissingBinaryIsAnError) {
  ShrinkOptions o;
  o.sim_binary = Runfile("tools/sim");
  o.scenario = "ping";
  o.seed = sim::TestSeed();
  o.extra_args = {"--faults=none"};
  EXPECT_NE(Shrink(o).error, "") << "a fault-free ping run passes: nothing to shrink";
  o.sim_binary = "/nonexistent";
  EXPECT_NE(Shrink(o).error.find("no simulator"), std::string::npos);
}

}  // namespace
}  // namespace crema::shrink
