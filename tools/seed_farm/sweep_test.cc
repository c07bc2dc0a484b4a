// The farm's sweep against real and fake simulators: a planted bug in `ping` is found and grouped
// under one signature whose repro command fails again; crashed and hung seeds become failures of
// their own without losing the other seeds of their batch; stopping after the first failure gives
// the same answer however many jobs ran.
#include "tools/seed_farm/sweep.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <string>

#include "absl/container/btree_map.h"
#include "absl/strings/str_cat.h"
#include "sim/test_seed.h"
#include "tools/seed_farm/child_process.h"
#include "tools/seed_farm/report.h"

namespace crema::farm {
namespace {

std::string Runfile(const std::string& path) {
  const char* dir = std::getenv("TEST_SRCDIR");
  return absl::StrCat(dir ? dir : ".", "/crema/", path);
}

TEST(SweepTest, PlantedBugInPingIsFoundGroupedAndReproduced) {
  SweepOptions o;
  o.sim_binary = Runfile("tools/sim");
  o.scenario = "ping";
  o.seeds = ConsecutiveSeeds(sim::TestSeed(), 80);  // found in ~12% of seeds: missed w.p. ~2e-5
  o.extra_args = {"--planted_bug=rename-without-sync"};
  o.jobs = 2;
  const SweepResult result = RunSweep(o);
  ASSERT_EQ(result.error, "");
  ASSERT_EQ(result.outcomes.size(), o.seeds.size());
  const SweepReport report = Summarise(o, result);
  ASSERT_GE(report.seeds_failed, 1u) << "the planted bug was not found";
  ASSERT_EQ(report.groups.size(), 1u) << ReportMarkdown(report);
  const FailureGroup& g = report.groups[0];
  EXPECT_EQ(g.signature, "counter | acknowledged add lost | final");
  EXPECT_EQ(g.repro, ReproCommand("ping", g.smallest_seed, o.extra_args));
  for (const SeedOutcome& out : result.outcomes) {
    if (!out.pass) {
      EXPECT_GE(out.events, g.smallest_events) << "the smallest repro is the smallest";
    }
  }
  absl::StatusOr<ChildProcess::Completed> again = ChildProcess::RunToCompletion(
      {o.sim_binary, "--quiet", "--scenario=ping", absl::StrCat("--seed=", g.smallest_seed),
       "--planted_bug=rename-without-sync"},
      absl::Minutes(1));
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->exit.code, 1) << "the repro command fails again";
  // Coverage came back from every seed.
  EXPECT_GT(report.coverage.size(), 10u);
}

TEST(SweepTest, CrashesAndTimeoutsAreFailuresOfTheirOwnAndNoSeedIsLost) {
  SweepOptions o;
  o.sim_binary = Runfile("tools/seed_farm/testdata/fake_sim.sh");
  o.scenario = "fake";
  o.seeds = ConsecutiveSeeds(1, 12);
  o.jobs = 3;
  o.seeds_per_process = 4;
  o.seed_timeout = absl::Seconds(2);
  const SweepResult result = RunSweep(o);
  ASSERT_EQ(result.error, "");
  absl::btree_map<uint64_t, SeedOutcome> by_seed;
  for (const SeedOutcome& out : result.outcomes) {
    EXPECT_TRUE(by_seed.emplace(out.seed, out).second) << "seed " << out.seed << " twice";
  }
  ASSERT_EQ(by_seed.size(), 12u) << "every seed ran exactly once";
  for (const auto& [seed, out] : by_seed) {
    if (seed == 5) {
      EXPECT_EQ(out.signature.rfind("timeout", 0), 0u) << out.signature;
    } else if (seed % 2 == 1) {
      EXPECT_TRUE(out.crashed);
      EXPECT_EQ(out.signature, "crash | assertion `term >= #` | consensus/raft.cc") << out.signature;
    } else {
      EXPECT_TRUE(out.pass) << seed;
    }
  }
  const SweepReport report = Summarise(o, result);
  ASSERT_EQ(report.groups.size(), 2u);
  EXPECT_EQ(report.groups[0].seeds.size(), 5u) << "1, 3, 7, 9, 11 crashed";
  // fake_sim reports a crash that never mattered and a sometimes-property that never occurred.
  EXPECT_EQ(report.flags.size(), 2u) << ReportMarkdown(report);
}

TEST(SweepTest, StopAfterTheFirstFailureInSeedOrderWhateverTheJobs) {
  for (int jobs : {1, 3}) {
    SweepOptions o;
    o.sim_binary = Runfile("tools/seed_farm/testdata/fake_sim.sh");
    o.scenario = "fake";
    o.seeds = {2, 4, 6, 8, 104, 10, 12, 102, 14, 16, 18, 20, 22};
    o.jobs = jobs;
    o.seeds_per_process = 2;
    o.stop_after_failures = 1;
    const SweepResult result = RunSweep(o);
    EXPECT_TRUE(result.stopped_early);
    uint64_t failing = 0;
    size_t before = 0;
    for (const SeedOutcome& out : result.outcomes) {
      if (!out.pass) failing = out.seed;
      before += out.pass && out.seed < 10 ? 1 : 0;
    }
    EXPECT_EQ(failing, 104u) << "jobs=" << jobs << ": the first failure in seed order";
    EXPECT_EQ(before, 4u) << "every seed before it ran";
    for (const SeedOutcome& out : result.outcomes) EXPECT_NE(out.seed, 102u) << "jobs=" << jobs;
  }
}

}  // namespace
}  // namespace crema::farm
