// Hand-written histories with known verdicts, each checked per key and as a whole.
#include "chaos/linearizability.h"

#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace crema::chaos {
namespace {

constexpr int64_t kNever = 0;  // Return time placeholder for Indeterminate(...).

struct Case {
  std::string name;
  History history;
  Verdict expected;
};

std::vector<Case> Cases() {
  const std::optional<std::string> kAbsent = std::nullopt;
  return {
      {"empty history", {}, Verdict::kLinearizable},
      {"sequential put then get",
       {PutOp(1, "k", "a", 0, 10), GetOp(2, "k", "a", 20, 30)},
       Verdict::kLinearizable},
      {"read before any write is absent",
       {GetOp(1, "k", kAbsent, 0, 10), PutOp(2, "k", "a", 20, 30)},
       Verdict::kLinearizable},
      {"stale read after a completed write",
       {PutOp(1, "k", "a", 0, 10), PutOp(1, "k", "b", 20, 30), GetOp(2, "k", "a", 40, 50)},
       Verdict::kNotLinearizable},
      {"lost write: a later read misses it",
       {PutOp(1, "k", "a", 0, 10), GetOp(2, "k", kAbsent, 20, 30)},
       Verdict::kNotLinearizable},
      {"read sees a value before its write was invoked",
       {GetOp(1, "k", "a", 0, 10), PutOp(2, "k", "a", 20, 30)},
       Verdict::kNotLinearizable},
      {"read of a value never written",
       {PutOp(1, "k", "a", 0, 10), GetOp(2, "k", "zzz", 5, 30)},
       Verdict::kNotLinearizable},
      {"reads concurrent with a write see old then new",
       {PutOp(1, "k", "a", 0, 100), GetOp(2, "k", kAbsent, 10, 20), GetOp(2, "k", "a", 30, 40)},
       Verdict::kLinearizable},
      {"reads concurrent with a write see new then old",
       {PutOp(1, "k", "a", 0, 100), GetOp(2, "k", "a", 10, 20), GetOp(2, "k", kAbsent, 30, 40)},
       Verdict::kNotLinearizable},
      {"concurrent writes, a wins",
       {PutOp(1, "k", "a", 0, 100), PutOp(2, "k", "b", 0, 100), GetOp(3, "k", "a", 200, 210)},
       Verdict::kLinearizable},
      {"concurrent writes, b wins",
       {PutOp(1, "k", "a", 0, 100), PutOp(2, "k", "b", 0, 100), GetOp(3, "k", "b", 200, 210)},
       Verdict::kLinearizable},
      {"concurrent writes observed in both orders mid-flight",
       {PutOp(1, "k", "a", 0, 100), PutOp(2, "k", "b", 0, 100), GetOp(3, "k", "b", 10, 20),
        GetOp(3, "k", "a", 30, 40)},
       Verdict::kLinearizable},
      {"concurrent writes: two readers disagree on the final value",
       {PutOp(1, "k", "a", 0, 100), PutOp(2, "k", "b", 0, 100), GetOp(3, "k", "a", 200, 210),
        GetOp(4, "k", "b", 220, 230)},
       Verdict::kNotLinearizable},
      {"concurrent writes seen b, a, b",
       {PutOp(1, "k", "a", 0, 100), PutOp(2, "k", "b", 0, 100), GetOp(3, "k", "b", 10, 20),
        GetOp(3, "k", "a", 30, 40), GetOp(3, "k", "b", 50, 60)},
       Verdict::kNotLinearizable},
      {"touching intervals are concurrent",
       {PutOp(1, "k", "a", 0, 10), GetOp(2, "k", kAbsent, 10, 20)},
       Verdict::kLinearizable},
      {"cas succeeds on the expected value",
       {PutOp(1, "k", "a", 0, 10), CasOp(2, "k", "a", "b", true, 20, 30),
        GetOp(3, "k", "b", 40, 50)},
       Verdict::kLinearizable},
      {"cas fails although the expected value was there",
       {PutOp(1, "k", "a", 0, 10), CasOp(2, "k", "a", "b", false, 20, 30)},
       Verdict::kNotLinearizable},
      {"cas fails on another value",
       {PutOp(1, "k", "c", 0, 10), CasOp(2, "k", "a", "b", false, 20, 30),
        GetOp(3, "k", "c", 40, 50)},
       Verdict::kLinearizable},
      {"cas succeeds on a value that was not there",
       {PutOp(1, "k", "c", 0, 10), CasOp(2, "k", "a", "b", true, 20, 30)},
       Verdict::kNotLinearizable},
      {"cas expecting absent succeeds on an empty key",
       {CasOp(1, "k", kAbsent, "x", true, 0, 10), GetOp(2, "k", "x", 20, 30)},
       Verdict::kLinearizable},
      {"cas expecting absent fails on an empty key",
       {CasOp(1, "k", kAbsent, "x", false, 0, 10)},
       Verdict::kNotLinearizable},
      {"cas expecting absent fails on a present key",
       {PutOp(1, "k", "a", 0, 10), CasOp(2, "k", kAbsent, "x", false, 20, 30)},
       Verdict::kLinearizable},
      {"two concurrent cas from the same value both succeed",
       {PutOp(1, "k", "a", 0, 10), CasOp(2, "k", "a", "b", true, 20, 30),
        CasOp(3, "k", "a", "c", true, 20, 30)},
       Verdict::kNotLinearizable},
      {"two concurrent cas from the same value, one fails",
       {PutOp(1, "k", "a", 0, 10), CasOp(2, "k", "a", "b", true, 20, 30),
        CasOp(3, "k", "a", "c", false, 20, 30), GetOp(4, "k", "b", 40, 50)},
       Verdict::kLinearizable},
      {"failed cas must come after the concurrent successful one",
       {PutOp(1, "k", "a", 0, 10), CasOp(2, "k", "a", "b", true, 20, 100),
        CasOp(3, "k", "b", "c", false, 30, 40), GetOp(4, "k", "b", 110, 120)},
       Verdict::kLinearizable},
      {"indeterminate put that took effect",
       {Indeterminate(PutOp(1, "k", "a", 0, kNever)), GetOp(2, "k", "a", 100, 110)},
       Verdict::kLinearizable},
      {"indeterminate put that did not take effect",
       {Indeterminate(PutOp(1, "k", "a", 0, kNever)), GetOp(2, "k", kAbsent, 100, 110)},
       Verdict::kLinearizable},
      {"indeterminate put that took effect late",
       {Indeterminate(PutOp(1, "k", "a", 0, kNever)), GetOp(2, "k", kAbsent, 100, 110),
        GetOp(2, "k", "a", 1000, 1010)},
       Verdict::kLinearizable},
      {"indeterminate put cannot be undone",
       {Indeterminate(PutOp(1, "k", "a", 0, kNever)), GetOp(2, "k", "a", 100, 110),
        GetOp(2, "k", kAbsent, 1000, 1010)},
       Verdict::kNotLinearizable},
      {"indeterminate put invoked after the read that saw it",
       {GetOp(2, "k", "a", 0, 10), Indeterminate(PutOp(1, "k", "a", 20, kNever))},
       Verdict::kNotLinearizable},
      {"indeterminate cas that took effect",
       {PutOp(1, "k", "a", 0, 10), Indeterminate(CasOp(2, "k", "a", "b", true, 20, kNever)),
        GetOp(3, "k", "b", 30, 40)},
       Verdict::kLinearizable},
      {"indeterminate cas cannot take effect twice",
       {PutOp(1, "k", "a", 0, 10), Indeterminate(CasOp(2, "k", "a", "b", true, 20, kNever)),
        GetOp(3, "k", "b", 30, 40), PutOp(1, "k", "a", 50, 60), GetOp(3, "k", "b", 70, 80)},
       Verdict::kNotLinearizable},
      {"indeterminate cas cannot apply on the wrong value",
       {PutOp(1, "k", "c", 0, 10), Indeterminate(CasOp(2, "k", "a", "b", true, 20, kNever)),
        GetOp(3, "k", "b", 30, 40)},
       Verdict::kNotLinearizable},
      {"indeterminate put of an unread value explains a failed cas",
       {PutOp(1, "k", "a", 0, 10), Indeterminate(PutOp(2, "k", "x", 20, kNever)),
        CasOp(3, "k", "a", "b", false, 30, 40)},
       Verdict::kLinearizable},
      {"failed cas without any other write",
       {PutOp(1, "k", "a", 0, 10), Indeterminate(PutOp(2, "j", "x", 20, kNever)),
        CasOp(3, "k", "a", "b", false, 30, 40)},
       Verdict::kNotLinearizable},
      {"indeterminate get constrains nothing",
       {PutOp(1, "k", "a", 0, 10), Indeterminate(GetOp(2, "k", kAbsent, 20, kNever))},
       Verdict::kLinearizable},
      {"errored put has no effect",
       {[] {
          Operation op = PutOp(1, "k", "a", 0, 10);
          op.outcome = Outcome::kError;
          return op;
        }(),
        GetOp(2, "k", "a", 20, 30)},
       Verdict::kNotLinearizable},
      {"delete then read absent",
       {PutOp(1, "k", "a", 0, 10), DeleteOp(2, "k", 20, 30), GetOp(3, "k", kAbsent, 40, 50)},
       Verdict::kLinearizable},
      {"read of a deleted value after the delete completed",
       {PutOp(1, "k", "a", 0, 10), DeleteOp(2, "k", 20, 30), GetOp(3, "k", "a", 40, 50)},
       Verdict::kNotLinearizable},
      {"read concurrent with a delete sees the value",
       {PutOp(1, "k", "a", 0, 10), DeleteOp(2, "k", 20, 60), GetOp(3, "k", "a", 40, 50)},
       Verdict::kLinearizable},
      {"cas expecting absent after a delete",
       {PutOp(1, "k", "a", 0, 10), DeleteOp(2, "k", 20, 30),
        CasOp(3, "k", kAbsent, "b", true, 40, 50), GetOp(3, "k", "b", 60, 70)},
       Verdict::kLinearizable},
      {"keys are independent",
       {PutOp(1, "x", "a", 0, 10), PutOp(2, "y", "b", 0, 10), GetOp(3, "x", "a", 20, 30),
        GetOp(3, "y", "b", 20, 30), GetOp(3, "y", kAbsent, 5, 6)},
       Verdict::kLinearizable},
      {"a violation on one key of several",
       {PutOp(1, "x", "a", 0, 10), PutOp(2, "y", "b", 0, 10), GetOp(3, "x", "a", 20, 30),
        GetOp(3, "y", kAbsent, 20, 30)},
       Verdict::kNotLinearizable},
  };
}

TEST(LinearizabilityTest, HandWrittenHistories) {
  for (const Case& c : Cases()) {
    for (const bool partition : {true, false}) {
      absl::StatusOr<LinearizabilityResult> result =
          CheckLinearizability(c.history, {.partition_by_key = partition});
      ASSERT_TRUE(result.ok()) << c.name << ": " << result.status();
      EXPECT_EQ(result->verdict, c.expected)
          << c.name << (partition ? " (per key)" : " (whole history)") << ": "
          << LinearizabilitySummary(*result) << "\n" << ExplainViolation(c.history, *result);
      EXPECT_EQ(result->violation.has_value(), c.expected == Verdict::kNotLinearizable) << c.name;
    }
  }
}

TEST(LinearizabilityTest, ExplainsAStaleRead) {
  const History h = {
      PutOp(1, "k", "a", 0, 10),       // #0
      PutOp(1, "k", "b", 20, 30),      // #1
      GetOp(2, "k", "b", 25, 35),      // #2
      GetOp(2, "k", "a", 40, 50),      // #3: stale.
      PutOp(3, "other", "x", 0, 100),  // #4
  };
  absl::StatusOr<LinearizabilityResult> result = CheckLinearizability(h);
  ASSERT_TRUE(result.ok());
  ASSERT_EQ(result->verdict, Verdict::kNotLinearizable);
  const Violation& v = *result->violation;
  EXPECT_EQ(v.key, "k");
  EXPECT_EQ(v.linearized_prefix, (std::vector<size_t>{0, 1, 2}));
  EXPECT_EQ(v.state_after_prefix, "\"b\"");
  EXPECT_EQ(v.blocked_operation, 3u);
  EXPECT_EQ(v.candidates, (std::vector<size_t>{3}));
  EXPECT_EQ(result->operations, 5u);
  EXPECT_EQ(result->keys, 2u);
  const std::string summary = LinearizabilitySummary(*result);
  EXPECT_EQ(summary.rfind("linearizable=false ops=5 checked=", 0), 0u) << summary;
  EXPECT_NE(summary.find("key=\"k\" blocked=#3"), std::string::npos) << summary;
  const std::string explanation = ExplainViolation(h, *result);
  EXPECT_NE(explanation.find("#3 client 2 get(\"k\") -> \"a\" [40, 50]"), std::string::npos)
      << explanation;
  EXPECT_NE(explanation.find("state after the prefix: \"b\""), std::string::npos) << explanation;
}

TEST(LinearizabilityTest, DropsOperationsThatCannotMatter) {
  Operation error = PutOp(1, "k", "a", 0, 10);
  error.outcome = Outcome::kError;
  const History h = {
      error,
      Indeterminate(GetOp(1, "k", std::nullopt, 0, 0)),
      PutOp(1, "k", "b", 0, 1),
      Indeterminate(PutOp(2, "k", "unread", 5, 0)),     // Dropped: nobody can observe it.
      Indeterminate(PutOp(2, "k", "read", 5, 0)),       // Kept: read below.
      Indeterminate(CasOp(2, "k", "b", "c", true, 5, 0)),  // Dropped: nobody reads "c".
      GetOp(3, "k", "read", 10, 20),
  };
  absl::StatusOr<LinearizabilityResult> result = CheckLinearizability(h);
  ASSERT_TRUE(result.ok());
  EXPECT_EQ(result->verdict, Verdict::kLinearizable);
  EXPECT_EQ(result->operations, 7u);
  EXPECT_EQ(result->operations_checked, 3u);
}

// Many concurrent writes with a read of each value in between: needs a real search.
History HardHistory(int writers) {
  History h;
  for (int i = 0; i < writers; ++i) {
    h.push_back(PutOp(i, "k", "v" + std::to_string(i), 0, 1000));
    h.push_back(GetOp(100 + i, "k", "v" + std::to_string(writers - 1 - i), 1 + i, 1000));
  }
  h.push_back(GetOp(999, "k", "never", 0, 1000));  // Makes the search exhaust everything.
  return h;
}

TEST(LinearizabilityTest, GivesUpWithUnknownWhenTheStepBudgetRunsOut) {
  const History h = HardHistory(12);
  absl::StatusOr<LinearizabilityResult> result =
      CheckLinearizability(h, {.max_steps = 1000});
  ASSERT_TRUE(result.ok());
  EXPECT_EQ(result->verdict, Verdict::kUnknown) << LinearizabilitySummary(*result);
  EXPECT_NE(result->unknown_reason.find("budget exhausted"), std::string::npos);
  EXPECT_LE(result->steps, 1100u);
  EXPECT_NE(LinearizabilitySummary(*result).find("linearizable=unknown"), std::string::npos);
}

TEST(LinearizabilityTest, GivesUpWithUnknownWhenTheCacheBudgetRunsOut) {
  absl::StatusOr<LinearizabilityResult> result =
      CheckLinearizability(HardHistory(12), {.max_cache_bytes = 4096});
  ASSERT_TRUE(result.ok());
  EXPECT_EQ(result->verdict, Verdict::kUnknown) << LinearizabilitySummary(*result);
}

TEST(LinearizabilityTest, HardHistoryIsDecidedWithEnoughBudget) {
  absl::StatusOr<LinearizabilityResult> result = CheckLinearizability(HardHistory(10));
  ASSERT_TRUE(result.ok());
  EXPECT_EQ(result->verdict, Verdict::kNotLinearizable) << LinearizabilitySummary(*result);
}

TEST(LinearizabilityTest, RejectsMalformedHistories) {
  const History h = {PutOp(1, "k", "a", 10, 5)};
  EXPECT_FALSE(CheckLinearizability(h).ok());
}

}  // namespace
}  // namespace crema::chaos
