// Entry: one cached key and value in a single heap allocation, with the links of its access queue.
//
// Layout (one malloc per entry; `Entry*` points at the header):
//
//   [TimerBlock, 40 bytes]   only if kHasTimer: wheel links, deadline, write and variable deadlines
//   header, 24 bytes:        access-queue links (16), value size (4), key size (2), queue (1),
//                            flags (1)
//   [weight, 4 bytes]        only if kHasWeight (caches with a weigher)
//   [key size, 4 bytes]      only if kLongKey (keys of 65,535 bytes or more)
//   key bytes, value bytes
//
// So an untimed, unweighted entry costs 24 bytes plus its key and value (a 16-byte key and a 32-byte
// value: a 72-byte request, an 80-byte glibc chunk). Nothing else is stored: the key's hash is
// recomputed when needed (XXH3 of a short key is a few nanoseconds, and the index keeps 8 bits of
// it to skip most mismatches without touching the entry), and an entry's weight is 1 unless the
// cache has a weigher.
//
// An entry gets its timer block the first time it needs a finite deadline (Entry::Reallocate moves
// it to a bigger allocation; the owner relinks it). A value that no longer fits the allocation
// (malloc_usable_size) also moves it. Moving changes the entry's address: the owner updates its
// index slot, its queue neighbours and its timer neighbours, and must hold no other pointer to it.
//
// Invariants: key_size()/value_size() describe the bytes that follow the header; kHasTimer iff the
// allocation starts with a TimerBlock; an entry without a timer block never expires.
//
// Thread safety: none (owned by one cache).
#ifndef CREMA_CACHE_ENTRY_H_
#define CREMA_CACHE_ENTRY_H_

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

#include "cache/intrusive_list.h"
#include "cache/timer_wheel.h"

namespace crema::cache {

// Which part of the cache an entry is in (exposed for tests and metrics).
enum class Queue : uint8_t { kWindow, kProbation, kProtected };

namespace internal {

struct AccessTag {};

// Expiry state of an entry that has (or had) a finite deadline. deadline_ns (in TimerNode) is the
// earliest of the write deadline, the variable deadline and the access deadline.
struct TimerBlock : TimerNode {
  int64_t write_deadline_ns = TimerWheel::kNever;     // Last write + expire_after_write.
  int64_t variable_deadline_ns = TimerWheel::kNever;  // Per-put TTL, PutUntil or Expiry policy.
};

class Entry : public ListHook<AccessTag> {
 public:
  // Keys at least this long keep their size in 4 bytes after the header.
  static constexpr uint16_t kLongKey = 0xFFFF;

  struct Layout {
    bool weight = false;  // Room for a weight (the cache has a weigher).
    bool timer = false;   // A timer block.
  };

  // A new entry, on no list. REQUIRES: value.size() < 2^32, key.size() < 2^32.
  static Entry* Create(std::string_view key, std::string_view value, uint32_t weight,
                       Layout layout);
  // Frees the entry. REQUIRES: on no list and not scheduled.
  static void Destroy(Entry* e);
  // A copy of `e` with `value` (and a timer block if `timer` or e has one, with e's timer fields),
  // the same queue and weight, on no list and unscheduled. The caller puts the copy in e's place
  // (IntrusiveList::replace, TimerWheel::Replace, EntryIndex::Replace) and destroys e.
  static Entry* CloneWith(const Entry* e, std::string_view value, bool timer);

  std::string_view key() const { return {KeyData(), KeySize()}; }
  // Whether this entry's key is `key` (short keys compared inline, without a call to memcmp).
  bool KeyEquals(std::string_view key) const;
  std::string_view value() const { return {KeyData() + KeySize(), value_size_}; }
  // Whether `size` value bytes fit this allocation (then SetValue needs no move).
  bool ValueFits(size_t size) const;
  // REQUIRES: ValueFits(value.size()).
  void SetValue(std::string_view value);

