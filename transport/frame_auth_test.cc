// Per-frame authentication (frame_auth.h): keys from a real handshake; every kind of tampering
// an on-path attacker can do to a stream of sealed frames is refused at the first bad frame, and
// an honest stream always opens. RapidCheck drives the streams and the edits.
#include "transport/frame_auth.h"

#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <string>
#include <vector>

#include "transport/frame.h"
#include "transport/handshake.h"

namespace crema::transport {
namespace {

constexpr char kSecret[] = "frame auth test secret";

struct Peers {
  SessionKeys dialer;
  SessionKeys acceptor;
};

// Runs an honest handshake between node 1 (dialer) and node 2 (acceptor).
Peers Handshake(const std::string& secret = kSecret) {
  DialerHandshake dialer(secret, 1, 2, RandomNonce());
  AcceptorHandshake acceptor(secret, 2, RandomNonce());
  absl::StatusOr<std::string> challenge = acceptor.OnHello(1, dialer.HelloPayload());
  EXPECT_TRUE(challenge.ok());
  absl::StatusOr<std::string> proof = dialer.OnChallenge(2, *challenge);
  EXPECT_TRUE(proof.ok());
  EXPECT_TRUE(acceptor.OnProof(1, *proof).ok());
  return {dialer.keys(), acceptor.keys()};
}

struct Wire {
  std::string header16;
  std::string payload;
  std::string tag;
};

Wire Seal(FrameSealer& sealer, std::string payload, NodeId from = 1) {
  std::string bytes = EncodeFrame(FrameKind::kData, 250, from, payload);
  sealer.Seal(&bytes);
  EXPECT_EQ(bytes.size(), kFrameHeaderBytes + payload.size() + kFrameTagBytes);
  return {bytes.substr(0, kFrameAuthenticatedHeaderBytes), payload,
          bytes.substr(bytes.size() - kFrameTagBytes)};
}

absl::Status Open(FrameOpener& opener, const Wire& w) {
  return opener.Open(w.header16, w.payload, w.tag);
}

TEST(FrameAuthTest, KeysPairUpPerDirectionAndDifferPerConnection) {
  const Peers p = Handshake();
  EXPECT_EQ(p.dialer.send, p.acceptor.receive);
  EXPECT_EQ(p.dialer.receive, p.acceptor.send);
  EXPECT_NE(p.dialer.send, p.dialer.receive);  // no reflection
  const Peers q = Handshake();
  EXPECT_NE(p.dialer.send, q.dialer.send);  // fresh nonces, fresh keys
  const Peers other_secret = Handshake("another secret of 16+ bytes");
  EXPECT_NE(p.dialer.send, other_secret.dialer.send);
}

TEST(FrameAuthTest, HonestStreamOpensBothWays) {
  const Peers p = Handshake();
  FrameSealer to_acceptor(p.dialer.send), to_dialer(p.acceptor.send);
  FrameOpener at_acceptor(p.acceptor.receive), at_dialer(p.dialer.receive);
  for (int i = 0; i < 100; ++i) {
    EXPECT_TRUE(Open(at_acceptor, Seal(to_acceptor, "d" + std::to_string(i))).ok());
    EXPECT_TRUE(Open(at_dialer, Seal(to_dialer, std::string(i, 'a'), 2)).ok());
  }
  EXPECT_EQ(at_acceptor.next_sequence(), 100u);
  EXPECT_TRUE(Open(at_acceptor, Seal(to_acceptor, "")).ok());  // empty payloads too
}

TEST(FrameAuthTest, EachTamperingIsRefusedAndTheOpenerStaysFailed) {
  const Peers p = Handshake();
  auto fresh = [&] {
    return std::make_pair(std::make_unique<FrameSealer>(p.dialer.send),
                          std::make_unique<FrameOpener>(p.acceptor.receive));
  };
  {  // replay
    auto [s, o] = fresh();
    const Wire w = Seal(*s, "once");
    ASSERT_TRUE(Open(*o, w).ok());
    EXPECT_TRUE(absl::IsUnauthenticated(Open(*o, w)));
    EXPECT_TRUE(o->failed());
    EXPECT_FALSE(Open(*o, Seal(*s, "honest, but after a failure")).ok());
  }
  {  // reorder
    auto [s, o] = fresh();
    const Wire first = Seal(*s, "1"), second = Seal(*s, "2");
    EXPECT_FALSE(Open(*o, second).ok());
  }
  {  // drop
    auto [s, o] = fresh();
    (void)Seal(*s, "lost");
    EXPECT_FALSE(Open(*o, Seal(*s, "next")).ok());
  }
  {  // modify payload, header fields, tag
    for (int field = 0; field < 3; ++field) {
      auto [s, o] = fresh();
      Wire w = Seal(*s, "payload");
      std::string& bytes = field == 0 ? w.payload : field == 1 ? w.header16 : w.tag;
      bytes[bytes.size() / 2] ^= 0x01;
      EXPECT_FALSE(Open(*o, w).ok()) << field;
    }
  }
  {  // a different sender id in the header
    auto [s, o] = fresh();
    Wire w = Seal(*s, "x");
    w.header16 = AuthenticatedHeader(Frame{FrameKind::kData, 250, 3, "x", ""});
    EXPECT_FALSE(Open(*o, w).ok());
  }
  {  // reflection: a frame sent by the acceptor fed back to it
    FrameSealer acceptor_out(p.acceptor.send);
    FrameOpener acceptor_in(p.acceptor.receive);
    EXPECT_FALSE(Open(acceptor_in, Seal(acceptor_out, "echo", 2)).ok());
  }
  {  // cross-connection replay: the same position on another connection
    const Peers q = Handshake();
    FrameSealer old_sender(q.dialer.send);
    auto [s, o] = fresh();
    EXPECT_FALSE(Open(*o, Seal(old_sender, "from another connection")).ok());
  }
  {  // truncated tag or header
    auto [s, o] = fresh();
    Wire w = Seal(*s, "x");
    w.tag.pop_back();
    EXPECT_FALSE(Open(*o, w).ok());
  }
}

// Any single edit of an honest stream: frames before the edit open, the edited one and all
// after it do not.
RC_GTEST_PROP(FrameAuthProperty, FirstEditFailsAndEverythingAfter, ()) {
  const Peers p = Handshake();
  FrameSealer sealer(p.dialer.send);
  const auto payloads = *rc::gen::container<std::vector<std::string>>(
      *rc::gen::inRange<size_t>(2, 12), rc::gen::arbitrary<std::string>());
  std::vector<Wire> stream;
  for (const std::string& payload : payloads) stream.push_back(Seal(sealer, payload));
  const size_t at = *rc::gen::inRange<size_t>(0, stream.size() - 1);
  const int edit = *rc::gen::inRange(0, 4);
  if (edit == 0) {
    stream.insert(stream.begin() + at, stream[at]);  // duplicate: the copy is at `at + 1`
  } else if (edit == 1) {
    if (at + 1 < stream.size()) {  // swap (tags carry the position, so equal payloads too)
      std::swap(stream[at], stream[at + 1]);
    } else {
      stream[at].tag[0] ^= 1;
    }
  } else if (edit == 2) {
    stream.erase(stream.begin() + at);
  } else {
    std::string& payload = stream[at].payload;
    if (payload.empty()) payload = "!";
    else payload[*rc::gen::inRange<size_t>(0, payload.size())] ^= 0x20;
  }
  const size_t first_bad = edit == 0 ? at + 1 : at;
  FrameOpener opener(p.acceptor.receive);
  for (size_t i = 0; i < stream.size(); ++i) {
    RC_ASSERT(Open(opener, stream[i]).ok() == (i < first_bad));
  }
}

}  // namespace
}  // namespace crema::transport
