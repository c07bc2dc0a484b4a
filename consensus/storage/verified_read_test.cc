// ReadVerified against a scripted file: which sequences of reads are accepted, which are real
// corruption (DataLoss), which are transient (UNAVAILABLE).
#include "consensus/storage/verified_read.h"

#include <gtest/gtest.h>

#include <deque>
#include <string>
#include <utility>

namespace crema::raft::storage {
namespace {

// A file whose successive whole reads return scripted contents (the last one repeats).
class ScriptedFile final : public File {
 public:
  explicit ScriptedFile(std::deque<std::string> reads) : reads_(std::move(reads)) {}
  absl::StatusOr<std::string> Read(uint64_t offset, size_t length) override {
    ++reads;
    std::string out = reads_.front();
    if (reads_.size() > 1) reads_.pop_front();
    return out.substr(offset, length);
  }
  absl::Status Write(uint64_t, std::string_view) override { return absl::OkStatus(); }
  absl::Status Truncate(uint64_t) override { return absl::OkStatus(); }
  absl::Status Sync() override { return absl::OkStatus(); }
  uint64_t Size() const override { return reads_.front().size(); }
  int reads = 0;

 private:
  std::deque<std::string> reads_;
};

// "good" checks out; "torn" checks out but needs confirmation; anything else is DataLoss.
ReadCheck Check(std::string_view b) {
  if (b == "good") return {};
  if (b == "torn") return {absl::OkStatus(), true};
  return {absl::DataLossError(std::string(b))};
}

absl::Status ReadOnce(ScriptedFile& f, std::string* got) {
  return ReadVerified(f, 100, "f", got, Check);
}

TEST(VerifiedReadTest, AGoodFirstReadCostsOneRead) {
  ScriptedFile f({"good"});
  std::string got;
  EXPECT_TRUE(ReadOnce(f, &got).ok());
  EXPECT_EQ(got, "good");
  EXPECT_EQ(f.reads, 1);
}

TEST(VerifiedReadTest, ACorruptedReadIsReadAgain) {
  ScriptedFile f({"gxod", "good"});
  std::string got;
  EXPECT_TRUE(ReadOnce(f, &got).ok());
  EXPECT_EQ(got, "good");
}

TEST(VerifiedReadTest, TheSameBadBytesTwiceAreRealCorruption) {
  ScriptedFile f({"bad!", "bad!"});
  std::string got;
  absl::Status s = ReadOnce(f, &got);
  EXPECT_TRUE(absl::IsDataLoss(s)) << s;
  EXPECT_EQ(f.reads, 2);
}

TEST(VerifiedReadTest, ReadsThatNeverAgreeAreTransient) {
  ScriptedFile f({"bad1", "bad2", "bad3", "bad4", "bad5"});
  std::string got;
  absl::Status s = ReadOnce(f, &got);
  EXPECT_TRUE(IsTransientReadCorruption(s)) << s;
  EXPECT_FALSE(absl::IsDataLoss(s));
  EXPECT_EQ(f.reads, kMaxVerifyReads);
}

TEST(VerifiedReadTest, ADecisionThatNeedsConfirmationWaitsForTwoIdenticalReads) {
  // A corrupted read that looks torn is not acted on: the next read shows the truth.
  ScriptedFile faked({"torn", "good"});
  std::string got;
  EXPECT_TRUE(ReadOnce(faked, &got).ok());
  EXPECT_EQ(got, "good");
  // A real torn tail reads the same twice and is accepted.
  ScriptedFile real({"torn", "torn"});
  EXPECT_TRUE(ReadOnce(real, &got).ok());
  EXPECT_EQ(got, "torn");
  EXPECT_EQ(real.reads, 2);
  // A torn-looking read, then corrupted reads that never agree: transient.
  ScriptedFile noisy({"torn", "bad1", "bad2", "bad3"});
  EXPECT_TRUE(IsTransientReadCorruption(ReadOnce(noisy, &got)));
}

TEST(VerifiedReadTest, OtherErrorsOfTheCheckAreReturnedAsIs) {
  ScriptedFile f({"x"});
  std::string got;
  absl::Status s = ReadVerified(f, 100, "f", &got, [](std::string_view) {
    return ReadCheck{absl::InvalidArgumentError("no")};
  });
  EXPECT_TRUE(absl::IsInvalidArgument(s));
  EXPECT_EQ(f.reads, 1);
}

}  // namespace
}  // namespace crema::raft::storage
