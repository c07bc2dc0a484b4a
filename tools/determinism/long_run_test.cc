// A long run agrees with itself across processes: one ping seed, run for over a million events in
// two separate processes, gives the same trace hash at every 100,000-event checkpoint and the same
// summary line. (The first differing checkpoint would localise a divergence to 100,000 events;
// `//tools:sim --check_determinism` then names the event.)
#include <gtest/gtest.h>

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "sim/test_seed.h"
#include "tools/determinism/runs.h"

namespace crema::determinism {
namespace {

TEST(LongRunTest, AMillionEventsAgreeAcrossProcesses) {
  const uint64_t seed = sim::TestSeed();
  auto args_for = [seed](absl::Duration safety) {
    return std::vector<std::string>{"--scenario=ping", absl::StrCat("--seed=", seed),
                                    "--schedule=" + LongPingSchedule(seed, safety),
                                    "--hash_every=100000"};
  };
  // ~2,300 simulated seconds give a million events on most seeds; a seed whose swarm draws a
  // quieter cluster (800,000 events for 12239056333569229769) runs again, long enough.
  absl::Duration safety = absl::Seconds(2300);
  std::vector<std::string> args = args_for(safety);
  std::vector<std::string> first = HashLines(RunSim("tools/sim", args));
  if (const uint64_t events = LastCheckpointEvents(first); events < 1'000'000u) {
    safety = safety * (1'300'000.0 / static_cast<double>(std::max<uint64_t>(events, 100'000u)));
    args = args_for(safety);
    first = HashLines(RunSim("tools/sim", args));
  }
  const std::vector<std::string> second = HashLines(RunSim("tools/sim", args));
  ASSERT_GE(LastCheckpointEvents(first), 1'000'000u) << sim::ReproCommand(seed);
  ASSERT_EQ(first.size(), second.size()) << sim::ReproCommand(seed);
  for (size_t i = 0; i < first.size(); ++i) {
    ASSERT_EQ(first[i], second[i]) << "first divergence; " << sim::ReproCommand(seed);
  }
  EXPECT_NE(first.back().find("result=PASS"), std::string::npos) << first.back();
}

}  // namespace
}  // namespace crema::determinism
