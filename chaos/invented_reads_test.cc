#include "chaos/invented_reads.h"

#include "gtest/gtest.h"

namespace crema::chaos {
namespace {

InventedReadsResult Check(const History& h) {
  absl::StatusOr<InventedReadsResult> result = CheckNoInventedReads(h);
  EXPECT_TRUE(result.ok()) << result.status();
  return result.ok() ? *result : InventedReadsResult{};
}

TEST(InventedReadsTest, StaleAndAbsentReadsAreAllowed) {
  const History h = {
      PutOp(1, "k", "a", 0, 10),
      PutOp(1, "k", "b", 20, 30),
      GetOp(2, "k", "a", 100, 110),             // Stale: fine for a local read.
      GetOp(2, "k", std::nullopt, 120, 130),    // Lost write: fine here too.
      GetOp(3, "k", "c", 0, 5),                 // Concurrent with the write of c below.
      PutOp(4, "k", "c", 5, 200),
      Indeterminate(PutOp(5, "k", "d", 300, 0)),
      GetOp(6, "k", "d", 310, 320),             // Explained by an indeterminate write.
      CasOp(7, "k", "d", "e", true, 400, 410),
      GetOp(8, "k", "e", 420, 430),
  };
  const InventedReadsResult r = Check(h);
  EXPECT_TRUE(r.ok()) << InventedReadsSummary(r);
  EXPECT_EQ(r.reads_checked, 4u);
  EXPECT_EQ(InventedReadsSummary(r), "no_invented_reads=true reads=4 invented=0");
}

TEST(InventedReadsTest, FlagsValuesNoWriteExplains) {
  Operation errored = PutOp(1, "k", "err", 0, 10);
  errored.outcome = Outcome::kError;
  const History h = {
      PutOp(1, "k", "a", 0, 10),
      GetOp(2, "k", "zzz", 20, 30),               // #1 never written.
      GetOp(2, "k", "late", 40, 50),              // #2 written only after the read returned.
      PutOp(3, "k", "late", 51, 60),
      GetOp(2, "other", "a", 70, 80),             // #4 written to another key.
      CasOp(4, "k", "x", "failed", false, 0, 10),
      GetOp(2, "k", "failed", 90, 100),           // #6 from a cas that failed.
      errored,
      GetOp(2, "k", "err", 110, 120),             // #8 from a put that errored.
  };
  const InventedReadsResult r = Check(h);
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(r.invented_count, 5u);
  EXPECT_EQ(r.invented_reads, (std::vector<size_t>{1, 2, 4, 6, 8}));
  EXPECT_EQ(InventedReadsSummary(r), "no_invented_reads=false reads=5 invented=5 first=#1");
}

TEST(InventedReadsTest, ReportsABoundedListButAnExactCount) {
  History h;
  for (size_t i = 0; i < kMaxReportedInventedReads + 10; ++i) {
    h.push_back(GetOp(1, "k", "x", 2 * i, 2 * i + 1));
  }
  const InventedReadsResult r = Check(h);
  EXPECT_EQ(r.invented_count, kMaxReportedInventedReads + 10);
  EXPECT_EQ(r.invented_reads.size(), kMaxReportedInventedReads);
}

TEST(InventedReadsTest, RejectsMalformedHistories) {
  EXPECT_FALSE(CheckNoInventedReads({PutOp(1, "k", "a", 10, 5)}).ok());
}

}  // namespace
}  // namespace crema::chaos
