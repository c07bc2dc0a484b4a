#include "sim/event_queue.h"

#include <algorithm>
#include <cassert>
#include <cstdio>
#include <cstdlib>
#include <utility>

namespace crema::sim {
namespace {

// std::push_heap/pop_heap build max-heaps: "less" is "later".
struct Later {
  template <typename E>
  bool operator()(const E& a, const E& b) const {
    return a.time_ns != b.time_ns ? a.time_ns > b.time_ns : a.sequence > b.sequence;
  }
};

}  // namespace

EventQueue::Slot* EventQueue::Lookup(EventId id, SlotState state) {
  const uint32_t slot = SlotOf(id);
  if (slot >= slots_.size()) return nullptr;
  Slot& s = slots_[slot];
  return s.state == state && s.generation == GenerationOf(id) ? &s : nullptr;
}

void EventQueue::Push(int64_t time_ns, EventId id) {
  if (queued_ >= kMaxQueuedEvents) {
    std::fprintf(stderr, "EventQueue: more than %zu queued events (runaway simulation)\n",
                 kMaxQueuedEvents);
    std::abort();
  }
  ++queued_;
  heap_.push_back(Entry{time_ns, next_sequence_++, id});
  std::push_heap(heap_.begin(), heap_.end(), Later());
}

EventQueue::EventId EventQueue::Schedule(int64_t time_ns, SimEvent event) {
  uint32_t slot;
  if (free_.empty()) {
    slot = static_cast<uint32_t>(slots_.size());
    slots_.emplace_back();
  } else {
    slot = free_.back();
    free_.pop_back();
  }
  Slot& s = slots_[slot];
  ++s.generation;  // starts at 1: an id is never 0
  s.state = SlotState::kQueued;
  s.event = std::move(event);
  const EventId id = (static_cast<uint64_t>(s.generation) << 32) | slot;
  Push(time_ns, id);
  return id;
}

void EventQueue::Requeue(int64_t time_ns, EventId id, SimEvent event) {
  Slot* s = Lookup(id, SlotState::kPopped);
  assert(s != nullptr);
  s->state = SlotState::kQueued;
  s->event = std::move(event);
  Push(time_ns, id);
}

void EventQueue::FreeSlot(uint32_t slot) {
  Slot& s = slots_[slot];
  s.state = SlotState::kFree;
  s.event = SimEvent{};  // destroys the callback now
  free_.push_back(slot);
}

bool EventQueue::Cancel(EventId id) {
  if (Lookup(id, SlotState::kQueued) == nullptr) return false;
  FreeSlot(SlotOf(id));  // its heap entry is stale from now on
  --queued_;
  DropStaleTop();
  return true;
}

void EventQueue::Release(EventId id) {
  const bool popped = Lookup(id, SlotState::kPopped) != nullptr;
  assert(popped);
  if (popped) FreeSlot(SlotOf(id));
}

void EventQueue::DropStaleTop() {
  while (!heap_.empty() && Lookup(heap_.front().id, SlotState::kQueued) == nullptr) {
    std::pop_heap(heap_.begin(), heap_.end(), Later());
    heap_.pop_back();
  }
}

EventQueue::Popped EventQueue::Pop() {
  assert(!heap_.empty());
  const Entry top = heap_.front();
  std::pop_heap(heap_.begin(), heap_.end(), Later());
  heap_.pop_back();
  Slot& s = slots_[SlotOf(top.id)];
  assert(s.state == SlotState::kQueued && s.generation == GenerationOf(top.id));
  s.state = SlotState::kPopped;
  --queued_;
  Popped popped{top.time_ns, top.id, std::move(s.event)};
  DropStaleTop();
  return popped;
}

}  // namespace crema::sim
