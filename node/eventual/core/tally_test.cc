#include "node/eventual/core/tally.h"

#include "gtest/gtest.h"

namespace crema::eventual {
namespace {

Record At(int64_t wall) { return Record{Version{wall, 0, 1}, false, 0, "v"}; }

TEST(WriteTallyTest, StrictQuorumCountsOnlyHomeReplicas) {
  WriteTally tally({{1, kNoNode}, {2, kNoNode}, {4, 3}}, 2, /*sloppy=*/false);
  EXPECT_TRUE(tally.OnAck(4));  // stand-in for 3
  EXPECT_FALSE(tally.satisfied());
  EXPECT_EQ(tally.acks(), 1);
  EXPECT_TRUE(tally.OnAck(1));
  EXPECT_FALSE(tally.OnAck(1));  // duplicate
  EXPECT_FALSE(tally.OnAck(9));  // not a target
  EXPECT_FALSE(tally.satisfied());
  EXPECT_TRUE(tally.OnRefusal(2));
  EXPECT_TRUE(tally.impossible());
}

TEST(WriteTallyTest, SloppyQuorumCountsStandIns) {
  WriteTally tally({{1, kNoNode}, {4, 3}}, 2, /*sloppy=*/true);
  EXPECT_FALSE(tally.impossible());
  tally.OnAck(1);
  tally.OnAck(4);
  EXPECT_TRUE(tally.satisfied());
  EXPECT_TRUE(tally.Pending().empty());
}

TEST(ReadTallyTest, NewestWinsAndStaleCountedRepliesAreListed) {
  ReadTally tally({{1, true}, {2, true}, {3, true}, {7, false}}, 2);
  tally.OnAnswer(7, At(50));  // a stand-in's hint: merged, not counted
  EXPECT_EQ(tally.counted(), 0);
  tally.OnAnswer(1, At(10));
  tally.OnAnswer(2, std::nullopt);
  EXPECT_TRUE(tally.satisfied());
  EXPECT_EQ(tally.newest()->version.wall_ns, 50);
  EXPECT_EQ(tally.Stale(), (std::vector<NodeId>{1, 2}));
  EXPECT_EQ(tally.Pending(), (std::vector<NodeId>{3}));
}

TEST(ReadTallyTest, NotReadyRepliesMakeAQuorumImpossible) {
  ReadTally tally({{1, true}, {2, true}, {3, true}}, 3);
  EXPECT_TRUE(tally.OnNotReady(2));
  EXPECT_TRUE(tally.impossible());
  ReadTally empty({{1, true}, {2, true}}, 1);
  empty.OnAnswer(1, std::nullopt);
  EXPECT_TRUE(empty.satisfied());
  EXPECT_FALSE(empty.newest().has_value());
  EXPECT_TRUE(empty.Stale().empty());
}

}  // namespace
}  // namespace crema::eventual
