// EventQueue: the simulator's single global queue, ordered by (virtual time, sequence number).
//
// Each event belongs to a node (or kNoNode for the simulator itself) and, for node events, to one
// incarnation of that node (or kAnyIncarnation: network deliveries, which target whoever is up at
// delivery time). Sequence numbers are assigned at scheduling, so events at the same virtual time
// run in the order they were scheduled: the queue's order is a pure function of the run's history.
//
// Thread safety: none.
#ifndef CREMA_SIM_EVENT_QUEUE_H_
#define CREMA_SIM_EVENT_QUEUE_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <utility>

#include "absl/container/btree_map.h"
#include "absl/container/flat_hash_map.h"
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
  // Queues an event popped earlier again under its old id (a paused node's held event), after
  // everything already queued for `time_ns`. REQUIRES: `id` is not queued.
  void Requeue(int64_t time_ns, EventId id, SimEvent event);
  // Removes a queued event; false (a no-op) if it is not queued (ran, cancelled, or held).
  bool Cancel(EventId id);

  bool empty() const { return events_.empty(); }
  size_t size() const { return events_.size(); }
  // Time of the earliest event. REQUIRES: !empty().
  int64_t next_time_ns() const { return events_.begin()->first.first; }
  struct Popped {
    int64_t time_ns;
    EventId id;
    SimEvent event;
  };
  // Removes and returns the earliest event.
  Popped Pop();

 private:
  using Key = std::pair<int64_t, uint64_t>;  // (time, sequence number)
  struct Entry {
    EventId id;
    SimEvent event;
  };
  void Insert(int64_t time_ns, EventId id, SimEvent event);

  EventId next_id_ = 1;
  uint64_t next_sequence_ = 1;
  absl::btree_map<Key, Entry> events_;
  // Lookup only (never iterated): id -> key, for Cancel.
  absl::flat_hash_map<EventId, Key> key_of_;
};

}  // namespace crema::sim

#endif  // CREMA_SIM_EVENT_QUEUE_H_
