// The cache model of the linearizability checker: what a cache may do (miss a TTL'd value, lose
// any value to eviction when allowed) and what it may not (stale reads, invented values, lost
// writes without eviction, wrong increments, reviving an evicted value).
#include <string>

#include "chaos/history.h"
#include "chaos/history_json.h"
#include "chaos/linearizability.h"
#include "gtest/gtest.h"

namespace crema::chaos {
namespace {

Verdict Check(const History& h, bool may_evict) {
  LinearizabilityOptions o;
  o.cache_model = true;
  o.cache_may_evict = may_evict;
  absl::StatusOr<LinearizabilityResult> r = CheckLinearizability(h, o);
  EXPECT_TRUE(r.ok()) << r.status();
  if (r.ok() && r->verdict == Verdict::kNotLinearizable) {
    // Keep the explanation in the log of a failing expectation.
    std::cerr << ExplainViolation(h, *r);
  }
  return r.ok() ? r->verdict : Verdict::kUnknown;
}

Operation Ttl(Operation op) {
  op.ttl = true;
  return op;
}

Operation Local(Operation op) {
  op.local = true;
  return op;
}

TEST(CacheModelTest, WithoutEvictionAnAcknowledgedPlainWriteIsNeverLost) {
  const History h = {PutOp(1, "k", "v1", 0, 10), GetOp(2, "k", std::nullopt, 20, 30)};
  EXPECT_EQ(Check(h, false), Verdict::kNotLinearizable);
  EXPECT_EQ(Check(h, true), Verdict::kLinearizable);  // eviction may take it
}

TEST(CacheModelTest, ATtlValueMayBeMissedButAConditionalWriteMayStillFindIt) {
  const History h = {Ttl(PutOp(1, "k", "v1", 0, 10)), GetOp(2, "k", std::nullopt, 20, 30),
                     CasOp(3, "k", "v1", "v2", /*swapped=*/true, 40, 50),
                     GetOp(2, "k", "v2", 60, 70)};
  EXPECT_EQ(Check(h, false), Verdict::kLinearizable);
}

TEST(CacheModelTest, AnEvictedValueNeverComesBack) {
  // Evicted (a read saw it gone), then a CAS still found the old value: impossible.
  const History h = {PutOp(1, "k", "v1", 0, 10), GetOp(2, "k", std::nullopt, 20, 30),
                     CasOp(3, "k", "v1", "v2", /*swapped=*/true, 40, 50)};
  EXPECT_EQ(Check(h, true), Verdict::kNotLinearizable);
}

TEST(CacheModelTest, StaleAndInventedReadsAreViolationsEvenWithEviction) {
  const History stale = {PutOp(1, "k", "v1", 0, 10), PutOp(1, "k", "v2", 20, 30),
                         GetOp(2, "k", "v1", 40, 50)};
  EXPECT_EQ(Check(stale, true), Verdict::kNotLinearizable);
  const History invented = {PutOp(1, "k", "v1", 0, 10), GetOp(2, "k", "zz", 20, 30)};
  EXPECT_EQ(Check(invented, true), Verdict::kNotLinearizable);
  // Local reads are not checked here (a separate oracle does).
  const History local = {PutOp(1, "k", "v1", 0, 10), PutOp(1, "k", "v2", 20, 30),
                         Local(GetOp(2, "k", "v1", 40, 50))};
  EXPECT_EQ(Check(local, false), Verdict::kLinearizable);
}

TEST(CacheModelTest, IncrementsCountExactly) {
  const History good = {PutOp(1, "n", "5", 0, 10), IncrOp(1, "n", 2, 7, 20, 30),
                        IncrOp(2, "n", -10, -3, 40, 50), GetOp(3, "n", "-3", 60, 70)};
  EXPECT_EQ(Check(good, false), Verdict::kLinearizable);
  const History doubled = {IncrOp(1, "n", 1, 1, 0, 10), IncrOp(1, "n", 1, 3, 20, 30)};
  EXPECT_EQ(Check(doubled, false), Verdict::kNotLinearizable);  // a retry applied twice
  const History not_int = {PutOp(1, "n", "abc", 0, 10), IncrOp(1, "n", 1, std::nullopt, 20, 30),
                           IncrOp(1, "n", 1, 1, 40, 50)};
  EXPECT_EQ(Check(not_int, false), Verdict::kNotLinearizable);  // "abc" cannot become 1
  EXPECT_EQ(Check(not_int, true), Verdict::kLinearizable);      // ... unless it was evicted
  // Concurrent increments with one indeterminate: the next read sees one of the sums.
  const History unknown = {IncrOp(1, "n", 1, 1, 0, 10),
                           Indeterminate(IncrOp(2, "n", 5, 6, 20, 0)),
                           IncrOp(1, "n", 1, 7, 30, 40)};
  EXPECT_EQ(Check(unknown, false), Verdict::kLinearizable);
}

TEST(CacheModelTest, ExpireAndPersist) {
  const History h = {PutOp(1, "k", "v", 0, 10), ExpireOp(1, "k", true, true, 20, 30),
                     GetOp(2, "k", std::nullopt, 40, 50),   // may have expired now
                     ExpireOp(1, "k", false, true, 60, 70)};  // ... or not, and was persisted
  EXPECT_EQ(Check(h, false), Verdict::kLinearizable);
  const History persisted = {PutOp(1, "k", "v", 0, 10), ExpireOp(1, "k", false, true, 20, 30)};
  EXPECT_EQ(Check(persisted, false), Verdict::kNotLinearizable);  // it had no TTL to remove
  const History missing = {ExpireOp(1, "k", true, true, 0, 10)};
  EXPECT_EQ(Check(missing, false), Verdict::kNotLinearizable);
}

TEST(CacheModelTest, CacheOperationsRoundTripThroughJsonLines) {
  const History h = {Ttl(PutOp(1, "t", "v", 0, 10)), IncrOp(2, "n", -4, -4, 5, 20),
                     IncrOp(2, "n", 1, std::nullopt, 25, 30),
                     Indeterminate(IncrOp(3, "n", 2, 0, 31, 0)),
                     ExpireOp(1, "t", true, true, 40, 50), ExpireOp(1, "t", false, false, 60, 70),
                     Local(GetOp(4, "t", "v", 80, 90))};
  const std::string text = HistoryToJsonLines(h);
  absl::StatusOr<History> back = HistoryFromJsonLines(text);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(*back, h);
  EXPECT_FALSE(HistoryFromJsonLines(R"({"client":1,"op":"get","key":"k","invoke_ns":1,)"
                                    R"("return_ns":2,"result":"absent","ttl":true})")
                   .ok());  // a get has no ttl
  EXPECT_FALSE(HistoryFromJsonLines(R"({"client":1,"op":"incr","key":"k","value":{"delta":1,)"
                                    R"("result":"x"},"invoke_ns":1,"return_ns":2,"result":"ok"})")
                   .ok());  // the result must be an integer
}

TEST(CacheModelTest, TheRegisterModelRefusesCacheHistories) {
  const History h = {IncrOp(1, "n", 1, 1, 0, 10)};
  EXPECT_FALSE(CheckLinearizability(h).ok());
}

}  // namespace
}  // namespace crema::chaos
