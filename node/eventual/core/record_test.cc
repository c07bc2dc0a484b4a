#include "node/eventual/core/record.h"

#include "gtest/gtest.h"
#include "rapidcheck/gtest.h"

namespace crema::eventual {
namespace {

const absl::Time kT0 = absl::FromUnixSeconds(1'700'000'000);

Record Value(int64_t wall_ns, std::string value, NodeId node = 1) {
  return Record{Version{wall_ns, 0, node}, false, 0, std::move(value)};
}

TEST(RecordTest, NewerVersionWinsWhateverTheContent) {
  const Record old_value = Value(100, "zzz");
  const Record new_value = Value(200, "aaa");
  Record tombstone{Version{300, 0, 2}, true, 0, ""};
  EXPECT_TRUE(Supersedes(new_value, old_value));
  EXPECT_FALSE(Supersedes(old_value, new_value));
  EXPECT_TRUE(Supersedes(tombstone, new_value));
  EXPECT_FALSE(Supersedes(new_value, new_value));
}

TEST(RecordTest, EqualVersionsBreakTiesByDigestTheSameWayEverywhere) {
  const Record a = Value(100, "a"), b = Value(100, "b");
  EXPECT_NE(Supersedes(a, b), Supersedes(b, a));
}

TEST(RecordTest, LivenessTtlAndPurge) {
  Record r = Value(absl::ToUnixNanos(kT0), "v");
  EXPECT_TRUE(IsLive(r, kT0 + absl::Hours(100)));
  EXPECT_EQ(PurgeTime(r, absl::Hours(1)), absl::InfiniteFuture());
  r.expires_at_ns = absl::ToUnixNanos(kT0 + absl::Seconds(10));
  EXPECT_TRUE(IsLive(r, kT0 + absl::Seconds(9)));
  EXPECT_FALSE(IsLive(r, kT0 + absl::Seconds(10)));
  EXPECT_EQ(PurgeTime(r, absl::Hours(1)), kT0 + absl::Seconds(10) + absl::Hours(1));
  Record t{Version{absl::ToUnixNanos(kT0), 0, 1}, true, 0, ""};
  EXPECT_FALSE(IsLive(t, kT0));
  EXPECT_EQ(PurgeTime(t, absl::Minutes(5)), kT0 + absl::Minutes(5));
}

TEST(RecordTest, DecodeRejectsMalformedRecords) {
  WireWriter w;
  EncodeRecord(Value(1, "x"), w);
  std::string bytes = std::move(w).Finish();
  Record out;
  {
    WireReader r(bytes);
    ASSERT_TRUE(DecodeRecord(r, &out).ok());
    EXPECT_EQ(out, Value(1, "x"));
  }
  std::string bad_flags = bytes;
  bad_flags[0] = 4;
  WireReader r1(bad_flags);
  EXPECT_FALSE(DecodeRecord(r1, &out).ok());
  std::string tombstone_with_value = bytes;
  tombstone_with_value[0] = 1;
  WireReader r2(tombstone_with_value);
  EXPECT_FALSE(DecodeRecord(r2, &out).ok());
  for (size_t cut = 0; cut < bytes.size(); ++cut) {
    WireReader r3(std::string_view(bytes).substr(0, cut));
    EXPECT_FALSE(DecodeRecord(r3, &out).ok()) << cut;
  }
  EXPECT_FALSE(ValidateKey("").ok());
  EXPECT_FALSE(ValidateKey(std::string(kMaxKeyBytes + 1, 'k')).ok());
  EXPECT_TRUE(ValidateKey("k").ok());
}

RC_GTEST_PROP(RecordProperty, RoundTripsAndOrdersTotally,
              (int64_t wall, uint32_t logical, uint32_t node, bool tombstone, std::string value,
               int64_t wall2)) {
  Record a{Version{wall & INT64_MAX, logical, node}, tombstone, 0, tombstone ? "" : value};
  Record b{Version{wall2 & INT64_MAX, logical, node}, false, 0, value};
  WireWriter w;
  EncodeRecord(a, w);
  const std::string bytes = std::move(w).Finish();
  WireReader r(bytes);
  Record decoded;
  RC_ASSERT(DecodeRecord(r, &decoded).ok());
  RC_ASSERT(decoded == a);
  RC_ASSERT(r.done());
  // Exactly one of: a supersedes b, b supersedes a, a == b.
  const int wins = (Supersedes(a, b) ? 1 : 0) + (Supersedes(b, a) ? 1 : 0);
  RC_ASSERT(wins == (a == b ? 0 : 1));
}

}  // namespace
}  // namespace crema::eventual
