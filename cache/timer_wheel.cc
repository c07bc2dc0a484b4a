#include "cache/timer_wheel.h"

#include <algorithm>
#include <cassert>

namespace crema::cache {

TimerWheel::~TimerWheel() { assert(size_ == 0); }

TimerWheel::Bucket& TimerWheel::BucketFor(int64_t deadline_ns) {
  // A deadline already passed goes to the current bucket, which the next Advance visits.
  const int64_t at_ns = std::max(deadline_ns, now_ns_);
  const int64_t remaining_ns = at_ns - now_ns_;
  for (int level = 0; level < kLevels; ++level) {
    // Level L covers remaining times below 64 buckets of its span.
    if (remaining_ns < (int64_t{1} << (Shift(level) + kBucketBits))) {
      return wheel_[level][(at_ns >> Shift(level)) & (kBucketsPerLevel - 1)];
    }
  }
  return overflow_;
}

void TimerWheel::Schedule(TimerNode* node) {
  assert(!node->linked());
  assert(node->deadline_ns < kNever);
  BucketFor(node->deadline_ns).push_back(node);
  ++size_;
}

void TimerWheel::Unschedule(TimerNode* node) {
  assert(node->linked());
  // Unlinking needs no list: the hooks are a circular list through the bucket's sentinel.
  ListHook<TimerTag>* hook = node;
  hook->prev->next = hook->next;
  hook->next->prev = hook->prev;
  hook->prev = hook->next = nullptr;
  --size_;
  assert(size_ >= 0);
}

void TimerWheel::Drain(Bucket& bucket, absl::FunctionRef<void(TimerNode*)> on_expired) {
  Bucket pending;
  pending.splice_back(bucket);
  while (TimerNode* node = pending.pop_front()) {
    --size_;  // pop_front unlinked it.
    if (node->deadline_ns <= now_ns_) {
      on_expired(node);
    } else {
      Schedule(node);
    }
  }
}

void TimerWheel::AdvanceSlow(int64_t previous_ns,
                             absl::FunctionRef<void(TimerNode*)> on_expired) {
  for (int level = 0; level < kLevels; ++level) {
    const int64_t previous_tick = previous_ns >> Shift(level);
    const int64_t current_tick = now_ns_ >> Shift(level);
    if (previous_tick == current_tick) return;  // Coarser levels did not move either.
    // Visit the bucket being left through the current one (inclusive), at most a full turn.
    const int64_t visits = std::min<int64_t>(current_tick - previous_tick + 1, kBucketsPerLevel);
    for (int64_t i = 0; i < visits; ++i) {
      Drain(wheel_[level][(previous_tick + i) & (kBucketsPerLevel - 1)], on_expired);
    }
  }
  // The top level moved: bring overflow nodes that now fit (or are due) into the wheel.
  Drain(overflow_, on_expired);
}

void TimerWheel::ExpireDue(int64_t now_ns, absl::FunctionRef<void(TimerNode*)> on_expired) {
  Advance(now_ns, on_expired);
  Drain(wheel_[0][(now_ns_ >> kLevel0Shift) & (kBucketsPerLevel - 1)], on_expired);
}

TimerWheel::Location TimerWheel::LocationOf(const TimerNode* node) const {
  assert(node->linked());
  const ListHook<TimerTag>* hook = node->next;
  // Walk to the sentinel, then find which bucket owns it.
  while (true) {
    for (int level = 0; level < kLevels; ++level) {
      for (int b = 0; b < kBucketsPerLevel; ++b) {
        if (wheel_[level][b].IsSentinel(hook)) return {level, b};
      }
    }
    if (overflow_.IsSentinel(hook)) return {kLevels, 0};
    hook = hook->next;
  }
}

}  // namespace crema::cache
