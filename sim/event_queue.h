// EventQueue: the simulator's single global queue, ordered by (virtual time, sequence number).
//
// Each event belongs to a node (or kNoNode for the simulator itself) and, for node events, to one
// incarnation of that node (or kAnyIncarnation: network deliveries, which target whoever is up at
// delivery time). Sequence numbers are assigned at scheduling, so events at the same virtual time
// run in the order they were scheduled: the queue's order is a pure function of the run's history.
//
// Representation (the simulator's hottest structure; see docs/simulator.md "Performance"): events
// live in slots of a slab; a binary heap orders (time, sequence, id) triples. An EventId names a
// slot and the slot's generation, so a cancelled event's heap entry is recognised as stale when it
// surfaces, and no map from ids to events is needed. A popped event keeps its slot (and id) until
// the caller `Release`s it, or `Requeue`s it under the same id (a paused node's held event).
//
// Thread safety: none.
#ifndef CREMA_SIM_EVENT_QUEUE_H_
#define CREMA_SIM_EVENT_QUEUE_H_

#include <cstddef>
#include <cstdint>
#include <vector>

#include "absl/functional/any_invocable.h"
#include "node/network.h"

namespace crema::sim {

inline constexpr uint64_t kAnyIncarnation = 0;

struct SimEvent {
  NodeId node = kNoNode;
  uint64_t incarnation = kAnyIncarnation;
  const char* kind = "";  // a static string, e.g. "loop.timer"
  absl::AnyInvocable<void()> callback;
  uint64_t tag = 0;  // if non-zero, traced as the event's detail "#<tag>" (a message id)
};

class EventQueue {
 public:
  using EventId = uint64_t;  // never 0; stays the event's id when it is requeued
  // A bound on queued events: a run that exceeds it is runaway (a bug), and aborts loudly.
  static constexpr size_t kMaxQueuedEvents = 10'000'000;

  // REQUIRES: time_ns >= the time of the last popped event.
  EventId Schedule(int64_t time_ns, SimEvent event);
  // Queues a popped, unreleased event again under its id, after everything already queued for
  // `time_ns`. REQUIRES: `id` was popped and neither released nor requeued since.
  void Requeue(int64_t time_ns, EventId id, SimEvent event);
  // Removes a queued event; false (a no-op) if it is not queued (ran, cancelled, or popped).
  bool Cancel(EventId id);
  // Frees a popped event's slot (its id becomes invalid). REQUIRES: `id` was popped.
  void Release(EventId id);

  bool empty() const { return heap_.empty(); }
  size_t size() const { return queued_; }
  // Time of the earliest event. REQUIRES: !empty().
  int64_t next_time_ns() const { return heap_.front().time_ns; }
  struct Popped {
    int64_t time_ns;
    EventId id;
    SimEvent event;
  };
  // Removes and returns the earliest event; its slot stays reserved until Release/Requeue.
  Popped Pop();

 private:
  enum class SlotState : uint8_t { kFree, kQueued, kPopped };
  struct Slot {
    SimEvent event;
    uint32_t generation = 0;
    SlotState state = SlotState::kFree;
  };
  struct Entry {
    int64_t time_ns;
    uint64_t sequence;
    EventId id;
  };
  static uint32_t SlotOf(EventId id) { return static_cast<uint32_t>(id); }
  static uint32_t GenerationOf(EventId id) { return static_cast<uint32_t>(id >> 32); }
  // The slot of `id` if it is in `state` with `id`'s generation, else nullptr.
  Slot* Lookup(EventId id, SlotState state);
  void Push(int64_t time_ns, EventId id);
  void DropStaleTop();
  void FreeSlot(uint32_t slot);

  uint64_t next_sequence_ = 1;
  size_t queued_ = 0;
  std::vector<Slot> slots_;
  std::vector<uint32_t> free_;
  std::vector<Entry> heap_;  // a binary min-heap by (time, sequence); top is never stale
};

}  // namespace crema::sim

#endif  // CREMA_SIM_EVENT_QUEUE_H_
