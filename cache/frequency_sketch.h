// FrequencySketch: TinyLFU's approximate access-frequency history (a count-min sketch).
//
// Each key hash maps to four 4-bit counters (one per row); its estimated frequency is the minimum
// of the four, in [0, 15]. Counters saturate at 15. After `sample_size()` increments (10 per
// expected entry, as in the TinyLFU paper's "W = 10 x C" recommendation) every counter is halved
// ("reset"), so the history ages and a key popular long ago does not stay popular forever.
//
// Layout: counters are packed 16 to a 64-bit word, and all four counters of a key live in one
// 64-byte block of eight words (two words per row), so an increment touches one cache line.
// The table has kWordsPerEntry x `expected_entries` words (any block count: 8 bytes per expected
// entry with one word), and each row has 4N counters for N words.
//
// One word per entry, as Caffeine, with conservative update (only the counters at the key's
// minimum grow) to recover what the smaller table loses to collisions on large scan-heavy traces
// (docs/cache.md: the ARC trace P3 at 100,000 entries gave 38.09% with one plain word, 39.27%
// with one word and conservative update, 39.85% with four plain words, under the shadow-queue
// tuner). Four words would cost 24 more bytes per entry, a quarter of the memory target.
//
// The hash must be well mixed and deterministic (the cache passes XXH3 of the key), so admission
// decisions repeat exactly across runs of the simulator.
//
// Reference: G. Einziger, R. Friedman, B. Manes, "TinyLFU: A Highly Efficient Cache Admission
// Policy", ACM Transactions on Storage 13(4), 2017.
//
// Thread safety: none (owned by one cache).
#ifndef CREMA_CACHE_FREQUENCY_SKETCH_H_
#define CREMA_CACHE_FREQUENCY_SKETCH_H_

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>

namespace crema::cache {

class FrequencySketch {
 public:
  static constexpr int kMaxFrequency = 15;
  static constexpr int kSampleSizePerEntry = 10;
  static constexpr int kWordsPerEntry = 1;

  // REQUIRES: expected_entries > 0, words_per_entry_x8 > 0 (words per entry times 8).
  explicit FrequencySketch(int64_t expected_entries, int words_per_entry_x8 = 8 * kWordsPerEntry);

  // Counts one access of the key with this hash; may halve all counters (see above).
  void Increment(uint64_t hash) {
    const Slots slots = SlotsOf(hash);
    int counts[4];
    int minimum = kMaxFrequency;
#pragma GCC unroll 4
    for (int row = 0; row < 4; ++row) {
      counts[row] = static_cast<int>((table_[slots.word[row]] >> slots.shift[row]) & 0xF);
      if (counts[row] < minimum) minimum = counts[row];
    }
    if (minimum == kMaxFrequency) return;
    // Conservative update: only the counters at the minimum grow (the others already
    // over-count), which keeps collisions from inflating estimates.
#pragma GCC unroll 4
    for (int row = 0; row < 4; ++row) {
      table_[slots.word[row]] += static_cast<uint64_t>(counts[row] == minimum) << slots.shift[row];
    }
    if (++additions_ >= sample_size_) Halve();
  }

  // Starts loading the key's block (one cache line) for a coming Increment or Frequency.
  void Prefetch(uint64_t hash) const { __builtin_prefetch(&table_[BlockBase(hash)]); }

  // Estimated number of accesses since the counters were last halved, in [0, 15].
  int Frequency(uint64_t hash) const {
    const Slots slots = SlotsOf(hash);
    int frequency = kMaxFrequency;
#pragma GCC unroll 4
    for (int row = 0; row < 4; ++row) {
      const int count = static_cast<int>((table_[slots.word[row]] >> slots.shift[row]) & 0xF);
      if (count < frequency) frequency = count;
    }
    return frequency;
  }

  // Halves every counter (rounding down) and the addition count. Called automatically.
  void Halve();

  int64_t sample_size() const { return sample_size_; }
  int64_t additions() const { return additions_; }
  size_t memory_bytes() const { return blocks_ * 64; }

 private:
  struct Slots {
    uint32_t word[4];
    int shift[4];
  };

  // The first word of the key's 64-byte block, from the (mixed) high bits of the hash.
  uint32_t BlockBase(uint64_t hash) const {
    const uint64_t mixed = hash * 0x9E3779B97F4A7C15ull;
    return static_cast<uint32_t>(((mixed >> 32) * blocks_) >> 32) * 8;
  }

  Slots SlotsOf(uint64_t hash) const {
    // Block from the (mixed) high bits, counters within the block from the low bits.
    const uint32_t block_base = BlockBase(hash);
    uint64_t bits = hash ^ (hash >> 29);
    Slots slots;
#pragma GCC unroll 4
    for (int row = 0; row < 4; ++row) {
      slots.word[row] = block_base + row * 2 + static_cast<uint32_t>(bits & 1);
      slots.shift[row] = static_cast<int>((bits >> 1) & 0xF) * 4;
      bits >>= 5;
    }
    return slots;
  }

  struct Free {
    void operator()(uint64_t* p) const { std::free(p); }
  };
  std::unique_ptr<uint64_t[], Free> table_;  // blocks_ x 8 words, 64-byte aligned.
  uint64_t blocks_;
  int64_t sample_size_;
  int64_t additions_ = 0;
};

}  // namespace crema::cache

#endif  // CREMA_CACHE_FREQUENCY_SKETCH_H_
