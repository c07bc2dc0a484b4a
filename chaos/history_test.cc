#include "chaos/history.h"

#include <string>

#include "absl/time/time.h"
#include "gtest/gtest.h"

namespace crema::chaos {
namespace {

TEST(HistoryTest, BuildersMakeValidOperations) {
  const History h = {
      PutOp(1, "k", "v", 0, 10),
      GetOp(2, "k", "v", 1, 11),
      GetOp(2, "k", std::nullopt, 12, 13),
      DeleteOp(3, "k", 2, 12),
      CasOp(4, "k", std::nullopt, "w", /*swapped=*/true, 3, 14),
      CasOp(4, "k", "x", "w", /*swapped=*/false, 15, 16),
      Indeterminate(PutOp(5, "k", "z", 4, 0)),
      Indeterminate(GetOp(6, "k", "v", 4, 5)),
  };
  EXPECT_TRUE(ValidateHistory(h).ok()) << ValidateHistory(h);
  EXPECT_EQ(h[2].outcome, Outcome::kAbsent);
  EXPECT_EQ(h[5].outcome, Outcome::kFail);
  EXPECT_FALSE(h[6].return_ns.has_value());
  EXPECT_TRUE(h[7].value.empty()) << "an indeterminate get read nothing";
}

TEST(HistoryTest, ValidateRejectsMalformedOperations) {
  Operation returns_early = PutOp(1, "k", "v", 10, 5);
  EXPECT_FALSE(ValidateOperation(returns_early).ok());

  Operation negative = PutOp(1, "k", "v", -1, 5);
  EXPECT_FALSE(ValidateOperation(negative).ok());

  Operation indeterminate_with_return = PutOp(1, "k", "v", 0, 5);
  indeterminate_with_return.outcome = Outcome::kIndeterminate;
  EXPECT_FALSE(ValidateOperation(indeterminate_with_return).ok());

  Operation ok_without_return = Indeterminate(PutOp(1, "k", "v", 0, 5));
  ok_without_return.outcome = Outcome::kOk;
  EXPECT_FALSE(ValidateOperation(ok_without_return).ok());

  Operation put_absent = PutOp(1, "k", "v", 0, 5);
  put_absent.outcome = Outcome::kAbsent;
  EXPECT_FALSE(ValidateOperation(put_absent).ok());

  Operation get_fail = GetOp(1, "k", "v", 0, 5);
  get_fail.outcome = Outcome::kFail;
  EXPECT_FALSE(ValidateOperation(get_fail).ok());

  Operation delete_with_value = DeleteOp(1, "k", 0, 5);
  delete_with_value.value = "x";
  EXPECT_FALSE(ValidateOperation(delete_with_value).ok());

  Operation put_with_expected = PutOp(1, "k", "v", 0, 5);
  put_with_expected.expected = "e";
  EXPECT_FALSE(ValidateOperation(put_with_expected).ok());

  Operation absent_with_value = GetOp(1, "k", std::nullopt, 0, 5);
  absent_with_value.value = "x";
  EXPECT_FALSE(ValidateOperation(absent_with_value).ok());

  EXPECT_FALSE(ValidateOperation(PutOp(1, std::string(kMaxKeyBytes + 1, 'k'), "v", 0, 1)).ok());
  EXPECT_FALSE(ValidateOperation(PutOp(1, "k", std::string(kMaxValueBytes + 1, 'v'), 0, 1)).ok());
  EXPECT_TRUE(ValidateOperation(PutOp(1, std::string(kMaxKeyBytes, 'k'), "v", 0, 1)).ok());
}

TEST(HistoryTest, ValidateHistoryNamesTheBadOperation) {
  const History h = {PutOp(1, "k", "v", 0, 10), PutOp(1, "k", "v", 10, 5)};
  const absl::Status status = ValidateHistory(h);
  ASSERT_FALSE(status.ok());
  EXPECT_NE(status.message().find("operation #1"), absl::string_view::npos) << status;
}

TEST(HistoryTest, FormatOperationIsReadable) {
  EXPECT_EQ(FormatOperation(CasOp(3, "k", "a", "b", false, 100, 250), 12),
            "#12 client 3 cas(\"k\", expect \"a\", new \"b\") -> fail [100, 250]");
  EXPECT_EQ(FormatOperation(GetOp(1, "k\n", std::nullopt, 1, 2), 0),
            "#0 client 1 get(\"k\\n\") -> absent [1, 2]");
  EXPECT_EQ(FormatOperation(Indeterminate(DeleteOp(1, "k", 5, 0)), 7),
            "#7 client 1 delete(\"k\") -> indeterminate [5, inf]");
  const std::string long_value(100, 'x');
  EXPECT_NE(FormatOperation(PutOp(1, "k", long_value, 0, 1), 0).find("(100 bytes)"),
            std::string::npos);
}

TEST(HistoryRecorderTest, RecordsCompletionsAndLeavesOpenOnesIndeterminate) {
  const absl::Time t0 = absl::FromUnixNanos(1000);
  HistoryRecorder recorder;
  const auto put = recorder.InvokePut(1, "k", "v", t0);
  const auto get = recorder.InvokeGet(2, "k", t0 + absl::Nanoseconds(5));
  const auto cas = recorder.InvokeCas(3, "k", "v", "w", t0 + absl::Nanoseconds(6));
  const auto del = recorder.InvokeDelete(4, "k", t0 + absl::Nanoseconds(7));
  const auto lost = recorder.InvokeCas(5, "k", std::nullopt, "z", t0 + absl::Nanoseconds(8));
  const auto failed = recorder.InvokeGet(6, "k", t0 + absl::Nanoseconds(9));
  const auto timed_out = recorder.InvokePut(7, "k", "q", t0 + absl::Nanoseconds(9));
  recorder.CompleteOk(put, t0 + absl::Nanoseconds(10));
  recorder.CompleteRead(get, "v", t0 + absl::Nanoseconds(20));
  recorder.CompleteCasFailed(cas, t0 + absl::Nanoseconds(30));
  recorder.CompleteError(failed, t0 + absl::Nanoseconds(31));
  recorder.CompleteIndeterminate(timed_out);
  const History h = std::move(recorder).Finish();
  ASSERT_EQ(h.size(), 7u);
  EXPECT_TRUE(ValidateHistory(h).ok()) << ValidateHistory(h);
  EXPECT_EQ(h[put], PutOp(1, "k", "v", 1000, 1010));
  EXPECT_EQ(h[get], GetOp(2, "k", "v", 1005, 1020));
  EXPECT_EQ(h[cas], CasOp(3, "k", "v", "w", false, 1006, 1030));
  EXPECT_EQ(h[del], Indeterminate(DeleteOp(4, "k", 1007, 0)));
  EXPECT_EQ(h[lost], Indeterminate(CasOp(5, "k", std::nullopt, "z", true, 1008, 0)));
  EXPECT_EQ(h[failed].outcome, Outcome::kError);
  EXPECT_EQ(h[timed_out], Indeterminate(PutOp(7, "k", "q", 1009, 0)));
}

TEST(HistoryRecorderDeathTest, CompletingTwiceCrashes) {
  HistoryRecorder recorder;
  const auto id = recorder.InvokePut(1, "k", "v", absl::UnixEpoch());
  recorder.CompleteOk(id, absl::UnixEpoch());
  EXPECT_DEATH(recorder.CompleteOk(id, absl::UnixEpoch()), "twice");
}

}  // namespace
}  // namespace crema::chaos
