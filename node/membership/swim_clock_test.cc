// Swim's clock-offset samples: acks to direct pings carry the responder's wall clock, and the
// prober turns its own probe's ack into a ClockSample whose error (half the round trip) bounds
// the estimate's distance from the true offset.
#include <vector>

#include "gtest/gtest.h"
#include "node/membership/swim.h"
#include "node/membership/testing/swim_wire.h"
#include "rapidcheck.h"
#include "rapidcheck/gtest.h"

namespace crema::membership::testing {
namespace {

const absl::Time kWall0 = absl::FromUnixSeconds(1'700'000'000);

// Ticks `swim` (which knows node 2) until it pings 2; returns the ping and its time.
Message TickUntilPingOf2(Swim& swim, absl::Time* now) {
  for (int i = 0; i < 100; ++i) {
    *now += absl::Milliseconds(50);
    swim.Tick(*now);
    for (const Message& m : Decoded(swim.TakeOutbox())) {
      if (m.type == MessageType::kPing && m.to == 2) return m;
    }
  }
  ADD_FAILURE() << "no ping to node 2";
  return {};
}

Message AckOf(const Message& ping, std::optional<absl::Time> wall) {
  Message ack;
  ack.type = MessageType::kAck;
  ack.from = 2;
  ack.to = 1;
  ack.seq = ping.seq;
  ack.target = 2;
  if (wall.has_value()) ack.wall_unix_ns = absl::ToUnixNanos(*wall);
  return ack;
}

TEST(SwimClockTest, AckToADirectPingCarriesTheWallClockOnlyWhenGiven) {
  Random random(3);
  Swim swim(2, "node-2", {}, SwimConfig{}, random, kStart);
  Message ping;
  ping.type = MessageType::kPing;
  ping.from = 1;
  ping.to = 2;
  ping.seq = 9;
  ping.target = 2;
  ASSERT_TRUE(swim.Receive(1, EncodeMessage(ping), kStart, kWall0).ok());
  std::vector<Message> out = Decoded(swim.TakeOutbox());
  ASSERT_FALSE(out.empty());
  EXPECT_EQ(out[0].type, MessageType::kAck);
  EXPECT_EQ(out[0].wall_unix_ns, absl::ToUnixNanos(kWall0));
  ASSERT_TRUE(swim.Receive(1, EncodeMessage(ping), kStart).ok());
  out = Decoded(swim.TakeOutbox());
  ASSERT_FALSE(out.empty());
  EXPECT_FALSE(out[0].wall_unix_ns.has_value()) << "a driver without wall time sends none";
}

TEST(SwimClockTest, OwnProbesAckYieldsOneSampleWithHalfTheRoundTripAsError) {
  Random random(7);
  Swim swim(1, "node-1", {}, SwimConfig{}, random, kStart);
  Tell(swim, 2, Claim(2, MemberState::kAlive, 0, 2), kStart);
  (void)swim.TakeOutbox();
  absl::Time now = kStart;
  const Message ping = TickUntilPingOf2(swim, &now);
  // Node 2's clock is 3 s behind ours. The ping takes 10 ms, the ack 30 ms.
  const absl::Time remote = kWall0 + absl::Milliseconds(10) - absl::Seconds(3);
  const Message ack = AckOf(ping, remote);
  ASSERT_TRUE(swim.Receive(2, EncodeMessage(ack), now + absl::Milliseconds(40),
                           kWall0 + absl::Milliseconds(40))
                  .ok());
  std::vector<ClockSample> samples = swim.TakeClockSamples();
  ASSERT_EQ(samples.size(), 1u);
  EXPECT_EQ(samples[0].peer, 2u);
  EXPECT_EQ(samples[0].error, absl::Milliseconds(20));
  EXPECT_EQ(samples[0].offset, absl::Seconds(3) + absl::Milliseconds(10));  // +- 20 ms
  EXPECT_EQ(samples[0].taken_at, now + absl::Milliseconds(40));
  // A duplicate of the ack: the probe is over, no second sample.
  ASSERT_TRUE(swim.Receive(2, EncodeMessage(ack), now + absl::Milliseconds(50),
                           kWall0 + absl::Milliseconds(50))
                  .ok());
  EXPECT_TRUE(swim.TakeClockSamples().empty());
  EXPECT_EQ(swim.stats().clock_samples, 1u);
}

TEST(SwimClockTest, NoSampleFromAnAckWithoutWallTimeOrForwardedByARelay) {
  Random random(7);
  Swim swim(1, "node-1", {}, SwimConfig{}, random, kStart);
  Tell(swim, 2, Claim(2, MemberState::kAlive, 0, 2), kStart);
  Tell(swim, 3, Claim(3, MemberState::kAlive, 0, 3), kStart);
  (void)swim.TakeOutbox();
  absl::Time now = kStart;
  Message ping = TickUntilPingOf2(swim, &now);
  // An older peer: no trailer.
  ASSERT_TRUE(swim.Receive(2, EncodeMessage(AckOf(ping, std::nullopt)), now, kWall0).ok());
  EXPECT_TRUE(swim.TakeClockSamples().empty());
  // Next probe of 2: the ack comes forwarded by relay 3 (its round trip is not ours).
  for (int i = 0; i < 200; ++i) {
    now += absl::Milliseconds(50);
    swim.Tick(now);
    bool pinged = false;
    for (const Message& m : Decoded(swim.TakeOutbox())) {
      if (m.type == MessageType::kPing && m.to == 2) {
        ping = m;
        pinged = true;
      }
    }
    if (pinged) break;
  }
  Message forwarded = AckOf(ping, kWall0);
  forwarded.from = 3;
  ASSERT_TRUE(swim.Receive(3, EncodeMessage(forwarded), now, kWall0).ok());
  EXPECT_TRUE(swim.TakeClockSamples().empty());
}

// The error bound: whatever the one-way delays d1 (ping) and d2 (ack) and the true offset, the
// estimate is within the sample's error of the truth.
RC_GTEST_PROP(SwimClockProperty, EstimateIsWithinHalfTheRoundTripOfTheTruth, ()) {
  const absl::Duration d1 = absl::Microseconds(*rc::gen::inRange<int64_t>(0, 2'000'000));
  const absl::Duration d2 = absl::Microseconds(*rc::gen::inRange<int64_t>(0, 2'000'000));
  const absl::Duration truth =
      absl::Milliseconds(*rc::gen::inRange<int64_t>(-60'000, 60'000));  // ours minus theirs
  Random random(11);
  Swim swim(1, "node-1", {}, SwimConfig{}, random, kStart);
  Tell(swim, 2, Claim(2, MemberState::kAlive, 0, 2), kStart);
  (void)swim.TakeOutbox();
  absl::Time now = kStart;
  const Message ping = TickUntilPingOf2(swim, &now);
  // Our wall clock reads kWall0 when the ping leaves; the peer reads its clock d1 later.
  const absl::Time remote = kWall0 + d1 - truth;
  RC_ASSERT(swim.Receive(2, EncodeMessage(AckOf(ping, remote)), now + d1 + d2,
                         kWall0 + d1 + d2)
                .ok());
  std::vector<ClockSample> samples = swim.TakeClockSamples();
  RC_ASSERT(samples.size() == 1u);
  RC_ASSERT(samples[0].error == (d1 + d2) / 2);
  RC_ASSERT(absl::AbsDuration(samples[0].offset - truth) <= samples[0].error);
}

}  // namespace
}  // namespace crema::membership::testing
