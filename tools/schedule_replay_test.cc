// Every scenario takes all its drawn inputs from its schedule (sim/schedule.h): a run's own
// schedule (--schedule_out) replays to the identical run (same summary line: events, virtual time,
// trace hash, verdict) — also when every input the scenario draws comes out different
// (--perturb_inputs_for_test), which changes the bare seed's run.
#include <gtest/gtest.h>

#include <cstdlib>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "sim/test_seed.h"
#include "tools/seed_farm/child_process.h"

namespace crema {
namespace {

std::string Tmp(const std::string& name) {
  const char* dir = std::getenv("TEST_TMPDIR");
  return absl::StrCat(dir ? dir : "/tmp", "/", name);
}

std::string Summary(std::vector<std::string> args) {
  const char* dir = std::getenv("TEST_SRCDIR");
  args.insert(args.begin(), {absl::StrCat(dir ? dir : ".", "/crema/tools/sim"), "--quiet"});
  absl::StatusOr<farm::ChildProcess::Completed> done =
      farm::ChildProcess::RunToCompletion(args, absl::Minutes(2));
  EXPECT_TRUE(done.ok());
  return done.ok() && !done->stdout_lines.empty() ? done->stdout_lines.back() : "";
}

void CheckReplay(const std::string& scenario) {
  for (uint64_t seed : sim::TestSeeds(2)) {
    const std::string file = Tmp(scenario + ".schedule.json");
    const std::string s = "--scenario=" + scenario, n = absl::StrCat("--seed=", seed);
    const std::string recorded = Summary({s, n, "--faults=heavy", "--schedule_out=" + file});
    ASSERT_NE(recorded.find("seed="), std::string::npos) << recorded;
    EXPECT_EQ(Summary({s, n, "--faults=heavy", "--schedule=" + file}), recorded)
        << sim::ReproCommand(seed);
    EXPECT_EQ(Summary({s, n, "--faults=heavy", "--schedule=" + file, "--perturb_inputs_for_test"}),
              recorded)
        << sim::ReproCommand(seed);
    const std::string perturbed = Summary({s, n, "--faults=heavy", "--perturb_inputs_for_test"});
    ASSERT_NE(perturbed.find(' '), std::string::npos)
        << "no summary line from the perturbed run; " << sim::ReproCommand(seed);
    EXPECT_NE(perturbed.substr(perturbed.find(' ')), recorded.substr(recorded.find(' ')))
        << "perturbing the inputs must change a bare seed's run; " << sim::ReproCommand(seed);
  }
}

TEST(ScheduleReplayTest, Ping) { CheckReplay("ping"); }
TEST(ScheduleReplayTest, RaftKv) { CheckReplay("raft-kv"); }
TEST(ScheduleReplayTest, Membership) { CheckReplay("membership"); }
TEST(ScheduleReplayTest, Cache) { CheckReplay("cache"); }

}  // namespace
}  // namespace crema