  Queue queue() const { return static_cast<Queue>(queue_); }
  void set_queue(Queue q) { queue_ = static_cast<uint8_t>(q); }
  uint32_t weight() const {
    if (!(flags_ & kHasWeight)) return 1;
    uint32_t w;
    std::memcpy(&w, Data(), sizeof(w));
    return w;
  }
  void set_weight(uint32_t w) {  // REQUIRES: created with Layout::weight.
    std::memcpy(Data(), &w, sizeof(w));
  }

  bool has_timer() const { return (flags_ & kHasTimer) != 0; }
  TimerBlock* timer() { return reinterpret_cast<TimerBlock*>(Base()); }  // REQUIRES: has_timer().
  const TimerBlock* timer() const {
    return reinterpret_cast<const TimerBlock*>(const_cast<Entry*>(this)->Base());
  }
  // The effective deadline: TimerWheel::kNever for an entry without a timer block.
  int64_t deadline_ns() const { return has_timer() ? timer()->deadline_ns : TimerWheel::kNever; }
  static Entry* FromTimer(TimerNode* node) {
    return reinterpret_cast<Entry*>(reinterpret_cast<char*>(static_cast<TimerBlock*>(node)) +
                                    sizeof(TimerBlock));
  }

  // Bytes of this entry's allocation (for tests and accounting).
  size_t AllocatedBytes() const;

 private:
  static constexpr uint8_t kHasTimer = 1;
  static constexpr uint8_t kHasWeight = 2;

  Entry() = default;
  ~Entry() = default;

  char* Data() { return reinterpret_cast<char*>(this) + sizeof(Entry); }
  const char* Data() const { return reinterpret_cast<const char*>(this) + sizeof(Entry); }
  size_t PrefixBytes() const {  // Weight and long key size.
    return ((flags_ & kHasWeight) ? 4 : 0) + (key_size_ == kLongKey ? 4 : 0);
  }
  const char* KeyData() const { return Data() + PrefixBytes(); }
  size_t KeySize() const {
    if (key_size_ != kLongKey) return key_size_;
    uint32_t size;
    std::memcpy(&size, Data() + ((flags_ & kHasWeight) ? 4 : 0), sizeof(size));
    return size;
  }
  char* Base() { return reinterpret_cast<char*>(this) - (has_timer() ? sizeof(TimerBlock) : 0); }
  const char* Base() const { return const_cast<Entry*>(this)->Base(); }

  uint32_t value_size_ = 0;
  uint16_t key_size_ = 0;
  uint8_t queue_ = 0;
  uint8_t flags_ = 0;
};

// Whether n bytes at a and b are equal; up to 16 bytes by overlapping word loads (no call).
inline bool BytesEqual(const char* a, const char* b, size_t n) {
  if (n >= 8 && n <= 16) {
    uint64_t a0, b0, a1, b1;
    std::memcpy(&a0, a, 8);
    std::memcpy(&b0, b, 8);
    std::memcpy(&a1, a + n - 8, 8);
    std::memcpy(&b1, b + n - 8, 8);
    return ((a0 ^ b0) | (a1 ^ b1)) == 0;
  }
  if (n >= 4 && n < 8) {
    uint32_t a0, b0, a1, b1;
    std::memcpy(&a0, a, 4);
    std::memcpy(&b0, b, 4);
    std::memcpy(&a1, a + n - 4, 4);
    std::memcpy(&b1, b + n - 4, 4);
    return ((a0 ^ b0) | (a1 ^ b1)) == 0;
  }
  if (n < 4) {
    for (size_t i = 0; i < n; ++i) {
      if (a[i] != b[i]) return false;
    }
    return true;
  }
  return std::memcmp(a, b, n) == 0;
}

inline bool Entry::KeyEquals(std::string_view key) const {
  return KeySize() == key.size() && BytesEqual(KeyData(), key.data(), key.size());
}

static_assert(sizeof(Entry) == 24, "the entry header is 24 bytes");
static_assert(sizeof(TimerBlock) == 40, "the timer block is 40 bytes");

}  // namespace internal
}  // namespace crema::cache

#endif  // CREMA_CACHE_ENTRY_H_
