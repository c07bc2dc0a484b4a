// Coverage (sim/coverage.h): the simulator counts the faults it injects and whether they
// mattered; BUGGIFY firings and node trace records are counted by name; declared-but-zero
// counters stay visible.
#include "sim/coverage.h"

#include <gtest/gtest.h>

#include "sim/simulator.h"
#include "sim/test_node.h"
#include "sim/test_seed.h"

namespace crema::sim {
namespace {

void Send(Simulator& sim, NodeId from, NodeId to, std::string message) {
  GetTestNode(sim, from).env.network->Send(to, Service::kTest, std::move(message));
}

TEST(CoverageTest, CountersDeclareAndMerge) {
  Coverage a, b;
  a.Declare("fault.crash");
  a.Sometimes("leader_changed", false);
  a.Oracle("lin", 12);
  b.Add("fault.crash", 2);
  b.Sometimes("leader_changed", true);
  a.Merge(b);
  EXPECT_TRUE(a.Declared("fault.crash"));
  EXPECT_EQ(a.Get("fault.crash"), 2u);
  EXPECT_EQ(a.Get("sometimes.leader_changed"), 1u);
  EXPECT_EQ(a.Get("oracle.lin"), 12u);
  EXPECT_FALSE(a.Declared("fault.pause"));
  EXPECT_EQ(a.Get("fault.pause"), 0u);
}

TEST(CoverageTest, SimulatorCountsFaultsAndTheirEffects) {
  SimOptions options{.seed = TestSeed()};
  options.network.drop = {1, 2};
  options.clock.max_offset = absl::Seconds(1);
  Simulator sim(options);
  for (NodeId id = 1; id <= 3; ++id) sim.AddNode(id, TestNodeFactory());
  sim.StartAll();
  EXPECT_TRUE(sim.CollectCoverage().Declared("fault.drop"));
  EXPECT_TRUE(sim.CollectCoverage().Declared("fault.clock_offset"));
  EXPECT_FALSE(sim.CollectCoverage().Declared("fault.duplicate")) << "not enabled";
  // A partition that cuts a message mattered; a clock step nobody reads did not.
  sim.network().SetPartition({{1, 2}}, "test");
  Send(sim, 1, 2, "cut");
  sim.StepWallClock(3, absl::Seconds(5));
  sim.RunFor(absl::Seconds(1));
  sim.network().HealPartition();
  sim.Pause(2);
  for (int i = 0; i < 40; ++i) Send(sim, 1, 2, "held");  // with drop 1/2, some arrive
  sim.RunFor(absl::Seconds(1));
  sim.Resume(2);
  sim.Crash(3);
  sim.RunFor(absl::Seconds(1));
  const Coverage c = sim.CollectCoverage();
  EXPECT_EQ(c.Get("fault.partition"), 1u);
  EXPECT_EQ(c.Get("effect.partition"), 1u);
  EXPECT_EQ(c.Get("fault.clock_step"), 1u);
  EXPECT_TRUE(c.Declared("effect.clock_step"));
  EXPECT_EQ(c.Get("effect.clock_step"), 0u) << "test nodes never read the wall clock";
  EXPECT_EQ(c.Get("fault.pause"), 1u);
  EXPECT_EQ(c.Get("effect.pause"), 1u) << "deliveries were held while paused";
  EXPECT_EQ(c.Get("fault.crash"), 1u);
  EXPECT_GT(c.Get("fault.drop"), 0u);
}

TEST(CoverageTest, BuggifyFiringsAndAppRecordsAreCounted) {
  SimOptions options{.seed = TestSeed(), .buggify = true};
  Simulator sim(options);
  sim.AddNode(1, TestNodeFactory());
  sim.StartAll();
  uint64_t fired = 0;
  for (int site = 0; site < 80; ++site) {
    for (int i = 0; i < 100; ++i) fired += sim.buggify(1)->Fire("site" + std::to_string(site)) ? 1 : 0;
  }
  const Coverage c = sim.CollectCoverage();
  EXPECT_EQ(c.Get("fault.buggify"), fired);
  uint64_t by_site = 0, active = 0;
  for (const auto& [name, count] : c.counters()) {
    if (name.rfind("buggify.", 0) != 0) continue;
    by_site += count;
    ++active;
  }
  EXPECT_EQ(by_site, fired);
  EXPECT_GT(active, 0u) << "80 sites, each active with probability 1/4: none w.p. 1e-10";
}

}  // namespace
}  // namespace crema::sim
