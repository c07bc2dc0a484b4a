#include "node/eventual/core/messages.h"

#include "gtest/gtest.h"
#include "node/random.h"
#include "rapidcheck/gtest.h"

namespace crema::eventual {
namespace {

Record SomeRecord(int i) {
  return Record{Version{1000 + i, static_cast<uint32_t>(i), 3}, i % 2 == 1, i % 3 == 0 ? 0 : 5000,
                i % 2 == 1 ? "" : "value"};
}

std::vector<Message> Samples() {
  ClientRequest request{7, ClientOp::kPut, "key", "val", Consistency::Count(2), 1500};
  request.consistency.sloppy = true;
  request.session = 0x1234567890abcdefULL;
  ClientReply reply{7, 14, "unavailable", true, "val", Version{8, 0, 2}};
  reply.session = 99;
  return {
      ReplicaWrite{1, "k", SomeRecord(0), 4},
      ReplicaWriteAck{1, ReplicaStatus::kFull, Version{5, 1, 2}},
      ReplicaRead{2, "k", true, {4, 5}},
      ReplicaReadReply{2, false, std::nullopt, Version{6, 0, 1}},
      ReplicaReadReply{2, true, SomeRecord(1), Version{6, 0, 1}},
      HintDeliver{3, {{"a", SomeRecord(2)}, {"b", SomeRecord(3)}}},
      HintDeliverAck{3, {ReplicaStatus::kOk, ReplicaStatus::kBusy}},
      AeRoots{9, {1, 2, 300}},
      AeRootsReply{9, {{1, 0xdead}, {2, 0}}},
      AeChildren{9, 4, 1, {3, 5}},
      AeChildrenReply{9, 4, 1, std::vector<uint64_t>(32, 7)},
      AeLeafKeys{9, 4, {17, 18}},
      AeLeafKeysReply{9, 4, {{"x", Version{1, 2, 3}, 44}}, 1},
      AePush{9, {{"x", SomeRecord(4)}}},
      AePushAck{9, {ReplicaStatus::kOk}},
      AePull{9, {"x", "y"}},
      AePullReply{9, {{"y", SomeRecord(5)}}},
      request,
      reply,
  };
}

TEST(MessagesTest, EveryTypeRoundTrips) {
  for (const Message& m : Samples()) {
    const std::string bytes = EncodeMessage(m);
    absl::StatusOr<Message> decoded = DecodeMessage(bytes);
    ASSERT_TRUE(decoded.ok()) << MessageName(m) << ": " << decoded.status();
    EXPECT_EQ(EncodeMessage(*decoded), bytes) << MessageName(m);
    EXPECT_EQ(decoded->index(), m.index());
  }
}

TEST(MessagesTest, TruncationsAndTrailingBytesAreRejected) {
  for (const Message& m : Samples()) {
    const std::string bytes = EncodeMessage(m);
    for (size_t cut = 0; cut < bytes.size(); ++cut) {
      EXPECT_FALSE(DecodeMessage(bytes.substr(0, cut)).ok()) << MessageName(m) << " cut " << cut;
    }
    EXPECT_FALSE(DecodeMessage(bytes + "!").ok()) << MessageName(m);
  }
  EXPECT_FALSE(DecodeMessage(std::string(1, static_cast<char>(200))).ok());
}

TEST(MessagesTest, HostileCountsAreRejectedWithoutAllocating) {
  // AePull with a claimed 4 billion keys.
  std::string bytes = EncodeMessage(AePull{1, {}});
  bytes[9] = bytes[10] = bytes[11] = bytes[12] = '\xff';
  EXPECT_FALSE(DecodeMessage(bytes).ok());
}

TEST(MessagesTest, RandomBytesNeverCrashTheDecoder) {
  Random random(12345);
  const std::vector<Message> samples = Samples();
  for (int i = 0; i < 20000; ++i) {
    std::string bytes = EncodeMessage(samples[random.Uniform(samples.size())]);
    const int flips = 1 + static_cast<int>(random.Uniform(4));
    for (int f = 0; f < flips; ++f) bytes[random.Uniform(bytes.size())] ^= static_cast<char>(1 + random.Uniform(255));
    (void)DecodeMessage(bytes);
  }
}

RC_GTEST_PROP(MessagesProperty, ReplicaWriteRoundTrips,
              (uint64_t op, std::string key, std::string value, int64_t wall, uint32_t hint_for)) {
  RC_PRE(!key.empty() && key.size() <= kMaxKeyBytes);
  ReplicaWrite w{op, key, Record{Version{wall & INT64_MAX, 1, 2}, false, 0, value}, hint_for};
  absl::StatusOr<Message> decoded = DecodeMessage(EncodeMessage(w));
  RC_ASSERT(decoded.ok());
  const ReplicaWrite& back = std::get<ReplicaWrite>(*decoded);
  RC_ASSERT(back.op == op && back.key == key && back.record == w.record && back.hint_for == hint_for);
}

}  // namespace
}  // namespace crema::eventual
