#include "node/eventual/core/hlc.h"

#include <limits>

#include "gtest/gtest.h"
#include "rapidcheck/gtest.h"

namespace crema::eventual {
namespace {

const absl::Time kT0 = absl::FromUnixSeconds(1'700'000'000);

TEST(HlcTest, NowFollowsTheWallClockAndNeverRepeats) {
  HlcClock clock(1, absl::Seconds(10));
  const Version a = clock.Now(kT0);
  EXPECT_EQ(a.wall_ns, absl::ToUnixNanos(kT0));
  EXPECT_EQ(a.logical, 0u);
  EXPECT_EQ(a.node, 1u);
  const Version b = clock.Now(kT0);  // same wall time: logical part advances
  EXPECT_GT(b, a);
  EXPECT_EQ(b.logical, 1u);
  const Version c = clock.Now(kT0 - absl::Seconds(5));  // wall clock stepped back
  EXPECT_GT(c, b);
  EXPECT_EQ(c.wall_ns, a.wall_ns);
  const Version d = clock.Now(kT0 + absl::Seconds(1));
  EXPECT_EQ(d.wall_ns, absl::ToUnixNanos(kT0 + absl::Seconds(1)));
  EXPECT_EQ(d.logical, 0u);
}

TEST(HlcTest, ObservingAVersionOrdersLaterWritesAfterIt) {
  // B's clock is 2 s behind A's: without the HLC merge, B's write would lose to A's.
  HlcClock a(1, absl::Seconds(10)), b(2, absl::Seconds(10));
  const Version written_by_a = a.Now(kT0 + absl::Seconds(2));
  ASSERT_TRUE(b.Observe(written_by_a, kT0));
  EXPECT_GT(b.Now(kT0), written_by_a);
}

TEST(HlcTest, RefusesToJumpFarIntoTheFuture) {
  HlcClock clock(1, absl::Seconds(10));
  const Version before = clock.Now(kT0);
  EXPECT_FALSE(clock.Observe(Version{absl::ToUnixNanos(kT0 + absl::Hours(1)), 0, 2}, kT0));
  EXPECT_EQ(clock.rejected(), 1u);
  const Version after = clock.Now(kT0);
  EXPECT_EQ(after.wall_ns, before.wall_ns);
  EXPECT_TRUE(clock.Observe(Version{absl::ToUnixNanos(kT0 + absl::Seconds(5)), 7, 2}, kT0));
  EXPECT_GT(clock.Now(kT0), (Version{absl::ToUnixNanos(kT0 + absl::Seconds(5)), 7, 2}));
}

TEST(HlcTest, LogicalOverflowBorrowsANanosecond) {
  HlcClock clock(1, absl::Seconds(10));
  Version seen{absl::ToUnixNanos(kT0), std::numeric_limits<uint32_t>::max() - 1, 2};
  ASSERT_TRUE(clock.Observe(seen, kT0));
  const Version v = clock.Now(kT0);
  EXPECT_GT(v, seen);
  EXPECT_EQ(v.wall_ns, seen.wall_ns + 1);
}

RC_GTEST_PROP(HlcProperty, StrictlyIncreasingUnderAnyClockAndMessages,
              (std::vector<std::pair<int, int>> steps)) {
  HlcClock clock(3, absl::Seconds(30));
  Version last;
  for (const auto& [wall_offset_ms, message_offset_ms] : steps) {
    const absl::Time wall = kT0 + absl::Milliseconds(wall_offset_ms % 100'000);
    if (message_offset_ms % 3 == 0) {
      const Version seen{absl::ToUnixNanos(wall + absl::Milliseconds(message_offset_ms % 60'000)),
                         static_cast<uint32_t>(message_offset_ms & 0xff), 9};
      if (clock.Observe(seen, wall)) {
        const Version next = clock.Now(wall);
        RC_ASSERT(next > seen);
      }
    }
    const Version v = clock.Now(wall);
    RC_ASSERT(v > last);
    last = v;
  }
}

}  // namespace
}  // namespace crema::eventual
