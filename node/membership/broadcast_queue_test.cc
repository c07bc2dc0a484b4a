#include "node/membership/broadcast_queue.h"

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "node/membership/codec.h"
#include "node/membership/lifeguard.h"

namespace crema::membership {
namespace {

MemberUpdate About(NodeId id, Incarnation incarnation = 0, size_t address_bytes = 8) {
  MemberUpdate u;
  u.member.id = id;
  u.member.incarnation = incarnation;
  u.member.address = std::string(address_bytes, 'a');
  u.accuser = id;
  return u;
}

std::vector<NodeId> FillIds(BroadcastQueue& queue, size_t budget, int limit) {
  std::vector<MemberUpdate> out;
  queue.Fill(budget, limit, &out);
  std::vector<NodeId> ids;
  for (const MemberUpdate& u : out) ids.push_back(u.member.id);
  return ids;
}

TEST(BroadcastQueueTest, EachUpdateIsSentExactlyTransmitLimitTimes) {
  BroadcastQueue queue(100);
  queue.Enqueue(About(1));
  for (int i = 0; i < 5; ++i) EXPECT_EQ(FillIds(queue, 1000, 5), std::vector<NodeId>{1});
  EXPECT_TRUE(FillIds(queue, 1000, 5).empty());
  EXPECT_TRUE(queue.empty());
}

TEST(BroadcastQueueTest, LeastSentFirstThenNewest) {
  BroadcastQueue queue(100);
  const size_t one = EncodedUpdateBytes(About(1));
  queue.Enqueue(About(1));
  EXPECT_EQ(FillIds(queue, one, 10), std::vector<NodeId>{1});  // 1 now sent once
  queue.Enqueue(About(2));
  queue.Enqueue(About(3));
  // 3 and 2 have never been sent (3 is newer); 1 has.
  EXPECT_EQ(FillIds(queue, one, 10), std::vector<NodeId>{3});
  EXPECT_EQ(FillIds(queue, one, 10), std::vector<NodeId>{2});
  EXPECT_EQ(FillIds(queue, 3 * one, 10), (std::vector<NodeId>{3, 2, 1}));
}

TEST(BroadcastQueueTest, NewerClaimReplacesOlderAndResetsCount) {
  BroadcastQueue queue(100);
  queue.Enqueue(About(1, 0));
  FillIds(queue, 1000, 10);
  EXPECT_EQ(queue.TransmitsOf(1), 1);
  queue.Enqueue(About(1, 1));
  EXPECT_EQ(queue.size(), 1u);
  EXPECT_EQ(queue.TransmitsOf(1), 0);
  std::vector<MemberUpdate> out;
  queue.Fill(1000, 10, &out);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].member.incarnation, 1u);
}

TEST(BroadcastQueueTest, OwnClaimsThenFailuresThenAliveWhenSpaceIsShort) {
  BroadcastQueue queue(100);
  const size_t one = EncodedUpdateBytes(About(1));
  queue.Enqueue(About(1), BroadcastPriority::kSelf);
  queue.Enqueue(About(2), BroadcastPriority::kAlive);
  queue.Enqueue(About(3), BroadcastPriority::kFailure);
  queue.Enqueue(About(4), BroadcastPriority::kAlive);
  EXPECT_EQ(FillIds(queue, one, 10), std::vector<NodeId>{1});
  // Our own claim, even once sent, still goes before anything about others.
  EXPECT_EQ(FillIds(queue, 2 * one, 10), (std::vector<NodeId>{1, 3}));
  EXPECT_EQ(FillIds(queue, 4 * one, 10), (std::vector<NodeId>{1, 3, 4, 2}));
}

TEST(BroadcastQueueTest, MembersTheMessageAlreadyCarriesAreSkippedAndNotCounted) {
  BroadcastQueue queue(100);
  queue.Enqueue(About(1));
  queue.Enqueue(About(2));
  std::vector<MemberUpdate> out = {About(1, 5)};  // an explicit claim about member 1
  queue.Fill(1000, 10, &out);
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[1].member.id, 2u);
  EXPECT_EQ(queue.TransmitsOf(1), 0);
  EXPECT_EQ(queue.TransmitsOf(2), 1);
}

TEST(BroadcastQueueTest, SkipsWhatDoesNotFitAndStaysBounded) {
  BroadcastQueue queue(3);
  queue.Enqueue(About(1, 0, 200));
  queue.Enqueue(About(2, 0, 1));
  EXPECT_EQ(FillIds(queue, 50, 10), std::vector<NodeId>{2});  // the big one waits
  for (NodeId id = 3; id <= 10; ++id) queue.Enqueue(About(id));
  EXPECT_EQ(queue.size(), 3u);
}

TEST(LifeguardTest, LocalHealthIsClamped) {
  LocalHealth health(8);
  health.Apply(-3);
  EXPECT_EQ(health.score(), 0);
  health.Apply(20);
  EXPECT_EQ(health.score(), 8);
  EXPECT_EQ(health.Scale(absl::Seconds(1)), absl::Seconds(9));
}

TEST(LifeguardTest, SuspicionTimeoutFormula) {
  EXPECT_EQ(SuspicionMinTimeout(4, 5, absl::Seconds(1)), absl::Seconds(4));
  EXPECT_EQ(SuspicionMinTimeout(4, 1000, absl::Seconds(1)), absl::Seconds(12));
  EXPECT_EQ(SuspicionTimeout(absl::Seconds(4), absl::Seconds(24), 0, 0), absl::Seconds(4));
  EXPECT_EQ(SuspicionTimeout(absl::Seconds(4), absl::Seconds(24), 3, 0), absl::Seconds(24));
  EXPECT_EQ(SuspicionTimeout(absl::Seconds(4), absl::Seconds(24), 3, 3), absl::Seconds(4));
  EXPECT_EQ(SuspicionTimeout(absl::Seconds(4), absl::Seconds(24), 3, 9), absl::Seconds(4));
  absl::Duration previous = absl::InfiniteDuration();
  for (int c = 0; c <= 3; ++c) {
    const absl::Duration t = SuspicionTimeout(absl::Seconds(4), absl::Seconds(24), 3, c);
    EXPECT_LT(t, previous);
    previous = t;
  }
}

}  // namespace
}  // namespace crema::membership
