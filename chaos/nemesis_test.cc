// Nemesis schedules: deterministic generation, paired undo actions, readable printing, and the
// runner's effect on a simulation (faults applied at their times, HealAll undoes everything).
#include "chaos/nemesis.h"

#include <gtest/gtest.h>

#include <memory>

#include "absl/container/btree_map.h"
#include "chaos/nemesis_runner.h"
#include "sim/test_node.h"
#include "sim/test_seed.h"

namespace crema::chaos {
namespace {

NemesisOptions Everything() {
  NemesisOptions o;
  o.partitions = o.clogging = o.crashes = o.pauses = o.clock_steps = o.disk_full =
      o.disk_errors = o.membership = true;
  o.mean_interval = absl::Milliseconds(200);
  o.max_fault_duration = absl::Seconds(1);
  return o;
}

TEST(NemesisTest, SameSeedSameScheduleAndSorted) {
  const uint64_t seed = sim::TestSeed();
  const std::vector<NodeId> servers = {1, 2, 3, 4, 5};
  const NemesisSchedule a =
      GenerateNemesis(Everything(), servers, {6, 7}, absl::Seconds(20), Random(seed));
  const NemesisSchedule b =
      GenerateNemesis(Everything(), servers, {6, 7}, absl::Seconds(20), Random(seed));
  ASSERT_FALSE(a.actions.empty()) << sim::ReproCommand(seed);
  EXPECT_EQ(a.ToString(), b.ToString()) << sim::ReproCommand(seed);
  for (size_t i = 1; i < a.actions.size(); ++i) {
    EXPECT_LE(a.actions[i - 1].at, a.actions[i].at) << sim::ReproCommand(seed);
  }
}

TEST(NemesisTest, EveryFaultHasItsUndoAndMembershipReplacesWithFreshIds) {
  const uint64_t seed = sim::TestSeed();
  const NemesisSchedule s =
      GenerateNemesis(Everything(), {1, 2, 3}, {4, 5, 6}, absl::Seconds(30), Random(seed));
  EXPECT_EQ(s.Count(NemesisKind::kPartition), s.Count(NemesisKind::kHeal));
  EXPECT_EQ(s.Count(NemesisKind::kClog), s.Count(NemesisKind::kUnclog));
  EXPECT_EQ(s.Count(NemesisKind::kCrash), s.Count(NemesisKind::kRestart));
  EXPECT_EQ(s.Count(NemesisKind::kPause), s.Count(NemesisKind::kResume));
  EXPECT_EQ(s.Count(NemesisKind::kDiskFull), s.Count(NemesisKind::kDiskSpace));
  EXPECT_EQ(s.Count(NemesisKind::kDiskErrors), s.Count(NemesisKind::kDiskHealthy));
  EXPECT_LE(s.Count(NemesisKind::kRemoveVoter), 3u) << "one per spare";
  EXPECT_EQ(s.Count(NemesisKind::kAddLearner), s.Count(NemesisKind::kPromote));
  // Per node, a crash is always followed by its restart before any new node-level fault.
  absl::btree_map<NodeId, int> down;
  for (const NemesisAction& a : s.actions) {
    if (a.kind == NemesisKind::kCrash) {
      EXPECT_EQ(down[a.node]++, 0) << a.ToString();
    }
    if (a.kind == NemesisKind::kRestart) {
      EXPECT_EQ(--down[a.node], 0) << a.ToString();
    }
    if (a.kind == NemesisKind::kAddLearner) {
      EXPECT_GE(a.node, 4u) << "only spares are added";
    }
  }
  if (::testing::Test::HasFailure()) ADD_FAILURE() << s.ToString() << sim::ReproCommand(seed);
}

TEST(NemesisTest, NothingEnabledMeansNoActions) {
  EXPECT_TRUE(GenerateNemesis(NemesisOptions{}, {1, 2, 3}, {}, absl::Seconds(10), Random(1))
                  .actions.empty());
}

TEST(NemesisTest, PrintsReadableLines) {
  NemesisAction crash{.at = absl::Milliseconds(1500), .kind = NemesisKind::kCrash, .node = 2};
  EXPECT_EQ(crash.ToString(), "1.5s crash n2");
  NemesisAction part{.at = absl::Seconds(2), .kind = NemesisKind::kPartition};
  part.shape = "isolate";
  part.blocked = {{1, 2}, {2, 1}};
  EXPECT_EQ(part.ToString(), "2s partition isolate cut=[1>2 2>1]");
}

TEST(NemesisRunnerTest, AppliesActionsAtTheirTimesAndHealAllUndoes) {
  sim::Simulator sim(sim::SimOptions{.seed = sim::TestSeed()});
  for (NodeId id : {1, 2, 3}) {
    sim.AddNode(id, [](Env env) { return std::make_unique<sim::TestNode>(env); });
  }
  sim.StartAll();
  const uint64_t normal_capacity = sim.disk(3).config().capacity_bytes;
  NemesisSchedule s;
  s.actions.push_back({.at = absl::Seconds(1), .kind = NemesisKind::kCrash, .node = 1});
  s.actions.push_back({.at = absl::Seconds(1), .kind = NemesisKind::kPause, .node = 2});
  s.actions.push_back({.at = absl::Seconds(1), .kind = NemesisKind::kDiskFull, .node = 3});
  s.actions.push_back({.at = absl::Seconds(1), .kind = NemesisKind::kDiskErrors, .node = 3});
  NemesisAction cut{.at = absl::Seconds(1), .kind = NemesisKind::kPartition};
  cut.shape = "isolate";
  cut.blocked = {{3, 1}};
  s.actions.push_back(cut);
  s.actions.push_back({.at = absl::Seconds(2), .kind = NemesisKind::kRestart, .node = 1});
  s.actions.push_back({.at = absl::Seconds(2), .kind = NemesisKind::kRestart, .node = 1});
  s.actions.push_back({.at = absl::Seconds(2), .kind = NemesisKind::kAddLearner, .node = 9});
  NemesisRunner runner(&sim, {1, 2, 3}, Everything());
  runner.Start(s);
  sim.RunFor(absl::Milliseconds(1500));
  EXPECT_EQ(sim.state(1), sim::NodeState::kDown);
  EXPECT_EQ(sim.state(2), sim::NodeState::kPaused);
  EXPECT_LT(sim.disk(3).config().capacity_bytes, normal_capacity);
  EXPECT_FALSE(sim.disk(3).config().io_error.never());
  EXPECT_TRUE(sim.network().Blocked(3, 1));
  sim.RunFor(absl::Seconds(1));
  EXPECT_EQ(sim.state(1), sim::NodeState::kUp);
  EXPECT_EQ(runner.applied(), 6u);
  EXPECT_EQ(runner.skipped(), 2u) << "second restart (already up), membership without a hook";
  runner.HealAll();
  EXPECT_EQ(sim.state(2), sim::NodeState::kUp);
  EXPECT_EQ(sim.disk(3).config().capacity_bytes, normal_capacity);
  EXPECT_TRUE(sim.disk(3).config().io_error.never());
  EXPECT_FALSE(sim.network().Blocked(3, 1));
}


// crash-at-send: armed, the crash waits for a send made while the node's disk holds unsynced
// changes (a send after a Sync is no trigger), then lands before anything else of the node runs;
// the schedule's restart brings the node back, and an armed crash that never fired is disarmed
// by it.
TEST(NemesisRunnerTest, CrashAtSendFiresRightAfterASendWithUnsyncedChanges) {
  sim::Simulator sim(sim::SimOptions{.seed = sim::TestSeed()});
  for (NodeId id : {1, 2}) sim.AddNode(id, sim::TestNodeFactory());
  sim.StartAll();
  NemesisSchedule s;
  s.actions.push_back({.at = absl::Milliseconds(100), .kind = NemesisKind::kCrashAtSend, .node = 1});
  s.actions.push_back({.at = absl::Milliseconds(900), .kind = NemesisKind::kRestart, .node = 1});
  s.actions.push_back({.at = absl::Milliseconds(950), .kind = NemesisKind::kCrashAtSend, .node = 2});
  s.actions.push_back({.at = absl::Milliseconds(1500), .kind = NemesisKind::kRestart, .node = 2});
  NemesisOptions options;
  options.crashes = options.crash_at_send = true;
  NemesisRunner runner(&sim, {1, 2}, options);
  runner.Start(s);
  int sent_after_unsynced = 0;
  sim::TestNode& one = sim::GetTestNode(sim, 1);
  one.env.executor->Spawn("writer", [&sent_after_unsynced, env = one.env] {
    absl::StatusOr<std::unique_ptr<File>> f = env.disk->Open("log", OpenMode::kCreate);
    ASSERT_TRUE(f.ok());
    ASSERT_TRUE(env.executor->Sleep(absl::Milliseconds(200)).ok());  // armed by now
    ASSERT_TRUE((*f)->Write(0, "synced").ok());
    ASSERT_TRUE((*f)->Sync().ok());
    env.network->Send(2, Service::kTest, "after a sync");  // no unsynced change: no crash
    ASSERT_TRUE(env.executor->Sleep(absl::Milliseconds(100)).ok());
    ASSERT_TRUE((*f)->Write(6, "unsynced").ok());
    env.network->Send(2, Service::kTest, "before the sync");  // the crash fires after this send
    ++sent_after_unsynced;
    (void)env.executor->Sleep(absl::Milliseconds(1));  // never returns: the node is gone
    ++sent_after_unsynced;
  });
  sim.RunFor(absl::Milliseconds(500));
  EXPECT_EQ(sim.state(1), sim::NodeState::kDown);
  EXPECT_EQ(sent_after_unsynced, 1) << "the crash came before the node's next event";
  sim.RunFor(absl::Milliseconds(200));
  EXPECT_EQ(sim::GetTestNode(sim, 2).Messages(),
            (std::vector<std::string>{"after a sync", "before the sync"}))
      << "a message sent before the crash is still delivered";
  sim.RunFor(absl::Milliseconds(300));  // t = 1 s: the restart ran
  EXPECT_EQ(sim.state(1), sim::NodeState::kUp);
  // The unsynced write survived, vanished or was torn (sim_disk.h); the synced one is there.
  EXPECT_EQ(sim.disk(1).SyncedContent("log")->substr(0, 6), "synced");
  // Node 2 never sends: its armed crash never fires, and the restart disarms it.
  sim.RunFor(absl::Seconds(1));
  EXPECT_EQ(sim.state(2), sim::NodeState::kUp);
  sim::GetTestNode(sim, 2).env.network->Send(1, Service::kTest, "disarmed");
  sim.RunFor(absl::Milliseconds(100));
  EXPECT_EQ(sim.state(2), sim::NodeState::kUp);
}

}  // namespace
}  // namespace crema::chaos
