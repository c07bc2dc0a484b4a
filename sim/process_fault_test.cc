// Unit tests of process, clock, disk-in-simulation and BUGGIFY behaviour of the simulator.
#include <gtest/gtest.h>

#include <cstdlib>
#include <set>

#include "node/sync.h"
#include "sim/simulator.h"
#include "sim/test_node.h"
#include "sim/test_seed.h"

namespace crema::sim {
namespace {

struct Probe {
  int* destroyed;
  ~Probe() { ++*destroyed; }
};

TEST(ProcessFaultTest, CrashUnwindsFibersAndDropsOldIncarnationEvents) {
  // Before the simulator: its destructor unwinds the restarted node's fiber, whose Probe counts.
  int factory_calls = 0, ticks = 0, destroyed = 0;
  Simulator sim(SimOptions{.seed = 1});
  sim.AddNode(1, [&](Env env) {
    ++factory_calls;
    env.executor->Spawn("ticker", [&, env] {
      Probe probe{&destroyed};
      while (env.executor->Sleep(absl::Milliseconds(10)).ok()) ++ticks;
    });
    return std::make_unique<TestNode>(env);
  });
  sim.StartAll();
  sim.RunFor(absl::Milliseconds(105));
  EXPECT_EQ(ticks, 10);
  // Queue a timer and a post for the old incarnation; they must never run.
  bool stale_ran = false;
  Env old_env = GetTestNode(sim, 1).env;
  old_env.executor->loop().RunAfter(absl::Milliseconds(1), [&] { stale_ran = true; });
  old_env.executor->loop().Post([&] { stale_ran = true; });
  sim.Crash(1);
  EXPECT_EQ(destroyed, 1);  // the fiber's stack was unwound
  EXPECT_EQ(sim.state(1), NodeState::kDown);
  sim.RunFor(absl::Seconds(1));
  EXPECT_EQ(ticks, 10);
  EXPECT_FALSE(stale_ran);
  sim.Restart(1);
  EXPECT_EQ(factory_calls, 2);
  EXPECT_EQ(sim.incarnation(1), 2u);
  sim.RunFor(absl::Milliseconds(55));
  EXPECT_EQ(ticks, 15);
}

TEST(ProcessFaultTest, SubNanosecondDeadlinesNeverFireEarly) {
  // A deadline with a sub-nanosecond remainder (e.g. a timeout scaled by a float factor) must not
  // make its timer fire at the current instant: the waiter would wake early and re-wait forever.
  Simulator sim(SimOptions{.seed = 4});
  int wakeups = 0;
  sim.AddNode(1, [&](Env env) {
    env.executor->Spawn("sleeper", [&, env] {
      const absl::Time deadline =
          env.clock->MonotonicNow() + absl::Milliseconds(1) + absl::Nanoseconds(1) / 4;
      ASSERT_TRUE(env.executor->SleepUntil(deadline).ok());
      EXPECT_GE(env.clock->MonotonicNow(), deadline);
      ++wakeups;
    });
    return std::make_unique<TestNode>(env);
  });
  sim.StartAll();
  sim.RunFor(absl::Milliseconds(5));
  EXPECT_EQ(wakeups, 1);
}

TEST(ProcessFaultTest, CrashKeepsSyncedDiskAmnesiaWipesIt) {
  SimOptions options{.seed = 2};
  options.disk.unsynced_write_lost = {1, 1};
  Simulator sim(options);
  sim.AddNode(1, [](Env env) {
    env.executor->Spawn("writer", [env] {
      auto file = env.disk->Open("f", OpenMode::kCreate);
      if (!file.ok() || (*file)->Size() > 0) return;  // only the first incarnation writes
      EXPECT_TRUE((*file)->Write(0, "synced").ok());
      EXPECT_TRUE((*file)->Sync().ok());
      EXPECT_TRUE((*file)->Write(6, "+unsynced").ok());
    });
    return std::make_unique<TestNode>(env);
  });
  sim.StartAll();
  sim.RunFor(absl::Milliseconds(1));
  EXPECT_EQ(*sim.disk(1).CurrentContent("f"), "synced+unsynced");
  sim.Crash(1);
  EXPECT_EQ(*sim.disk(1).CurrentContent("f"), "synced");
  sim.Restart(1);
  sim.RunFor(absl::Milliseconds(1));
  sim.Amnesia(1);
  EXPECT_TRUE(absl::IsNotFound(sim.disk(1).CurrentContent("f").status()));
}

TEST(ProcessFaultTest, PauseHoldsEventsWhileTheClockMoves) {
  Simulator sim(SimOptions{.seed = 3});
  std::vector<absl::Duration> fired_at;
  sim.AddNode(1, [&](Env env) {
    env.executor->Spawn("sleeper", [&, env] {
      EXPECT_TRUE(env.executor->Sleep(absl::Milliseconds(100)).ok());
      fired_at.push_back(sim.elapsed());
    });
    return std::make_unique<TestNode>(env);
  });
  sim.StartAll();
  sim.RunFor(absl::Milliseconds(50));
  const absl::Time before = sim.clock(1).MonotonicNow();
  sim.Pause(1);
  sim.RunFor(absl::Seconds(2));  // a 2 s stall
  EXPECT_TRUE(fired_at.empty());
  EXPECT_EQ(sim.clock(1).MonotonicNow() - before, absl::Seconds(2));
  sim.Resume(1);
  sim.RunFor(absl::Milliseconds(1));
  ASSERT_EQ(fired_at.size(), 1u);
  EXPECT_EQ(fired_at[0], absl::Milliseconds(2050));  // ran at resume, not before
}

TEST(ProcessFaultTest, TimerCancelledWhilePausedNeverRuns) {
  Simulator sim(SimOptions{.seed = 6});
  sim.AddNode(1, TestNodeFactory());
  sim.StartAll();
  EventLoop& loop = GetTestNode(sim, 1).env.executor->loop();
  int ran = 0;
  const EventLoop::TimerId held = loop.RunAfter(absl::Milliseconds(10), [&] { ran += 1; });
  loop.RunAfter(absl::Milliseconds(20), [&] { ran += 10; });
  sim.Pause(1);
  sim.RunFor(absl::Milliseconds(50));  // both came due and are held
  loop.Cancel(held);
  sim.Resume(1);
  sim.RunFor(absl::Milliseconds(1));
  EXPECT_EQ(ran, 10);
}

TEST(ClockTest, DriftScalesTimersAndStepsMoveOnlyWallTime) {
  SimOptions options{.seed = TestSeed()};
  options.clock.max_drift_ppm = 1000;
  options.clock.max_offset = absl::Seconds(1);
  Simulator sim(options);
  for (NodeId id = 1; id <= 10; ++id) sim.AddNode(id, TestNodeFactory());
  sim.StartAll();
  SimClock& clock = sim.clock(1);
  const absl::Time mono0 = clock.MonotonicNow();
  const absl::Time wall0 = clock.Now();
  sim.RunFor(absl::Seconds(100));
  const absl::Duration expected = absl::Seconds(100) * (1'000'000 + clock.drift_ppm()) / 1'000'000;
  EXPECT_LE(absl::AbsDuration(clock.MonotonicNow() - mono0 - expected), absl::Nanoseconds(1));
  EXPECT_LE(absl::AbsDuration(clock.Now() - wall0 - expected), absl::Nanoseconds(1));
  std::set<int64_t> drifts;
  for (NodeId id = 1; id <= 10; ++id) {
    EXPECT_LE(std::abs(sim.clock(id).drift_ppm()), 1000);
    drifts.insert(sim.clock(id).drift_ppm());
  }
  EXPECT_GT(drifts.size(), 1u);  // per-node drift
  // A timer for 1 s of this node's time fires when at least 1 s of its monotonic time passed.
  absl::Duration slept;
  Env env = GetTestNode(sim, 1).env;
  env.executor->Spawn("timer", [&, env] {
    const absl::Time start = env.clock->MonotonicNow();
    EXPECT_TRUE(env.executor->Sleep(absl::Seconds(1)).ok());
    slept = env.clock->MonotonicNow() - start;
  });
  sim.RunFor(absl::Seconds(2));
  EXPECT_GE(slept, absl::Seconds(1));
  EXPECT_LE(slept, absl::Seconds(1) + absl::Microseconds(1));
  // Steps: wall time jumps back, monotonic time does not.
  const absl::Time mono1 = clock.MonotonicNow();
  const absl::Time wall1 = clock.Now();
  sim.StepWallClock(1, -absl::Minutes(5));
  EXPECT_EQ(clock.Now(), wall1 - absl::Minutes(5));
  EXPECT_EQ(clock.MonotonicNow(), mono1);
}

TEST(DiskInSimTest, LatencySuspendsTheCallingFiber) {
  SimOptions options{.seed = 5};
  options.disk.latency_min = absl::Milliseconds(3);
  options.disk.latency_max = absl::Milliseconds(3);
  Simulator sim(options);
  absl::Duration write_took;
  sim.AddNode(1, [&](Env env) {
    env.executor->Spawn("io", [&, env] {
      auto file = env.disk->Open("f", OpenMode::kCreate);  // 3 ms
      ASSERT_TRUE(file.ok());
      const absl::Duration start = sim.elapsed();
      ASSERT_TRUE((*file)->Write(0, "x").ok());
      ASSERT_TRUE((*file)->Sync().ok());
      write_took = sim.elapsed() - start;
    });
    return std::make_unique<TestNode>(env);
  });
  sim.StartAll();
  sim.RunFor(absl::Seconds(1));
  EXPECT_EQ(write_took, absl::Milliseconds(6));
}

TEST(BuggifyTest, SiteActivationIsSeedStableAndSharedByNodes) {
  auto active_sites = [](uint64_t seed, NodeId node) {
    SimOptions options{.seed = seed, .buggify = true};
    Simulator sim(options);
    sim.AddNode(1, TestNodeFactory());
    sim.AddNode(2, TestNodeFactory());
    sim.StartAll();
    std::string fired;
    for (int i = 0; i < 40; ++i) {
      for (int k = 0; k < 50; ++k) fired += sim.buggify(node)->Fire("site" + std::to_string(i)) ? '1' : '0';
    }
    std::string active;
    for (const auto& [site, on] : sim.buggify(node)->sites()) active += on ? '1' : '0';
    return std::make_pair(active, fired);
  };
  const uint64_t seed = TestSeed();
  EXPECT_EQ(active_sites(seed, 1), active_sites(seed, 1)) << ReproCommand(seed);
  EXPECT_EQ(active_sites(seed, 1).first, active_sites(seed, 2).first) << ReproCommand(seed);
  EXPECT_NE(active_sites(seed, 1).first, active_sites(seed + 1, 1).first)
      << "40 sites, 1/4 active each: identical sets are ~1e-7 likely; " << ReproCommand(seed);
  EXPECT_NE(active_sites(seed, 1).first.find('1'), std::string::npos);
  SimOptions off{.seed = seed};  // buggify disabled: nothing fires
  Simulator sim(off);
  sim.AddNode(1, TestNodeFactory());
  sim.StartAll();
  for (int i = 0; i < 1000; ++i) EXPECT_FALSE(sim.buggify(1)->Fire("site"));
}

TEST(DeterminismTest, SameSeedSameTraceDifferentSeedDifferentTrace) {
  auto run = [](uint64_t seed) {
    SimOptions options{.seed = seed};
    options.network.drop = {1, 10};
    options.network.duplicate = {1, 10};
    Simulator sim(options);
    for (NodeId id = 1; id <= 3; ++id) {
      sim.AddNode(id, [](Env env) {
        env.executor->Spawn("chatter", [env] {
          for (int i = 0; i < 50 && env.executor->Sleep(env.random->DurationBetween(
                                        absl::Milliseconds(1), absl::Milliseconds(20))).ok(); ++i) {
            env.network->Send(1 + env.random->Uniform(3), Service::kTest, std::to_string(i));
          }
        });
        return std::make_unique<TestNode>(env);
      });
    }
    sim.StartAll();
    sim.RunFor(absl::Seconds(2));
    return std::make_pair(sim.trace().hash(), sim.trace().count());
  };
  const uint64_t seed = TestSeed();
  EXPECT_EQ(run(seed), run(seed)) << ReproCommand(seed);
  EXPECT_NE(run(seed).first, run(seed + 1).first) << ReproCommand(seed);
}

}  // namespace
}  // namespace crema::sim
