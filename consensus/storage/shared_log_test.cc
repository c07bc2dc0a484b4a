// The node's shared log on SimDisk: many groups in one log, one Sync for all, recovery per
// group, torn tails and corruption (the per-group WAL's tests, ported), purge and rewrite, and
// group destruction.
#include "consensus/storage/shared_log.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "consensus/storage/verified_read.h"
#include "sim/sim_disk.h"

namespace crema::raft::storage {
namespace {

sim::DiskFaultConfig NoFaults() {
  sim::DiskFaultConfig config;
  config.unsynced_write_lost = {0, 1};
  config.unsynced_write_torn = {0, 1};
  config.unsynced_file_vanishes = {0, 1};
  return config;
}

std::vector<Entry> Entries(Index from, Index to, Term term, GroupId g = 0) {
  std::vector<Entry> out;
  for (Index i = from; i <= to; ++i) {
    out.push_back({term, i, EntryType::kNormal, "g" + std::to_string(g) + "e" + std::to_string(i)});
  }
  return out;
}

class SharedLogTest : public ::testing::Test {
 protected:
  std::unique_ptr<SharedLog> OpenLog(SharedLogOptions options = {}) {
    absl::StatusOr<std::unique_ptr<SharedLog>> log = SharedLog::Open(&disk, nullptr, "log/", options);
    EXPECT_TRUE(log.ok()) << log.status();
    return log.ok() ? *std::move(log) : nullptr;
  }
  WalContents Recover(SharedLog& log, GroupId g) {
    WalContents c;
    absl::Status s = log.Recover(g, &c);
    EXPECT_TRUE(s.ok()) << s;
    return c;
  }
  std::string FirstSegment() { return disk.List("log/log-")->front(); }
  std::string LastSegment() { return disk.List("log/log-")->back(); }
  sim::SimDisk disk{Random(7), NoFaults()};
};

TEST_F(SharedLogTest, FreshLogHasNoGroups) {
  auto log = OpenLog();
  EXPECT_EQ(log->group_count(), 0u);
  WalContents c = Recover(*log, 9);
  EXPECT_EQ(c.hard_state, HardState{});
  EXPECT_EQ(c.base_index, 0u);
  EXPECT_TRUE(c.entries.empty());
  EXPECT_EQ(log->next_index(9), 1u);
}

TEST_F(SharedLogTest, ManyGroupsOneSyncEachRecoversItsOwn) {
  {
    auto log = OpenLog();
    const uint64_t syncs_before = log->stats().file_syncs;
    for (GroupId g = 1; g <= 64; ++g) {
      ASSERT_TRUE(log->Append(g, Entries(1, g % 5 + 1, 1, g)).ok());
      ASSERT_TRUE(log->SetHardState(g, {1, 2, g % 5}).ok());
    }
    ASSERT_TRUE(log->Sync().ok());
    EXPECT_EQ(log->stats().file_syncs, syncs_before + 1) << "64 groups, one File::Sync";
  }
  disk.Crash();
  auto log = OpenLog();
  EXPECT_EQ(log->group_count(), 64u);
  for (GroupId g = 1; g <= 64; ++g) {
    WalContents c = Recover(*log, g);
    EXPECT_EQ(c.entries, Entries(1, g % 5 + 1, 1, g)) << g;
    EXPECT_EQ(c.hard_state, (HardState{1, 2, g % 5})) << g;
  }
}

TEST_F(SharedLogTest, SuffixReplacementAndResetArePerGroup) {
  {
    auto log = OpenLog();
    ASSERT_TRUE(log->Append(1, Entries(1, 10, 1, 1)).ok());
    ASSERT_TRUE(log->Append(2, Entries(1, 10, 1, 2)).ok());
    ASSERT_TRUE(log->Sync().ok());
    ASSERT_TRUE(log->Append(1, Entries(6, 7, 2, 1)).ok());  // replaces 6.. of group 1 only
    ASSERT_TRUE(log->Reset(2, 50, 3).ok());                 // group 2 installs a snapshot
    ASSERT_TRUE(log->Append(2, Entries(51, 52, 3, 2)).ok());
    EXPECT_EQ(log->next_index(1), 8u);
    EXPECT_EQ(log->next_index(2), 53u);
    ASSERT_TRUE(log->Sync().ok());
  }
  auto log = OpenLog();
  std::vector<Entry> want = Entries(1, 5, 1, 1);
  for (Entry& e : Entries(6, 7, 2, 1)) want.push_back(e);
  EXPECT_EQ(Recover(*log, 1).entries, want);
  WalContents c2 = Recover(*log, 2);
  EXPECT_EQ(c2.base_index, 50u);
  EXPECT_EQ(c2.entries, Entries(51, 52, 3, 2));
  EXPECT_EQ(log->next_index(2), 53u);
}

TEST_F(SharedLogTest, UnsyncedRecordsAreNotDurable) {
  disk.config().unsynced_write_lost = {1, 1};
  {
    auto log = OpenLog();
    ASSERT_TRUE(log->Append(1, Entries(1, 2, 1)).ok());
    ASSERT_TRUE(log->Sync().ok());
    ASSERT_TRUE(log->Append(1, Entries(3, 4, 1)).ok());  // buffered only
    ASSERT_TRUE(log->Append(2, Entries(1, 1, 1)).ok());
  }
  disk.Crash();
  auto log = OpenLog();
  EXPECT_EQ(Recover(*log, 1).entries, Entries(1, 2, 1));
  EXPECT_TRUE(Recover(*log, 2).entries.empty());
}

// Issue 8's first bug, which the shared log must not repeat: after a failed Sync and a reopen
// without a crash, what recovery returns must be durable, and later records must not vouch for
// bytes that were never synced.
TEST_F(SharedLogTest, RecoveryAfterAFailedSyncMakesWhatItReturnsDurable) {
  disk.config().unsynced_write_lost = {1, 1};
  auto log = OpenLog();
  ASSERT_TRUE(log->Append(1, Entries(1, 2, 1)).ok());
  ASSERT_TRUE(log->Sync().ok());
  ASSERT_TRUE(log->Append(1, Entries(3, 3, 1)).ok());
  ASSERT_TRUE(log->Flush().ok());   // written, not synced
  disk.config().io_error = {1, 1};  // the File::Sync fails
  EXPECT_FALSE(log->Sync().ok());
  EXPECT_FALSE(log->failure().ok());
  EXPECT_FALSE(log->Append(2, Entries(1, 1, 1)).ok()) << "a failed log stays failed";
  disk.config().io_error = {0, 1};
  ASSERT_TRUE(log->Reopen().ok());
  const std::vector<Entry> recovered = Recover(*log, 1).entries;
  EXPECT_EQ(*disk.SyncedContent(LastSegment()), *disk.CurrentContent(LastSegment()));
  ASSERT_TRUE(log->Append(1, {{1, recovered.back().index + 1, EntryType::kNormal, "x"}}).ok());
  log.reset();
  disk.Crash();
  log = OpenLog();
  EXPECT_EQ(Recover(*log, 1).entries, recovered) << "recovery returned it: it must stay";
}

TEST_F(SharedLogTest, TornTailIsTruncatedAndTheLogContinues) {
  {
    auto log = OpenLog();
    ASSERT_TRUE(log->Append(1, Entries(1, 2, 1)).ok());
    ASSERT_TRUE(log->Sync().ok());
    ASSERT_TRUE(log->Append(1, Entries(3, 3, 1)).ok());
    ASSERT_TRUE(log->Append(2, Entries(1, 1, 1)).ok());
    ASSERT_TRUE(log->Flush().ok());  // written, not synced
  }
  const std::string name = LastSegment();
  const uint64_t synced = disk.SyncedContent(name)->size();
  auto file = disk.Open(name, OpenMode::kOpenExisting);
  ASSERT_TRUE(file.ok());
  ASSERT_GT((*file)->Size(), synced + 5);
  ASSERT_TRUE((*file)->Truncate(synced + 5).ok());  // keep 5 bytes of the unsynced batch
  ASSERT_TRUE((*file)->Sync().ok());
  auto log = OpenLog();
  EXPECT_EQ(log->stats().torn_bytes_dropped, 5u);
  EXPECT_EQ(Recover(*log, 1).entries, Entries(1, 2, 1));
  EXPECT_TRUE(Recover(*log, 2).entries.empty());
  ASSERT_TRUE(log->Append(1, Entries(3, 4, 2)).ok());
  ASSERT_TRUE(log->Sync().ok());
  log.reset();
  log = OpenLog();
  std::vector<Entry> want = Entries(1, 2, 1);
  for (Entry& e : Entries(3, 4, 2)) want.push_back(e);
  EXPECT_EQ(Recover(*log, 1).entries, want);
}

// Flips one stored byte durably: corruption of the medium, not a read fault.
void FlipStoredByte(sim::SimDisk& disk, const std::string& name, uint64_t at) {
  auto file = disk.Open(name, OpenMode::kOpenExisting);
  ASSERT_TRUE(file.ok());
  std::string byte = disk.CurrentContent(name)->substr(at, 1);
  byte[0] = static_cast<char>(byte[0] ^ 0x10);
  ASSERT_TRUE((*file)->Write(at, byte).ok());
  ASSERT_TRUE((*file)->Sync().ok());
}

TEST_F(SharedLogTest, BitFlipInASyncedRecordIsDataLossAndReadFaultsAreTransient) {
  {
    auto log = OpenLog();
    for (Index i = 1; i <= 3; ++i) {
      for (GroupId g = 1; g <= 3; ++g) ASSERT_TRUE(log->Append(g, Entries(i, i, 1, g)).ok());
      ASSERT_TRUE(log->Sync().ok());
    }
  }
  disk.config().read_corruption = {1, 1};  // every read flips a bit: reads never agree
  absl::StatusOr<std::unique_ptr<SharedLog>> log = SharedLog::Open(&disk, nullptr, "log/", {});
  EXPECT_TRUE(IsTransientReadCorruption(log.status())) << log.status();
  disk.config().read_corruption = {0, 1};
  const std::string name = FirstSegment();
  FlipStoredByte(disk, name, disk.CurrentContent(name)->size() / 2);
  log = SharedLog::Open(&disk, nullptr, "log/", {});
  EXPECT_TRUE(absl::IsDataLoss(log.status())) << log.status();
}

TEST_F(SharedLogTest, MissingMiddleSegmentIsDataLoss) {
  {
    auto log = OpenLog({.segment_bytes = 256});
    for (Index i = 1; i <= 20; ++i) {
      ASSERT_TRUE(log->Append(1, Entries(i, i, 1)).ok());
      ASSERT_TRUE(log->Sync().ok());
    }
    ASSERT_GE(log->segment_count(), 3u);
  }
  ASSERT_TRUE(disk.Delete("log/log-0000000000000002").ok());
  absl::StatusOr<std::unique_ptr<SharedLog>> log = SharedLog::Open(&disk, nullptr, "log/", {});
  EXPECT_TRUE(absl::IsDataLoss(log.status())) << log.status();
}

TEST_F(SharedLogTest, DiskFullFailsTheLogButKeepsSyncedDataAndReopens) {
  auto log = OpenLog();
  ASSERT_TRUE(log->Append(1, Entries(1, 3, 1)).ok());
  ASSERT_TRUE(log->Sync().ok());
  disk.config().capacity_bytes = disk.UsedBytes();
  ASSERT_TRUE(log->Append(1, Entries(4, 4, 1)).ok());
  absl::Status s = log->Sync();
  EXPECT_TRUE(absl::IsResourceExhausted(s)) << s;
  EXPECT_EQ(log->SetHardState(1, {1, 1, 1}).code(), s.code());  // sticky
  EXPECT_FALSE(log->corrupt());
  disk.config().capacity_bytes = ~uint64_t{0};
  ASSERT_TRUE(log->Reopen().ok());
  EXPECT_EQ(Recover(*log, 1).entries, Entries(1, 3, 1));
  ASSERT_TRUE(log->Append(1, Entries(4, 4, 1)).ok());
  ASSERT_TRUE(log->Sync().ok());
}

TEST_F(SharedLogTest, CompactedSegmentsArePurgedAndAnIdleGroupIsRewrittenNotPinning) {
  const SharedLogOptions options{.segment_bytes = 512, .rewrite_after_segments = 3};
  {
    auto log = OpenLog(options);
    // Group 2 writes once and goes idle; group 1 keeps writing and compacting.
    ASSERT_TRUE(log->Append(2, Entries(1, 3, 1, 2)).ok());
    ASSERT_TRUE(log->SetHardState(2, {1, 2, 3}).ok());
    for (Index i = 1; i <= 60; ++i) {
      ASSERT_TRUE(log->Append(1, Entries(i, i, 1, 1)).ok());
      ASSERT_TRUE(log->SetHardState(1, {1, 1, i}).ok());
      ASSERT_TRUE(log->Sync().ok());
      if (i % 10 == 0) {
        ASSERT_TRUE(log->Compact(1, i - 2).ok());
      }
      if (log->NeedsMaintenance()) {
        ASSERT_TRUE(log->Maintain().ok());
      }
    }
    EXPECT_GT(log->stats().segments_purged, 0u);
    EXPECT_GT(log->stats().groups_rewritten, 0u);
    EXPECT_LE(log->segment_count(), options.rewrite_after_segments + 1);
    EXPECT_GT(log->first_segment(), 1u) << "the idle group must not pin the first segment";
  }
  disk.Crash();
  auto log = OpenLog(options);
  WalContents c2 = Recover(*log, 2);
  EXPECT_EQ(c2.entries, Entries(1, 3, 1, 2));
  EXPECT_EQ(c2.hard_state, (HardState{1, 2, 3}));
  WalContents c1 = Recover(*log, 1);
  ASSERT_FALSE(c1.entries.empty());
  EXPECT_LE(c1.entries.front().index, 58u);  // nothing at or above the compaction point lost
  EXPECT_EQ(c1.entries.back(), Entries(60, 60, 1, 1)[0]);
  EXPECT_EQ(c1.hard_state, (HardState{1, 1, 60}));
}

TEST_F(SharedLogTest, DestroyedGroupIsGoneAndStartsEmptyWhenCreatedAgain) {
  {
    auto log = OpenLog();
    ASSERT_TRUE(log->Append(5, Entries(1, 4, 1)).ok());
    ASSERT_TRUE(log->SetHardState(5, {1, 1, 4}).ok());
    ASSERT_TRUE(log->Append(6, Entries(1, 1, 1)).ok());
    ASSERT_TRUE(log->Sync().ok());
    // Snapshot files of group 5 under its prefix (deleted by whoever destroys it).
    ASSERT_TRUE(disk.Open("raft/5/snap-1", OpenMode::kCreate).ok());
    ASSERT_TRUE(log->Destroy(5, "raft/5/").ok());
    EXPECT_TRUE(Recover(*log, 5).entries.empty());
    EXPECT_EQ(log->next_index(5), 1u);
    EXPECT_TRUE(absl::IsInvalidArgument(log->Destroy(6, "")));
    EXPECT_TRUE(absl::IsInvalidArgument(log->Destroy(6, "log/")));
    // ... the crash comes before the destroyer deleted the files: Open finishes the job.
  }
  disk.Crash();
  {
    auto log = OpenLog();
    EXPECT_TRUE(disk.List("raft/5/")->empty());
    WalContents c5 = Recover(*log, 5);
    EXPECT_TRUE(c5.entries.empty());
    EXPECT_EQ(c5.hard_state, HardState{});
    EXPECT_EQ(Recover(*log, 6).entries, Entries(1, 1, 1));
    ASSERT_TRUE(log->Append(5, Entries(1, 1, 7)).ok());  // created again: starts empty
    ASSERT_TRUE(log->Sync().ok());
  }
  auto log = OpenLog();
  EXPECT_EQ(Recover(*log, 5).entries, Entries(1, 1, 7));
}

TEST_F(SharedLogTest, GroupCommitSkipsASyncAlreadyDone) {
  auto log = OpenLog();
  ASSERT_TRUE(log->Append(1, Entries(1, 1, 1)).ok());
  ASSERT_TRUE(log->Sync().ok());
  const uint64_t syncs = log->stats().file_syncs;
  ASSERT_TRUE(log->Sync().ok());  // nothing new: no File::Sync
  EXPECT_EQ(log->stats().file_syncs, syncs);
}

}  // namespace
}  // namespace crema::raft::storage
