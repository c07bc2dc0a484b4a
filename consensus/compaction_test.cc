// A leader's log compaction keeps what its live followers still need (Config's
// compaction_follower_keep_*): a follower a few entries behind a checkpoint catches up from the
// log instead of needing the whole snapshot, within the configured bounds; a follower the leader
// has not heard from since the last check-quorum round does not hold the log back.
#include <string>

#include "consensus/testing/cluster.h"
#include "gtest/gtest.h"

namespace crema::raft {
namespace {

using testing::Cluster;

Config MakeConfig(ReplicaId id, uint64_t keep_entries) {
  Config c;
  c.id = id;
  c.group = 1;
  c.random_seed = id;
  c.compaction_follower_keep_entries = keep_entries;
  return c;
}

// Node 1 leads {1, 2, 3}; node 3 is cut off after the first `shared` proposals, then `more` are
// committed by 1 and 2. Returns node 3's match as the leader sees it.
Index LeaderWithLaggingFollower(Cluster& c, uint64_t keep_entries, int shared, int more) {
  const ConfState conf{.voters = {1, 2, 3}};
  for (ReplicaId id : {1, 2, 3}) c.AddNode(MakeConfig(id, keep_entries), conf, /*join=*/false);
  c.raft(1).Campaign();
  EXPECT_TRUE(c.Stabilize());
  for (int i = 0; i < shared; ++i) EXPECT_TRUE(c.raft(1).Propose("shared").ok());
  EXPECT_TRUE(c.Stabilize());
  c.Isolate(3);
  for (int i = 0; i < more; ++i) EXPECT_TRUE(c.raft(1).Propose(std::string(100, 'x')).ok());
  EXPECT_TRUE(c.Stabilize());
  return c.raft(1).progress().at(3).match;
}

TEST(CompactionTest, LeaderKeepsTheEntriesALiveFollowerNeeds) {
  Cluster c;
  const Index match = LeaderWithLaggingFollower(c, /*keep_entries=*/1024, 5, 20);
  ASSERT_LT(match, c.raft(1).applied());
  ASSERT_TRUE(c.raft(1).progress().at(3).recent_active);
  ASSERT_TRUE(c.Compact(1, c.raft(1).applied()).ok());
  EXPECT_EQ(c.raft(1).log().snapshot().index, c.raft(1).applied()) << "the snapshot is taken";
  EXPECT_LE(c.raft(1).log().offset(), match) << "but the entries after 3's match stay";
  // Node 3 returns and catches up from the log: no snapshot is sent.
  const Index bootstrap_snapshot = c.raft(3).log().snapshot().index;
  c.Heal();
  for (int i = 0; i < 30 && c.raft(3).log().last_index() < c.raft(1).log().last_index(); ++i) {
    c.Tick(1);
    ASSERT_TRUE(c.Stabilize());
  }
  EXPECT_EQ(c.raft(3).log().last_index(), c.raft(1).log().last_index());
  EXPECT_EQ(c.raft(3).log().snapshot().index, bootstrap_snapshot)
      << "caught up from the log, not a snapshot";
}

TEST(CompactionTest, WhatIsKeptIsBounded) {
  Cluster c;
  const Index match = LeaderWithLaggingFollower(c, /*keep_entries=*/5, 5, 20);
  const Index applied = c.raft(1).applied();
  ASSERT_LT(match + 5, applied);
  ASSERT_TRUE(c.Compact(1, applied).ok());
  EXPECT_EQ(c.raft(1).log().offset(), applied - 5) << "at most 5 entries kept for followers";
}

TEST(CompactionTest, AFollowerNotHeardFromDoesNotHoldTheLogBack) {
  Cluster c;
  LeaderWithLaggingFollower(c, /*keep_entries=*/1024, 5, 20);
  // Past a check-quorum round without hearing from node 3: it is no longer recently active.
  for (int i = 0; i < 3 * c.raft(1).config().election_tick; ++i) {
    c.Tick(1);
    c.Tick(2);
    ASSERT_TRUE(c.Stabilize());
  }
  ASSERT_EQ(c.raft(1).role(), Role::kLeader);
  ASSERT_FALSE(c.raft(1).progress().at(3).recent_active);
  ASSERT_TRUE(c.Compact(1, c.raft(1).applied()).ok());
  EXPECT_EQ(c.raft(1).log().offset(), c.raft(1).applied());
}

TEST(CompactionTest, OffMeansTheSnapshotIndex) {
  Cluster c;
  LeaderWithLaggingFollower(c, /*keep_entries=*/0, 5, 20);
  ASSERT_TRUE(c.Compact(1, c.raft(1).applied()).ok());
  EXPECT_EQ(c.raft(1).log().offset(), c.raft(1).applied());
}

}  // namespace
}  // namespace crema::raft
