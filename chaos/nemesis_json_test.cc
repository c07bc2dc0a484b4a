// NemesisSchedule <-> schedule-file action list: a generated schedule survives the round trip
// exactly (every fault paired with its undo as one window), shortened windows and dropped entries
// stay valid schedules, and malformed lists are refused with the entry named.
#include "chaos/nemesis_json.h"

#include <gtest/gtest.h>

#include "chaos/nemesis.h"
#include "sim/test_seed.h"

namespace crema::chaos {
namespace {

NemesisOptions Everything() {
  NemesisOptions o;
  o.partitions = o.clogging = o.crashes = o.pauses = o.clock_steps = o.disk_full =
      o.disk_errors = o.membership = true;
  o.mean_interval = absl::Milliseconds(150);
  o.max_fault_duration = absl::Seconds(1);
  return o;
}

TEST(NemesisJsonTest, RoundTripIsExactAndPairsEveryUndo) {
  for (uint64_t seed : sim::TestSeeds(20)) {
    const NemesisSchedule original =
        GenerateNemesis(Everything(), {1, 2, 3, 4, 5}, {6, 7}, absl::Seconds(20), Random(seed));
    ASSERT_GT(original.actions.size(), 20u) << sim::ReproCommand(seed);
    const nlohmann::json list = NemesisToJson(original);
    // Undos are folded into their faults' windows.
    size_t windows = 0;
    for (const nlohmann::json& entry : list) {
      const std::string kind = entry["kind"];
      EXPECT_NE(kind, "heal");
      EXPECT_NE(kind, "restart");
      EXPECT_NE(kind, "resume");
      EXPECT_NE(kind, "unclog");
      if (entry.contains("end_ns")) ++windows;
    }
    EXPECT_EQ(list.size() + windows, original.actions.size()) << sim::ReproCommand(seed);
    absl::StatusOr<NemesisSchedule> back = NemesisFromJson(list);
    ASSERT_TRUE(back.ok()) << back.status();
    EXPECT_EQ(back->ToString(), original.ToString()) << sim::ReproCommand(seed);
    // And through text.
    absl::StatusOr<NemesisSchedule> reparsed = NemesisFromJson(nlohmann::json::parse(list.dump()));
    ASSERT_TRUE(reparsed.ok()) << reparsed.status();
    EXPECT_EQ(reparsed->ToString(), original.ToString()) << sim::ReproCommand(seed);
  }
}

// Found by schedule_fuzzer: a file whose entries are not in time order gives undos at one instant
// (restart n5, restart n7 at 14.63 s) in the order of their entries; written back with each undo
// folded into its fault's window they came back swapped, and the simulator applies simultaneous
// actions in list order. An undo sharing its instant with another action is written on its own.
TEST(NemesisJsonTest, SimultaneousActionsKeepTheirOrderThroughTheFile) {
  const nlohmann::json file = nlohmann::json::parse(R"([
    {"kind": "crash-at-send", "node": 5, "at_ns": 14188847053, "end_ns": 14631914746},
    {"kind": "crash", "node": 7, "at_ns": 11488847053, "end_ns": 14631914746},
    {"kind": "pause", "node": 2, "at_ns": 100, "end_ns": 100}
  ])");
  absl::StatusOr<NemesisSchedule> read = NemesisFromJson(file);
  ASSERT_TRUE(read.ok()) << read.status();
  ASSERT_EQ(read->actions.size(), 6u);
  EXPECT_EQ(read->actions[4].ToString(), "14.6319s restart n5");
  EXPECT_EQ(read->actions[5].ToString(), "14.6319s restart n7");
  const nlohmann::json written = NemesisToJson(*read);
  absl::StatusOr<NemesisSchedule> back = NemesisFromJson(nlohmann::json::parse(written.dump()));
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->ToString(), read->ToString()) << written.dump();
  // Undos at a shared instant stand alone; a window of zero length too.
  size_t standalone = 0;
  for (const nlohmann::json& entry : written) {
    const std::string kind = entry["kind"];
    standalone += kind == "restart" || kind == "resume";
  }
  EXPECT_EQ(standalone, 3u) << written.dump();
}

// Also found by schedule_fuzzer: a standalone heal carrying a node and a peer, after a partition
// without an end, was folded into the partition's window and came back without them.
TEST(NemesisJsonTest, AnUndoIsFoldedIntoAWindowOnlyAsTheWindowWouldRebuildIt) {
  const nlohmann::json file = nlohmann::json::parse(R"([
    {"kind": "partition", "shape": "asymmetric", "blocked": [[3, 2]], "at_ns": 1000},
    {"kind": "heal", "node": 7, "peer": 1, "at_ns": 5000},
    {"kind": "crash", "node": 4, "at_ns": 6000},
    {"kind": "restart", "node": 4, "peer": 2, "at_ns": 7000}
  ])");
  absl::StatusOr<NemesisSchedule> read = NemesisFromJson(file);
  ASSERT_TRUE(read.ok()) << read.status();
  const nlohmann::json written = NemesisToJson(*read);
  absl::StatusOr<NemesisSchedule> back = NemesisFromJson(nlohmann::json::parse(written.dump()));
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->ToString(), read->ToString()) << written.dump();
  EXPECT_EQ(written.size(), 4u) << written.dump();  // nothing folded
}

