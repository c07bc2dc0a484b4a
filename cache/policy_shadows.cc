#include "cache/policy_shadows.h"

#include <algorithm>
#include <cassert>

namespace crema::cache {
namespace {

size_t IndexSizeFor(int64_t capacity) {
  size_t size = 8;
  while (size < static_cast<size_t>(2 * (capacity + 2))) size *= 2;
  return size;
}

size_t Home(uint64_t hash, uint64_t mask) {
  return static_cast<size_t>((hash * 0x9E3779B97F4A7C15ull) >> 32) & mask;
}

}  // namespace

ShadowCache::ShadowCache(int64_t capacity, const PolicyConfig& config)
    : config_(config),
      capacity_(capacity),
      window_max_(capacity * config.window_permille / 1000),
      protected_max_((capacity - capacity * config.window_permille / 1000) * kProtectedPercent /
                     100),
      nodes_(static_cast<size_t>(capacity) + 4),
      index_(IndexSizeFor(capacity), kNone),
      index_mask_(IndexSizeFor(capacity) - 1) {
  assert(capacity >= 1 && capacity <= kMaxCapacity);
  for (uint16_t l = 0; l < 3; ++l) nodes_[l].prev = nodes_[l].next = l;
  for (size_t id = nodes_.size() - 1; id >= 3; --id) free_.push_back(static_cast<uint16_t>(id));
}

void ShadowCache::Unlink(uint16_t id) {
  Node& n = nodes_[id];
  nodes_[n.prev].next = n.next;
  nodes_[n.next].prev = n.prev;
}

void ShadowCache::PushBack(List l, uint16_t id) {
  Node& n = nodes_[id];
  n.list = l;
  n.prev = nodes_[l].prev;
  n.next = l;
  nodes_[n.prev].next = id;
  nodes_[l].prev = id;
}

void ShadowCache::PushFront(List l, uint16_t id) {
  Node& n = nodes_[id];
  n.list = l;
  n.next = nodes_[l].next;
  n.prev = l;
  nodes_[n.next].prev = id;
  nodes_[l].next = id;
}

uint16_t ShadowCache::Find(uint64_t hash) const {
  for (size_t i = Home(hash, index_mask_);; i = (i + 1) & index_mask_) {
    const uint16_t id = index_[i];
    if (id == kNone || nodes_[id].hash == hash) return id;
  }
}

void ShadowCache::IndexInsert(uint64_t hash, uint16_t id) {
  size_t i = Home(hash, index_mask_);
  while (index_[i] != kNone) i = (i + 1) & index_mask_;
  index_[i] = id;
}

void ShadowCache::IndexErase(uint64_t hash) {
  size_t i = Home(hash, index_mask_);
  while (nodes_[index_[i]].hash != hash) i = (i + 1) & index_mask_;
  // Backward shift (Knuth's Algorithm R): pull later slots of the run into the hole when their
  // home is not cyclically between the hole and their position.
  for (size_t j = (i + 1) & index_mask_;; j = (j + 1) & index_mask_) {
    const uint16_t id = index_[j];
    if (id == kNone) break;
    const size_t home = Home(nodes_[id].hash, index_mask_);
    const bool between = i <= j ? (i < home && home <= j) : (i < home || home <= j);
    if (!between) {
      index_[i] = id;
      i = j;
    }
  }
  index_[i] = kNone;
}

void ShadowCache::Remove(uint16_t id) {
  const Node& n = nodes_[id];
  if (n.list == kWindow) --window_size_;
  if (n.list == kProtected) --protected_size_;
  Unlink(id);
  IndexErase(n.hash);
  free_.push_back(id);
  --size_;
}

void ShadowCache::DemoteProtectedOverflow() {
  while (protected_size_ > protected_max_) {
    const uint16_t id = Front(kProtected);
    Unlink(id);
    --protected_size_;
    PushBack(kProbation, id);
  }
}

bool ShadowCache::Access(uint64_t hash, const FrequencySketch& sketch) {
  const uint16_t id = Find(hash);
  if (id != kNone) {
    const List from = static_cast<List>(nodes_[id].list);
    Unlink(id);
    if (from == kWindow && config_.window_hit == WindowHit::kStay) {
      PushBack(kWindow, id);
    } else if (from == kWindow && config_.window_hit == WindowHit::kToProbation) {
      --window_size_;
      PushBack(kProbation, id);
    } else if (from == kProtected) {
      PushBack(kProtected, id);
    } else {  // Probation, or a window hit that moves to protected.
      if (from == kWindow) --window_size_;
      ++protected_size_;
      PushBack(kProtected, id);
      DemoteProtectedOverflow();
    }
    return true;
  }
  const uint16_t added = free_.back();
  free_.pop_back();
  nodes_[added].hash = hash;
  if (config_.repeat_to_front && sketch.Frequency(hash) >= kRepeatFrequency) {
    PushFront(kWindow, added);
  } else {
    PushBack(kWindow, added);
  }
  ++window_size_;
  ++size_;
  IndexInsert(hash, added);
  Evict(sketch);
  return false;
}

void ShadowCache::Evict(const FrequencySketch& sketch) {
  // The same duels as LocalCache::EvictForCapacity: window overflow becomes candidates at
  // probation's MRU end; each competes with main's least recent entry on frequency.
  uint16_t candidate = kNone;
  while (window_size_ > window_max_) {
    const uint16_t id = Front(kWindow);
    Unlink(id);
    --window_size_;
    PushBack(kProbation, id);
    if (candidate == kNone) candidate = id;
  }
  auto next = [&](uint16_t id) {
    const uint16_t n = nodes_[id].next;
    return n == kProbation ? kNone : n;
  };
  while (size_ > capacity_) {
    uint16_t victim = Front(kProbation);
    if (victim == candidate) victim = Front(kProtected);
    if (victim == kNone) victim = Front(kWindow);
    if (victim == kNone) {
      victim = candidate;
      candidate = next(candidate);
    }
    if (candidate == kNone) {
      Remove(victim);
      continue;
    }
    if (sketch.Frequency(nodes_[candidate].hash) > sketch.Frequency(nodes_[victim].hash)) {
      Remove(victim);
    } else {
      const uint16_t loser = candidate;
      candidate = next(candidate);
      Remove(loser);
    }
  }
}

size_t ShadowCache::memory_bytes() const {
  return nodes_.capacity() * sizeof(Node) + free_.capacity() * sizeof(uint16_t) +
         index_.capacity() * sizeof(uint16_t);
}

bool ShadowCache::Valid() const {
  int64_t counts[3] = {0, 0, 0};
  for (uint16_t l = 0; l < 3; ++l) {
    uint16_t previous = l;
    for (uint16_t id = nodes_[l].next; id != l; id = nodes_[id].next) {
      if (nodes_[id].list != l || nodes_[id].prev != previous) return false;
      if (Find(nodes_[id].hash) != id) return false;
      ++counts[l];
      previous = id;
      if (counts[l] > capacity_ + 1) return false;
    }
  }
  return counts[0] == window_size_ && counts[2] == protected_size_ &&
         counts[0] + counts[1] + counts[2] == size_ && size_ <= capacity_ &&
         protected_size_ <= protected_max_ &&
         static_cast<int64_t>(free_.size()) == static_cast<int64_t>(nodes_.size()) - 3 - size_;
}

PolicyShadows::PolicyShadows(int64_t capacity)
    : shadow_capacity_(capacity <= kMinShadowCapacity
                           ? capacity
                           : std::clamp(capacity / kCapacityDivisor, kMinShadowCapacity,
                                        kMaxShadowCapacity)),
      threshold_(static_cast<uint64_t>(shadow_capacity_) * (uint64_t{1} << 24) /
                 static_cast<uint64_t>(capacity)),
      period_(std::max<int64_t>(kMinPeriod, shadow_capacity_)),
      set_(shadow_capacity_, kPolicyGrid),
      hits_(kPolicyGrid.size(), 0),
      scores_(kPolicyGrid.size(), 0) {
  assert(capacity > 0);
}

bool PolicyShadows::OnSampledRead(uint64_t hash, const FrequencySketch& sketch) {
  set_.Access(hash, sketch, hits_.data());
  if (++reads_in_period_ < period_) return false;
  reads_in_period_ = 0;
  for (size_t k = 0; k < scores_.size(); ++k) {
    // Fixed point (x 256) so that the decay of small scores is not lost to rounding.
    scores_[k] += hits_[k] * 256 - scores_[k] / kDecayDivisor;
    hits_[k] = 0;
  }
  int best = chosen_;
  for (int k = 0; k < static_cast<int>(scores_.size()); ++k) {
    if (scores_[k] > scores_[best]) best = k;
  }
  chosen_ = best;
  return true;
}

size_t PolicyShadows::memory_bytes() const {
  return set_.memory_bytes();
}

}  // namespace crema::cache
