// ShadowSet: the policy shadows of PolicyShadows (one per grid configuration), simulated together
// over one shared table of keys, for speed. Each shadow behaves exactly as a ShadowCache of its
// configuration fed the same reads (shadow_set_test compares them hit for hit); only the memory
// layout differs.
//
// Why: a cache of 1,000 entries simulates a quarter of its reads in 13 shadows. With 13 separate
// ShadowCaches a simulated read probes 13 indexes and touches 13 nodes, 13 x 6 KB that do not fit
// the L1 cache, and the shadows were ~45% of a hot-set read (docs/cache.md). Here a key has one
// row, one 64-byte cache line, holding its hash and its list links in every shadow: one index
// probe and one line give all 13 shadows their node. A shadow's list neighbours are other rows;
// the shadows' recency orders are alike, so the same few rows serve most of them.
//
// Layout: Row = hash (8 bytes), prev and next row ids per shadow (2 x 13 x 2 bytes), and the list
// each shadow has the key on (2 bits per shadow: window, probation, protected, or absent). Rows 0,
// 1 and 2 are the sentinels of the window, probation and protected lists of every shadow. A row
// is in use while at least one shadow holds its key; it is freed (and leaves the index) when the
// last one drops it. Row ids are stable (the index is an open-addressing table of 2-byte row ids,
// at most half full, rebuilt larger as rows grow).
//
// Memory: 64 bytes per key held by any shadow. The shadows hold at most `capacity` keys each, so
// the rows number between capacity and configs x capacity (+3); they grow on demand (a vector)
// and never shrink. With 13 shadows of 4,096 keys that is 0.26-3.4 MB (the old layout: 1.2 MB
// fixed); the keys of the shadows mostly coincide (every shadow admits every new key to its
// window; their main spaces keep the frequent keys), see docs/cache.md for measured counts.
//
// Invariants (Valid): for each shadow, its three lists are consistent doubly-linked cycles through
// their sentinel, a row's list bits name the list it is on, the list sizes match the counters, the
// size is at most the capacity and protected at most its share; every row in use is found by the
// index under its hash and is held by at least one shadow; free rows are held by none.
//
// Thread safety: none (owned by one cache).
#ifndef CREMA_CACHE_SHADOW_SET_H_
#define CREMA_CACHE_SHADOW_SET_H_

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "cache/frequency_sketch.h"
#include "cache/shadow_config.h"

namespace crema::cache {

class ShadowSet {
 public:
  static constexpr int kMaxShadows = 13;
  // Row ids are 2 bytes: kMaxShadows x kMaxCapacity + 3 rows must stay below kNone.
  static constexpr int64_t kMaxCapacity = 4096;

  // REQUIRES: 1 <= capacity <= kMaxCapacity; 1 <= configs.size() <= kMaxShadows.
  ShadowSet(int64_t capacity, std::span<const PolicyConfig> configs);
  ShadowSet(const ShadowSet&) = delete;
  ShadowSet& operator=(const ShadowSet&) = delete;

  // Simulates a read of `hash` in every shadow (a miss inserts the key); adds 1 to hits[k] for
  // each shadow k that hit. REQUIRES: hits has shadows() elements; `sketch` counts this read.
  void Access(uint64_t hash, const FrequencySketch& sketch, int64_t* hits);

  int shadows() const { return static_cast<int>(shadows_.size()); }
  int64_t size(int k) const { return shadows_[k].size; }
  // Rows holding a key (not counting the sentinels), now and at most so far.
  int64_t rows_in_use() const { return rows_in_use_; }
  int64_t rows_high_water() const { return rows_high_water_; }
  size_t memory_bytes() const;
  // Checks every invariant in the file comment. O(rows).
  bool Valid() const;

 private:
  static constexpr uint16_t kNone = 0xFFFF;
  static constexpr uint8_t kWindow = 0, kProbation = 1, kProtected = 2, kAbsent = 3;
  static constexpr uint32_t kNoLists = 0xFFFFFFFFu;  // Every shadow: absent.

  struct alignas(64) Row {
    uint64_t hash;
    uint16_t prev[kMaxShadows];
    uint16_t next[kMaxShadows];
    uint32_t lists;  // 2 bits per shadow.
  };
  static_assert(sizeof(Row) == 64, "a row is one cache line");

  struct Shadow {
    int64_t window_max;
    int64_t protected_max;
    int64_t size = 0;
    int64_t window_size = 0;
    int64_t protected_size = 0;
    uint8_t hit_target[3];  // The list a hit moves the key to, by the list it is on.
    bool repeat_to_front;
  };

  static uint8_t ListOf(const Row& r, int k) { return (r.lists >> (2 * k)) & 3; }
  static void SetList(Row& r, int k, uint8_t l) {
    r.lists = (r.lists & ~(uint32_t{3} << (2 * k))) | (uint32_t{l} << (2 * k));
  }
  uint16_t Front(int k, uint8_t l) const {
    const uint16_t n = rows_[l].next[k];
    return n == l ? kNone : n;
  }
  void Unlink(int k, uint16_t id);
  void PushBack(int k, uint8_t l, uint16_t id);
  void PushFront(int k, uint8_t l, uint16_t id);
  void Hit(int k, uint16_t id);
  void Insert(int k, uint16_t id, const FrequencySketch& sketch);
  void Remove(int k, uint16_t id);
  void Evict(int k, const FrequencySketch& sketch);

  size_t Home(uint64_t hash) const;
  uint16_t Find(uint64_t hash) const;
  uint16_t AllocateRow(uint64_t hash);
  void FreeRow(uint16_t id);
  void IndexInsert(uint64_t hash, uint16_t id);
  void IndexErase(uint64_t hash);
  void GrowIndex();

  const int64_t capacity_;
  std::vector<Shadow> shadows_;
  std::vector<Row> rows_;
  std::vector<uint16_t> free_rows_;
  std::vector<uint16_t> index_;  // Power-of-two size; kNone = empty.
  uint64_t index_mask_;
  int64_t rows_in_use_ = 0;
  int64_t rows_high_water_ = 0;
  uint16_t pinned_ = kNone;  // The row of the key being accessed: not freed until the end.
};

}  // namespace crema::cache

#endif  // CREMA_CACHE_SHADOW_SET_H_
