// Entry layout (one allocation; optional weight, long-key and timer parts) and EntryIndex (Robin
// Hood slots with tags and distances), checked against a reference map under random churn.
#include "cache/entry.h"

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "cache/entry_index.h"
#include "gtest/gtest.h"
#include "node/random.h"
#include "sim/test_seed.h"
#include "xxhash.h"

namespace crema::cache::internal {
namespace {

uint64_t Hash(std::string_view key) { return XXH3_64bits(key.data(), key.size()); }
uint64_t HashOfEntry(const Entry* e) { return Hash(e->key()); }

TEST(EntryTest, KeyValueWeightAndTimerLayouts) {
  for (bool weight : {false, true}) {
    for (bool timer : {false, true}) {
      Entry* e = Entry::Create("key", "value", 7, Entry::Layout{.weight = weight, .timer = timer});
      EXPECT_EQ(e->key(), "key");
      EXPECT_EQ(e->value(), "value");
      EXPECT_EQ(e->weight(), weight ? 7u : 1u);
      EXPECT_EQ(e->has_timer(), timer);
      EXPECT_EQ(e->deadline_ns(), TimerWheel::kNever);
      if (timer) EXPECT_EQ(Entry::FromTimer(e->timer()), e);
      Entry::Destroy(e);
    }
  }
}

TEST(EntryTest, KeyEqualsEveryLengthAndEveryDifferingByte) {
  // The inline compare uses overlapping loads for 4..16 bytes: a difference anywhere must show.
  for (size_t n = 0; n <= 40; ++n) {
    std::string key(n, 'a');
    for (size_t i = 0; i < n; ++i) key[i] = static_cast<char>('a' + i % 26);
    Entry* e = Entry::Create(key, "v", 1, {});
    EXPECT_TRUE(e->KeyEquals(key)) << n;
    EXPECT_FALSE(e->KeyEquals(key + "x")) << n;
    if (n > 0) EXPECT_FALSE(e->KeyEquals(key.substr(0, n - 1))) << n;
    for (size_t i = 0; i < n; ++i) {
      std::string other = key;
      other[i] ^= 0x40;
      EXPECT_FALSE(e->KeyEquals(other)) << n << " " << i;
    }
    Entry::Destroy(e);
  }
}

TEST(EntryTest, A16ByteKeyAnd32ByteValueFitOneEightyByteChunk) {
  Entry* e = Entry::Create(std::string(16, 'k'), std::string(32, 'v'), 1, {});
  EXPECT_EQ(sizeof(Entry), 24u);
  EXPECT_LE(e->AllocatedBytes(), 80u - 8u);  // glibc: 72 usable bytes in an 80-byte chunk.
  Entry::Destroy(e);
}

TEST(EntryTest, LongKeysEmptyValuesAndValueReplacement) {
  const std::string long_key(70'000, 'x');
  Entry* e = Entry::Create(long_key, "", 3, Entry::Layout{.weight = true});
  EXPECT_EQ(e->key(), long_key);
  EXPECT_EQ(e->value(), "");
  EXPECT_EQ(e->weight(), 3u);
  ASSERT_TRUE(e->ValueFits(0));
  EXPECT_FALSE(e->ValueFits(1'000'000));
  Entry* copy = Entry::CloneWith(e, std::string(1'000, 'v'), /*timer=*/true);
  EXPECT_EQ(copy->key(), long_key);
  EXPECT_EQ(copy->value(), std::string(1'000, 'v'));
  EXPECT_EQ(copy->weight(), 3u);
  EXPECT_TRUE(copy->has_timer());
  copy->timer()->variable_deadline_ns = 42;
  Entry::Destroy(e);
  // A value that fits is replaced in place, even from the entry's own bytes.
  copy->SetValue(copy->value().substr(10, 5));
  EXPECT_EQ(copy->value(), "vvvvv");
  Entry* again = Entry::CloneWith(copy, "w", /*timer=*/false);
  EXPECT_TRUE(again->has_timer());  // Keeps the timer block and its fields.
  EXPECT_EQ(again->timer()->variable_deadline_ns, 42);
  Entry::Destroy(copy);
  Entry::Destroy(again);
}

TEST(EntryIndexTest, RandomChurnAgreesWithAMapAndKeepsRobinHoodInvariants) {
  for (uint64_t seed : sim::TestSeeds(3)) {
    Random random(seed);
    EntryIndex index(seed, /*max_entries=*/500);
    std::map<std::string, Entry*> model;
    for (int step = 0; step < 20'000; ++step) {
      const std::string key = "k" + std::to_string(random.Uniform(random.OneIn(4) ? 5'000 : 700));
      const uint64_t h = Hash(key);
      Entry* found = index.Find(h, key);
      auto it = model.find(key);
      ASSERT_EQ(found, it == model.end() ? nullptr : it->second) << "seed " << seed;
      if (found == nullptr) {
        Entry* e = Entry::Create(key, "v", 1, {});
        index.Insert(h, e, HashOfEntry);
        model[key] = e;
      } else if (random.OneIn(3)) {
        Entry* moved = Entry::CloneWith(found, "longer value", false);
        index.Replace(h, found, moved);
        Entry::Destroy(found);
        model[key] = moved;
      } else {
        index.Erase(h, found);
        Entry::Destroy(found);
        model.erase(key);
      }
      ASSERT_EQ(index.size(), model.size());
      if (step % 1'000 == 0) {
        ASSERT_TRUE(index.Valid(HashOfEntry)) << "seed " << seed;
      }
    }
    ASSERT_TRUE(index.Valid(HashOfEntry));
    // Never beyond 7/8 full, and a full cache of 500 gets no more than its 500 need.
    EXPECT_LE(index.size() * 8, index.capacity() * 7);
    for (auto& [key, e] : model) {
      index.Erase(Hash(key), e);
      Entry::Destroy(e);
    }
    EXPECT_EQ(index.size(), 0u);
  }
}

TEST(EntryIndexTest, GrowthStopsAtWhatMaxEntriesNeed) {
  EntryIndex index(1, /*max_entries=*/10'000);
  std::vector<Entry*> entries;
  for (int i = 0; i < 10'000; ++i) {
    Entry* e = Entry::Create("key" + std::to_string(i), "", 1, {});
    index.Insert(Hash(e->key()), e, HashOfEntry);
    entries.push_back(e);
  }
  EXPECT_EQ(index.capacity(), 10'000u + 10'000u / 7 + 1);  // 9.1 bytes per entry.
  for (Entry* e : entries) {
    index.Erase(Hash(e->key()), e);
    Entry::Destroy(e);
  }
}

}  // namespace
}  // namespace crema::cache::internal
