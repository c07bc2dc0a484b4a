#include "transport/frame.h"

#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <string>

namespace crema::transport {
namespace {

const std::string kTag(kDataFrameTagBytes, 'T');  // the reader carries tags, never checks them

// A data frame as a connection sends it: encoded, then its tag appended.
std::string SomeFrame(std::string_view payload = "hello") {
  return EncodeFrame(FrameKind::kData, static_cast<uint8_t>(Service::kTest), 7, payload) + kTag;
}

// A reader as an authenticated connection has it (the default limit is the handshake's).
FrameReader AuthenticatedReader() {
  FrameReader reader;
  reader.set_max_payload_bytes(kMaxFramePayloadBytes);
  return reader;
}

TEST(FrameTest, RoundTripsWholeFrames) {
  FrameReader reader = AuthenticatedReader();
  reader.Append(SomeFrame("one") + SomeFrame("") + SomeFrame("three"));
  for (std::string_view expected : {"one", "", "three"}) {
    absl::StatusOr<std::optional<Frame>> frame = reader.Next();
    ASSERT_TRUE(frame.ok()) << frame.status();
    ASSERT_TRUE(frame->has_value());
    EXPECT_EQ((*frame)->kind, FrameKind::kData);
    EXPECT_EQ((*frame)->service, static_cast<uint8_t>(Service::kTest));
    EXPECT_EQ((*frame)->from, 7u);
    EXPECT_EQ((*frame)->payload, expected);
    EXPECT_EQ((*frame)->tag, kTag);
    EXPECT_EQ(AuthenticatedHeader(**frame), SomeFrame(expected).substr(0, 16));
  }
  absl::StatusOr<std::optional<Frame>> none = reader.Next();
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->has_value());
  EXPECT_EQ(reader.buffered_bytes(), 0u);
}

TEST(FrameTest, TruncatedFrameWaitsForMoreBytes) {
  const std::string frame = SomeFrame("payload");
  FrameReader reader = AuthenticatedReader();
  reader.Append(frame.substr(0, frame.size() - 1));  // all but the tag's last byte
  absl::StatusOr<std::optional<Frame>> partial = reader.Next();
  ASSERT_TRUE(partial.ok());
  EXPECT_FALSE(partial->has_value());
  reader.Append(frame.substr(frame.size() - 1));
  absl::StatusOr<std::optional<Frame>> whole = reader.Next();
  ASSERT_TRUE(whole.ok() && whole->has_value());
  EXPECT_EQ((*whole)->payload, "payload");
}

TEST(FrameTest, GarbageIsRejectedAndStaysRejected) {
  FrameReader reader;
  reader.Append("GET / HTTP/1.1\r\nHost: example\r\n\r\n");
  absl::StatusOr<std::optional<Frame>> result = reader.Next();
  EXPECT_TRUE(absl::IsDataLoss(result.status())) << result.status();
  reader.Append(SomeFrame());  // a good frame after garbage is not accepted
  EXPECT_TRUE(absl::IsDataLoss(reader.Next().status()));
  EXPECT_TRUE(reader.failed());
}

TEST(FrameTest, OversizeLengthIsRejectedFromTheHeaderAlone) {
  std::string frame = SomeFrame("x");
  const uint32_t huge = kMaxFramePayloadBytes + 1;
  for (int i = 0; i < 4; ++i) frame[12 + i] = static_cast<char>((huge >> (8 * i)) & 0xff);
  FrameReader reader = AuthenticatedReader();
  reader.Append(frame.substr(0, kFrameHeaderBytes));  // no payload needed to reject it
  absl::StatusOr<std::optional<Frame>> result = reader.Next();
  EXPECT_TRUE(absl::IsDataLoss(result.status())) << result.status();
  EXPECT_NE(result.status().message().find("exceeds"), std::string::npos);
  EXPECT_EQ(reader.buffered_bytes(), 0u);
}

// Until a connection authenticates, its reader takes only handshake-sized payloads: a header
// claiming more is refused before a byte of payload is buffered. Handshake frames are held to
// that size even afterwards.
TEST(FrameTest, UnauthenticatedLimitHoldsFromTheHeaderAlone) {
  FrameReader fresh;
  EXPECT_EQ(fresh.max_payload_bytes(), kMaxHandshakePayloadBytes);
  const std::string big = SomeFrame(std::string(kMaxHandshakePayloadBytes + 1, 'b'));
  fresh.Append(big.substr(0, kFrameHeaderBytes));
  absl::StatusOr<std::optional<Frame>> result = fresh.Next();
  EXPECT_TRUE(absl::IsDataLoss(result.status())) << result.status();
  EXPECT_EQ(fresh.buffered_bytes(), 0u);

  FrameReader at_limit;
  at_limit.Append(SomeFrame(std::string(kMaxHandshakePayloadBytes, 'b')));
  result = at_limit.Next();
  ASSERT_TRUE(result.ok() && result->has_value()) << result.status();

  FrameReader authenticated = AuthenticatedReader();
  authenticated.Append(EncodeFrame(FrameKind::kProof, 0, 7,
                                   std::string(kMaxHandshakePayloadBytes + 1, 'p')));
  EXPECT_TRUE(absl::IsDataLoss(authenticated.Next().status()));
}

TEST(FrameTest, LargestPayloadIsAccepted) {
  const std::string payload(kMaxFramePayloadBytes, 'z');
  FrameReader reader = AuthenticatedReader();
  reader.Append(SomeFrame(payload));
  absl::StatusOr<std::optional<Frame>> frame = reader.Next();
  ASSERT_TRUE(frame.ok() && frame->has_value()) << frame.status();
  EXPECT_EQ((*frame)->payload.size(), kMaxFramePayloadBytes);
}

TEST(FrameTest, BadChecksumVersionKindAndReservedAreRejected) {
  struct Case {
    size_t offset;
    const char* why;
  };
  for (Case c : {Case{kFrameHeaderBytes + 1, "checksum"}, Case{16, "checksum"},
                 Case{4, "version"}, Case{5, "kind"}, Case{7, "reserved"}, Case{0, "magic"},
                 Case{8, "checksum"}}) {
    std::string frame = SomeFrame("payload");
    frame[c.offset] = static_cast<char>(frame[c.offset] ^ 0x40);
    FrameReader reader = AuthenticatedReader();
    reader.Append(frame);
    absl::StatusOr<std::optional<Frame>> result = reader.Next();
    EXPECT_TRUE(absl::IsDataLoss(result.status())) << "offset " << c.offset;
    EXPECT_NE(result.status().message().find(c.why), std::string::npos)
        << result.status() << " at offset " << c.offset;
  }
}

// Any split of a stream of frames decodes to the same frames.
RC_GTEST_PROP(FrameProperty, ArbitrarySplitsDecodeTheSameFrames,
              (const std::vector<std::string>& payloads, const std::vector<size_t>& cuts)) {
  std::string stream;
  for (const std::string& p : payloads) stream += SomeFrame(p);
  FrameReader reader = AuthenticatedReader();
  std::vector<std::string> got;
  size_t at = 0;
  auto drain = [&] {
    while (true) {
      absl::StatusOr<std::optional<Frame>> frame = reader.Next();
      const bool ok = frame.ok();
      RC_ASSERT(ok);
      if (!frame->has_value()) return;
      got.push_back((*frame)->payload);
    }
  };
  for (size_t cut : cuts) {
    const size_t n = std::min(cut % 64, stream.size() - at);
    reader.Append(std::string_view(stream).substr(at, n));
    at += n;
    drain();
  }
  reader.Append(std::string_view(stream).substr(at));
  drain();
  RC_ASSERT(got == payloads);
}

// Flipping any bit of a frame's header or payload never yields a frame: an error, or a wait for
// more bytes (when the length field grew), but never a crash or a corrupted delivery. (A flipped
// tag bit is the tag check's to catch: frame_auth_test.)
RC_GTEST_PROP(FrameProperty, AnyBitFlipIsDetected, (const std::string& payload)) {
  std::string frame = SomeFrame(payload);
  const size_t bit = *rc::gen::inRange<size_t>(0, (frame.size() - kDataFrameTagBytes) * 8);
  frame[bit / 8] = static_cast<char>(frame[bit / 8] ^ (1 << (bit % 8)));
  FrameReader reader = AuthenticatedReader();
  reader.Append(frame);
  absl::StatusOr<std::optional<Frame>> result = reader.Next();
  const bool delivered = result.ok() && result->has_value();
  RC_ASSERT(!delivered);
}

}  // namespace
}  // namespace crema::transport
