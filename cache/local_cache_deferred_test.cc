// Deferred eviction and absolute deadlines (local_cache.h, "Deferred eviction").
//
// The central property: a deferred cache that applies `EvictionCandidates` with `Evict` right
// after every write holds exactly what an automatic cache holds after the same operations, queue
// by queue — the dry run runs the same duels. A replicated cache relies on this: the leader's
// choice of victims is the W-TinyLFU choice, not an approximation of it.
#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "cache/local_cache.h"
#include "gtest/gtest.h"
#include "node/clock.h"
#include "node/random.h"
#include "sim/test_seed.h"

namespace crema::cache {
namespace {

CacheOptions Options(int64_t max_weight, EvictionMode mode, bool adaptive, bool weighted) {
  CacheOptions options;
  options.max_weight = max_weight;
  options.eviction = mode;
  options.adaptive_window = adaptive;
  options.initial_window_percent = 10;
  if (weighted) {
    options.weigher = [](std::string_view, std::string_view value) {
      return static_cast<uint32_t>(value.size());
    };
  }
  return options;
}

std::vector<std::string> Sorted(std::vector<std::string> keys) {
  std::sort(keys.begin(), keys.end());
  return keys;
}

// Writes, then lets the owner evict what the policy proposes (what a shard leader does).
void DeferredPut(LocalCache& cache, const std::string& key, const std::string& value) {
  cache.Put(key, value);
  const int64_t excess = cache.weight() - cache.max_weight();
  if (excess <= 0) return;
  const std::vector<std::string> victims = cache.EvictionCandidates(excess, 1'000'000);
  for (const std::string& victim : victims) EXPECT_TRUE(cache.Evict(victim)) << victim;
  EXPECT_LE(cache.weight(), cache.max_weight());
}

void RunEquivalence(uint64_t seed, bool weighted, bool adaptive = false) {
  ManualClock clock;
  LocalCache automatic(clock, Options(40, EvictionMode::kAutomatic, adaptive, weighted));
  LocalCache deferred(clock, Options(40, EvictionMode::kDeferred, adaptive, weighted));
  Random random(seed);
  for (int step = 0; step < 5000; ++step) {
    // Skewed keys, so frequencies differ and duels go both ways.
    const int key_id = random.OneIn(3) ? random.Uniform(8) : random.Uniform(200);
    const std::string key = absl::StrCat("k", key_id);
    if (random.OneIn(3)) {
      const std::string value(1 + random.Uniform(weighted ? 12 : 3), 'v');
      automatic.Put(key, value);
      DeferredPut(deferred, key, value);
    } else {
      const bool a = automatic.GetIfPresent(key) != nullptr;
      const bool d = deferred.GetIfPresent(key) != nullptr;
      ASSERT_EQ(a, d) << "step " << step << " key " << key << " seed " << seed;
    }
    if (step % 97 == 0) {
      ASSERT_EQ(automatic.policy(), deferred.policy()) << "step " << step << " seed " << seed;
      ASSERT_EQ(automatic.window_max_weight(), deferred.window_max_weight()) << "step " << step;
      for (Queue q : {Queue::kWindow, Queue::kProbation, Queue::kProtected}) {
        ASSERT_EQ(automatic.KeysOf(q), deferred.KeysOf(q))
            << "queue " << static_cast<int>(q) << " step " << step << " seed " << seed;
      }
      deferred.CheckInvariants();
    }
  }
  EXPECT_EQ(automatic.size(), deferred.size());
  EXPECT_EQ(automatic.stats().removals_size, deferred.stats().removals_size);
}

TEST(LocalCacheDeferredTest, ApplyingCandidatesEqualsAutomaticEvictionCountCapacity) {
  for (uint64_t seed : sim::TestSeeds(20)) {
    RunEquivalence(seed, /*weighted=*/false);
    if (HasFatalFailure()) {
      ADD_FAILURE() << "reproduce: " << sim::ReproCommand(seed);
      return;
    }
  }
}

TEST(LocalCacheDeferredTest, ApplyingCandidatesEqualsAutomaticEvictionWeighted) {
  for (uint64_t seed : sim::TestSeeds(20)) {
    RunEquivalence(seed, /*weighted=*/true);
    if (HasFatalFailure()) {
      ADD_FAILURE() << "reproduce: " << sim::ReproCommand(seed);
      return;
    }
  }
}

// With the default adaptation the shadows switch configurations (window hits to main, repeat
// misses to the window front, window sizes) as reads go by; both modes switch identically.
TEST(LocalCacheDeferredTest, ApplyingCandidatesEqualsAutomaticEvictionWhileThePolicyAdapts) {
  for (uint64_t seed : sim::TestSeeds(20)) {
    RunEquivalence(seed, /*weighted=*/false, /*adaptive=*/true);
    RunEquivalence(seed, /*weighted=*/true, /*adaptive=*/true);
    if (HasFatalFailure()) {
      ADD_FAILURE() << "reproduce: " << sim::ReproCommand(seed);
      return;
    }
  }
}

TEST(LocalCacheDeferredTest, WritesNeverEvictAndCandidatesFreeEnough) {
  ManualClock clock;
  LocalCache cache(clock, Options(10, EvictionMode::kDeferred, true, false));
  for (int i = 0; i < 25; ++i) cache.Put(absl::StrCat("k", i), "v");
  EXPECT_EQ(cache.size(), 25);  // nothing evicted on its own
  EXPECT_EQ(cache.stats().removals_size, 0);
  const std::vector<std::string> victims = cache.EvictionCandidates(15, 100);
  EXPECT_EQ(victims.size(), 15u);
  EXPECT_EQ(cache.size(), 25);  // the dry run removes nothing
  // The proposal respects the bound on keys.
  EXPECT_EQ(cache.EvictionCandidates(15, 4).size(), 4u);
  for (const std::string& v : victims) EXPECT_TRUE(cache.Evict(v));
  EXPECT_EQ(cache.size(), 10);
  EXPECT_FALSE(cache.Evict(victims.front()));  // already gone
  EXPECT_EQ(cache.stats().removals_size, 15);
  cache.CheckInvariants();
}

TEST(LocalCacheDeferredTest, FrequentKeysSurviveTheLeadersChoice) {
  ManualClock clock;
  LocalCache cache(clock, Options(20, EvictionMode::kDeferred, false, false));
  for (int i = 0; i < 20; ++i) cache.Put(absl::StrCat("hot", i), "v");
  for (int round = 0; round < 5; ++round) {
    for (int i = 0; i < 20; ++i) ASSERT_NE(cache.GetIfPresent(absl::StrCat("hot", i)), nullptr);
  }
  for (int i = 0; i < 100; ++i) DeferredPut(cache, absl::StrCat("cold", i), "v");
  int hot_left = 0;
  for (int i = 0; i < 20; ++i) hot_left += cache.Peek(absl::StrCat("hot", i)) != nullptr;
  EXPECT_GE(hot_left, 17);  // a scan of cold keys does not flush the frequent ones
}

TEST(LocalCacheDeferredTest, AbsoluteDeadlinesPeekAndIteration) {
  ManualClock clock;
  LocalCache cache(clock, Options(100, EvictionMode::kDeferred, true, false));
  const absl::Time now = clock.MonotonicNow();
  cache.PutUntil("a", "1", now + absl::Seconds(10));
  cache.PutUntil("b", "2", absl::InfiniteFuture());
  cache.PutUntil("c", "3", now - absl::Seconds(1));  // already due: never visible
  EXPECT_EQ(cache.Peek("c"), nullptr);
  ASSERT_TRUE(cache.DeadlineOf("a").has_value());
  EXPECT_EQ(*cache.DeadlineOf("a"), now + absl::Seconds(10));
  EXPECT_EQ(*cache.DeadlineOf("b"), absl::InfiniteFuture());
  EXPECT_FALSE(cache.DeadlineOf("zz").has_value());
  // A read that also gives the deadline: the same as DeadlineOf, and counted as a read.
  {
    const int64_t hits_before = cache.stats().hits;
    absl::Time deadline;
    ValuePtr a = cache.GetIfPresent("a", &deadline);
    ASSERT_NE(a, nullptr);
    EXPECT_EQ(*a, "1");
    EXPECT_EQ(deadline, now + absl::Seconds(10));
    ValuePtr b = cache.GetIfPresent("b", &deadline);
    ASSERT_NE(b, nullptr);
    EXPECT_EQ(deadline, absl::InfiniteFuture());
    absl::Time untouched = now;
    EXPECT_EQ(cache.GetIfPresent("c", &untouched), nullptr);
    EXPECT_EQ(untouched, now);
    EXPECT_EQ(cache.stats().hits, hits_before + 2);
  }

  // Peek has no side effects on statistics or frequency.
  const int64_t hits = cache.stats().hits;
  const int frequency = cache.Frequency("a");
  ASSERT_NE(cache.Peek("a"), nullptr);
  EXPECT_EQ(*cache.Peek("a"), "1");
  EXPECT_EQ(cache.stats().hits, hits);
  EXPECT_EQ(cache.Frequency("a"), frequency);

  // EXPIRE / PERSIST without rewriting the value.
  EXPECT_TRUE(cache.SetDeadline("b", now + absl::Seconds(5)));
  EXPECT_TRUE(cache.SetDeadline("a", absl::InfiniteFuture()));
  EXPECT_FALSE(cache.SetDeadline("missing", now));
  clock.Advance(absl::Seconds(6));
  EXPECT_EQ(cache.Peek("b"), nullptr);
  EXPECT_FALSE(cache.DeadlineOf("b").has_value());
  ASSERT_NE(cache.Peek("a"), nullptr);
  EXPECT_FALSE(cache.SetDeadline("b", absl::InfiniteFuture()));  // expired: cannot be revived

  std::vector<std::string> seen;
  cache.ForEachEntry([&](std::string_view k, std::string_view v, absl::Time deadline) {
    seen.push_back(absl::StrCat(std::string(k), "=", std::string(v), deadline == absl::InfiniteFuture() ? " never" : ""));
  });
  EXPECT_EQ(Sorted(seen), std::vector<std::string>{"a=1 never"});

  // A deadline in the past removes at once.
  EXPECT_TRUE(cache.SetDeadline("a", clock.MonotonicNow()));
  EXPECT_EQ(cache.Peek("a"), nullptr);
  cache.CheckInvariants();
}

}  // namespace
}  // namespace crema::cache
