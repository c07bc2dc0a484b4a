#include "chaos/real/real_schedule.h"

#include "gtest/gtest.h"
#include "sim/test_seed.h"

namespace crema::chaos {
namespace {

TEST(RealScheduleTest, GeneratedSchedulesRoundTripThroughTheFile) {
  const uint64_t seed = sim::TestSeed();
  for (uint64_t s = seed; s < seed + 20; ++s) {
    RealScheduleOptions o;
    o.duration = absl::Seconds(90);
    const RealSchedule schedule = GenerateRealSchedule(o, s);
    EXPECT_FALSE(schedule.nemesis.actions.empty()) << s;
    const std::string json = RealScheduleToJson(schedule);
    absl::StatusOr<RealSchedule> back = RealScheduleFromJson(json);
    ASSERT_TRUE(back.ok()) << back.status() << "\n" << json;
    EXPECT_EQ(back->seed, s);
    EXPECT_EQ(back->nodes, 5);
    EXPECT_EQ(back->duration, absl::Seconds(90));
    EXPECT_EQ(back->nemesis.ToString(), schedule.nemesis.ToString()) << s;
    EXPECT_EQ(back->membership, schedule.membership);
    EXPECT_EQ(back->net, schedule.net);
    // The same seed gives the same schedule.
    EXPECT_EQ(RealScheduleToJson(GenerateRealSchedule(o, s)), json);
  }
}

TEST(RealScheduleTest, ClockOnlySchedulesCarryTheirOffsetBound) {
  RealScheduleOptions o;
  o.only_clocks = true;
  o.max_clock_step = absl::Seconds(2);
  o.max_clock_offset = absl::Seconds(3);
  const RealSchedule schedule = GenerateRealSchedule(o, sim::TestSeed());
  ASSERT_FALSE(schedule.nemesis.actions.empty());
  for (const NemesisAction& a : schedule.nemesis.actions) {
    EXPECT_EQ(a.kind, NemesisKind::kClockStep) << schedule.nemesis.ToString();
  }
  EXPECT_TRUE(schedule.membership.empty());
  EXPECT_TRUE(schedule.net.empty());
  absl::StatusOr<RealSchedule> back = RealScheduleFromJson(RealScheduleToJson(schedule));
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->max_clock_offset, absl::Seconds(3));
  // Without a bound the param is absent and the default (max_clock_skew / 4) applies.
  o.max_clock_offset = absl::ZeroDuration();
  back = RealScheduleFromJson(RealScheduleToJson(GenerateRealSchedule(o, 1)));
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->max_clock_offset, absl::ZeroDuration());
}

TEST(RealScheduleTest, TheFileIsTheSimulatorsScheduleFormat) {
  RealScheduleOptions o;
  o.all_kinds = true;
  const std::string json = RealScheduleToJson(GenerateRealSchedule(o, 7));
  EXPECT_NE(json.find("\"format\": \"crema-schedule/1\""), std::string::npos);
  EXPECT_NE(json.find("\"scenario\": \"cache\""), std::string::npos);
  EXPECT_NE(json.find("\"nemesis\": ["), std::string::npos);
  EXPECT_NE(json.find("\"nodes\":{\"simplest\":5,\"value\":5}"), std::string::npos) << json;
}

TEST(RealScheduleTest, MalformedFilesGetClearErrors) {
  EXPECT_FALSE(RealScheduleFromJson("").ok());
  EXPECT_FALSE(RealScheduleFromJson("[]").ok());
  EXPECT_FALSE(RealScheduleFromJson(R"({"format":"x"})").ok());
  EXPECT_FALSE(RealScheduleFromJson(R"({"format":"crema-schedule/1","scenario":"ping","seed":1})").ok());
  const std::string base =
      R"({"format":"crema-schedule/1","scenario":"cache","seed":1,"params":{"nodes":{"value":5,"simplest":5},"safety_duration_ns":{"value":1000,"simplest":1000}},"lists":)";
  EXPECT_TRUE(RealScheduleFromJson(base + "{}}").ok());
  EXPECT_FALSE(RealScheduleFromJson(base + R"({"nemesis":[{"kind":"explode","at_ns":1}]}})").ok());
  EXPECT_FALSE(RealScheduleFromJson(base + R"({"nemesis":[{"kind":"crash"}]}})").ok());
  EXPECT_FALSE(
      RealScheduleFromJson(base + R"({"real.net":[{"kind":"loss","at_ns":5,"end_ns":1,"node":1,"percent":5}]}})").ok());
  EXPECT_FALSE(RealScheduleFromJson(
                   base + R"({"real.net":[{"kind":"delay","at_ns":1,"end_ns":5,"node":1,"delay_ms":5,"jitter_ms":9}]}})")
                   .ok());
  EXPECT_TRUE(RealScheduleFromJson(
                  base + R"({"real.net":[{"kind":"delay","at_ns":1,"end_ns":5,"node":1,"delay_ms":9,"jitter_ms":5}]}})")
                  .ok());
  EXPECT_FALSE(
      RealScheduleFromJson(base + R"({"real.membership":[{"kind":"x","at_ns":5,"node":1}]}})").ok());
  absl::StatusOr<RealSchedule> nodes = RealScheduleFromJson(
      R"({"format":"crema-schedule/1","scenario":"cache","seed":1,"params":{"nodes":{"value":500,"simplest":5},"safety_duration_ns":{"value":1,"simplest":1}}})");
  ASSERT_FALSE(nodes.ok());
  EXPECT_NE(nodes.status().message().find("nodes"), std::string::npos);
}

}  // namespace
}  // namespace crema::chaos
