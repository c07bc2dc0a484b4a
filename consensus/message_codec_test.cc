// Tests of the Raft message codec: round trips of arbitrary messages, and garbage never crashes.
#include "consensus/message_codec.h"

#include "consensus/conf_change.h"
#include "gtest/gtest.h"
#include "rapidcheck.h"
#include "rapidcheck/gtest.h"

namespace crema::raft {
namespace {

rc::Gen<Entry> ArbitraryEntry() {
  return rc::gen::build<Entry>(
      rc::gen::set(&Entry::term, rc::gen::arbitrary<uint64_t>()),
      rc::gen::set(&Entry::index, rc::gen::arbitrary<uint64_t>()),
      rc::gen::set(&Entry::type, rc::gen::element(EntryType::kNormal, EntryType::kConfChange)),
      rc::gen::set(&Entry::data, rc::gen::arbitrary<std::string>()));
}

rc::Gen<std::vector<ReplicaId>> ReplicaList() {
  return rc::gen::resize(8, rc::gen::arbitrary<std::vector<ReplicaId>>());
}

rc::Gen<Message> ArbitraryMessage() {
  return rc::gen::exec([] {
    Message m;
    m.type = static_cast<MessageType>(*rc::gen::inRange<int>(1, kMaxMessageType + 1));
    m.group = *rc::gen::arbitrary<uint64_t>();
    m.from = *rc::gen::arbitrary<ReplicaId>();
    m.to = *rc::gen::arbitrary<ReplicaId>();
    m.term = *rc::gen::arbitrary<uint64_t>();
    m.log_term = *rc::gen::arbitrary<uint64_t>();
    m.index = *rc::gen::arbitrary<uint64_t>();
    m.entries = *rc::gen::resize(10, rc::gen::container<std::vector<Entry>>(ArbitraryEntry()));
    m.commit = *rc::gen::arbitrary<uint64_t>();
    m.reject = *rc::gen::arbitrary<bool>();
    m.reject_hint = *rc::gen::arbitrary<uint64_t>();
    m.round = *rc::gen::arbitrary<uint64_t>();
    m.leader_transfer = *rc::gen::arbitrary<bool>();
    m.quiesce = *rc::gen::arbitrary<bool>();
    m.context = *rc::gen::arbitrary<std::string>();
    if (*rc::gen::arbitrary<bool>()) {
      SnapshotMeta s;
      s.index = *rc::gen::arbitrary<uint64_t>();
      s.term = *rc::gen::arbitrary<uint64_t>();
      s.conf.voters = *ReplicaList();
      s.conf.learners = *ReplicaList();
      s.conf.voters_outgoing = *ReplicaList();
      m.snapshot = s;
    }
    m.snapshot_offset = *rc::gen::arbitrary<uint64_t>();
    m.snapshot_chunk = *rc::gen::arbitrary<std::string>();
    m.snapshot_last = *rc::gen::arbitrary<bool>();
    return m;
  });
}

RC_GTEST_PROP(MessageCodec, RoundTrip, ()) {
  const Message m = *ArbitraryMessage();
  absl::StatusOr<Message> decoded = DecodeMessage(EncodeMessage(m));
  RC_ASSERT(decoded.ok());
  RC_ASSERT(*decoded == m);
}

RC_GTEST_PROP(MessageCodec, RandomBytesNeverCrash, (const std::string& bytes)) {
  absl::StatusOr<Message> decoded = DecodeMessage(bytes);
  if (decoded.ok()) {
    // Whatever decodes is a valid message that survives a round trip.
    absl::StatusOr<Message> again = DecodeMessage(EncodeMessage(*decoded));
    RC_ASSERT(again.ok());
    RC_ASSERT(*again == *decoded);
  }
}

RC_GTEST_PROP(MessageCodec, CorruptedEncodingNeverCrashes, ()) {
  std::string bytes = EncodeMessage(*ArbitraryMessage());
  const int flips = *rc::gen::inRange(1, 5);
  for (int i = 0; i < flips; ++i) {
    const size_t pos = *rc::gen::inRange<size_t>(0, bytes.size());
    bytes[pos] = static_cast<char>(*rc::gen::arbitrary<uint8_t>());
  }
  bytes.resize(*rc::gen::inRange<size_t>(0, bytes.size() + 1));
  (void)DecodeMessage(bytes);  // must return, whatever it returns
}

TEST(MessageCodec, RejectsHugeLengthsWithoutAllocating) {
  Message m{.type = MessageType::kApp};
  m.entries.push_back(Entry{.term = 1, .index = 1, .data = "x"});
  std::string bytes = EncodeMessage(m);
  // Claim an absurd entry count: the decoder must refuse, not reserve memory for it.
  std::string bad = bytes.substr(0, 8);  // version, type, group, from, to, term, log_term, index
  bad += std::string("\xff\xff\xff\xff\x0f", 5);
  EXPECT_FALSE(DecodeMessage(bad).ok());
  EXPECT_FALSE(DecodeMessage("").ok());
  EXPECT_FALSE(DecodeMessage(std::string(1, '\x02')).ok());  // unknown version
  EXPECT_FALSE(DecodeMessage(bytes + "x").ok());             // trailing bytes
  EXPECT_TRUE(DecodeMessage(bytes).ok());
}

TEST(ConfChangeCodec, RoundTripAndGarbage) {
  for (ConfChangeType t : {ConfChangeType::kAddVoter, ConfChangeType::kAddLearner,
                           ConfChangeType::kRemove}) {
    ConfChange cc{t, 42};
    absl::StatusOr<ConfChange> d = DecodeConfChange(EncodeConfChange(cc));
    ASSERT_TRUE(d.ok());
    EXPECT_EQ(*d, cc);
  }
  EXPECT_FALSE(DecodeConfChange("").ok());
  EXPECT_FALSE(DecodeConfChange("\x09\x01").ok());
  EXPECT_FALSE(DecodeConfChange(std::string("\x01\x00", 2)).ok());  // replica 0
  EXPECT_FALSE(DecodeConfChange("\x01\x01\x01").ok());               // trailing
}

TEST(ConfChange, SingleStepRules) {
  ConfState c{.voters = {1, 2, 3}};
  absl::StatusOr<ConfState> next = ApplyConfChange(c, {ConfChangeType::kAddLearner, 4});
  ASSERT_TRUE(next.ok());
  EXPECT_EQ(next->learners, std::vector<ReplicaId>{4});
  next = ApplyConfChange(*next, {ConfChangeType::kAddVoter, 4});  // promotion
  ASSERT_TRUE(next.ok());
  EXPECT_EQ(next->voters, (std::vector<ReplicaId>{1, 2, 3, 4}));
  EXPECT_TRUE(next->learners.empty());
  EXPECT_FALSE(ApplyConfChange(*next, {ConfChangeType::kAddVoter, 4}).ok());
  EXPECT_FALSE(ApplyConfChange(ConfState{.voters = {1}}, {ConfChangeType::kRemove, 1}).ok());
  EXPECT_FALSE(ApplyConfChange(c, {ConfChangeType::kRemove, 9}).ok());
}

}  // namespace
}  // namespace crema::raft
