#include "node/eventual/core/ring.h"

#include <algorithm>
#include <set>

#include "gtest/gtest.h"

namespace crema::eventual {
namespace {

TEST(EventualRingTest, OwnersAreTheFirstNDistinctMembersOfThePreferenceList) {
  EventualRing ring(std::vector<NodeId>{5, 1, 3, 2, 4}, 3, 64, 128);
  for (ShardId shard = 0; shard < 128; ++shard) {
    const std::vector<NodeId>& list = ring.PreferenceList(shard);
    ASSERT_EQ(list.size(), 5u);
    EXPECT_EQ(std::set<NodeId>(list.begin(), list.end()).size(), 5u);
    const std::vector<NodeId> owners = ring.Owners(shard);
    EXPECT_EQ(owners, std::vector<NodeId>(list.begin(), list.begin() + 3));
    for (NodeId n : list) EXPECT_EQ(ring.IsOwner(shard, n), std::count(owners.begin(), owners.end(), n) == 1);
  }
}

TEST(EventualRingTest, SameMembersSameListsWhateverTheOrder) {
  EventualRing a(std::vector<NodeId>{1, 2, 3, 4}, 3, 32, 64);
  EventualRing b(std::vector<NodeId>{4, 3, 2, 1, 2}, 3, 32, 64);
  for (ShardId shard = 0; shard < 64; ++shard) EXPECT_EQ(a.PreferenceList(shard), b.PreferenceList(shard));
}

TEST(EventualRingTest, PlanWriteSendsUnhealthyOwnersCopiesToStandIns) {
  EventualRing ring(std::vector<NodeId>{1, 2, 3, 4, 5}, 3, 64, 16);
  const std::vector<NodeId> list = ring.PreferenceList(7);
  // Everyone healthy: the three owners.
  std::vector<WriteTarget> all = ring.PlanWrite(7, [](NodeId) { return true; });
  ASSERT_EQ(all.size(), 3u);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(all[i], (WriteTarget{list[i], kNoNode}));
  // The second owner down: the fourth member stands in for it.
  const NodeId down = list[1];
  std::vector<WriteTarget> sloppy = ring.PlanWrite(7, [&](NodeId n) { return n != down; });
  ASSERT_EQ(sloppy.size(), 3u);
  EXPECT_EQ(sloppy[2], (WriteTarget{list[3], down}));
  // Four of five down: the one healthy owner only, no stand-ins available.
  std::vector<WriteTarget> lonely = ring.PlanWrite(7, [&](NodeId n) { return n == list[0]; });
  EXPECT_EQ(lonely, (std::vector<WriteTarget>{{list[0], kNoNode}}));
}

TEST(EventualRingTest, SmallClustersAndWithout) {
  EventualRing two(std::vector<NodeId>{1, 2}, 3, 16, 8);
  EXPECT_EQ(two.Owners(0).size(), 2u);
  EventualRing five(std::vector<NodeId>{1, 2, 3, 4, 5}, 3, 64, 32);
  const EventualRing four = five.Without(3);
  EXPECT_FALSE(four.Contains(3));
  size_t moved = 0;
  for (ShardId shard = 0; shard < 32; ++shard) {
    // Removing a member changes a shard's owners only if it was one of them: the next member
    // moves up (successor-list property of the ring).
    const std::vector<NodeId> before = five.Owners(shard), after = four.Owners(shard);
    if (std::find(before.begin(), before.end(), 3) == before.end()) {
      EXPECT_EQ(before, after);
    } else {
      ++moved;
      std::vector<NodeId> expected = before;
      expected.erase(std::find(expected.begin(), expected.end(), 3));
      EXPECT_EQ(std::vector<NodeId>(after.begin(), after.begin() + 2), expected);
    }
  }
  EXPECT_GT(moved, 0u);
  EventualRing empty(std::vector<NodeId>{}, 3, 16, 8);
  EXPECT_TRUE(empty.Owners(0).empty());
  EXPECT_TRUE(empty.PlanWrite(0, [](NodeId) { return true; }).empty());
}

}  // namespace
}  // namespace crema::eventual
