#include "cache/local_cache.h"

#include <algorithm>
#include <optional>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "node/clock.h"
#include "node/random.h"

namespace crema::cache {
namespace {

using ::testing::ElementsAre;

struct Removal {
  std::string key;
  std::string value;
  RemovalCause cause;
  bool operator==(const Removal&) const = default;
};

std::ostream& operator<<(std::ostream& os, const Removal& r) {
  return os << "{" << r.key << "=" << r.value << " " << RemovalCauseName(r.cause) << "}";
}

class LocalCacheTest : public ::testing::Test {
 protected:
  CacheOptions Options(int64_t max_weight) {
    CacheOptions options;
    options.max_weight = max_weight;
    options.adaptive_window = false;
    options.removal_listener = [this](std::string_view k, std::string_view v, RemovalCause c) {
      removals_.push_back({std::string(k), std::string(v), c});
    };
    return options;
  }

  ManualClock clock_;
  std::vector<Removal> removals_;
};

TEST_F(LocalCacheTest, PutThenGetAndReplaceNotifiesTheOldValue) {
  LocalCache cache(clock_, Options(10));
  EXPECT_EQ(cache.GetIfPresent("a"), nullptr);
  cache.Put("a", "1");
  ASSERT_NE(cache.GetIfPresent("a"), nullptr);
  EXPECT_EQ(*cache.GetIfPresent("a"), "1");
  cache.Put("a", "2");
  EXPECT_EQ(cache.Get("a"), "2");
  EXPECT_THAT(removals_, ElementsAre(Removal{"a", "1", RemovalCause::kReplaced}));
  EXPECT_EQ(cache.stats().hits, 3);
  EXPECT_EQ(cache.stats().misses, 1);
  EXPECT_EQ(cache.stats().removals_replaced, 1);
  cache.CheckInvariants();
}

TEST_F(LocalCacheTest, CountCapacityIsNeverExceededAndEachEvictionIsNotifiedOnce) {
  LocalCache cache(clock_, Options(50));
  for (int i = 0; i < 1000; ++i) {
    cache.Put(absl::StrCat("k", i), "v");
    ASSERT_LE(cache.size(), 50);
    cache.CheckInvariants();
  }
  EXPECT_EQ(cache.size(), 50);
  EXPECT_EQ(static_cast<int64_t>(removals_.size()), 950);
  EXPECT_EQ(cache.stats().removals_size, 950);
  std::vector<std::string> evicted;
  for (const Removal& r : removals_) {
    EXPECT_EQ(r.cause, RemovalCause::kSize);
    evicted.push_back(r.key);
  }
  std::sort(evicted.begin(), evicted.end());
  EXPECT_EQ(std::unique(evicted.begin(), evicted.end()), evicted.end()) << "notified twice";
}

TEST_F(LocalCacheTest, WeigherBoundsTotalWeightAndRejectsOversizedEntries) {
  CacheOptions options = Options(100);
  options.weigher = [](std::string_view k, std::string_view v) {
    return static_cast<uint32_t>(k.size() + v.size());
  };
  LocalCache cache(clock_, std::move(options));
  for (int i = 0; i < 200; ++i) {
    cache.Put(absl::StrCat("key", i), std::string(i % 17, 'x'));
    ASSERT_LE(cache.weight(), 100);
    cache.CheckInvariants();
  }
  removals_.clear();
  cache.Put("huge", std::string(200, 'x'));
  EXPECT_EQ(cache.GetIfPresent("huge"), nullptr);
  ASSERT_FALSE(removals_.empty());
  EXPECT_EQ(removals_.back(), (Removal{"huge", std::string(200, 'x'), RemovalCause::kSize}));
}

TEST_F(LocalCacheTest, SegmentedLruPromotesOnProbationHitAndDemotesProtectedOverflow) {
  // 100 entries: window 1, main 99, protected at most 79.
  LocalCache cache(clock_, Options(100));
  ASSERT_EQ(cache.window_max_weight(), 1);
  ASSERT_EQ(cache.protected_max_weight(), 79);
  cache.Put("a", "");
  EXPECT_EQ(cache.QueueOf("a"), Queue::kWindow);
  cache.Put("b", "");  // Pushes a out of the window.
  EXPECT_EQ(cache.QueueOf("a"), Queue::kProbation);
  EXPECT_EQ(cache.QueueOf("b"), Queue::kWindow);
  ASSERT_NE(cache.GetIfPresent("a"), nullptr);
  EXPECT_EQ(cache.QueueOf("a"), Queue::kProtected);
  // Fill probation and promote 79 more: protected holds 79, so "a" (least recent) is demoted.
  for (int i = 0; i < 80; ++i) cache.Put(absl::StrCat("p", i), "");
  for (int i = 0; i < 79; ++i) ASSERT_NE(cache.GetIfPresent(absl::StrCat("p", i)), nullptr);
  EXPECT_EQ(cache.protected_weight(), 79);
  EXPECT_EQ(cache.QueueOf("a"), Queue::kProbation);
  EXPECT_EQ(cache.KeysOf(Queue::kProbation).back(), "a");  // Demoted to the most recent end.
  // A protected hit moves the entry to protected's most recent end.
  ASSERT_NE(cache.GetIfPresent("p0"), nullptr);
  EXPECT_EQ(cache.KeysOf(Queue::kProtected).back(), "p0");
  cache.CheckInvariants();
}

TEST_F(LocalCacheTest, BufferedReadsAreAppliedInOrderBeforeEvictionAndIntrospection) {
  // Reads are buffered (local_cache.h), but every observer must see the order immediate moves
  // would give. 20 entries: window 1, main 19 (protected at most 15).
  LocalCache cache(clock_, Options(20));
  for (int i = 0; i < 20; ++i) cache.Put(absl::StrCat("k", i), "");
  // Promote k0..k9 to protected, in this order, then re-read k3 and k0: fewer reads than the
  // buffer holds, so none has been applied when KeysOf asks.
  for (int i = 0; i < 10; ++i) ASSERT_NE(cache.GetIfPresent(absl::StrCat("k", i)), nullptr);
  ASSERT_NE(cache.GetIfPresent("k3"), nullptr);
  ASSERT_NE(cache.GetIfPresent("k0"), nullptr);
  EXPECT_THAT(cache.KeysOf(Queue::kProtected),
              ElementsAre("k1", "k2", "k4", "k5", "k6", "k7", "k8", "k9", "k3", "k0"));
  EXPECT_EQ(cache.protected_weight(), 10);
  // Probation now holds k10..k18 (least recent first). Read k10, then put a new key: the put
  // pushes k19 out of the window and the victim must be k11, not the just-read k10.
  ASSERT_NE(cache.GetIfPresent("k10"), nullptr);
  removals_.clear();
  for (int i = 0; i < 3; ++i) ASSERT_EQ(cache.GetIfPresent("new"), nullptr);  // Make it frequent.
  cache.Put("new", "");
  cache.Put("newer", "");
  ASSERT_FALSE(removals_.empty());
  EXPECT_NE(removals_[0].key, "k10");
  EXPECT_TRUE(cache.QueueOf("k10").has_value());
  // More reads than the buffer holds: the batch is applied on its own, still in order.
  for (int round = 0; round < 2 * LocalCache::kReadBufferSize; ++round) {
    ASSERT_NE(cache.GetIfPresent(absl::StrCat("k", round % 10)), nullptr);
  }
  EXPECT_EQ(cache.KeysOf(Queue::kProtected).back(),
            absl::StrCat("k", (2 * LocalCache::kReadBufferSize - 1) % 10));
  cache.CheckInvariants();
}

TEST_F(LocalCacheTest, FrequentEntriesSurviveAScanOfColdKeys) {
  LocalCache cache(clock_, Options(100));
  for (int i = 0; i < 50; ++i) cache.Put(absl::StrCat("hot", i), "");
  for (int round = 0; round < 5; ++round) {
    for (int i = 0; i < 50; ++i) ASSERT_NE(cache.GetIfPresent(absl::StrCat("hot", i)), nullptr);
  }
  // A long scan of one-time keys, while the hot keys keep being read now and then (the sketch
  // ages counts, so keys that stop being read do stop being hot).
  for (int i = 0; i < 10'000; ++i) {
    const std::string key = absl::StrCat("cold", i);
    if (cache.GetIfPresent(key) == nullptr) cache.Put(key, "");
    if (i % 200 == 0) {
      for (int h = 0; h < 50; ++h) ASSERT_NE(cache.GetIfPresent(absl::StrCat("hot", h)), nullptr);
    }
  }
  int hot_left = 0;
  for (int i = 0; i < 50; ++i) hot_left += cache.QueueOf(absl::StrCat("hot", i)).has_value();
  EXPECT_EQ(hot_left, 50);
}

TEST_F(LocalCacheTest, ExpireAfterWrite) {
  CacheOptions options = Options(10);
  options.expire_after_write = absl::Seconds(10);
  LocalCache cache(clock_, std::move(options));
  cache.Put("a", "1");
  clock_.Advance(absl::Seconds(9));
  EXPECT_EQ(cache.Get("a"), "1");  // Reads do not extend a write TTL.
  clock_.Advance(absl::Seconds(1));
  EXPECT_EQ(cache.GetIfPresent("a"), nullptr);
  EXPECT_THAT(removals_, ElementsAre(Removal{"a", "1", RemovalCause::kExpired}));
  EXPECT_EQ(cache.size(), 0);
}

TEST_F(LocalCacheTest, ExpireAfterAccessIsExtendedByReads) {
  CacheOptions options = Options(10);
  options.expire_after_access = absl::Seconds(10);
  LocalCache cache(clock_, std::move(options));
  cache.Put("a", "1");
  for (int i = 0; i < 5; ++i) {
    clock_.Advance(absl::Seconds(9));
    EXPECT_EQ(cache.Get("a"), "1");
  }
  clock_.Advance(absl::Seconds(10));
  EXPECT_EQ(cache.GetIfPresent("a"), nullptr);
  EXPECT_EQ(cache.stats().removals_expired, 1);
}

TEST_F(LocalCacheTest, RunPendingTasksExpiresWithoutReads) {
  CacheOptions options = Options(10);
  options.expire_after_write = absl::Minutes(5);
  LocalCache cache(clock_, std::move(options));
  cache.Put("a", "1");
  cache.Put("b", "2");
  clock_.Advance(absl::Minutes(5));
  cache.RunPendingTasks();
  EXPECT_EQ(cache.size(), 0);
  EXPECT_EQ(removals_.size(), 2u);
}

TEST_F(LocalCacheTest, PerPutTtlOverridesTheDefaultAndZeroTtlRemovesAtOnce) {
  LocalCache cache(clock_, Options(10));
  cache.Put("a", "1", absl::Seconds(3));
  cache.Put("b", "2");
  clock_.Advance(absl::Seconds(3));
  EXPECT_EQ(cache.GetIfPresent("a"), nullptr);
  EXPECT_EQ(cache.Get("b"), "2");
  removals_.clear();
  cache.Put("b", "3", absl::ZeroDuration());
  EXPECT_EQ(cache.GetIfPresent("b"), nullptr);
  EXPECT_THAT(removals_, ElementsAre(Removal{"b", "2", RemovalCause::kReplaced},
                                     Removal{"b", "3", RemovalCause::kExpired}));
}

class SlidingExpiry : public Expiry {
 public:
  absl::Duration AfterCreate(std::string_view key, std::string_view) override {
    return key == "forever" ? absl::InfiniteDuration() : absl::Seconds(5);
  }
  absl::Duration AfterRead(std::string_view, std::string_view, absl::Duration) override {
    return absl::Seconds(5);
  }
};

TEST_F(LocalCacheTest, ExpiryPolicyDecidesPerEntry) {
  CacheOptions options = Options(10);
  options.expiry = std::make_unique<SlidingExpiry>();
  options.expire_after_write = absl::Seconds(12);  // Caps even a sliding entry.
  LocalCache cache(clock_, std::move(options));
  cache.Put("slide", "s");
  cache.Put("forever", "f");
  for (int i = 0; i < 2; ++i) {
    clock_.Advance(absl::Seconds(4));
    EXPECT_EQ(cache.Get("slide"), "s");
  }
  clock_.Advance(absl::Seconds(4));  // 12 s after the write.
  EXPECT_EQ(cache.GetIfPresent("slide"), nullptr);
  EXPECT_EQ(cache.GetIfPresent("forever"), nullptr);  // Also capped by expire_after_write.
}

TEST_F(LocalCacheTest, InvalidationsNotifyExplicitInDeterministicOrder) {
  LocalCache cache(clock_, Options(100));
  for (int i = 0; i < 6; ++i) cache.Put(absl::StrCat("k", i), absl::StrCat(i));
  EXPECT_TRUE(cache.Invalidate("k0"));
  EXPECT_FALSE(cache.Invalidate("k0"));
  EXPECT_EQ(cache.InvalidateIf([](std::string_view, std::string_view v) { return v < "3"; }), 2);
  EXPECT_THAT(removals_, ElementsAre(Removal{"k0", "0", RemovalCause::kExplicit},
                                     Removal{"k1", "1", RemovalCause::kExplicit},
                                     Removal{"k2", "2", RemovalCause::kExplicit}));
  cache.InvalidateAll();
  EXPECT_EQ(cache.size(), 0);
  EXPECT_EQ(cache.stats().removals_explicit, 6);
  EXPECT_EQ(removals_.size(), 6u);
}

TEST_F(LocalCacheTest, ListenerThatCallsBackIntoTheCacheCrashes) {
  LocalCache* self = nullptr;
  CacheOptions options = Options(1);
  options.removal_listener = [&](std::string_view, std::string_view, RemovalCause) {
    self->Put("x", "y");
  };
  LocalCache cache(clock_, std::move(options));
  self = &cache;
  cache.Put("a", "1");
  EXPECT_DEATH(cache.Put("a", "2"), "invariant violated");
}

// A clock that counts reads, to check the hot path's clock discipline.
class CountingClock : public Clock {
 public:
  absl::Time MonotonicNow() const override {
    ++reads;
    return absl::UnixEpoch();
  }
  absl::Time Now() const override { return absl::UnixEpoch(); }
  mutable int reads = 0;
};

TEST_F(LocalCacheTest, ReadsOfAnUntimedCacheDoNotReadTheClock) {
  CountingClock clock;
  LocalCache cache(clock, Options(10));
  cache.Put("a", "1");
  const int before = clock.reads;
  for (int i = 0; i < 100; ++i) ASSERT_NE(cache.GetIfPresent("a"), nullptr);
  EXPECT_EQ(clock.reads, before);
  cache.Put("b", "2", absl::Seconds(1));  // Now something can expire: reads look at the clock,
  cache.GetIfPresent("a");                // once per call.
  EXPECT_EQ(clock.reads, before + 2);
}

TEST(LocalCacheFineTuningTest, TheWindowMovesWithinTheChosenConfigurationsBracket) {
  // Skewed hot keys plus one-time keys: the shadows choose Caffeine's structure with a small
  // window, and the fine tuner moves the window off the grid's value, never out of the bracket
  // once the configuration has settled (the window reaches a new target in bounded steps).
  ManualClock clock;
  CacheOptions options;
  options.max_weight = 2000;
  LocalCache cache(clock, std::move(options));
  Random random(17);
  uint64_t one_time = 1'000'000;
  PolicyConfig previous = cache.policy();
  int settled = 0, checked = 0, off_grid = 0;
  for (int i = 1; i <= 300'000; ++i) {
    const uint64_t key = random.OneIn(3) ? one_time++ : random.Uniform(random.Uniform(4000) + 1);
    const std::string k = absl::StrCat(key);
    if (!cache.GetIfPresent(k)) cache.Put(k, "");
    if (i % 1000 != 0) continue;
    const PolicyConfig policy = cache.policy();
    settled = policy == previous ? settled + 1 : 0;
    previous = policy;
    if (settled < 5) continue;
    const WindowBracket bracket = BracketOf(policy);
    const int64_t window = cache.window_max_weight();
    ++checked;
    EXPECT_GE(window, 2000 * bracket.low_permille / 1000) << "at " << i;
    EXPECT_LE(window, 2000 * bracket.high_permille / 1000) << "at " << i;
    off_grid += window != 2000 * policy.window_permille / 1000 ? 1 : 0;
  }
  EXPECT_GT(checked, 100);
  EXPECT_EQ(cache.policy().window_hit, WindowHit::kStay);
  EXPECT_GT(off_grid, 0) << "the fine tuner never moved the window";
  cache.CheckInvariants();
}

TEST(LocalCacheFineTuningTest, AGrownWindowFillsWithNewKeysNotMainEntries) {
  // Keys used twice, 1..150 requests apart (100 entries): the shadows leave the 1% window for a large one
  // whose hits go to main. The window grows without taking main's least recent entries (it
  // fills with new keys, as in a shadow of the new configuration), so right after the switch it
  // is well below its new size; moving main entries in would fill it at once.
  ManualClock clock;
  CacheOptions options;
  options.max_weight = 100;
  LocalCache cache(clock, std::move(options));
  Random random(23);
  std::vector<std::pair<int, uint64_t>> due;  // (request index, key) of pending second uses.
  uint64_t next = 1;
  int64_t largest_gap = 0;
  bool switched = false;
  for (int i = 0; i < 40'000; ++i) {
    uint64_t key;
    if (!due.empty() && due.front().first <= i) {
      key = due.front().second;
      due.erase(due.begin());
    } else {
      key = next++;
      if (!random.OneIn(4)) {
        const int at = i + 1 + static_cast<int>(random.Uniform(150));
        due.insert(std::upper_bound(due.begin(), due.end(), std::make_pair(at, key)),
                   std::make_pair(at, key));
      }
    }
    const std::string k = absl::StrCat(key);
    if (!cache.GetIfPresent(k)) cache.Put(k, "");
    if (i % 100 != 0) continue;
    if (cache.policy().window_permille > 200) switched = true;
    if (switched) largest_gap = std::max(largest_gap, cache.window_max_weight() - cache.window_weight());
  }
  ASSERT_TRUE(switched) << "the shadows never chose a large window";
  EXPECT_GT(largest_gap, 40) << "with transfers from main it stays below 20";
  cache.CheckInvariants();
}

}  // namespace
}  // namespace crema::cache
