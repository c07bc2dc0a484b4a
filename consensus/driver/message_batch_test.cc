// MessageBatch: round trip, the bare-message compatibility path, and untrusted input (truncated,
// corrupted or random envelopes are rejected, never crash).
#include "consensus/driver/message_batch.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "consensus/message_codec.h"
#include "node/random.h"
#include "sim/test_seed.h"

namespace crema::raft {
namespace {

std::vector<Message> SomeMessages() {
  std::vector<Message> out;
  for (GroupId g = 1; g <= 5; ++g) {
    Message m{.type = MessageType::kHeartbeat, .group = g, .from = 1, .to = 2, .term = 3};
    m.commit = 10 * g;
    m.round = g;
    out.push_back(m);
  }
  Message app{.type = MessageType::kApp, .group = 9, .from = 1, .to = 2, .term = 3};
  app.entries.push_back(Entry{3, 4, EntryType::kNormal, "payload"});
  out.push_back(app);
  return out;
}

TEST(MessageBatchTest, RoundTripAndBareMessage) {
  BatchBuilder b;
  for (const Message& m : SomeMessages()) b.Add(EncodeMessage(m));
  const std::string envelope = b.Take();
  EXPECT_TRUE(b.empty());
  absl::StatusOr<std::vector<Message>> decoded = DecodeBatch(envelope);
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  EXPECT_EQ(*decoded, SomeMessages());
  absl::StatusOr<std::vector<Message>> bare = DecodeBatch(EncodeMessage(SomeMessages()[5]));
  ASSERT_TRUE(bare.ok());
  EXPECT_EQ(bare->size(), 1u);
}

TEST(MessageBatchTest, GarbageIsRejectedNeverCrashes) {
  const uint64_t seed = sim::TestSeed();
  BatchBuilder b;
  for (const Message& m : SomeMessages()) b.Add(EncodeMessage(m));
  const std::string envelope = b.Take();
  for (size_t cut = 0; cut < envelope.size(); ++cut) {
    EXPECT_FALSE(DecodeBatch(envelope.substr(0, cut)).ok()) << cut;
  }
  EXPECT_FALSE(DecodeBatch(envelope + "x").ok());
  Random random(seed);
  for (int i = 0; i < 2000; ++i) {
    std::string mutated = envelope;
    mutated[random.Uniform(mutated.size())] ^= static_cast<char>(1 + random.Uniform(255));
    (void)DecodeBatch(mutated);  // any result but a crash
    std::string junk(random.Uniform(64), '\0');
    for (char& ch : junk) ch = static_cast<char>(random.Uniform(256));
    (void)DecodeBatch(junk);
  }
}

TEST(MessageBatchTest, BuilderRespectsTheByteBound) {
  BatchBuilder b;
  const std::string big(kMaxBatchBytes / 3, 'x');
  EXPECT_FALSE(b.WouldOverflow(big.size()));  // an empty builder takes anything
  b.Add(big);
  b.Add(big);
  EXPECT_TRUE(b.WouldOverflow(big.size()));
}

// Regression (issue 12): the header promised kMaxBatchBytes but DecodeBatch never checked it.
std::string AppWithEntryOf(size_t bytes) {
  Message app{.type = MessageType::kApp, .group = 9, .from = 1, .to = 2, .term = 3};
  app.entries.push_back(Entry{3, 4, EntryType::kNormal, std::string(bytes, 'e')});
  return EncodeMessage(app);
}

std::string Envelope(const std::vector<std::string>& encoded) {
  std::string out(1, static_cast<char>(kBatchMagic));
  auto put_u32 = [&out](uint32_t v) {
    for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
  };
  put_u32(static_cast<uint32_t>(encoded.size()));
  for (const std::string& m : encoded) {
    put_u32(static_cast<uint32_t>(m.size()));
    out += m;
  }
  return out;
}

TEST(MessageBatchTest, EnvelopesOverTheByteBoundAreRefused) {
  const std::string half = AppWithEntryOf(kMaxBatchBytes / 2);
  const std::string over = Envelope({half, half});
  ASSERT_GT(over.size(), kMaxBatchBytes);
  absl::StatusOr<std::vector<Message>> decoded = DecodeBatch(over);
  EXPECT_TRUE(absl::IsInvalidArgument(decoded.status())) << decoded.status();
  // The same messages in envelopes within the bound decode.
  EXPECT_TRUE(DecodeBatch(Envelope({half})).ok());
  // Exactly at the bound is fine; one byte more is not (the same envelope, one byte longer entry).
  const size_t overhead = Envelope({AppWithEntryOf(1)}).size() - 1;
  size_t entry = kMaxBatchBytes - overhead - 64;
  while (Envelope({AppWithEntryOf(entry)}).size() < kMaxBatchBytes) ++entry;
  ASSERT_EQ(Envelope({AppWithEntryOf(entry)}).size(), kMaxBatchBytes);
  EXPECT_TRUE(DecodeBatch(Envelope({AppWithEntryOf(entry)})).ok());
  const std::string one_over = Envelope({AppWithEntryOf(entry + 1)});
  ASSERT_EQ(one_over.size(), kMaxBatchBytes + 1);
  decoded = DecodeBatch(one_over);
  EXPECT_NE(decoded.status().message().find("exceeds kMaxBatchBytes"), std::string::npos)
      << decoded.status();
  // A bare message is held to the same bound.
  const std::string bare = AppWithEntryOf(kMaxBatchBytes);
  ASSERT_EQ(static_cast<uint8_t>(bare[0]), kMessageCodecVersion);
  EXPECT_TRUE(absl::IsInvalidArgument(DecodeBatch(bare).status()));
}

TEST(MessageBatchTest, LargestMessageFitsAnEnvelopeTheBuilderMakes) {
  BatchBuilder b;
  const std::string largest(kMaxEnvelopedMessageBytes, 'x');
  EXPECT_FALSE(b.WouldOverflow(largest.size()));
  b.Add(largest);
  EXPECT_TRUE(b.WouldOverflow(1));
  EXPECT_EQ(b.Take().size(), kMaxBatchBytes);
}

}  // namespace
}  // namespace crema::raft
