#include "node/ping/state_file.h"

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include "sim/sim_disk.h"

namespace crema::ping {
namespace {

PersistedState Sample() {
  PersistedState state;
  state.counter.Increment(1, 10);
  state.counter.Increment(2, 3);
  state.clients[100].Mark(5);
  state.clients[100].Mark(3);
  return state;
}

TEST(StateFileTest, RoundTripsThroughDisk) {
  sim::SimDisk disk(Random(1), sim::DiskFaultConfig{});
  ASSERT_TRUE(WriteStateFile(disk, "s", "s.tmp", Sample()).ok());
  disk.Crash();  // synced and renamed: must survive whole
  absl::StatusOr<PersistedState> read = ReadStateFile(disk, "s");
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_EQ(*read, Sample());
  EXPECT_TRUE(absl::IsNotFound(ReadStateFile(disk, "missing").status()));
}

TEST(StateFileTest, EveryBitFlipAndTruncationIsDetected) {
  const std::string bytes = EncodeState(Sample());
  for (size_t bit = 0; bit < bytes.size() * 8; ++bit) {
    std::string damaged = bytes;
    damaged[bit / 8] = static_cast<char>(damaged[bit / 8] ^ (1 << (bit % 8)));
    EXPECT_TRUE(absl::IsDataLoss(DecodeState(damaged).status())) << "bit " << bit;
  }
  for (size_t n = 0; n < bytes.size(); ++n) {
    EXPECT_TRUE(absl::IsDataLoss(DecodeState(bytes.substr(0, n)).status())) << "prefix " << n;
  }
  EXPECT_TRUE(absl::IsDataLoss(DecodeState(bytes + "x").status()));
}

TEST(RequestWindowTest, DeduplicatesWithinTheWindow) {
  RequestWindow window;
  EXPECT_EQ(window.Check(1), RequestWindow::Verdict::kNew);
  window.Mark(1);
  window.Mark(3);
  EXPECT_EQ(window.Check(1), RequestWindow::Verdict::kApplied);
  EXPECT_EQ(window.Check(2), RequestWindow::Verdict::kNew);
  EXPECT_EQ(window.Check(3), RequestWindow::Verdict::kApplied);
  window.Mark(2);
  EXPECT_EQ(window.Check(2), RequestWindow::Verdict::kApplied);
  window.Mark(3 + kDedupWindow);
  EXPECT_EQ(window.Check(3), RequestWindow::Verdict::kTooOld);
  EXPECT_EQ(window.Check(4), RequestWindow::Verdict::kNew);
  window.Mark(1000);
  EXPECT_EQ(window.Check(3 + kDedupWindow), RequestWindow::Verdict::kTooOld);
}

RC_GTEST_PROP(StateFileProperty, ArbitraryBytesAreRejectedNotCrashing, (std::string bytes)) {
  absl::StatusOr<PersistedState> decoded = DecodeState(bytes);
  RC_ASSERT(!decoded.ok());  // a random string essentially never carries a valid checksum
}

}  // namespace
}  // namespace crema::ping
