#include "cache/entry_index.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <utility>
#include <vector>

namespace crema::cache {
namespace {

[[noreturn]] void Fail(const char* what) {
  std::fprintf(stderr, "cache entry index: %s\n", what);
  std::abort();
}

constexpr size_t kMinCapacity = 8;

// SplitMix64's finaliser: derives the next secret when a table is re-mixed.
uint64_t NextSecret(uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

}  // namespace

EntryIndex::EntryIndex(uint64_t secret, int64_t max_entries)
    : secret_(NextSecret(secret)),
      max_entries_(static_cast<size_t>(std::max<int64_t>(max_entries, 1))) {}

bool EntryIndex::Place(uint64_t mixed, uint64_t& carry) {
  size_t i = Home(mixed);
  uint64_t distance = 0;
  while (true) {
    const uint64_t slot = slots_[i];
    if (slot == 0) {
      slots_[i] = carry | (distance << kDistanceShift);
      carry = 0;
      return true;
    }
    if (DistanceOf(slot) < distance) {  // Richer than the carried word: take its place.
      slots_[i] = carry | (distance << kDistanceShift);
      carry = slot & ~(uint64_t{0xFF} << kDistanceShift);
      distance = DistanceOf(slot);
    }
    if (++distance > kMaxDistance) return false;
    if (++i == capacity_) i = 0;
  }
}

void EntryIndex::Insert(uint64_t hash, Entry* e, Hasher hasher) {
  const uint64_t pointer = reinterpret_cast<uint64_t>(e);
  if ((pointer & ~kPointerMask) != 0 || pointer == 0) Fail("entry pointer beyond 48 bits");
  if ((size_ + 1) * 8 > capacity_ * 7) {
    // Grow by half, but no further than a full cache needs (unless it is already beyond that).
    size_t capacity = std::max(kMinCapacity, capacity_ + capacity_ / 2);
    if (size_ + 1 <= max_entries_) capacity = std::min(capacity, CapacityFor(max_entries_));
    capacity = std::max(capacity, CapacityFor(size_ + 1));
    Rebuild(capacity, secret_, hasher);
  }
  const uint64_t mixed = Mix(hash);
  uint64_t carry = TagOf(mixed) | pointer;
  ++size_;
  if (Place(mixed, carry)) return;
  // A run too long: re-mix everything (with the displaced word) under a new secret.
  const Entry* displaced = EntryOf(carry);
  std::vector<Entry*> entries;
  entries.reserve(size_);
  for (size_t i = 0; i < capacity_; ++i) {
    if (slots_[i] != 0) entries.push_back(EntryOf(slots_[i]));
  }
  entries.push_back(const_cast<Entry*>(displaced));
  size_t capacity = capacity_;
  uint64_t secret = secret_;
  for (int attempt = 0;; ++attempt) {
    secret = NextSecret(secret);
    if (attempt > 0) capacity += capacity / 2;  // Re-mixing alone did not help: also grow.
    if (attempt > 8) Fail("cannot place entries after 8 re-mixes");
    std::fill(slots_.get(), slots_.get() + capacity_, 0);
    if (capacity != capacity_) {
      slots_.reset(new uint64_t[capacity]());
      capacity_ = capacity;
    }
    secret_ = secret;
    bool ok = true;
    for (Entry* entry : entries) {
      const uint64_t m = Mix(hasher(entry));
      uint64_t word = TagOf(m) | reinterpret_cast<uint64_t>(entry);
      if (!Place(m, word)) {
        ok = false;
        break;
      }
    }
    if (ok) return;
  }
}

void EntryIndex::Rebuild(size_t capacity, uint64_t secret, Hasher hasher) {
  std::unique_ptr<uint64_t[]> old = std::move(slots_);
  const size_t old_capacity = capacity_;
  slots_.reset(new uint64_t[capacity]());
  capacity_ = capacity;
  secret_ = secret;
  for (size_t i = 0; i < old_capacity; ++i) {
    if (old[i] == 0) continue;
    Entry* e = EntryOf(old[i]);
    const uint64_t mixed = Mix(hasher(e));
    uint64_t word = TagOf(mixed) | reinterpret_cast<uint64_t>(e);
    if (!Place(mixed, word)) {
      // Vanishingly unlikely at 7/8 load with a fresh table; start again bigger.
      slots_ = std::move(old);
      capacity_ = old_capacity;
      Rebuild(capacity + capacity / 2, NextSecret(secret), hasher);
      return;
    }
  }
}

size_t EntryIndex::SlotOf(uint64_t hash, const Entry* e) const {
  const uint64_t mixed = Mix(hash);
  size_t i = Home(mixed);
  for (uint64_t distance = 0; distance <= kMaxDistance; ++distance) {
    const uint64_t slot = slots_[i];
    if (slot == 0 || DistanceOf(slot) < distance) break;
    if (EntryOf(slot) == e) return i;
    if (++i == capacity_) i = 0;
  }
  Fail("entry not found under its hash");
}

void EntryIndex::Erase(uint64_t hash, const Entry* e) {
  size_t i = SlotOf(hash, e);
  // Backward shift: pull each following displaced slot one step closer to its home.
  while (true) {
    size_t next = i + 1 == capacity_ ? 0 : i + 1;
    const uint64_t slot = slots_[next];
    if (slot == 0 || DistanceOf(slot) == 0) {
      slots_[i] = 0;
      break;
    }
    slots_[i] = slot - (uint64_t{1} << kDistanceShift);
    i = next;
  }
  --size_;
}

void EntryIndex::Replace(uint64_t hash, const Entry* old, Entry* now) {
  const uint64_t pointer = reinterpret_cast<uint64_t>(now);
  if ((pointer & ~kPointerMask) != 0 || pointer == 0) Fail("entry pointer beyond 48 bits");
  const size_t i = SlotOf(hash, old);
  slots_[i] = (slots_[i] & ~kPointerMask) | pointer;
}

bool EntryIndex::Valid(Hasher hasher) const {
  size_t count = 0;
  for (size_t i = 0; i < capacity_; ++i) {
    const uint64_t slot = slots_[i];
    if (slot == 0) continue;
    ++count;
    const uint64_t mixed = Mix(hasher(EntryOf(slot)));
    if ((slot & kTagMask) != TagOf(mixed)) return false;
    const size_t home = Home(mixed);
    const size_t distance = (i + capacity_ - home) % capacity_;
    if (distance != DistanceOf(slot)) return false;
    // Robin Hood: the previous slot is occupied and at most one step poorer.
    if (distance > 0) {
      const uint64_t previous = slots_[i == 0 ? capacity_ - 1 : i - 1];
      if (previous == 0 || DistanceOf(previous) + 1 < DistanceOf(slot)) return false;
    }
  }
  return count == size_ && size_ * 8 <= capacity_ * 7 + 8;
}

}  // namespace crema::cache
