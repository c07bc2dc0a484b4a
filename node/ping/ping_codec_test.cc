#include "node/ping/ping_codec.h"

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

namespace crema::ping {
namespace {

TEST(PingCodecTest, EncodesTheDocumentedFormat) {
  PingMessage ack;
  ack.kind = PingMessage::Kind::kAck;
  ack.request_id = 7;
  ack.total = 42;
  EXPECT_EQ(EncodePing(ack), "ack 7 42");
  PingMessage hb;
  hb.kind = PingMessage::Kind::kHeartbeat;
  hb.counter.Increment(3, 5);
  hb.counter.Increment(1, 2);
  EXPECT_EQ(EncodePing(hb), "hb 1:2 3:5");
  absl::StatusOr<PingMessage> value = DecodePing("value 1 2 3");
  ASSERT_TRUE(value.ok());
  EXPECT_EQ(value->kind, PingMessage::Kind::kValue);
  EXPECT_EQ(value->local_count, 3u);
}

TEST(PingCodecTest, RejectsMalformedMessages) {
  for (const char* bad :
       {"", "add", "add ", " add 1", "add  1", "add 1 ", "add 01", "add -1", "add +1", "add 1 2",
        "get x", "ack 1", "value 1 2", "hb 1", "hb 0:1", "hb 1:1 1:2", "hb 1:", "hb :1",
        "add 18446744073709551616", "hb 4294967296:1", "nope 1", "hb 1:1:1", "add\n1"}) {
    EXPECT_FALSE(DecodePing(bad).ok()) << "'" << bad << "'";
  }
  EXPECT_TRUE(DecodePing("add 18446744073709551615").ok());
  EXPECT_TRUE(DecodePing("hb").ok());  // an empty counter is fine
  EXPECT_FALSE(DecodePing(std::string(kMaxPingMessageBytes + 1, 'a')).ok());
}

RC_GTEST_PROP(PingCodecProperty, RoundTrips,
              (uint8_t kind_index, uint64_t id, uint64_t total, uint64_t local,
               std::vector<std::pair<uint32_t, uint64_t>> entries)) {
  PingMessage message;
  message.kind = static_cast<PingMessage::Kind>(kind_index % 5);
  message.request_id = id;
  message.total = total;
  message.local_count = local;
  if (message.kind == PingMessage::Kind::kHeartbeat) {
    for (const auto& [node, count] : entries) {
      if (node == kNoNode || message.counter.entries().size() >= GCounter::kMaxEntries) continue;
      message.counter.MergeEntry(node, count);
    }
  }
  absl::StatusOr<PingMessage> decoded = DecodePing(EncodePing(message));
  RC_ASSERT(decoded.ok());
  RC_ASSERT(EncodePing(*decoded) == EncodePing(message));
}

RC_GTEST_PROP(PingCodecProperty, ArbitraryBytesNeverCrash, (std::string bytes)) {
  absl::StatusOr<PingMessage> decoded = DecodePing(bytes);
  if (decoded.ok()) RC_ASSERT(EncodePing(*decoded) == bytes);  // only canonical text parses
}

}  // namespace
}  // namespace crema::ping
