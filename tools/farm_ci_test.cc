// The farm's sweep of every scenario in the default test suite (a short version of the soak run in
// the README): fresh seeds, in child processes on both cores, for a few seconds per scenario. No
// seed may fail; every oracle must have checked something; and the sometimes-properties that the
// 10,000-seed sweeps (docs/farm.md) saw in at least half of all seeds must occur here too (missed
// by chance with probability < 1e-6 each at these seed counts). The full coverage check — every
// fault fired and mattered, every sometimes-property occurred — is the soak run's
// (`bazel run //tools:farm -- --scenario=S --seeds=10000 --fail_on_flags`).
#include <gtest/gtest.h>

#include <cstdlib>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "sim/test_seed.h"
#include "tools/seed_farm/report.h"
#include "tools/seed_farm/sweep.h"

namespace crema::farm {
namespace {

struct Case {
  std::string scenario;
  uint64_t seeds;
  std::vector<std::string> required_sometimes;
};

void Sweep(const Case& c) {
  SweepOptions o;
  const char* dir = std::getenv("TEST_SRCDIR");
  o.sim_binary = absl::StrCat(dir ? dir : ".", "/crema/tools/sim");
  o.scenario = c.scenario;
  o.seeds = ConsecutiveSeeds(sim::TestSeed(), c.seeds);
  o.jobs = 2;
  const SweepResult result = RunSweep(o);
  const SweepReport report = Summarise(o, result);
  ASSERT_EQ(report.error, "");
  ASSERT_EQ(report.seeds_run, c.seeds);
  EXPECT_EQ(report.seeds_failed, 0u) << ReportMarkdown(report);
  for (const FailureGroup& g : report.groups) std::cerr << "FAILED: " << g.repro << "\n";
  for (const CoverageRow& row : report.coverage) {
    if (row.name.rfind("oracle.", 0) == 0) {
      EXPECT_GT(row.seeds_hit, 0u) << row.name << " never checked anything";
    }
  }
  for (const std::string& name : c.required_sometimes) {
    bool hit = false;
    for (const CoverageRow& row : report.coverage) hit = hit || (row.name == name && row.seeds_hit > 0);
    EXPECT_TRUE(hit) << name << " never occurred in " << c.seeds << " seeds";
  }
  for (const std::string& flag : report.flags) std::cerr << "coverage: " << flag << "\n";
}

TEST(FarmCiTest, Ping) {
  Sweep({"ping", 60,
         {"sometimes.client_add_indeterminate", "sometimes.recovered_adds_from_disk",
          "sometimes.add_acked_during_partition"}});
}

TEST(FarmCiTest, RaftKv) {
  Sweep({"raft-kv", 16,
         {"sometimes.linearizable_read_refused", "sometimes.snapshot_installed_on_follower"}});
}

TEST(FarmCiTest, Membership) {
  Sweep({"membership", 30,
         {"sometimes.suspected_member_refuted", "sometimes.crashed_member_detected",
          "sometimes.view_healed_after_partition"}});
}

// The cache scenario is the slowest (seconds per seed): a handful of seeds, properties that most
// seeds show (a client operation left open by a crash or a deadline is the common one).
TEST(FarmCiTest, Cache) {
  Sweep({"cache", 4, {"sometimes.local_read_checked"}});
}

}  // namespace
}  // namespace crema::farm
