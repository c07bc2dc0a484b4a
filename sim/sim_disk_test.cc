#include "sim/sim_disk.h"

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <set>
#include <string>

#include "sim/test_seed.h"

namespace crema::sim {
namespace {

DiskFaultConfig NoFaults() {
  DiskFaultConfig config;
  config.unsynced_write_lost = {0, 1};
  config.unsynced_write_torn = {0, 1};
  config.unsynced_file_vanishes = {0, 1};
  return config;
}

std::unique_ptr<File> MustOpen(SimDisk& disk, std::string_view name) {
  absl::StatusOr<std::unique_ptr<File>> file = disk.Open(name, OpenMode::kCreate);
  EXPECT_TRUE(file.ok()) << file.status();
  return std::move(*file);
}

std::string MustRead(SimDisk& disk, std::string_view name) {
  absl::StatusOr<std::unique_ptr<File>> file = disk.Open(name, OpenMode::kOpenExisting);
  EXPECT_TRUE(file.ok()) << file.status();
  if (!file.ok()) return "<missing>";
  absl::StatusOr<std::string> data = (*file)->Read(0, 1 << 20);
  EXPECT_TRUE(data.ok()) << data.status();
  return data.ok() ? *data : "<error>";
}

TEST(SimDiskTest, SyncedDataSurvivesCrashUnsyncedIsLost) {
  DiskFaultConfig config = NoFaults();
  config.unsynced_write_lost = {1, 1};
  SimDisk disk(Random(1), config);
  auto file = MustOpen(disk, "log");
  ASSERT_TRUE(file->Write(0, "durable").ok());
  ASSERT_TRUE(file->Sync().ok());
  ASSERT_TRUE(file->Write(7, "-volatile").ok());
  EXPECT_EQ(MustRead(disk, "log"), "durable-volatile");
  disk.Crash();
  EXPECT_EQ(MustRead(disk, "log"), "durable");
  EXPECT_EQ(disk.stats().writes_lost, 1u);
}

TEST(SimDiskTest, HandlesAreStaleAfterCrashAndWipe) {
  SimDisk disk(Random(2), NoFaults());
  auto file = MustOpen(disk, "f");
  disk.Crash();
  EXPECT_TRUE(absl::IsFailedPrecondition(file->Write(0, "x")));
  auto again = MustOpen(disk, "f");
  ASSERT_TRUE(again->Write(0, "x").ok());
  disk.Wipe();
  EXPECT_TRUE(absl::IsFailedPrecondition(again->Sync()));
  EXPECT_TRUE(absl::IsNotFound(disk.Open("f", OpenMode::kOpenExisting).status()));
}

TEST(SimDiskTest, TornWriteKeepsASectorAlignedPrefix) {
  DiskFaultConfig config = NoFaults();
  config.unsynced_write_torn = {1, 1};
  config.sector_bytes = 512;
  std::set<size_t> sizes_seen;
  const std::string data(2000, 'x');
  for (uint64_t seed : TestSeeds(1)) {
    for (uint64_t i = 0; i < 64; ++i) {
      SimDisk disk(Random(seed + i), config);
      auto file = MustOpen(disk, "f");
      ASSERT_TRUE(file->Write(0, std::string(100, 'a')).ok());
      ASSERT_TRUE(file->Sync().ok());
      ASSERT_TRUE(file->Write(100, data).ok());  // spans [100, 2100)
      disk.Crash();
      const std::string after = MustRead(disk, "f");
      ASSERT_EQ(after.substr(0, 100), std::string(100, 'a')) << ReproCommand(seed);
      // Survivors end at 100 (nothing) or an absolute sector boundary inside the write.
      const size_t size = after.size();
      EXPECT_TRUE(size == 100 || (size % 512 == 0 && size > 100 && size < 2100))
          << size << " " << ReproCommand(seed);
      EXPECT_EQ(after.substr(100), std::string(size - 100, 'x'));
      sizes_seen.insert(size);
    }
  }
  EXPECT_GE(sizes_seen.size(), 3u);  // several distinct tears happen
}

TEST(SimDiskTest, EachUnsyncedWriteHasAnIndependentFate) {
  SimDisk disk(Random(TestSeed()), DiskFaultConfig{});  // default: 1/3 lost, 1/3 torn
  auto file = MustOpen(disk, "f");
  ASSERT_TRUE(file->Sync().ok());  // the name is durable: only the writes' fates vary
  for (int i = 0; i < 300; ++i) ASSERT_TRUE(file->Write(i * 1024, std::string(1024, 'y')).ok());
  disk.Crash();
  EXPECT_GT(disk.stats().writes_lost, 50u);
  EXPECT_GT(disk.stats().writes_torn, 50u);
  EXPECT_GT(disk.stats().writes_survived, 50u);
}

TEST(SimDiskTest, NeverSyncedFileMayVanishSyncedOrRenamedStays) {
  DiskFaultConfig config = NoFaults();
  config.unsynced_file_vanishes = {1, 1};
  SimDisk disk(Random(3), config);
  MustOpen(disk, "never-synced");
  auto synced = MustOpen(disk, "synced");
  ASSERT_TRUE(synced->Sync().ok());
  auto temp = MustOpen(disk, "state.tmp");
  ASSERT_TRUE(temp->Write(0, "v2").ok());
  ASSERT_TRUE(temp->Sync().ok());
  ASSERT_TRUE(disk.Rename("state.tmp", "state").ok());
  disk.Crash();
  absl::StatusOr<std::vector<std::string>> names = disk.List("");
  ASSERT_TRUE(names.ok());
  EXPECT_EQ(*names, (std::vector<std::string>{"state", "synced"}));
  EXPECT_EQ(MustRead(disk, "state"), "v2");
}

TEST(SimDiskTest, ReadCorruptionFlipsOneBitAndLeavesStoredDataIntact) {
  DiskFaultConfig config = NoFaults();
  config.read_corruption = {1, 1};
  SimDisk disk(Random(4), config);
  auto file = MustOpen(disk, "f");
  const std::string data(64, '\0');
  ASSERT_TRUE(file->Write(0, data).ok());
  absl::StatusOr<std::string> read = file->Read(0, 64);
  ASSERT_TRUE(read.ok());
  int flipped_bits = 0;
  for (char c : *read) flipped_bits += __builtin_popcount(static_cast<unsigned char>(c));
  EXPECT_EQ(flipped_bits, 1);
  EXPECT_EQ(*disk.CurrentContent("f"), data);
  EXPECT_EQ(disk.stats().reads_corrupted, 1u);
}

TEST(SimDiskTest, DiskFullRejectsGrowthButAllowsOverwrite) {
  DiskFaultConfig config = NoFaults();
  config.capacity_bytes = 100;
  SimDisk disk(Random(5), config);
  auto file = MustOpen(disk, "f");
  ASSERT_TRUE(file->Write(0, std::string(100, 'a')).ok());
  EXPECT_TRUE(absl::IsResourceExhausted(file->Write(100, "b")));
  EXPECT_TRUE(file->Write(50, "overwrite").ok());
  auto other = MustOpen(disk, "g");
  EXPECT_TRUE(absl::IsResourceExhausted(other->Write(0, "c")));
  EXPECT_EQ(disk.stats().full_errors, 2u);
  ASSERT_TRUE(file->Truncate(10).ok());
  EXPECT_TRUE(other->Write(0, "c").ok());
}

// As a POSIX short write before ENOSPC: what fits lands (unsynced), the rest does not, and the
// call fails.
TEST(SimDiskTest, AWriteThatOverflowsLeavesThePrefixThatFits) {
  DiskFaultConfig config = NoFaults();
  config.capacity_bytes = 10;
  SimDisk disk(Random(6), config);
  auto file = MustOpen(disk, "f");
  ASSERT_TRUE(file->Write(0, "abcd").ok());
  EXPECT_TRUE(absl::IsResourceExhausted(file->Write(4, "efghijklmn")));
  EXPECT_EQ(*disk.CurrentContent("f"), "abcdefghij");
  EXPECT_EQ(file->Size(), 10u);
  EXPECT_TRUE(absl::IsResourceExhausted(file->Write(10, "x")));  // nothing fits now
  EXPECT_EQ(*disk.CurrentContent("f"), "abcdefghij");
}

TEST(SimDiskTest, InjectedIoErrorsHaveNoEffect) {
  DiskFaultConfig config = NoFaults();
  config.io_error = {1, 1};
  SimDisk disk(Random(6), config);
  auto file = MustOpen(disk, "f");
  EXPECT_TRUE(absl::IsUnavailable(file->Write(0, "x")));
  EXPECT_EQ(file->Size(), 0u);
}

TEST(SimDiskTest, UnsyncedTruncateCanBeLost) {
  DiskFaultConfig config = NoFaults();
  config.unsynced_write_lost = {1, 1};
  SimDisk disk(Random(7), config);
  auto file = MustOpen(disk, "f");
  ASSERT_TRUE(file->Write(0, "abcdef").ok());
  ASSERT_TRUE(file->Sync().ok());
  ASSERT_TRUE(file->Truncate(2).ok());
  EXPECT_EQ(file->Size(), 2u);
  disk.Crash();
  EXPECT_EQ(MustRead(disk, "f"), "abcdef");
}

TEST(SimDiskTest, SameSeedSameCrashOutcome) {
  auto run = [](uint64_t seed) {
    SimDisk disk(Random(seed), DiskFaultConfig{});
    auto file = MustOpen(disk, "f");
    EXPECT_TRUE(file->Sync().ok());
    for (int i = 0; i < 20; ++i) EXPECT_TRUE(file->Write(i * 700, std::string(700, 'a' + i)).ok());
    disk.Crash();
    return MustRead(disk, "f");
  };
  const uint64_t seed = TestSeed();
  EXPECT_EQ(run(seed), run(seed)) << ReproCommand(seed);
}

struct DiskOp {
  bool sync;
  uint16_t offset;
  std::string data;
};

// Applies `ops` to file "f" and returns the disk; the ops' Sync calls mark durability points.
void Apply(SimDisk& disk, const std::vector<DiskOp>& ops) {
  auto file = MustOpen(disk, "f");
  RC_ASSERT(file->Sync().ok());
  for (const DiskOp& op : ops) {
    if (op.sync) {
      RC_ASSERT(file->Sync().ok());
    } else {
      RC_ASSERT(file->Write(op.offset, op.data).ok());
    }
  }
}

RC_GTEST_PROP(SimDiskProperty, CrashKeepsExactlyTheSyncedImageWhenUnsyncedWritesAreLost,
              (std::vector<std::tuple<bool, uint16_t, std::string>> raw, uint64_t seed)) {
  std::vector<DiskOp> ops;
  for (auto& [sync, offset, data] : raw) ops.push_back({sync, uint16_t(offset % 4096), data});
  DiskFaultConfig config = NoFaults();
  config.unsynced_write_lost = {1, 1};
  SimDisk disk(Random(seed), config);
  Apply(disk, ops);
  const std::string synced = *disk.SyncedContent("f");
  disk.Crash();
  RC_ASSERT(*disk.CurrentContent("f") == synced);
}

RC_GTEST_PROP(SimDiskProperty, CrashWithoutFaultsKeepsTheCurrentImage,
              (std::vector<std::tuple<bool, uint16_t, std::string>> raw, uint64_t seed)) {
  std::vector<DiskOp> ops;
  for (auto& [sync, offset, data] : raw) ops.push_back({sync, uint16_t(offset % 4096), data});
  SimDisk disk(Random(seed), NoFaults());
  Apply(disk, ops);
  const std::string current = *disk.CurrentContent("f");
  disk.Crash();
  RC_ASSERT(*disk.CurrentContent("f") == current);
}

RC_GTEST_PROP(SimDiskProperty, TornCrashNeverInventsBytes,
              (std::vector<std::tuple<bool, uint16_t, std::string>> raw, uint64_t seed)) {
  // Every byte after a crash comes from the synced image, from some unsynced write at that
  // position, or is a zero from extension.
  std::vector<DiskOp> ops;
  for (auto& [sync, offset, data] : raw) ops.push_back({sync, uint16_t(offset % 4096), data});
  DiskFaultConfig config;  // default: lost, torn and surviving writes mixed
  config.sector_bytes = 8;
  SimDisk disk(Random(seed), config);
  Apply(disk, ops);
  const std::string synced = *disk.SyncedContent("f");
  // The pending writes: those after the last sync.
  std::vector<DiskOp> pending;
  for (const DiskOp& op : ops) {
    if (op.sync) pending.clear(); else pending.push_back(op);
  }
  disk.Crash();
  const std::string after = *disk.CurrentContent("f");
  for (size_t i = 0; i < after.size(); ++i) {
    bool explained = after[i] == '\0' || (i < synced.size() && after[i] == synced[i]);
    for (const DiskOp& op : pending) {
      if (i >= op.offset && i < op.offset + op.data.size() && op.data[i - op.offset] == after[i]) {
        explained = true;
      }
    }
    RC_ASSERT(explained);
  }
}

}  // namespace
}  // namespace crema::sim
