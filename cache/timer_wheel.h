// TimerWheel: a hierarchical timing wheel holding nodes with deadlines, for cache expiry.
//
// Time is an int64 count of nanoseconds on the owner's monotonic clock (the cache passes
// nanoseconds since it was created). There are four levels of 64 buckets; a bucket of level L
// spans 2^(30 + 6L) ns:
//
//   level 0: 2^30 ns ~ 1.07 s per bucket  (covers deadlines up to ~1.1 min ahead)
//   level 1: 2^36 ns ~ 1.15 min           (up to ~1.2 h ahead)
//   level 2: 2^42 ns ~ 1.22 h             (up to ~3.3 days ahead)
//   level 3: 2^48 ns ~ 3.26 days          (up to ~208 days ahead)
//   overflow: one unordered list for anything further out, re-sorted into the wheel every time
//             the level-3 bucket changes (every ~3.26 days of clock time).
//
// A node goes to the lowest level whose 64 buckets cover its remaining time, in the bucket indexed
// by its *absolute* deadline ((deadline >> shift) & 63), so buckets need no cursor. `Advance(now)`
// visits, on every level whose bucket index changed, the buckets between the old and the new
// time (at most 64 per level, so a clock jump of days costs O(entries), not O(time)); each visited
// node is either due (deadline <= now: handed to `on_expired`) or rescheduled, which cascades it
// down to a finer level. Scheduling and unscheduling are O(1).
//
// Precision: a due node is reported by the first `Advance` that leaves its level-0 bucket (so up
// to ~1.07 s late), or at once by `ExpireDue`. Owners that must never *use* an expired node check
// the deadline themselves (the cache does, on every read).
//
// Invariants: every scheduled node is on exactly one bucket list or the overflow list; its
// deadline is finite (< kNever); `now_ns()` never decreases.
//
// Thread safety: none (owned by one cache, on one event loop).
#ifndef CREMA_CACHE_TIMER_WHEEL_H_
#define CREMA_CACHE_TIMER_WHEEL_H_

#include <array>
#include <cstdint>
#include <limits>

#include "absl/functional/function_ref.h"
#include "cache/intrusive_list.h"

namespace crema::cache {

struct TimerTag {};

// Embed (derive from) this in anything the wheel schedules.
struct TimerNode : ListHook<TimerTag> {
  int64_t deadline_ns = std::numeric_limits<int64_t>::max();
};

class TimerWheel {
 public:
  static constexpr int64_t kNever = std::numeric_limits<int64_t>::max();
  static constexpr int kLevels = 4;
  static constexpr int kBucketsPerLevel = 64;
  static constexpr int kBucketBits = 6;
  static constexpr int kLevel0Shift = 30;
  // Where a node is, for tests: level in [0, kLevels) and bucket in [0, 64), or level == kLevels
  // for the overflow list.
  struct Location {
    int level;
    int bucket;
  };

  explicit TimerWheel(int64_t now_ns = 0) : now_ns_(now_ns) {}
  TimerWheel(const TimerWheel&) = delete;
  TimerWheel& operator=(const TimerWheel&) = delete;
  // REQUIRES: empty (the owner unschedules its nodes first).
  ~TimerWheel();

  // REQUIRES: node is not scheduled; node->deadline_ns < kNever.
  void Schedule(TimerNode* node);
  // REQUIRES: node is scheduled.
  void Unschedule(TimerNode* node);
  // `now` takes the scheduled `old`'s place (same deadline, same bucket); `old` ends unscheduled.
  // REQUIRES: old is scheduled, now is not, now->deadline_ns == old->deadline_ns.
  void Replace(TimerNode* old, TimerNode* now) {
    assert(now->deadline_ns == old->deadline_ns);
    IntrusiveList<TimerNode, TimerTag>::ReplaceHook(old, now);
  }

  // Moves the wheel's time forward to `now_ns` (no-op if not later) and reports nodes found due
  // in the buckets it passes. `on_expired(node)` gets each due node already unscheduled; it may
  // unschedule or destroy other nodes only if they are not due (the owner's removal path is safe).
  void Advance(int64_t now_ns, absl::FunctionRef<void(TimerNode*)> on_expired) {
    if (now_ns <= now_ns_) return;
    const int64_t previous_ns = now_ns_;
    now_ns_ = now_ns;
    if ((previous_ns >> kLevel0Shift) == (now_ns >> kLevel0Shift)) return;  // Same bucket.
    AdvanceSlow(previous_ns, on_expired);
  }

  // Whether `Advance(now_ns)` would visit buckets (and so may report nodes due).
  bool WouldVisitBuckets(int64_t now_ns) const {
    return now_ns > now_ns_ && (now_ns_ >> kLevel0Shift) != (now_ns >> kLevel0Shift);
  }

  // `Advance`, then also reports due nodes in the current level-0 bucket, so that after it returns
  // no scheduled node has deadline <= now_ns.
  void ExpireDue(int64_t now_ns, absl::FunctionRef<void(TimerNode*)> on_expired);

  int64_t now_ns() const { return now_ns_; }
  int64_t size() const { return size_; }
  // REQUIRES: node is scheduled. Linear in the size of the node's list; for tests.
  Location LocationOf(const TimerNode* node) const;

 private:
  using Bucket = IntrusiveList<TimerNode, TimerTag>;

  static int Shift(int level) { return kLevel0Shift + kBucketBits * level; }
  Bucket& BucketFor(int64_t deadline_ns);
  void AdvanceSlow(int64_t previous_ns, absl::FunctionRef<void(TimerNode*)> on_expired);
  // Detaches `bucket` and expires or reschedules each of its nodes.
  void Drain(Bucket& bucket, absl::FunctionRef<void(TimerNode*)> on_expired);

  int64_t now_ns_;
  int64_t size_ = 0;
  std::array<std::array<Bucket, kBucketsPerLevel>, kLevels> wheel_;
  Bucket overflow_;
};

}  // namespace crema::cache

#endif  // CREMA_CACHE_TIMER_WHEEL_H_
