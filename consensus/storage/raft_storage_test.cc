#include "consensus/storage/raft_storage.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "sim/sim_disk.h"

namespace crema::raft::storage {
namespace {

std::vector<Entry> Entries(Index from, Index to, Term term) {
  std::vector<Entry> out;
  for (Index i = from; i <= to; ++i) out.push_back({term, i, EntryType::kNormal, "x" + std::to_string(i)});
  return out;
}

class RaftStorageTest : public ::testing::Test {
 protected:
  std::unique_ptr<RaftStorage> Open(RecoveredState* state) {
    absl::StatusOr<std::unique_ptr<RaftStorage>> s =
        RaftStorage::Open(&disk, "raft/1/", {WalOptions{512}}, state);
    EXPECT_TRUE(s.ok()) << s.status();
    return s.ok() ? *std::move(s) : nullptr;
  }
  sim::SimDisk disk{Random(11), sim::DiskFaultConfig{}};
};

TEST_F(RaftStorageTest, RecoversHardStateSnapshotAndEntriesAfterCompaction) {
  RecoveredState state;
  {
    auto storage = Open(&state);
    EXPECT_FALSE(state.snapshot.has_value());
    for (Index i = 1; i <= 30; ++i) {
      ASSERT_TRUE(storage->Append(Entries(i, i, 1)).ok());
      ASSERT_TRUE(storage->SetHardState({1, 1, i}).ok());
      ASSERT_TRUE(storage->Sync().ok());
    }
    ASSERT_TRUE(storage->SaveSnapshot({20, 1, {{1, 2, 3}, {}, {}}}, "state@20").ok());
    ASSERT_TRUE(storage->Compact(20).ok());
  }
  disk.Crash();
  auto storage = Open(&state);
  ASSERT_TRUE(state.snapshot.has_value());
  EXPECT_EQ(state.snapshot->index, 20u);
  EXPECT_EQ(state.hard_state, (HardState{1, 1, 30}));
  ASSERT_FALSE(state.entries.empty());
  EXPECT_LE(state.entries.front().index, 21u);
  EXPECT_EQ(state.entries.back(), Entries(30, 30, 1)[0]);
  EXPECT_EQ(storage->snapshots().LoadLatest()->data, "state@20");
}

TEST_F(RaftStorageTest, ReceivedSnapshotSupersedesTheLogEvenIfTheCrashBeatTheReset) {
  RecoveredState state;
  {
    auto storage = Open(&state);
    ASSERT_TRUE(storage->Append(Entries(1, 5, 1)).ok());
    ASSERT_TRUE(storage->SetHardState({1, 0, 3}).ok());
    ASSERT_TRUE(storage->Sync().ok());
    // A leader at term 2 streams a snapshot at 100 (our 4..5 were never committed).
    const std::string file = EncodeSnapshotFile({100, 2, {{1, 2}, {}, {}}}, "big state");
    auto receiver = storage->snapshots().StartReceive();
    ASSERT_TRUE(receiver.ok());
    ASSERT_TRUE((*receiver)->Write(0, file).ok());
    ASSERT_TRUE((*receiver)->Finish().ok());
    // crash before ApplySnapshot/Sync
  }
  disk.Crash();
  {
    auto storage = Open(&state);
    ASSERT_TRUE(state.snapshot.has_value());
    EXPECT_EQ(state.snapshot->index, 100u);
    EXPECT_TRUE(state.entries.empty());
    EXPECT_EQ(state.hard_state.commit, 100u);
    ASSERT_TRUE(storage->Append(Entries(101, 102, 2)).ok());
    ASSERT_TRUE(storage->Sync().ok());
  }
  Open(&state);
  EXPECT_EQ(state.entries, Entries(101, 102, 2));
}

TEST_F(RaftStorageTest, ApplySnapshotResetsTheLog) {
  RecoveredState state;
  {
    auto storage = Open(&state);
    ASSERT_TRUE(storage->Append(Entries(1, 5, 1)).ok());
    ASSERT_TRUE(storage->Sync().ok());
    EXPECT_TRUE(absl::IsFailedPrecondition(storage->ApplySnapshot({3, 1, {}})));
    ASSERT_TRUE(storage->SaveSnapshot({3, 1, {{1}, {}, {}}}, "s3").ok());
    ASSERT_TRUE(storage->ApplySnapshot({3, 1, {{1}, {}, {}}}).ok());
    ASSERT_TRUE(storage->Append(Entries(4, 4, 2)).ok());
    ASSERT_TRUE(storage->Sync().ok());
  }
  Open(&state);
  EXPECT_EQ(state.entries, Entries(4, 4, 2));
  EXPECT_EQ(state.snapshot->index, 3u);
}

TEST_F(RaftStorageTest, EntriesThatStillMatchTheSnapshotAreKept) {
  RecoveredState state;
  {
    auto storage = Open(&state);
    ASSERT_TRUE(storage->Append(Entries(1, 10, 1)).ok());
    ASSERT_TRUE(storage->Sync().ok());
    ASSERT_TRUE(storage->SaveSnapshot({6, 1, {{1}, {}, {}}}, "s6").ok());
  }
  Open(&state);
  EXPECT_EQ(state.entries, Entries(1, 10, 1));  // a kept tail before the snapshot is fine
}

}  // namespace
}  // namespace crema::raft::storage
