// The local-read and TTL oracles catch what they promise to (and nothing a correct cache does).
#include "chaos/cache_oracles.h"

#include <vector>

#include "gtest/gtest.h"

namespace crema::chaos {
namespace {

constexpr int64_t kMs = 1'000'000;

Operation Local(Operation op) {
  op.local = true;
  return op;
}

CacheOracleResult Check(const History& h, std::vector<OracleInfo> info, bool lose_nothing) {
  CacheOracleOptions o;
  o.max_skew = absl::Milliseconds(100);
  o.lose_nothing = lose_nothing;
  return CheckCacheOracles(h, info, o);
}

TEST(CacheOraclesTest, LocalReadsNeverInventValues) {
  const History h = {PutOp(1, "k", "v1", 0, 10), Local(GetOp(2, "k", "zz", 20, 30))};
  EXPECT_EQ(Check(h, {{1}, {1}}, false).violation_count, 1u);
  const History ok = {PutOp(1, "k", "v1", 0, 10), Local(GetOp(2, "k", "v1", 20, 30))};
  EXPECT_EQ(Check(ok, {{1}, {1}}, false).violation_count, 0u);
}

TEST(CacheOraclesTest, ReadYourWritesThroughOneNode) {
  // Client 1 wrote v2 through node 3, then read v1 (older than v2) locally through node 3.
  const History stale = {PutOp(9, "k", "v1", 0, 10), PutOp(1, "k", "v2", 20, 30),
                         Local(GetOp(1, "k", "v1", 40, 50))};
  EXPECT_EQ(Check(stale, {{2}, {3}, {3}}, false).violation_count, 1u);
  // Through another node there is no such promise.
  EXPECT_EQ(Check(stale, {{2}, {3}, {4}}, false).violation_count, 0u);
  // A missed write is a violation only when nothing could have removed it.
  const History missed = {PutOp(1, "k", "v1", 0, 10), Local(GetOp(1, "k", std::nullopt, 20, 30))};
  EXPECT_EQ(Check(missed, {{3}, {3}}, true).violation_count, 1u);
  EXPECT_EQ(Check(missed, {{3}, {3}}, false).violation_count, 0u);  // eviction may have
  const History deleted = {PutOp(1, "k", "v1", 0, 10), DeleteOp(2, "k", 12, 18),
                           Local(GetOp(1, "k", std::nullopt, 20, 30))};
  EXPECT_EQ(Check(deleted, {{3}, {4}, {3}}, true).violation_count, 0u);
}

// INCR keeps the key's TTL: after an EXPIRE, one's own increment may be gone by the next read
// (seed 14009163932107485462 of the cache scenario, where the oracle reported it as missed).
TEST(CacheOraclesTest, AnIncrementKeepsAnEarlierExpire) {
  const History expired = {ExpireOp(2, "n", /*ttl=*/true, /*applied=*/true, 0, 10),
                           IncrOp(1, "n", 4, 4, 20, 30), Local(GetOp(1, "n", std::nullopt, 40, 50))};
  EXPECT_EQ(Check(expired, {{4}, {3}, {3}}, true).violation_count, 0u);
  // Without the EXPIRE the increment is missed.
  const History missed = {IncrOp(1, "n", 4, 4, 20, 30), Local(GetOp(1, "n", std::nullopt, 40, 50))};
  EXPECT_EQ(Check(missed, {{3}, {3}}, true).violation_count, 1u);
}

TEST(CacheOraclesTest, CounterValuesRepeat) {
  // n: -1 (client 3), then -3 (client 1's own, through node 3), then a read of -1 through node 3.
  Operation unknown = IncrOp(2, "n", 2, std::nullopt, 31, 60);
  unknown.return_ns = std::nullopt;
  unknown.outcome = Outcome::kIndeterminate;
  const History explained = {IncrOp(3, "n", -1, -1, 0, 10), IncrOp(1, "n", -2, -3, 20, 30),
                             unknown, Local(GetOp(1, "n", "-1", 40, 50))};
  // Client 2's +2, outcome unknown, may have made it -1 again: no violation.
  EXPECT_EQ(Check(explained, {{2}, {3}, {4}, {3}}, false).violation_count, 0u);
  // Without it, reading -1 after one's own -3 is stale.
  const History stale = {IncrOp(3, "n", -1, -1, 0, 10), IncrOp(1, "n", -2, -3, 20, 30),
                         Local(GetOp(1, "n", "-1", 40, 50))};
  EXPECT_EQ(Check(stale, {{2}, {3}, {3}}, false).violation_count, 1u);
}

TEST(CacheOraclesTest, NoReadAfterTheDeadlineAnExpireSet) {
  // n was incremented, then EXPIREd with a 1000 ms TTL; an increment before the deadline keeps
  // it; a read 1300 ms after the expire returned (beyond TTL + 100 ms skew) finds a value.
  const History kept = {IncrOp(1, "n", 1, 1, 0, 10), ExpireOp(1, "n", true, true, 20, 30),
                        IncrOp(2, "n", 1, 2, 100, 110), GetOp(3, "n", "2", 1330, 1340)};
  std::vector<OracleInfo> info = {{1}, {1, 1000 * kMs}, {1}, {1}};
  History scaled = kept;
  for (Operation& op : scaled) {
    op.invoke_ns *= kMs;
    *op.return_ns *= kMs;
  }
  EXPECT_EQ(Check(scaled, info, false).violation_count, 1u);
  // An increment that may have run after the deadline recreated the key: no violation.
  History late = scaled;
  late[2].invoke_ns = 950 * kMs;
  late[2].return_ns = 960 * kMs;
  EXPECT_EQ(Check(late, info, false).violation_count, 0u);
  // A read within TTL + skew: no violation.
  History early = scaled;
  early[3].invoke_ns = 1100 * kMs;
  early[3].return_ns = 1110 * kMs;
  EXPECT_EQ(Check(early, info, false).violation_count, 0u);
  // A PERSIST in between: no violation.
  History persisted = scaled;
  persisted[2] = ExpireOp(2, "n", false, true, 100 * kMs, 110 * kMs);
  EXPECT_EQ(Check(persisted, info, false).violation_count, 0u);
  // A local read binds only through the EXPIRE's own node (read-your-writes through one node):
  // through node 1 it must reflect the expire; through node 2 it may be stale enough not to
  // (cache seed 9883745024508951609: a lagging replica, 4 s behind). A linearizable read through
  // node 2 still must.
  History local = scaled;
  local[3].local = true;
  EXPECT_EQ(Check(local, info, false).violation_count, 1u) << "local read through the same node";
  std::vector<OracleInfo> other = info;
  other[3].node = 2;
  EXPECT_EQ(Check(local, other, false).violation_count, 0u) << "local read through another node";
  EXPECT_EQ(Check(scaled, other, false).violation_count, 1u) << "linearizable read, other node";
}

// Cache seed 10948620717781193540: n held 4, was EXPIREd (1000 ms), then evicted; an increment by
// -1 found it absent and returned -1, starting a new key with no deadline, which a read long
// after the deadline legitimately finds. Only eviction explains it, so with `lose_nothing` it is
// still a violation, and an increment whose result shows the key was there still keeps it.
TEST(CacheOraclesTest, AnIncrementAfterAnEvictionStartsAKeyWithoutTheDeadline) {
  History h = {IncrOp(1, "n", 4, 4, 0, 10), ExpireOp(1, "n", true, true, 20, 30),
               IncrOp(2, "n", -1, -1, 100, 110), GetOp(3, "n", "-1", 1330, 1340)};
  for (Operation& op : h) {
    op.invoke_ns *= kMs;
    *op.return_ns *= kMs;
  }
  const std::vector<OracleInfo> info = {{1}, {1, 1000 * kMs}, {1}, {1}};
  EXPECT_EQ(Check(h, info, /*lose_nothing=*/false).violation_count, 0u);
  EXPECT_EQ(Check(h, info, /*lose_nothing=*/true).violation_count, 1u);
  History kept = h;
  kept[2] = IncrOp(2, "n", -1, 3, 100 * kMs, 110 * kMs);  // 4 - 1: the key was there
  kept[3].value = "3";
  EXPECT_EQ(Check(kept, info, /*lose_nothing=*/false).violation_count, 1u);
}

TEST(CacheOraclesTest, NoReadAfterTheDeadlinePlusSkew) {
  Operation put = PutOp(1, "t", "v", 0, 10 * kMs);
  put.ttl = true;
  const OracleInfo ttl{.node = 1, .ttl_ns = 1000 * kMs};
  // Deadline bound = 10 ms + 1000 ms + 100 ms.
  const History late = {put, GetOp(2, "t", "v", 1200 * kMs, 1210 * kMs)};
  CacheOracleResult r = Check(late, {ttl, {1}}, false);
  EXPECT_EQ(r.violation_count, 1u);
  EXPECT_EQ(r.ttl_reads_checked, 1u);
  const History in_time = {put, GetOp(2, "t", "v", 1050 * kMs, 1300 * kMs)};
  EXPECT_EQ(Check(in_time, {ttl, {1}}, false).violation_count, 0u);
  // An expire in between may have moved the deadline.
  const History extended = {put, ExpireOp(3, "t", true, true, 500 * kMs, 510 * kMs),
                            GetOp(2, "t", "v", 1200 * kMs, 1210 * kMs)};
  EXPECT_EQ(Check(extended, {ttl, {1}, {1}}, false).violation_count, 0u);
}

}  // namespace
}  // namespace crema::chaos
