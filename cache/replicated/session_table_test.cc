// SessionTable: retries answered from kept results, late duplicates refused, floors, expiry,
// bounds, and the checkpoint encoding.
#include "cache/replicated/session_table.h"

#include "gtest/gtest.h"

namespace crema::replicated {
namespace {

constexpr int64_t kSecond = 1'000'000'000;

Command Call(uint64_t session, uint64_t seq, uint64_t floor, int64_t issued_ns) {
  Command c;
  c.kind = CommandKind::kIncrement;
  c.key = "k";
  c.delta = 1;
  c.session = session;
  c.seq = seq;
  c.ack_floor = floor;
  c.issued_unix_ns = issued_ns;
  return c;
}

// Applies `c` if the table admits it; returns the answer.
Result Decide(SessionTable& t, const Command& c, int64_t now, int64_t answer) {
  if (std::optional<Result> early = t.Admit(c, now)) return *early;
  Result r;
  r.integer = answer;
  t.Record(c, r);
  return r;
}

TEST(SessionTableTest, RetriesGetTheFirstAnswerAndLateDuplicatesAreRefused) {
  SessionTable t(60 * kSecond, 10 * kSecond);
  EXPECT_EQ(Decide(t, Call(1, 1, 1, 0), 0, 100).integer, 100);
  EXPECT_EQ(Decide(t, Call(1, 2, 1, 0), 0, 200).integer, 200);
  // A retry of seq 1 is answered from the kept result, not applied again.
  Result again = Decide(t, Call(1, 1, 1, 0), kSecond, 999);
  EXPECT_EQ(again.code, ResultCode::kOk);
  EXPECT_EQ(again.integer, 100);
  // Out of order within the window is fine: seq 4 before seq 3.
  EXPECT_EQ(Decide(t, Call(1, 4, 1, 0), kSecond, 400).integer, 400);
  EXPECT_EQ(Decide(t, Call(1, 3, 1, 0), kSecond, 300).integer, 300);
  EXPECT_EQ(t.kept_results(), 4u);
  // The origin finished everything below 4: results below are dropped, and a late duplicate of
  // seq 2 is refused instead of being applied a second time.
  EXPECT_EQ(Decide(t, Call(1, 5, 4, 0), kSecond, 500).integer, 500);
  EXPECT_EQ(t.kept_results(), 2u);
  EXPECT_EQ(Decide(t, Call(1, 2, 1, 0), kSecond, 222).code, ResultCode::kStale);
}

TEST(SessionTableTest, OldRequestsAreRefusedUnlessAlreadyApplied) {
  SessionTable t(60 * kSecond, 10 * kSecond);
  EXPECT_EQ(Decide(t, Call(1, 1, 1, 0), kSecond, 1).code, ResultCode::kOk);
  // Issued long ago, never applied: refused.
  EXPECT_EQ(Decide(t, Call(1, 2, 1, 0), 20 * kSecond, 2).code, ResultCode::kExpiredRequest);
  // Applied earlier: its retry still gets the answer, however old.
  EXPECT_EQ(Decide(t, Call(1, 1, 1, 0), 20 * kSecond, 9).integer, 1);
  // An issue time from a wildly wrong clock does not overflow.
  EXPECT_EQ(Decide(t, Call(2, 1, 1, INT64_MIN), 20 * kSecond, 3).code,
            ResultCode::kExpiredRequest);
}

TEST(SessionTableTest, IdleSessionsExpireByLogTime) {
  SessionTable t(60 * kSecond, 10 * kSecond);
  (void)Decide(t, Call(1, 1, 1, 0), 0, 1);
  (void)Decide(t, Call(2, 1, 1, 50 * kSecond), 50 * kSecond, 1);
  t.Expire(59 * kSecond);
  EXPECT_EQ(t.size(), 2u);
  t.Expire(61 * kSecond);
  EXPECT_EQ(t.size(), 1u);  // session 1 idle > 60 s
  // Its late duplicate is now too old to apply (session_ttl > max_request_age makes this so).
  EXPECT_EQ(Decide(t, Call(1, 1, 1, 0), 61 * kSecond, 7).code, ResultCode::kExpiredRequest);
  EXPECT_EQ(t.kept_results(), 1u);
}

TEST(SessionTableTest, BoundsRefuseRatherThanForget) {
  SessionTable t(60 * kSecond, 10 * kSecond);
  for (uint64_t seq = 1; seq <= SessionTable::kMaxResultsPerSession; ++seq) {
    ASSERT_EQ(Decide(t, Call(1, seq, 1, 0), 0, 1).code, ResultCode::kOk);
  }
  EXPECT_EQ(Decide(t, Call(1, SessionTable::kMaxResultsPerSession + 1, 1, 0), 0, 1).code,
            ResultCode::kSessionLimit);
  // Acknowledging makes room again.
  EXPECT_EQ(Decide(t, Call(1, SessionTable::kMaxResultsPerSession + 1,
                          SessionTable::kMaxResultsPerSession + 1, 0), 0, 1).code,
            ResultCode::kOk);
}

TEST(SessionTableTest, EncodeDecodeKeepsEverythingAndRejectsGarbage) {
  SessionTable t(60 * kSecond, 10 * kSecond);
  (void)Decide(t, Call(1, 1, 1, 0), 0, 10);
  (void)Decide(t, Call(1, 3, 1, 0), 0, 30);
  (void)Decide(t, Call(9, 5, 5, 0), kSecond, 50);
  WireWriter w;
  t.Encode(w);
  const std::string bytes = std::move(w).Finish();
  SessionTable copy(60 * kSecond, 10 * kSecond);
  WireReader r(bytes);
  ASSERT_TRUE(copy.Decode(r).ok());
  EXPECT_TRUE(r.done());
  EXPECT_EQ(copy.size(), 2u);
  EXPECT_EQ(copy.kept_results(), 3u);
  EXPECT_EQ(Decide(copy, Call(1, 3, 1, 0), kSecond, 0).integer, 30);
  for (size_t cut = 0; cut < bytes.size(); ++cut) {
    SessionTable broken(60 * kSecond, 10 * kSecond);
    WireReader truncated(std::string_view(bytes).substr(0, cut));
    EXPECT_FALSE(broken.Decode(truncated).ok()) << "cut at " << cut;
    EXPECT_EQ(broken.size(), 0u);
  }
}

}  // namespace
}  // namespace crema::replicated
