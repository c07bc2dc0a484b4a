// EntryIndex: the cache's key -> Entry* map, a Robin Hood hash table of 8-byte slots.
//
// Why not absl::flat_hash_set<Entry*>: that costs 9 bytes per slot (a control byte and a pointer)
// at power-of-two capacities, 12-19 bytes per entry. Here a slot is one 64-bit word: the entry
// pointer in the low 48 bits, 8 bits of the key's hash (so most mismatches are rejected without
// touching the entry) and the slot's distance from its home slot (Robin Hood probing). The
// capacity is any integer (home slot = a multiply-shift of the hash), kept at most 7/8 full, and
// growth stops at what `max_entries` needs: a full cache of N entries costs ~9.1 bytes per entry.
//
// Hashes: the caller passes the key's XXH3 (the same hash feeds the frequency sketch). The index
// mixes it with a secret (a bijection) before choosing slots, so keys chosen to collide in XXH3's
// output bits cannot pile up in one run of slots unless the attacker knows the secret; the layout
// of the table never influences a cache decision (nothing iterates it), so the secret may differ
// between replicas. A probe run that would exceed kMaxDistance slots re-mixes the table with a new
// secret (growing it only if it is also full).
//
// REQUIRES: entry pointers fit in 48 bits (true of user-space heap pointers on x86-64 and arm64;
// checked on insert, crashes loudly otherwise).
//
// Invariants: size() <= capacity * 7/8; every stored entry is reachable from its home slot through
// slots of non-decreasing... (Robin Hood: each slot's distance <= its predecessor's distance + 1);
// empty slots are 0.
//
// Thread safety: none (owned by one cache).
#ifndef CREMA_CACHE_ENTRY_INDEX_H_
#define CREMA_CACHE_ENTRY_INDEX_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>

#include "absl/base/attributes.h"
#include "absl/functional/function_ref.h"
#include "cache/entry.h"

namespace crema::cache {

class EntryIndex {
 public:
  using Entry = internal::Entry;
  // Recomputes an entry's key hash (XXH3 of its key), for rehashing.
  using Hasher = absl::FunctionRef<uint64_t(const Entry*)>;

  static constexpr int kMaxDistance = 250;

  // `max_entries`: growth never goes beyond what this many entries need (the cache's capacity
  // in entries for a count-bounded cache; more entries still fit, by growing past it).
  EntryIndex(uint64_t secret, int64_t max_entries);
  EntryIndex(const EntryIndex&) = delete;
  EntryIndex& operator=(const EntryIndex&) = delete;

  // The entry with this key, or nullptr. REQUIRES: hash is the key's XXH3. (Always inlined: it is
  // most of a cache hit.)
  ABSL_ATTRIBUTE_ALWAYS_INLINE Entry* Find(uint64_t hash, std::string_view key) const {
    if (size_ == 0) return nullptr;
    const uint64_t mixed = Mix(hash);
    const uint64_t tag = TagOf(mixed);
    size_t i = Home(mixed);
    for (uint64_t distance = 0;; ++distance) {
      const uint64_t slot = slots_[i];
      if (slot == 0 || DistanceOf(slot) < distance) return nullptr;
      if ((slot & kTagMask) == tag) {
        Entry* e = EntryOf(slot);
        if (e->KeyEquals(key)) return e;
      }
      if (++i == capacity_) i = 0;
    }
  }
  // Starts loading the home slot of `hash` into the CPU cache.
  void Prefetch(uint64_t hash) const {
    if (capacity_ != 0) __builtin_prefetch(&slots_[Home(Mix(hash))]);
  }

  // REQUIRES: no entry with this key is present; hash is the key's XXH3.
  void Insert(uint64_t hash, Entry* e, Hasher hasher);
  // REQUIRES: e is present under hash.
  void Erase(uint64_t hash, const Entry* e);
  // Points the slot of `old` at `now` (same key). REQUIRES: old is present under hash.
  void Replace(uint64_t hash, const Entry* old, Entry* now);

  size_t size() const { return size_; }
  size_t capacity() const { return capacity_; }
  size_t memory_bytes() const { return capacity_ * sizeof(uint64_t); }
  // Checks the Robin Hood invariants and that every slot's entry hashes to it. O(capacity).
  bool Valid(Hasher hasher) const;

 private:
  static constexpr uint64_t kPointerMask = (uint64_t{1} << 48) - 1;
  static constexpr uint64_t kTagMask = uint64_t{0xFF} << 48;
  static constexpr int kDistanceShift = 56;

  uint64_t Mix(uint64_t hash) const { return (hash ^ secret_) * 0x9E3779B97F4A7C15ull; }
  size_t Home(uint64_t mixed) const {
    return static_cast<size_t>(((mixed >> 32) * static_cast<uint64_t>(capacity_)) >> 32);
  }
  static uint64_t TagOf(uint64_t mixed) { return (mixed << 24) & kTagMask; }
  static uint64_t DistanceOf(uint64_t slot) { return slot >> kDistanceShift; }
  static Entry* EntryOf(uint64_t slot) { return reinterpret_cast<Entry*>(slot & kPointerMask); }
  static size_t CapacityFor(size_t entries) { return entries + entries / 7 + 1; }

  // Places a slot word (tag and pointer; distance 0) by Robin Hood; false if a probe run would
  // exceed kMaxDistance (nothing is lost: the displaced word is returned in `carry`).
  bool Place(uint64_t mixed, uint64_t& carry);
  void Rebuild(size_t capacity, uint64_t secret, Hasher hasher);
  size_t SlotOf(uint64_t hash, const Entry* e) const;

  uint64_t secret_;
  const size_t max_entries_;
  size_t capacity_ = 0;
  size_t size_ = 0;
  std::unique_ptr<uint64_t[]> slots_;
};

}  // namespace crema::cache

#endif  // CREMA_CACHE_ENTRY_INDEX_H_
