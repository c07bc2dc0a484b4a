#include "sim/event_queue.h"

#include <cassert>
#include <cstdio>
#include <cstdlib>

namespace crema::sim {

void EventQueue::Insert(int64_t time_ns, EventId id, SimEvent event) {
  if (events_.size() >= kMaxQueuedEvents) {
    std::fprintf(stderr, "EventQueue: more than %zu queued events (runaway simulation)\n",
                 kMaxQueuedEvents);
    std::abort();
  }
  const Key key{time_ns, next_sequence_++};
  events_.emplace(key, Entry{id, std::move(event)});
  const bool inserted = key_of_.emplace(id, key).second;
  assert(inserted);
  (void)inserted;
}

EventQueue::EventId EventQueue::Schedule(int64_t time_ns, SimEvent event) {
  const EventId id = next_id_++;
  Insert(time_ns, id, std::move(event));
  return id;
}

void EventQueue::Requeue(int64_t time_ns, EventId id, SimEvent event) {
  Insert(time_ns, id, std::move(event));
}

bool EventQueue::Cancel(EventId id) {
  auto it = key_of_.find(id);
  if (it == key_of_.end()) return false;
  events_.erase(it->second);
  key_of_.erase(it);
  return true;
}

EventQueue::Popped EventQueue::Pop() {
  auto node = events_.extract(events_.begin());
  key_of_.erase(node.mapped().id);
  return Popped{node.key().first, node.mapped().id, std::move(node.mapped().event)};
}

}  // namespace crema::sim
