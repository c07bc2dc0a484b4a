#include "consensus/storage/snapshot_store.h"

#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <string>

#include <xxhash.h>

#include "consensus/storage/encoding.h"
#include "consensus/storage/verified_read.h"
#include "sim/sim_disk.h"

namespace crema::raft::storage {
namespace {

SnapshotMeta Meta(Index index, Term term) {
  return SnapshotMeta{index, term, ConfState{{1, 2, 3}, {4}, {}}};
}

std::string Checkpoint(size_t bytes) {
  std::string s;
  for (size_t i = 0; i < bytes; ++i) s.push_back(static_cast<char>("kv:abc"[i % 6] + (i / 4096) % 3));
  return s;
}

class SnapshotStoreTest : public ::testing::Test {
 protected:
  SnapshotStoreTest() {
    sim::DiskFaultConfig config;
    config.unsynced_write_lost = {0, 1};
    config.unsynced_write_torn = {0, 1};
    disk = std::make_unique<sim::SimDisk>(Random(3), config);
  }
  std::unique_ptr<sim::SimDisk> disk;
};

TEST_F(SnapshotStoreTest, SaveLoadRoundTripCompresses) {
  SnapshotStore store(disk.get(), "g/");
  ASSERT_TRUE(store.Open().ok());
  EXPECT_FALSE(store.latest().has_value());
  const std::string data = Checkpoint(1 << 20);
  ASSERT_TRUE(store.Save(Meta(10, 2), data).ok());
  disk->Crash();
  SnapshotStore reopened(disk.get(), "g/");
  ASSERT_TRUE(reopened.Open().ok());
  ASSERT_TRUE(reopened.latest().has_value());
  EXPECT_EQ(*reopened.latest(), Meta(10, 2));
  absl::StatusOr<Snapshot> loaded = reopened.LoadLatest();
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_EQ(loaded->data, data);
  EXPECT_LT(disk->UsedBytes(), data.size() / 4);  // LZ4 did its job on this repetitive data
}

TEST_F(SnapshotStoreTest, EmptyCheckpointRoundTrips) {
  SnapshotStore store(disk.get(), "g/");
  ASSERT_TRUE(store.Open().ok());
  ASSERT_TRUE(store.Save(Meta(1, 1), "").ok());
  absl::StatusOr<Snapshot> loaded = store.LoadLatest();
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_EQ(loaded->data, "");
}

TEST_F(SnapshotStoreTest, KeepsOnlyTheNewestSnapshotsAndRefusesOlder) {
  SnapshotStore store(disk.get(), "g/");
  ASSERT_TRUE(store.Open().ok());
  for (Index i = 1; i <= 5; ++i) ASSERT_TRUE(store.Save(Meta(i * 10, 1), Checkpoint(100)).ok());
  EXPECT_EQ(disk->List("g/snap-")->size(), kRetainedSnapshots);
  EXPECT_TRUE(absl::IsFailedPrecondition(store.Save(Meta(5, 1), "old")));
  EXPECT_EQ(store.latest()->index, 50u);
}

TEST_F(SnapshotStoreTest, CorruptSnapshotIsDataLoss) {
  {
    SnapshotStore store(disk.get(), "g/");
    ASSERT_TRUE(store.Open().ok());
    ASSERT_TRUE(store.Save(Meta(7, 1), Checkpoint(5000)).ok());
  }
  // Every read corrupted in transit: reads never agree, so this is transient, not corruption.
  disk->config().read_corruption = {1, 1};
  {
    SnapshotStore store(disk.get(), "g/");
    absl::Status s = store.Open();
    EXPECT_TRUE(IsTransientReadCorruption(s)) << s;
  }
  disk->config().read_corruption = {0, 1};
  // A byte flipped on the disk reads back the same every time: real corruption.
  const std::string name = disk->List("g/snap-")->back();
  std::string content = *disk->CurrentContent(name);
  content[content.size() / 2] = static_cast<char>(content[content.size() / 2] ^ 1);
  auto file = disk->Open(name, OpenMode::kOpenExisting);
  ASSERT_TRUE(file.ok());
  ASSERT_TRUE((*file)->Write(0, content).ok());
  ASSERT_TRUE((*file)->Sync().ok());
  SnapshotStore store(disk.get(), "g/");
  absl::Status s = store.Open();
  EXPECT_TRUE(absl::IsDataLoss(s)) << s;
}

TEST_F(SnapshotStoreTest, UnfinishedSaveOrReceiveLeavesNoSnapshot) {
  {
    SnapshotStore store(disk.get(), "g/");
    ASSERT_TRUE(store.Open().ok());
    auto receiver = store.StartReceive();
    ASSERT_TRUE(receiver.ok());
    ASSERT_TRUE((*receiver)->Write(0, "partial").ok());
  }
  disk->Crash();
  SnapshotStore store(disk.get(), "g/");
  ASSERT_TRUE(store.Open().ok());
  EXPECT_FALSE(store.latest().has_value());
  EXPECT_TRUE(disk->List("g/snaptmp-")->empty());  // leftovers cleaned up
}

TEST_F(SnapshotStoreTest, ChunkedTransferInstallsAnIdenticalSnapshot) {
  sim::SimDisk other(Random(4), sim::DiskFaultConfig{});
  SnapshotStore leader(disk.get(), "a/");
  SnapshotStore follower(&other, "b/");
  ASSERT_TRUE(leader.Open().ok());
  ASSERT_TRUE(follower.Open().ok());
  // Incompressible-ish data so the file spans several chunks.
  std::string data;
  Random random(9);
  for (int i = 0; i < 700'000; ++i) data.push_back(static_cast<char>(random.Uniform(256)));
  ASSERT_TRUE(leader.Save(Meta(42, 3), data).ok());
  auto reader = leader.OpenReader();
  ASSERT_TRUE(reader.ok());
  auto receiver = follower.StartReceive();
  ASSERT_TRUE(receiver.ok());
  int chunks = 0;
  while (!(*reader)->done()) {
    absl::StatusOr<SnapshotReader::Chunk> chunk = (*reader)->Next();
    ASSERT_TRUE(chunk.ok()) << chunk.status();
    EXPECT_LE(chunk->data.size(), kSnapshotChunkBytes);
    EXPECT_EQ(chunk->last, (*reader)->done());
    ASSERT_TRUE((*receiver)->Write(chunk->offset, chunk->data).ok());
    ++chunks;
  }
  EXPECT_GE(chunks, 3);
  absl::StatusOr<SnapshotMeta> meta = (*receiver)->Finish();
  ASSERT_TRUE(meta.ok()) << meta.status();
  EXPECT_EQ(*meta, Meta(42, 3));
  EXPECT_EQ(follower.latest(), Meta(42, 3));
  absl::StatusOr<Snapshot> loaded = follower.LoadLatest();
  ASSERT_TRUE(loaded.ok());
  EXPECT_EQ(loaded->data, data);
}

TEST_F(SnapshotStoreTest, OutOfOrderOrCorruptChunksAreRefused) {
  SnapshotStore store(disk.get(), "g/");
  ASSERT_TRUE(store.Open().ok());
  std::string file = EncodeSnapshotFile(Meta(9, 1), Checkpoint(10000));
  auto receiver = store.StartReceive();
  ASSERT_TRUE(receiver.ok());
  EXPECT_TRUE(absl::IsInvalidArgument((*receiver)->Write(5, file.substr(5))));
  file[file.size() / 2] ^= 0x40;  // corrupted in flight
  ASSERT_TRUE((*receiver)->Write(0, file).ok());
  absl::StatusOr<SnapshotMeta> meta = (*receiver)->Finish();
  EXPECT_TRUE(absl::IsDataLoss(meta.status())) << meta.status();
  EXPECT_FALSE(store.latest().has_value());
}

TEST(SnapshotFormatTest, OversizedDeclaredSizeIsDataLossNotAnAllocation) {
  // A well-checksummed file that claims a huge raw size: refused before allocating.
  std::string body;
  PutU64(&body, 0x504e53414d455243);
  PutU32(&body, 1);
  PutU64(&body, 5);
  PutU64(&body, 1);
  for (int i = 0; i < 3; ++i) PutU32(&body, 0);
  PutU64(&body, uint64_t{1} << 40);
  PutU64(&body, 0);
  std::string file = body;
  PutU64(&file, XXH3_64bits(body.data(), body.size()));
  absl::StatusOr<Snapshot> s = DecodeSnapshotFile(file);
  EXPECT_TRUE(absl::IsDataLoss(s.status())) << s.status();
}

// Regression (issue 12): a 68-byte file with a valid checksum that declares the largest allowed
// raw size made DecodeSnapshotFile allocate and zero 512 MiB before LZ4 looked at the 4 bytes of
// "compressed" data. It is now refused from the header: 4 LZ4 bytes hold at most 4 x 255.
TEST(SnapshotFormatTest, DeclaredSizeBeyondLz4ExpansionIsRefusedBeforeAllocating) {
  const std::string lz4("\x1f\x00\x01\x00", 4);
  auto file_declaring = [&](uint64_t raw_bytes) {
    std::string body;
    PutU64(&body, 0x504e53414d455243);
    PutU32(&body, 1);
    PutU64(&body, 5);
    PutU64(&body, 1);
    for (int i = 0; i < 3; ++i) PutU32(&body, 0);
    PutU64(&body, raw_bytes);
    PutU64(&body, lz4.size());
    body += lz4;
    PutU64(&body, XXH3_64bits(body.data(), body.size()));
    return body;
  };
  const std::string bomb = file_declaring(kMaxSnapshotBytes);
  ASSERT_EQ(bomb.size(), 68u);
  absl::StatusOr<Snapshot> s = DecodeSnapshotFile(bomb);
  ASSERT_TRUE(absl::IsDataLoss(s.status())) << s.status();
  EXPECT_NE(s.status().message().find("more than the LZ4 data can hold"), std::string::npos)
      << s.status();
  EXPECT_TRUE(absl::IsDataLoss(DecodeSnapshotMeta(bomb).status()));
  // At the bound itself the header is accepted and LZ4 gets to reject the data.
  s = DecodeSnapshotFile(file_declaring(4 * 255));
  ASSERT_TRUE(absl::IsDataLoss(s.status()));
  EXPECT_NE(s.status().message().find("does not decompress"), std::string::npos) << s.status();
}

// The bound is never in the way of a real file: LZ4's best case (all zeros) stays under it.
TEST(SnapshotFormatTest, MostCompressibleCheckpointStillRoundTrips) {
  const std::string zeros(4 << 20, '\0');
  const SnapshotMeta meta = Meta(9, 2);
  absl::StatusOr<Snapshot> s = DecodeSnapshotFile(EncodeSnapshotFile(meta, zeros));
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->data, zeros);
}

RC_GTEST_PROP(SnapshotFormatProperty, RoundTripsAndDetectsAnySingleBitFlip, (std::string data)) {
  const SnapshotMeta meta = Meta(*rc::gen::inRange<Index>(1, 1000), *rc::gen::inRange<Term>(1, 9));
  std::string file = EncodeSnapshotFile(meta, data);
  absl::StatusOr<Snapshot> decoded = DecodeSnapshotFile(file);
  RC_ASSERT(decoded.ok());
  RC_ASSERT(decoded->meta == meta);
  RC_ASSERT(decoded->data == data);
  const size_t pos = *rc::gen::inRange<size_t>(0, file.size());
  file[pos] ^= static_cast<char>(1 << *rc::gen::inRange(0, 8));
  RC_ASSERT(absl::IsDataLoss(DecodeSnapshotFile(file).status()));
}

RC_GTEST_PROP(SnapshotFormatProperty, GarbageNeverCrashes, (std::string garbage)) {
  (void)DecodeSnapshotFile(garbage);
  RC_SUCCEED();
}

}  // namespace
}  // namespace crema::raft::storage
