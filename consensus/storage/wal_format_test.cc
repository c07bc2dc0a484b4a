#include "consensus/storage/wal_format.h"

#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <string>
#include <vector>

namespace crema::raft::storage {
namespace {

Entry MakeEntry(Index index, Term term, std::string data) {
  return Entry{term, index, EntryType::kNormal, std::move(data)};
}

// A segment image: header, then `batches` sync batches of `per_batch` one-entry records each.
// Records of batch b claim synced_offset = end of batch b-1 (as the Wal writes them).
struct Image {
  std::string bytes;
  std::vector<uint64_t> record_offsets;  // of the entry records
  uint64_t last_batch_start = 0;
};

Image MakeImage(int batches, int per_batch, size_t data_bytes = 40) {
  Image image;
  AppendRecord(&image.bytes, RecordType::kSegmentHeader, 0,
               EncodeSegmentHeader({1, 1, HardState{1, 1, 0}}));
  Index index = 1;
  for (int b = 0; b < batches; ++b) {
    const uint64_t synced = image.bytes.size();
    image.last_batch_start = synced;
    for (int r = 0; r < per_batch; ++r, ++index) {
      image.record_offsets.push_back(image.bytes.size());
      std::vector<Entry> e{MakeEntry(index, 1, std::string(data_bytes, 'a' + index % 26))};
      AppendRecord(&image.bytes, RecordType::kEntries, synced, EncodeEntries(e, 0, 1));
    }
  }
  return image;
}

TEST(WalFormatTest, CleanSegmentScansEveryRecord) {
  const Image image = MakeImage(3, 4);
  SegmentScan scan;
  ASSERT_TRUE(ScanSegment(image.bytes, "s", true, &scan).ok());
  EXPECT_EQ(scan.records.size(), 13u);
  EXPECT_FALSE(scan.torn);
  EXPECT_EQ(scan.valid_end, image.bytes.size());
  std::vector<Entry> entries;
  for (size_t i = 1; i < scan.records.size(); ++i) {
    ASSERT_TRUE(DecodeEntries(scan.records[i].body, &entries).ok());
  }
  ASSERT_EQ(entries.size(), 12u);
  EXPECT_EQ(entries[11], MakeEntry(12, 1, std::string(40, 'a' + 12)));
}

TEST(WalFormatTest, TailCutShortIsTornAndTruncated) {
  const Image image = MakeImage(2, 3);
  const uint64_t last = image.record_offsets.back();
  SegmentScan scan;
  ASSERT_TRUE(ScanSegment(std::string_view(image.bytes).substr(0, last + 20), "s", true, &scan).ok());
  EXPECT_TRUE(scan.torn);
  EXPECT_EQ(scan.valid_end, last);
  EXPECT_EQ(scan.records.size(), 6u);
}

TEST(WalFormatTest, ZeroedTailAfterLostWriteIsTorn) {
  Image image = MakeImage(2, 2);
  image.bytes += std::string(1000, '\0');  // a lost write under a later surviving one
  SegmentScan scan;
  ASSERT_TRUE(ScanSegment(image.bytes, "s", true, &scan).ok());
  EXPECT_TRUE(scan.torn);
  EXPECT_EQ(scan.records.size(), 5u);
}

TEST(WalFormatTest, TailCutInAnEarlierSegmentIsDataLoss) {
  const Image image = MakeImage(2, 3);
  SegmentScan scan;
  absl::Status s = ScanSegment(std::string_view(image.bytes).substr(0, image.bytes.size() - 3),
                               "s", /*is_last_segment=*/false, &scan);
  EXPECT_TRUE(absl::IsDataLoss(s)) << s;
}

TEST(WalFormatTest, BitFlipInCompleteLastRecordIsDataLoss) {
  Image image = MakeImage(1, 3);
  image.bytes[image.record_offsets.back() + 30] ^= 0x10;
  SegmentScan scan;
  absl::Status s = ScanSegment(image.bytes, "s", true, &scan);
  EXPECT_TRUE(absl::IsDataLoss(s)) << s;
  EXPECT_NE(s.message().find("offset " + std::to_string(image.record_offsets.back())),
            std::string::npos)
      << s;
}

TEST(WalFormatTest, BitFlipProvenSyncedByLaterBatchIsDataLoss) {
  Image image = MakeImage(3, 2, 2000);  // big records: a zero sector would be possible, none is
  image.bytes[image.record_offsets[1] + 2] ^= 0x01;  // the length field of batch 0's 2nd record
  SegmentScan scan;
  absl::Status s = ScanSegment(image.bytes, "s", true, &scan);
  EXPECT_TRUE(absl::IsDataLoss(s)) << s;
  EXPECT_NE(s.message().find("had been synced"), std::string::npos) << s;
}

TEST(WalFormatTest, ZeroSectorInsideLastBatchIsTornEvenWithValidRecordsAfter) {
  Image image = MakeImage(2, 3, 1500);
  // Batch 1 (unsynced) lost a sector in its first record; its later records survived.
  const uint64_t victim = image.record_offsets[3];
  const uint64_t sector = (victim + 600) / kTornSectorBytes * kTornSectorBytes;
  for (uint64_t i = sector; i < sector + kTornSectorBytes; ++i) image.bytes[i] = 0;
  SegmentScan scan;
  ASSERT_TRUE(ScanSegment(image.bytes, "s", true, &scan).ok());
  EXPECT_TRUE(scan.torn);
  EXPECT_EQ(scan.valid_end, victim);
}

RC_GTEST_PROP(WalFormatProperty, AnyCutOfTheLastSegmentRecoversThePrefix, ()) {
  const int batches = *rc::gen::inRange(1, 5);
  const Image image = MakeImage(batches, *rc::gen::inRange(1, 4), *rc::gen::inRange(1, 700));
  const size_t cut = *rc::gen::inRange<size_t>(0, image.bytes.size() + 1);
  SegmentScan scan;
  RC_ASSERT(ScanSegment(std::string_view(image.bytes).substr(0, cut), "s", true, &scan).ok());
  size_t complete = 0;  // entry records wholly before the cut
  for (size_t i = 0; i < image.record_offsets.size(); ++i) {
    const uint64_t end = i + 1 < image.record_offsets.size() ? image.record_offsets[i + 1]
                                                             : image.bytes.size();
    if (end <= cut) complete = i + 1;
  }
  const size_t header = cut >= image.record_offsets.front() ? 1 : 0;
  RC_ASSERT(scan.records.size() == complete + header);
}

RC_GTEST_PROP(WalFormatProperty, AnyBitFlipInASyncedRecordIsDataLoss, ()) {
  const Image image = MakeImage(*rc::gen::inRange(2, 5), *rc::gen::inRange(1, 4),
                                *rc::gen::inRange(1, 300));
  // Records before the last batch are proven synced by the last batch's records.
  const uint64_t synced_end = image.last_batch_start;
  const uint64_t pos = *rc::gen::inRange<uint64_t>(0, synced_end);
  std::string bytes = image.bytes;
  bytes[pos] ^= static_cast<char>(1 << *rc::gen::inRange(0, 8));
  SegmentScan scan;
  RC_ASSERT(absl::IsDataLoss(ScanSegment(bytes, "s", true, &scan)));
}

RC_GTEST_PROP(WalFormatProperty, GarbageBodiesNeverCrashTheDecoders, (std::string garbage)) {
  std::vector<Entry> entries;
  (void)DecodeEntries(garbage, &entries);
  HardState hs;
  (void)DecodeHardState(garbage, &hs);
  SegmentHeader header;
  (void)DecodeSegmentHeader(garbage, &header);
  SegmentScan scan;
  (void)ScanSegment(garbage, "g", true, &scan);
  RC_SUCCEED();
}

TEST(WalFormatTest, EntriesRoundTrip) {
  std::vector<Entry> in{MakeEntry(7, 2, ""), MakeEntry(8, 3, std::string("\0x\0", 3)),
                        Entry{3, 9, EntryType::kConfChange, "conf"}};
  std::vector<Entry> out;
  ASSERT_TRUE(DecodeEntries(EncodeEntries(in, 0, 3), &out).ok());
  EXPECT_EQ(in, out);
}

}  // namespace
}  // namespace crema::raft::storage

namespace crema::raft::storage {
namespace {
TEST(WalFormatTest, HeaderThenZerosIsTorn) {
  std::string bytes;
  AppendRecord(&bytes, RecordType::kSegmentHeader, 0, EncodeSegmentHeader({7, 1, HardState{}}));
  bytes += std::string(2048 - bytes.size(), '\0');
  SegmentScan scan;
  absl::Status s = ScanSegment(bytes, "s", true, &scan);
  ASSERT_TRUE(s.ok()) << s;
  EXPECT_TRUE(scan.torn);
  EXPECT_EQ(scan.records.size(), 1u);
}
}  // namespace
}  // namespace crema::raft::storage
