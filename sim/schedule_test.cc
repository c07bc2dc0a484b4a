// Schedules (sim/schedule.h): RunInputs records drawn values and replays a schedule's; files
// round-trip through JSON; malformed files are refused with a reason; fault actions
// (sim/fault_plan.h) round-trip; the FaultScheduler's recording replays to the identical run.
#include "sim/schedule.h"

#include <gtest/gtest.h>

#include "sim/fault_plan.h"
#include "sim/fault_scheduler.h"
#include "sim/test_node.h"
#include "sim/test_seed.h"

namespace crema::sim {
namespace {

TEST(ScheduleTest, DrawnValuesAreRecordedAndReplayedValuesWin) {
  RunInputs draw(nullptr);
  EXPECT_EQ(draw.Int("nodes", 5, 3), 5);
  EXPECT_TRUE(draw.Flag("leases", true));
  EXPECT_EQ(draw.Duration("safety", absl::Seconds(10), absl::Seconds(1)), absl::Seconds(10));
  EXPECT_EQ(draw.Rate("drop", Ratio{1, 20}), (Ratio{1, 20}));
  draw.List("nemesis", nlohmann::json::parse(R"([{"kind": "crash", "node": 2, "at_ns": 5}])"));
  const Schedule recorded = draw.Take("toy", 42);
  EXPECT_EQ(recorded.params.at("nodes"), (ScheduleParam{5, 3}));
  EXPECT_EQ(recorded.params.at("safety_ns").value, 10'000'000'000);
  EXPECT_EQ(recorded.params.at("drop.num"), (ScheduleParam{1, 0}));
  EXPECT_EQ(recorded.Size(), 5u) << "nodes, leases, safety, drop.num differ from simplest; 1 entry";

  Schedule edited = recorded;
  edited.params["nodes"].value = 3;
  edited.params["drop.num"].value = 0;
  edited.lists["nemesis"] = nlohmann::json::array();
  RunInputs replay(&edited);
  EXPECT_TRUE(replay.replaying());
  EXPECT_EQ(replay.Int("nodes", 5, 3), 3);
  EXPECT_TRUE(replay.Rate("drop", Ratio{1, 20}).never());
  EXPECT_EQ(replay.Int("added_later", 7, 0), 7) << "a param the file lacks keeps the drawn value";
  EXPECT_TRUE(replay.List("nemesis", nlohmann::json::parse(R"([{"kind":"x","at_ns":1}])")).empty());
  ASSERT_NE(replay.Replayed("nemesis"), nullptr);
  EXPECT_EQ(replay.Replayed("other"), nullptr);
}

TEST(ScheduleTest, JsonRoundTripAndErrors) {
  RunInputs in(nullptr);
  in.Int("clients", 4, 1);
  in.List("nemesis", nlohmann::json::parse(
                         R"([{"kind":"partition","at_ns":1,"end_ns":9,"blocked":[[1,2]]},
                             {"kind":"idle","at_ns":3}])"));
  const Schedule s = in.Take("ping", 7);
  absl::StatusOr<Schedule> back = ParseSchedule(s.ToJson());
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(*back, s);
  EXPECT_EQ(s.ListEntries(), 1u) << "idle entries do not count";
  for (const char* bad : {
           "", "[]", R"({"format": "other"})",
           R"({"format": "crema-schedule/1", "seed": 1})",
           R"({"format": "crema-schedule/1", "scenario": "p", "seed": 1, "params": {"n": 3}})",
           R"({"format": "crema-schedule/1", "scenario": "p", "seed": 1,
               "lists": {"l": [{"kind": "crash"}]}})",
           R"({"format": "crema-schedule/1", "scenario": "p", "seed": 1,
               "lists": {"l": [{"kind": "crash", "at_ns": 9, "end_ns": 2}]}})"}) {
    EXPECT_FALSE(ParseSchedule(bad).ok()) << bad;
  }
}

