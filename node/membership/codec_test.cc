#include "node/membership/codec.h"

#include <string>

#include "gtest/gtest.h"
#include "rapidcheck.h"
#include "rapidcheck/gtest.h"

namespace crema::membership {
namespace {

MemberUpdate SampleUpdate(NodeId id, MemberState state) {
  MemberUpdate update;
  update.member.id = id;
  update.member.address = "10.0.0.7:7946";
  update.member.incarnation = 42;
  update.member.state = state;
  update.member.metadata = {{"shards", "1,2,3"}, {"zone", "eu-west-1a"}};
  update.accuser = 9;
  return update;
}

TEST(CodecTest, RoundTripsEveryMessageType) {
  for (MessageType type : {MessageType::kPing, MessageType::kAck, MessageType::kPingReq,
                           MessageType::kNack, MessageType::kPushPull, MessageType::kGossip}) {
    Message message;
    message.type = type;
    message.from = 3;
    message.to = 4;
    message.seq = 0x0123456789abcdefULL;
    message.target = 5;
    message.is_reply = type == MessageType::kPushPull;
    message.updates = {SampleUpdate(7, MemberState::kAlive), SampleUpdate(8, MemberState::kLeft)};
    const std::string bytes = EncodeMessage(message);
    absl::StatusOr<Message> decoded = DecodeMessage(bytes);
    ASSERT_TRUE(decoded.ok()) << decoded.status();
    EXPECT_EQ(*decoded, message) << MessageTypeName(type);
  }
}

TEST(CodecTest, EncodedSizeMatchesPrediction) {
  Message message;
  message.from = 1;
  message.to = 2;
  message.updates = {SampleUpdate(7, MemberState::kSuspect)};
  EXPECT_EQ(EncodeMessage(message).size(),
            kMessageHeaderBytes + EncodedUpdateBytes(message.updates[0]));
}

// The wall-clock trailer came later: with it the time round-trips (negative too); without it
// (an older peer's encoding, byte for byte what this codec produced before) the time is unknown;
// any other number of trailing bytes is still garbage.
TEST(CodecTest, WallClockTrailerIsOptionalAndBackwardCompatible) {
  Message message;
  message.type = MessageType::kAck;
  message.from = 1;
  message.to = 2;
  message.seq = 5;
  message.target = 1;
  message.updates = {SampleUpdate(7, MemberState::kAlive)};
  const std::string old_bytes = EncodeMessage(message);
  absl::StatusOr<Message> decoded = DecodeMessage(old_bytes);
  ASSERT_TRUE(decoded.ok());
  EXPECT_FALSE(decoded->wall_unix_ns.has_value());
  for (int64_t wall : {int64_t{1'700'000'000'123'456'789}, int64_t{-5}, int64_t{0}}) {
    message.wall_unix_ns = wall;
    const std::string bytes = EncodeMessage(message);
    EXPECT_EQ(bytes.size(), old_bytes.size() + kWallTimeTrailerBytes);
    EXPECT_EQ(bytes.substr(0, old_bytes.size()), old_bytes) << "a trailer, nothing else changes";
    decoded = DecodeMessage(bytes);
    ASSERT_TRUE(decoded.ok()) << decoded.status();
    EXPECT_EQ(*decoded, message);
    EXPECT_FALSE(DecodeMessage(bytes + "x").ok());
    EXPECT_FALSE(DecodeMessage(bytes.substr(0, bytes.size() - 1)).ok());
  }
}

TEST(CodecTest, RejectsMalformedInput) {
  Message message;
  message.from = 1;
  message.to = 2;
  message.updates = {SampleUpdate(7, MemberState::kAlive)};
  const std::string good = EncodeMessage(message);

  EXPECT_FALSE(DecodeMessage("").ok());
  EXPECT_FALSE(DecodeMessage(good.substr(0, good.size() - 1)).ok()) << "truncated";
  EXPECT_FALSE(DecodeMessage(good + "x").ok()) << "trailing byte";
  std::string bad_magic = good;
  bad_magic[0] = 0;
  EXPECT_FALSE(DecodeMessage(bad_magic).ok());
  std::string bad_type = good;
  bad_type[2] = 99;
  EXPECT_FALSE(DecodeMessage(bad_type).ok());
  std::string huge_count = good;
  huge_count[24] = static_cast<char>(0xff);
  huge_count[25] = static_cast<char>(0xff);
  EXPECT_FALSE(DecodeMessage(huge_count).ok());
  std::string bad_state = good;
  bad_state[kMessageHeaderBytes] = 7;
  EXPECT_FALSE(DecodeMessage(bad_state).ok());
  EXPECT_FALSE(DecodeMessage(std::string(kMaxMembershipMessageBytes + 1, 'a')).ok());

  // Metadata keys out of order are not canonical and are rejected.
  message.updates[0].member.metadata = {{"a", "1"}, {"b", "2"}};
  std::string swapped = EncodeMessage(message);
  const size_t a = swapped.rfind('a', swapped.size() - 6);
  const size_t b = swapped.rfind('b');
  ASSERT_NE(a, std::string::npos);
  ASSERT_NE(b, std::string::npos);
  std::swap(swapped[a], swapped[b]);
  EXPECT_FALSE(DecodeMessage(swapped).ok());
}

TEST(CodecTest, RejectsZeroNodeIds) {
  Message message;
  message.from = 1;
  message.to = 2;
  std::string bytes = EncodeMessage(message);
  bytes[4] = 0;  // from = 0
  EXPECT_FALSE(DecodeMessage(bytes).ok());
}

rc::Gen<std::string> SmallString(size_t max_bytes) {
  return rc::gen::mapcat(rc::gen::inRange<size_t>(0, max_bytes + 1), [](size_t n) {
    return rc::gen::container<std::string>(n, rc::gen::arbitrary<char>());
  });
}

rc::Gen<MemberUpdate> ArbitraryUpdate() {
  return rc::gen::exec([] {
    MemberUpdate update;
    update.member.id = *rc::gen::inRange<NodeId>(1, 1000);
    update.member.state = static_cast<MemberState>(*rc::gen::inRange(0, 4));
    update.member.incarnation = *rc::gen::arbitrary<uint64_t>();
    update.member.address = *SmallString(kMaxAddressBytes);
    const int entries = *rc::gen::inRange(0, 4);
    for (int i = 0; i < entries; ++i) {
      update.member.metadata[*SmallString(kMaxMetadataKeyBytes)] = *SmallString(40);
    }
    update.accuser = *rc::gen::arbitrary<NodeId>();
    return update;
  });
}

RC_GTEST_PROP(CodecProp, RoundTrip, ()) {
  Message message;
  message.type = static_cast<MessageType>(*rc::gen::inRange(1, 7));
  message.from = *rc::gen::inRange<NodeId>(1, UINT32_MAX);
  message.to = *rc::gen::inRange<NodeId>(1, UINT32_MAX);
  message.seq = *rc::gen::arbitrary<uint64_t>();
  message.target = *rc::gen::arbitrary<NodeId>();
  message.is_reply = *rc::gen::arbitrary<bool>();
  message.updates = *rc::gen::resize(20, rc::gen::container<std::vector<MemberUpdate>>(
                                             ArbitraryUpdate()));
  const std::string bytes = EncodeMessage(message);
  absl::StatusOr<Message> decoded = DecodeMessage(bytes);
  RC_ASSERT(decoded.ok());
  RC_ASSERT(*decoded == message);
}

// Random bytes never crash the decoder; whatever it accepts is canonical (re-encodes to itself).
RC_GTEST_PROP(CodecProp, RandomBytesNeverCrash, (const std::string& bytes)) {
  absl::StatusOr<Message> decoded = DecodeMessage(bytes);
  if (decoded.ok()) RC_ASSERT(EncodeMessage(*decoded) == bytes);
}

// Random bytes behind a plausible header prefix (magic, version, type, flags) reach the body
// parsers, and still never crash.
RC_GTEST_PROP(CodecProp, RandomBodiesNeverCrash, (const std::string& body)) {
  const char type = static_cast<char>(*rc::gen::inRange(1, 7));
  const std::string bytes = std::string("\xc5\x01", 2) + type + std::string(1, '\0') + body;
  absl::StatusOr<Message> decoded = DecodeMessage(bytes);
  if (decoded.ok()) RC_ASSERT(EncodeMessage(*decoded) == bytes);
}

// Mutating a valid message (the interesting case: the header is right) never crashes either.
RC_GTEST_PROP(CodecProp, MutatedMessagesNeverCrash, ()) {
  Message message;
  message.from = 1;
  message.to = 2;
  message.updates = *rc::gen::resize(5, rc::gen::container<std::vector<MemberUpdate>>(
                                            ArbitraryUpdate()));
  std::string bytes = EncodeMessage(message);
  const int flips = *rc::gen::inRange(1, 8);
  for (int i = 0; i < flips; ++i) {
    const size_t at = *rc::gen::inRange<size_t>(0, bytes.size());
    bytes[at] = *rc::gen::arbitrary<char>();
  }
  const size_t keep = *rc::gen::inRange<size_t>(0, bytes.size() + 1);
  bytes.resize(keep);
  absl::StatusOr<Message> decoded = DecodeMessage(bytes);
  if (decoded.ok()) RC_ASSERT(EncodeMessage(*decoded) == bytes);
}

}  // namespace
}  // namespace crema::membership
