// Nemesis schedules: deterministic generation, paired undo actions, readable printing, and the
// runner's effect on a simulation (faults applied at their times, HealAll undoes everything).
#include "chaos/nemesis.h"

#include <gtest/gtest.h>

#include <memory>

#include "absl/container/btree_map.h"
#include "chaos/nemesis_json.h"
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

// Racing replacements (a spare added first, then the removal and its promotion at one moment)
// are followed within 30 ms by a config-split cut: a majority of the old voters with the removed
// one against the rest with the promoted spare; it never overlaps another partition, and its
// schedule file reads back as the same actions.
TEST(NemesisTest, RacingReplacementsSplitOldAndNewConfigurations) {
  int racing = 0, cut = 0;
  for (uint64_t seed = sim::TestSeed(), i = 0; i < 50; ++i) {
    const NemesisSchedule s = GenerateNemesis(Everything(), {1, 2, 3, 4, 5}, {6, 7, 8},
                                              absl::Seconds(30), Random(seed + i));
    absl::Duration partition_until = absl::ZeroDuration();
    for (size_t k = 0; k < s.actions.size(); ++k) {
      const NemesisAction& a = s.actions[k];
      if (a.kind == NemesisKind::kPartition) {
        EXPECT_GE(a.at, partition_until) << "overlapping partitions\n" << s.ToString();
      }
      if (a.kind == NemesisKind::kHeal) partition_until = a.at;
      if (a.kind != NemesisKind::kPromote) continue;
      bool removed_at_once = false;
      for (const NemesisAction& b : s.actions) {
        removed_at_once |= b.kind == NemesisKind::kRemoveVoter && b.at == a.at;
      }
      if (!removed_at_once) continue;
      ++racing;
      for (const NemesisAction& b : s.actions) {
        if (b.kind == NemesisKind::kPartition && b.shape == kConfigSplitShape &&
            b.at > a.at && b.at <= a.at + absl::Milliseconds(30) && b.peer == a.node) {
          ++cut;
          // 5 voters: 3 old (with the removed one) against 2 others and the spare.
          EXPECT_EQ(b.blocked.size(), 2u * 3 * 3) << b.ToString();
          bool removed_cut_from_spare = false;
          for (const sim::Link& l : b.blocked) removed_cut_from_spare |= l == sim::Link{b.node, b.peer};
          EXPECT_TRUE(removed_cut_from_spare) << b.ToString();
          break;
        }
      }
    }
  }
  EXPECT_GT(racing, 10);
  const NemesisSchedule s = GenerateNemesis(Everything(), {1, 2, 3, 4, 5}, {6, 7, 8},
                                            absl::Seconds(30), Random(sim::TestSeed()));
  absl::StatusOr<NemesisSchedule> back = NemesisFromJson(NemesisToJson(s));
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->ToString(), s.ToString());
  // A racing pair gets its cut unless a partition still runs at its promotion.
  EXPECT_GT(cut, racing / 2) << cut << " of " << racing;
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
// changes (a send after a Sync is no trigger), then lands before anything else of the node runs,
// and the schedule's restart brings the node back. An armed crash stays armed past its scheduled
// restart until it fires; the node then comes back after the downtime the schedule gave it.
TEST(NemesisRunnerTest, CrashAtSendFiresRightAfterASendWithUnsyncedChanges) {
  sim::Simulator sim(sim::SimOptions{.seed = sim::TestSeed()});
  for (NodeId id : {1, 2}) sim.AddNode(id, sim::TestNodeFactory());
  sim.StartAll();
  NemesisSchedule s;
  s.actions.push_back({.at = absl::Milliseconds(100), .kind = NemesisKind::kCrashAtSend, .node = 1});
  s.actions.push_back({.at = absl::Milliseconds(900), .kind = NemesisKind::kRestart, .node = 1});
  s.actions.push_back({.at = absl::Milliseconds(950), .kind = NemesisKind::kCrashAtSend, .node = 2});
  s.actions.push_back({.at = absl::Milliseconds(1000), .kind = NemesisKind::kRestart, .node = 2});
  NemesisOptions options;
  options.crashes = options.crash_at_send = true;
  NemesisRunner runner(&sim, {1, 2}, options);
  runner.Start(s);
  auto write_then_send = [](Env env, int* sent, bool sync) {
    absl::StatusOr<std::unique_ptr<File>> f = env.disk->Open("log", OpenMode::kCreate);
    ASSERT_TRUE(f.ok());
    ASSERT_TRUE((*f)->Write((*f)->Size(), "synced").ok());
    ASSERT_TRUE((*f)->Sync().ok());
    env.network->Send(3 - env.self, Service::kTest, "after a sync");  // nothing unsynced
    ASSERT_TRUE(env.executor->Sleep(absl::Milliseconds(100)).ok());
    ASSERT_TRUE((*f)->Write((*f)->Size(), "unsynced").ok());
    if (sync) ASSERT_TRUE((*f)->Sync().ok());
    env.network->Send(3 - env.self, Service::kTest, "unsynced");  // fires, unless synced
    ++*sent;
    (void)env.executor->Sleep(absl::Milliseconds(1));  // never returns if the node crashed
    ++*sent;
  };
  int sent_by_1 = 0;
  sim.RunFor(absl::Milliseconds(200));  // node 1 armed
  sim::GetTestNode(sim, 1).env.executor->Spawn("writer", [&] {
    write_then_send(sim::GetTestNode(sim, 1).env, &sent_by_1, /*sync=*/false);
  });
  sim.RunFor(absl::Milliseconds(300));  // t = 500 ms
  EXPECT_EQ(sim.state(1), sim::NodeState::kDown);
  EXPECT_EQ(sent_by_1, 1) << "the crash came before the node's next event";
  EXPECT_EQ(sim::GetTestNode(sim, 2).Messages(),
            (std::vector<std::string>{"after a sync", "unsynced"}))
      << "a message sent before the crash is still delivered";
  sim.RunFor(absl::Milliseconds(500));  // t = 1 s: the scheduled restart (900 ms) brought it back
  EXPECT_EQ(sim.state(1), sim::NodeState::kUp);
  EXPECT_EQ(sim.disk(1).SyncedContent("log")->substr(0, 6), "synced");  // the rest: any fate
  // Node 2 is armed past its scheduled restart (t = 1 s); a send after a sync does not fire it,
  // one with an unsynced write does, and it comes back 50 ms later.
  int sent_by_2 = 0;
  sim::GetTestNode(sim, 2).env.executor->Spawn("writer", [&] {
    write_then_send(sim::GetTestNode(sim, 2).env, &sent_by_2, /*sync=*/true);
  });
  sim.RunFor(absl::Milliseconds(300));
  EXPECT_EQ(sim.state(2), sim::NodeState::kUp);
  EXPECT_EQ(sent_by_2, 2);
  sim::GetTestNode(sim, 2).env.executor->Spawn("writer", [&] {
    write_then_send(sim::GetTestNode(sim, 2).env, &sent_by_2, /*sync=*/false);
  });
  sim.RunFor(absl::Milliseconds(120));
  EXPECT_EQ(sim.state(2), sim::NodeState::kDown);
  EXPECT_EQ(sent_by_2, 3);
  sim.RunFor(absl::Milliseconds(100));
  EXPECT_EQ(sim.state(2), sim::NodeState::kUp);
  EXPECT_EQ(runner.skipped(), 1u) << "node 2's scheduled restart found it up and armed";
}

}  // namespace
}  // namespace crema::chaos
