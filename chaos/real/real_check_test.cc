#include "chaos/real/real_check.h"

#include "gtest/gtest.h"

namespace crema::chaos {
namespace {

TEST(RealCheckTest, ACleanHistoryPasses) {
  History h = {PutOp(1, "k", "a", 0, 10), GetOp(2, "k", "a", 20, 30)};
  RealCheckResult r = CheckRealHistory(h, std::vector<OracleInfo>(h.size()), {});
  EXPECT_EQ(r.verdict, Verdict::kLinearizable);
  EXPECT_EQ(r.violations(), 0u) << r.Describe();
}

TEST(RealCheckTest, AStaleReadIsAViolation) {
  History h = {PutOp(1, "k", "a", 0, 10), PutOp(1, "k", "b", 20, 30), GetOp(2, "k", "a", 40, 50)};
  RealCheckResult r = CheckRealHistory(h, std::vector<OracleInfo>(h.size()), {});
  EXPECT_EQ(r.verdict, Verdict::kNotLinearizable);
  EXPECT_EQ(r.violations(), 1u);
  EXPECT_NE(r.Describe().find("k"), std::string::npos);
}

TEST(RealCheckTest, ALostAcknowledgedWriteIsCaughtByTheFinalRead) {
  History h = {PutOp(1, "k", "a", 0, 10), GetOp(9, "k", std::nullopt, 100, 110)};
  EXPECT_EQ(CheckRealHistory(h, std::vector<OracleInfo>(h.size()), {}).violations(), 1u);
}

TEST(RealCheckTest, AReadPastATtlPlusSkewIsAViolation) {
  Operation put = PutOp(1, "t", "v", 0, 10);
  put.ttl = true;
  History h = {put, GetOp(2, "t", "v", 2'000'000'000, 2'000'000'010)};
  std::vector<OracleInfo> info(h.size());
  info[0].ttl_ns = 1'000'000'000;
  RealCheckResult r = CheckRealHistory(h, info, {.max_skew = absl::Milliseconds(500)});
  EXPECT_GE(r.oracles.violation_count, 1u) << r.Describe();
  EXPECT_GE(r.violations(), 1u);
}

TEST(RealCheckTest, AnUncheckableHistoryDoesNotPass) {
  History h;
  for (int i = 0; i < 40; ++i) h.push_back(Indeterminate(PutOp(i, "k", "v" + std::to_string(i), i, 0)));
  h.push_back(GetOp(99, "k", "v3", 100, 200));
  RealCheckResult r = CheckRealHistory(h, std::vector<OracleInfo>(h.size()), {.max_steps = 5});
  EXPECT_EQ(r.verdict, Verdict::kUnknown);
  EXPECT_EQ(r.violations(), 1u);
}

}  // namespace
}  // namespace crema::chaos
