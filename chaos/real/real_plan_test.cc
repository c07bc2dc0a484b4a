#include "chaos/real/real_plan.h"

#include <csignal>

#include "gtest/gtest.h"

namespace crema::chaos {
namespace {

RealPlanner Planner() {
  return RealPlanner({{1, "10.9.0.1"}, {2, "10.9.0.2"}, {3, "10.9.0.3"}},
                     {.max_clock_offset = absl::Milliseconds(100)});
}

std::vector<std::string> Lines(const RealPlan& plan) {
  std::vector<std::string> out;
  for (const RealStep& s : plan.steps) out.push_back(s.ToString());
  return out;
}

TEST(RealPlanTest, PartitionCutsEachDirectedLinkAtItsReceiver) {
  RealPlanner p = Planner();
  NemesisAction cut{.kind = NemesisKind::kPartition, .shape = "asymmetric",
                    .blocked = {{1, 2}, {3, 2}}};
  EXPECT_EQ(Lines(p.Plan(cut)),
            (std::vector<std::string>{"n2: iptables -w -A CREMA_PART -s 10.9.0.1 -j DROP",
                                      "n2: iptables -w -A CREMA_PART -s 10.9.0.3 -j DROP"}));
  EXPECT_EQ(p.Plan(cut).skipped, "a partition is already in place");
  EXPECT_EQ(Lines(p.Plan({.kind = NemesisKind::kHeal})),
            (std::vector<std::string>{"n1: iptables -w -F CREMA_PART",
                                      "n2: iptables -w -F CREMA_PART",
                                      "n3: iptables -w -F CREMA_PART"}));
  EXPECT_FALSE(p.Plan({.kind = NemesisKind::kHeal}).skipped.empty());
}

TEST(RealPlanTest, ClogAddsAndUnclogDeletesTheSameRule) {
  RealPlanner p = Planner();
  EXPECT_EQ(Lines(p.Plan({.kind = NemesisKind::kClog, .node = 3, .peer = 1})),
            (std::vector<std::string>{"n1: iptables -w -A CREMA_CLOG -s 10.9.0.3 -j DROP"}));
  EXPECT_EQ(Lines(p.Plan({.kind = NemesisKind::kUnclog, .node = 3, .peer = 1})),
            (std::vector<std::string>{"n1: iptables -w -D CREMA_CLOG -s 10.9.0.3 -j DROP"}));
  EXPECT_EQ(p.Plan({.kind = NemesisKind::kUnclog, .node = 3, .peer = 1}).skipped,
            "link not clogged");
}

TEST(RealPlanTest, ProcessFaultsFollowTheSimulatedRunnersPreconditions) {
  RealPlanner p = Planner();
  EXPECT_FALSE(p.Plan({.kind = NemesisKind::kRestart, .node = 1}).skipped.empty());
  EXPECT_FALSE(p.Plan({.kind = NemesisKind::kResume, .node = 1}).skipped.empty());
  RealPlan pause = p.Plan({.kind = NemesisKind::kPause, .node = 1});
  ASSERT_EQ(pause.steps.size(), 1u);
  EXPECT_EQ(pause.steps[0].signal, SIGSTOP);
  // A crash of a paused node continues it first (a stopped process still dies of SIGKILL, but
  // the planner's state must not keep it "paused").
  RealPlan crash = p.Plan({.kind = NemesisKind::kCrash, .node = 1});
  ASSERT_EQ(crash.steps.size(), 2u);
  EXPECT_EQ(crash.steps[0].signal, SIGCONT);
  EXPECT_EQ(crash.steps[1].signal, SIGKILL);
  EXPECT_FALSE(p.up(1));
  EXPECT_FALSE(p.Plan({.kind = NemesisKind::kCrash, .node = 1}).skipped.empty());
  EXPECT_FALSE(p.Plan({.kind = NemesisKind::kPause, .node = 1}).skipped.empty());
  EXPECT_EQ(Lines(p.Plan({.kind = NemesisKind::kRestart, .node = 1})),
            (std::vector<std::string>{"n1: start"}));
  EXPECT_TRUE(p.up(1));
}

TEST(RealPlanTest, ClockOffsetsStayWithinTheBound) {
  RealPlanner p = Planner();
  RealPlan a = p.Plan({.kind = NemesisKind::kClockStep, .node = 2, .delta = absl::Milliseconds(70)});
  ASSERT_EQ(a.steps.size(), 1u);
  EXPECT_EQ(a.steps[0].clock_offset, absl::Milliseconds(70));
  RealPlan b = p.Plan({.kind = NemesisKind::kClockStep, .node = 2, .delta = absl::Milliseconds(70)});
  ASSERT_EQ(b.steps.size(), 1u);
  EXPECT_EQ(b.steps[0].clock_offset, absl::Milliseconds(100));
  EXPECT_FALSE(
      p.Plan({.kind = NemesisKind::kClockStep, .node = 2, .delta = absl::Seconds(5)}).skipped.empty());
  RealPlan c = p.Plan({.kind = NemesisKind::kClockStep, .node = 2, .delta = -absl::Seconds(5)});
  EXPECT_EQ(c.steps[0].clock_offset, -absl::Milliseconds(100));
  EXPECT_EQ(p.clock_offset(2), -absl::Milliseconds(100));
}

TEST(RealPlanTest, HealAllEndsEveryFault) {
  RealPlanner p = Planner();
  (void)p.Plan({.kind = NemesisKind::kCrash, .node = 1});
  (void)p.Plan({.kind = NemesisKind::kPause, .node = 2});
  (void)p.Plan({.kind = NemesisKind::kDiskFull, .node = 3});
  (void)p.Plan({.kind = NemesisKind::kClog, .node = 3, .peer = 1});
  std::vector<std::string> heal = Lines(p.HealAll());
  auto has = [&](const std::string& line) {
    return std::find(heal.begin(), heal.end(), line) != heal.end();
  };
  EXPECT_TRUE(has("n1: start"));
  EXPECT_TRUE(has("n2: signal " + std::to_string(SIGCONT)));
  EXPECT_TRUE(has("n3: free disk"));
  EXPECT_TRUE(has("n1: iptables -w -F CREMA_CLOG"));
  EXPECT_TRUE(has("n3: iptables -w -F CREMA_LOSS"));
  EXPECT_TRUE(p.up(1));
  EXPECT_TRUE(p.Plan({.kind = NemesisKind::kUnclog, .node = 3, .peer = 1}).steps.empty());
}

TEST(RealPlanTest, NetworkTroubleRules) {
  EXPECT_EQ(RealPlanner::LossRule(15),
            (std::vector<std::string>{"-w", "-A", "CREMA_LOSS", "-m", "statistic", "--mode",
                                      "random", "--probability", "0.15", "-j", "DROP"}));
  EXPECT_EQ(RealPlanner::LossRule(0), (std::vector<std::string>{"-w", "-F", "CREMA_LOSS"}));
  const auto on = RealPlanner::DelayRules(true, 7000);
  ASSERT_EQ(on.size(), 2u);
  EXPECT_EQ(on[0], (std::vector<std::string>{"-w", "-A", "CREMA_DELAY", "-p", "tcp", "--dport",
                                             "7000", "-j", "NFQUEUE", "--queue-num", "0",
                                             "--queue-bypass"}));
  EXPECT_EQ(on[1][6], "7000");
  EXPECT_EQ(on[1][5], "--sport");
  EXPECT_EQ(RealPlanner::DelayRules(false, 7000),
            (std::vector<std::vector<std::string>>{{"-w", "-F", "CREMA_DELAY"}}));
  // Every chain exists and is hooked once: delay on the way out, the others on the way in.
  const auto setup = RealPlanner::SetupRules();
  EXPECT_EQ(setup.size(), 8u);
  EXPECT_NE(std::find(setup.begin(), setup.end(),
                      std::vector<std::string>{"-w", "-A", "OUTPUT", "-j", "CREMA_DELAY"}),
            setup.end());
}

TEST(RealPlanTest, UnknownNodesAndUnsupportedKindsAreSkipped) {
  RealPlanner p = Planner();
  EXPECT_EQ(p.Plan({.kind = NemesisKind::kCrash, .node = 9}).skipped, "no node 9");
  EXPECT_FALSE(p.Plan({.kind = NemesisKind::kDiskErrors, .node = 1}).skipped.empty());
  p.Forget(2);
  EXPECT_EQ(p.Plan({.kind = NemesisKind::kPause, .node = 2}).skipped, "no node 2");
  EXPECT_EQ(p.nodes(), (std::vector<NodeId>{1, 3}));
}

}  // namespace
}  // namespace crema::chaos