TEST(ScheduleTest, FaultActionsRoundTrip) {
  FaultAction swizzle{.kind = FaultAction::Kind::kSwizzle, .at = absl::Seconds(1), .end = absl::Seconds(2)};
  swizzle.steps = {{absl::Milliseconds(100), 2, true}, {absl::Milliseconds(900), 2, false}};
  FaultAction partition{.kind = FaultAction::Kind::kPartition, .at = absl::Seconds(3),
                        .end = absl::Seconds(4), .shape = "bridge", .blocked = {{1, 2}, {2, 1}}};
  FaultAction step{.kind = FaultAction::Kind::kClockStep, .at = absl::Seconds(5),
                   .end = absl::Seconds(5), .node = 3, .delta = -absl::Milliseconds(250)};
  const std::vector<FaultAction> actions = {swizzle, partition, step};
  absl::StatusOr<std::vector<FaultAction>> back =
      FaultActionsFromJson(nlohmann::json::parse(FaultActionsToJson(actions).dump()));
  ASSERT_TRUE(back.ok()) << back.status();
  ASSERT_EQ(back->size(), 3u);
  EXPECT_EQ((*back)[0].steps.size(), 2u);
  EXPECT_EQ((*back)[1].blocked, partition.blocked);
  EXPECT_EQ((*back)[2].delta, -absl::Milliseconds(250));
  EXPECT_FALSE(FaultActionsFromJson(nlohmann::json::parse(R"([{"kind":"crash","at_ns":1}])")).ok())
      << "a crash needs a node";
}

FaultConfig Everything() {
  FaultConfig c;
  c.crashes = c.amnesia = c.pauses = c.partitions = c.clogging = c.swizzle = c.clock_steps =
      c.disk_full = true;
  c.mean_fault_interval = absl::Milliseconds(100);
  c.max_fault_duration = absl::Milliseconds(800);
  return c;
}

// Runs 4 test nodes for 20 s under the scheduler, drawing (replay == nullptr) or replaying.
std::pair<uint64_t, std::vector<FaultAction>> RunNemesis(uint64_t seed,
                                                         const std::vector<FaultAction>* replay) {
  Simulator sim(SimOptions{.seed = seed});
  for (NodeId id = 1; id <= 4; ++id) sim.AddNode(id, TestNodeFactory());
  sim.StartAll();
  FaultScheduler nemesis(&sim, Everything(), {1, 2, 3, 4}, Random(seed).Fork("faults"));
  replay ? nemesis.Replay(*replay) : nemesis.Start();
  sim.RunFor(absl::Seconds(20));
  nemesis.HealAll();
  sim.RunFor(absl::Seconds(1));
  return {sim.trace().hash(), nemesis.performed()};
}

TEST(ScheduleTest, RecordedNemesisReplaysToTheIdenticalRun) {
  for (uint64_t seed : TestSeeds(5)) {
    const auto [hash, performed] = RunNemesis(seed, nullptr);
    ASSERT_GT(performed.size(), 50u) << ReproCommand(seed);
    absl::StatusOr<std::vector<FaultAction>> parsed =
        FaultActionsFromJson(nlohmann::json::parse(FaultActionsToJson(performed).dump()));
    ASSERT_TRUE(parsed.ok()) << parsed.status();
    const auto [replayed_hash, replayed] = RunNemesis(seed, &*parsed);
    EXPECT_EQ(replayed_hash, hash) << "the recording must replay event for event; " << ReproCommand(seed);
    EXPECT_EQ(replayed.size() + 1, performed.size())
        << "all but the tick pending at HealAll (it runs after the heal, doing nothing); "
        << ReproCommand(seed);
    // A subset is still a valid nemesis: every other action, windows halved.
    std::vector<FaultAction> subset;
    for (size_t i = 0; i < parsed->size(); i += 2) {
      FaultAction a = (*parsed)[i];
      a.end = a.at + (a.end - a.at) / 2;
      subset.push_back(a);
    }
    EXPECT_NE(RunNemesis(seed, &subset).first, hash) << ReproCommand(seed);
  }
}

}  // namespace
}  // namespace crema::sim
