// EventQueue against a reference model (a std::map by (time, sequence)): random schedules,
// cancels, pops, releases and requeues give the same order and the same ids; ids of cancelled or
// released events never cancel anything else.
#include "sim/event_queue.h"

#include <gtest/gtest.h>

#include <map>
#include <utility>

#include "node/random.h"
#include "sim/test_seed.h"

namespace crema::sim {
namespace {

SimEvent Tagged(uint64_t tag) {
  SimEvent e;
  e.tag = tag;
  e.callback = [] {};
  return e;
}

TEST(EventQueueTest, MatchesAReferenceModel) {
  for (uint64_t seed : TestSeeds(20)) {
    Random random(seed);
    EventQueue q;
    std::map<std::pair<int64_t, uint64_t>, std::pair<EventQueue::EventId, uint64_t>> model;
    std::map<EventQueue::EventId, std::pair<int64_t, uint64_t>> key_of;  // queued ids
    std::vector<std::pair<EventQueue::EventId, uint64_t>> popped;        // unreleased
    uint64_t sequence = 0, tag = 0;
    int64_t now = 0;
    for (int step = 0; step < 3000; ++step) {
      const uint64_t dice = random.Uniform(10);
      if (dice < 5) {
        const int64_t t = now + static_cast<int64_t>(random.Uniform(50));
        const EventQueue::EventId id = q.Schedule(t, Tagged(++tag));
        ASSERT_NE(id, 0u);
        model[{t, ++sequence}] = {id, tag};
        key_of[id] = {t, sequence};
      } else if (dice < 6 && !key_of.empty()) {
        auto it = key_of.begin();
        std::advance(it, random.Uniform(key_of.size()));
        ASSERT_TRUE(q.Cancel(it->first));
        ASSERT_FALSE(q.Cancel(it->first)) << "twice";
        model.erase(it->second);
        key_of.erase(it);
      } else if (dice < 9 && !model.empty()) {
        ASSERT_FALSE(q.empty());
        ASSERT_EQ(q.next_time_ns(), model.begin()->first.first);
        EventQueue::Popped p = q.Pop();
        const auto [id, expected_tag] = model.begin()->second;
        ASSERT_EQ(p.id, id) << "seed " << seed;
        ASSERT_EQ(p.event.tag, expected_tag);
        now = p.time_ns;
        key_of.erase(id);
        model.erase(model.begin());
        ASSERT_FALSE(q.Cancel(id)) << "popped events are not queued";
        popped.push_back({id, expected_tag});
      } else if (!popped.empty()) {
        auto [id, t] = popped.back();
        popped.pop_back();
        if (random.OneIn(2)) {
          q.Release(id);
          ASSERT_FALSE(q.Cancel(id));
        } else {
          q.Requeue(now, id, Tagged(t));  // a held event resumed: same id, after others at `now`
          model[{now, ++sequence}] = {id, t};
          key_of[id] = {now, sequence};
        }
      }
      ASSERT_EQ(q.size(), model.size());
      ASSERT_EQ(q.empty(), model.empty());
    }
  }
}

}  // namespace
}  // namespace crema::sim
