#include "cache/shadow_set.h"

#include <algorithm>
#include <cassert>

#include "absl/base/attributes.h"

namespace crema::cache {

ShadowSet::ShadowSet(int64_t capacity, std::span<const PolicyConfig> configs)
    : capacity_(capacity) {
  assert(capacity >= 1 && capacity <= kMaxCapacity);
  assert(!configs.empty() && configs.size() <= kMaxShadows);
  for (const PolicyConfig& config : configs) {
    Shadow s;
    s.window_max = capacity * config.window_permille / 1000;
    s.protected_max = (capacity - s.window_max) * kProtectedPercent / 100;
    s.hit_target[kWindow] = config.window_hit == WindowHit::kStay          ? kWindow
                            : config.window_hit == WindowHit::kToProbation ? kProbation
                                                                           : kProtected;
    s.hit_target[kProbation] = kProtected;
    s.hit_target[kProtected] = kProtected;
    s.repeat_to_front = config.repeat_to_front;
    shadows_.push_back(s);
  }
  // Room for one shadow's keys at first (the shadows' keys mostly coincide); grows on demand.
  rows_.reserve(static_cast<size_t>(capacity) + 3);
  rows_.resize(3);
  for (uint16_t l = 0; l < 3; ++l) {
    Row& sentinel = rows_[l];
    sentinel.hash = 0;
    sentinel.lists = kNoLists;
    for (int k = 0; k < kMaxShadows; ++k) sentinel.prev[k] = sentinel.next[k] = l;
  }
  size_t size = 8;
  while (size < 2 * (static_cast<size_t>(capacity) + 3)) size *= 2;
  index_.assign(size, kNone);
  index_mask_ = size - 1;
}

size_t ShadowSet::Home(uint64_t hash) const {
  return static_cast<size_t>((hash * 0x9E3779B97F4A7C15ull) >> 32) & index_mask_;
}

uint16_t ShadowSet::Find(uint64_t hash) const {
  for (size_t i = Home(hash);; i = (i + 1) & index_mask_) {
    const uint16_t id = index_[i];
    if (id == kNone || rows_[id].hash == hash) return id;
  }
}

void ShadowSet::IndexInsert(uint64_t hash, uint16_t id) {
  size_t i = Home(hash);
  while (index_[i] != kNone) i = (i + 1) & index_mask_;
  index_[i] = id;
}

void ShadowSet::IndexErase(uint64_t hash) {
  size_t i = Home(hash);
  while (rows_[index_[i]].hash != hash) i = (i + 1) & index_mask_;
  // Backward shift (Knuth's Algorithm R), as in ShadowCache.
  for (size_t j = (i + 1) & index_mask_;; j = (j + 1) & index_mask_) {
    const uint16_t id = index_[j];
    if (id == kNone) break;
    const size_t home = Home(rows_[id].hash);
    const bool between = i <= j ? (i < home && home <= j) : (i < home || home <= j);
    if (!between) {
      index_[i] = id;
      i = j;
    }
  }
  index_[i] = kNone;
}

void ShadowSet::GrowIndex() {
  index_.assign(index_.size() * 2, kNone);
  index_mask_ = index_.size() - 1;
  for (size_t id = 3; id < rows_.size(); ++id) {
    if (rows_[id].lists != kNoLists) IndexInsert(rows_[id].hash, static_cast<uint16_t>(id));
  }
}

uint16_t ShadowSet::AllocateRow(uint64_t hash) {
  uint16_t id;
  if (!free_rows_.empty()) {
    id = free_rows_.back();
    free_rows_.pop_back();
  } else {
    assert(rows_.size() < kNone);
    if (rows_.size() == rows_.capacity()) {
      // Double, but never beyond what every shadow holding distinct keys needs (plus the key
      // being accessed): vector's own doubling could overshoot that bound by up to 2x.
      const size_t most = shadows_.size() * static_cast<size_t>(capacity_) + 4;
      rows_.reserve(std::min(2 * rows_.capacity(), std::max(most, rows_.size() + 1)));
    }
    id = static_cast<uint16_t>(rows_.size());
    rows_.emplace_back();
  }
  Row& r = rows_[id];
  r.hash = hash;
  r.lists = kNoLists;
  ++rows_in_use_;
  rows_high_water_ = std::max(rows_high_water_, rows_in_use_);
  if (static_cast<size_t>(rows_in_use_) * 2 > index_.size()) GrowIndex();
  IndexInsert(hash, id);
  return id;
}

void ShadowSet::FreeRow(uint16_t id) {
  IndexErase(rows_[id].hash);
  free_rows_.push_back(id);
  --rows_in_use_;
}

ABSL_ATTRIBUTE_ALWAYS_INLINE inline void ShadowSet::Unlink(int k, uint16_t id) {
  const Row& r = rows_[id];
  rows_[r.prev[k]].next[k] = r.next[k];
  rows_[r.next[k]].prev[k] = r.prev[k];
}

ABSL_ATTRIBUTE_ALWAYS_INLINE inline void ShadowSet::PushBack(int k, uint8_t l, uint16_t id) {
  Row& r = rows_[id];
  Row& sentinel = rows_[l];
  SetList(r, k, l);
  r.prev[k] = sentinel.prev[k];
  r.next[k] = l;
  rows_[r.prev[k]].next[k] = id;
  sentinel.prev[k] = id;
}

ABSL_ATTRIBUTE_ALWAYS_INLINE inline void ShadowSet::PushFront(int k, uint8_t l, uint16_t id) {
  Row& r = rows_[id];
  Row& sentinel = rows_[l];
  SetList(r, k, l);
  r.next[k] = sentinel.next[k];
  r.prev[k] = l;
  rows_[r.next[k]].prev[k] = id;
  sentinel.next[k] = id;
}

ABSL_ATTRIBUTE_ALWAYS_INLINE inline void ShadowSet::Hit(int k, uint16_t id) {
  // As ShadowCache::Access: one unlink and one push; protected grows by at most one entry.
  Shadow& s = shadows_[k];
  const uint8_t from = ListOf(rows_[id], k);
  const uint8_t to = s.hit_target[from];
  Unlink(k, id);
  PushBack(k, to, id);
  if (from == to) return;
  if (from == kWindow) --s.window_size;
  if (to == kProtected) {
    ++s.protected_size;
    while (s.protected_size > s.protected_max) {  // Demote protected's least recent.
      const uint16_t demoted = Front(k, kProtected);
      Unlink(k, demoted);
      --s.protected_size;
      PushBack(k, kProbation, demoted);
    }
  }
}

void ShadowSet::Insert(int k, uint16_t id, const FrequencySketch& sketch) {
  Shadow& s = shadows_[k];
  if (s.repeat_to_front && sketch.Frequency(rows_[id].hash) >= kRepeatFrequency) {
    PushFront(k, kWindow, id);
  } else {
    PushBack(k, kWindow, id);
  }
  ++s.window_size;
  ++s.size;
  Evict(k, sketch);
}

void ShadowSet::Remove(int k, uint16_t id) {
  Shadow& s = shadows_[k];
  const uint8_t l = ListOf(rows_[id], k);
  if (l == kWindow) --s.window_size;
  if (l == kProtected) --s.protected_size;
  Unlink(k, id);
  SetList(rows_[id], k, kAbsent);
  --s.size;
  if (rows_[id].lists == kNoLists && id != pinned_) FreeRow(id);
}

void ShadowSet::Evict(int k, const FrequencySketch& sketch) {
  // The same duels, in the same order, as ShadowCache::Evict.
  Shadow& s = shadows_[k];
  uint16_t candidate = kNone;
  while (s.window_size > s.window_max) {
    const uint16_t id = Front(k, kWindow);
    Unlink(k, id);
    --s.window_size;
    PushBack(k, kProbation, id);
    if (candidate == kNone) candidate = id;
  }
  auto next = [&](uint16_t id) {
    const uint16_t n = rows_[id].next[k];
    return n == kProbation ? kNone : n;
  };
  while (s.size > capacity_) {
    uint16_t victim = Front(k, kProbation);
    if (victim == candidate) victim = Front(k, kProtected);
    if (victim == kNone) victim = Front(k, kWindow);
    if (victim == kNone) {
      victim = candidate;
      candidate = next(candidate);
    }
    if (candidate == kNone) {
      Remove(k, victim);
      continue;
    }
    if (sketch.Frequency(rows_[candidate].hash) > sketch.Frequency(rows_[victim].hash)) {
      Remove(k, victim);
    } else {
      const uint16_t loser = candidate;
      candidate = next(candidate);
      Remove(k, loser);
    }
  }
}

void ShadowSet::Access(uint64_t hash, const FrequencySketch& sketch, int64_t* hits) {
  uint16_t id = Find(hash);
  if (id == kNone) id = AllocateRow(hash);  // Every shadow misses and inserts it.
  pinned_ = id;
  for (int k = 0; k < static_cast<int>(shadows_.size()); ++k) {
    if (ListOf(rows_[id], k) != kAbsent) {
      Hit(k, id);
      ++hits[k];
    } else {
      Insert(k, id, sketch);
    }
  }
  pinned_ = kNone;
  if (rows_[id].lists == kNoLists) FreeRow(id);  // Every shadow rejected it at once.
}

size_t ShadowSet::memory_bytes() const {
  return rows_.capacity() * sizeof(Row) + free_rows_.capacity() * sizeof(uint16_t) +
         index_.capacity() * sizeof(uint16_t) + shadows_.capacity() * sizeof(Shadow);
}

bool ShadowSet::Valid() const {
  std::vector<int> holders(rows_.size(), 0);
  for (int k = 0; k < shadows(); ++k) {
    const Shadow& s = shadows_[k];
    int64_t counts[3] = {0, 0, 0};
    for (uint8_t l = 0; l < 3; ++l) {
      uint16_t previous = l;
      for (uint16_t id = rows_[l].next[k]; id != l; id = rows_[id].next[k]) {
        if (id < 3 || id >= rows_.size()) return false;
        if (ListOf(rows_[id], k) != l || rows_[id].prev[k] != previous) return false;
        ++holders[id];
        ++counts[l];
        previous = id;
        if (counts[l] > capacity_ + 1) return false;
      }
      if (rows_[l].prev[k] != previous) return false;
    }
    if (counts[0] != s.window_size || counts[2] != s.protected_size ||
        counts[0] + counts[1] + counts[2] != s.size || s.size > capacity_ ||
        s.protected_size > s.protected_max) {
      return false;
    }
  }
  int64_t in_use = 0;
  for (size_t id = 3; id < rows_.size(); ++id) {
    int listed = 0;
    for (int k = 0; k < kMaxShadows; ++k) listed += ListOf(rows_[id], k) != kAbsent ? 1 : 0;
    if (listed != holders[id]) return false;
    if (listed > 0) {
      ++in_use;
      if (Find(rows_[id].hash) != id) return false;
    }
  }
  return in_use == rows_in_use_ &&
         static_cast<int64_t>(free_rows_.size()) ==
             static_cast<int64_t>(rows_.size()) - 3 - rows_in_use_;
}

}  // namespace crema::cache