TEST(NemesisJsonTest, ShrunkListsStayValid) {
  const uint64_t seed = sim::TestSeed();
  const NemesisSchedule original =
      GenerateNemesis(Everything(), {1, 2, 3}, {4}, absl::Seconds(10), Random(seed));
  nlohmann::json list = NemesisToJson(original);
  ASSERT_GE(list.size(), 2u);
  list.erase(list.begin());  // drop a whole fault (with its undo)
  for (nlohmann::json& entry : list) {
    if (entry.contains("end_ns")) {
      const int64_t at = entry["at_ns"];
      entry["end_ns"] = at + (entry["end_ns"].get<int64_t>() - at) / 2;  // shorter window
    }
  }
  absl::StatusOr<NemesisSchedule> shrunk = NemesisFromJson(list);
  ASSERT_TRUE(shrunk.ok()) << shrunk.status();
  EXPECT_LT(shrunk->actions.size(), original.actions.size());
  EXPECT_EQ(shrunk->Count(NemesisKind::kCrash), shrunk->Count(NemesisKind::kRestart));
  for (size_t i = 1; i < shrunk->actions.size(); ++i) {
    EXPECT_LE(shrunk->actions[i - 1].at, shrunk->actions[i].at);
  }
}

TEST(NemesisJsonTest, MalformedListsAreRefused) {
  using nlohmann::json;
  EXPECT_FALSE(NemesisFromJson(json::object()).ok());
  EXPECT_FALSE(NemesisFromJson(json::parse(R"([{"kind": "meteor", "at_ns": 1}])")).ok());
  EXPECT_FALSE(NemesisFromJson(json::parse(R"([{"kind": "crash"}])")).ok());
  EXPECT_FALSE(NemesisFromJson(json::parse(R"([{"kind": "crash", "at_ns": 5, "end_ns": 1}])")).ok());
  EXPECT_FALSE(NemesisFromJson(json::parse(R"([{"kind": "clock-step", "at_ns": 5}])")).ok());
  EXPECT_FALSE(NemesisFromJson(json::parse(R"([{"kind": "promote", "at_ns": 5, "end_ns": 9}])")).ok());
  const absl::Status status =
      NemesisFromJson(json::parse(R"([{"kind": "partition", "at_ns": 1, "blocked": [[1]]}])")).status();
  EXPECT_NE(status.message().find("#0"), std::string_view::npos) << status;
}

// Fields of the wrong type or out of range are INVALID_ARGUMENT, never an exception (a `shape`
// of 7 used to escape as nlohmann::type_error and abort the simulator: schedule_fuzzer's
// regress-shape-not-a-string) nor a silently converted value (node 4294967297 was node 1).
TEST(NemesisJsonTest, FieldsOfTheWrongTypeOrRangeAreRefused) {
  using nlohmann::json;
  for (const char* bad : {
           R"([{"kind": "partition", "shape": 7, "blocked": [[1, 2]], "at_ns": 5}])",
           R"([{"kind": "partition", "blocked": [[1, "2"]], "at_ns": 5}])",
           R"([{"kind": "partition", "blocked": [[1, 4294967296]], "at_ns": 5}])",
           R"([{"kind": "crash", "node": 4294967297, "at_ns": 5}])",
           R"([{"kind": "crash", "node": "2", "at_ns": 5}])",
           R"([{"kind": "crash", "node": -2, "at_ns": 5}])",
           R"([{"kind": "clog", "node": 1, "peer": 2.5, "at_ns": 5}])",
           R"([{"kind": "crash", "node": 2, "at_ns": 1e30}])",
           R"([{"kind": "crash", "node": 2, "at_ns": 18446744073709551615}])",
           R"([{"kind": "crash", "node": 2, "at_ns": 5, "end_ns": "9"}])",
           R"([{"kind": "clock-step", "node": 2, "at_ns": 5, "delta_ns": 0.5}])",
       }) {
    absl::StatusOr<NemesisSchedule> parsed = NemesisFromJson(json::parse(bad));
    EXPECT_EQ(parsed.status().code(), absl::StatusCode::kInvalidArgument) << bad;
  }
  absl::StatusOr<NemesisSchedule> fine = NemesisFromJson(
      json::parse(R"([{"kind": "crash", "node": 4294967295, "at_ns": 5, "end_ns": 9}])"));
  ASSERT_TRUE(fine.ok()) << fine.status();
  EXPECT_EQ(fine->actions[0].node, 4294967295u);
}

}  // namespace
}  // namespace crema::chaos
