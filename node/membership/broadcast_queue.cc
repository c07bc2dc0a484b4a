#include "node/membership/broadcast_queue.h"

#include <cassert>
#include <utility>

#include "absl/container/btree_set.h"
#include "node/membership/codec.h"

namespace crema::membership {

BroadcastQueue::BroadcastQueue(size_t max_pending) : max_pending_(max_pending) {
  assert(max_pending > 0);
}

void BroadcastQueue::Erase(NodeId id) {
  auto it = by_member_.find(id);
  if (it == by_member_.end()) return;
  by_order_.erase(it->second);
  by_member_.erase(it);
}

void BroadcastQueue::Enqueue(MemberUpdate update, BroadcastPriority priority) {
  assert(IsEncodable(update));
  const NodeId id = update.member.id;
  Erase(id);
  if (by_order_.size() >= max_pending_) {
    auto victim = std::prev(by_order_.end());  // lowest class, most transmitted, oldest
    by_member_.erase(victim->second.member.id);
    by_order_.erase(victim);
  }
  const OrderKey key{priority, 0, ~next_sequence_++};
  by_member_[id] = key;
  by_order_.emplace(key, std::move(update));
  assert(by_order_.size() == by_member_.size() && by_order_.size() <= max_pending_);
}

size_t BroadcastQueue::Fill(size_t budget_bytes, int transmit_limit,
                            std::vector<MemberUpdate>* out) {
  assert(transmit_limit >= 1);
  // Members the message already carries (explicit updates: a refutation, a suspicion for its
  // subject): a second copy would waste bytes and a transmit.
  absl::btree_set<NodeId> carried;
  for (const MemberUpdate& u : *out) carried.insert(u.member.id);
  size_t used_bytes = 0;
  std::vector<std::pair<OrderKey, MemberUpdate>> sent;
  for (auto it = by_order_.begin(); it != by_order_.end();) {
    const size_t bytes = EncodedUpdateBytes(it->second);
    if (used_bytes + bytes > budget_bytes || carried.contains(it->second.member.id)) {
      ++it;  // a smaller update further on may still fit
      continue;
    }
    used_bytes += bytes;
    out->push_back(it->second);
    sent.emplace_back(it->first, std::move(it->second));
    by_member_.erase(sent.back().second.member.id);
    it = by_order_.erase(it);
  }
  for (auto& [key, update] : sent) {
    const OrderKey next{key.priority, key.transmits + 1, key.neg_sequence};
    if (next.transmits >= transmit_limit) continue;
    by_member_[update.member.id] = next;
    by_order_.emplace(next, std::move(update));
  }
  assert(by_order_.size() == by_member_.size());
  return used_bytes;
}

int BroadcastQueue::TransmitsOf(NodeId id) const {
  auto it = by_member_.find(id);
  return it == by_member_.end() ? -1 : it->second.transmits;
}

}  // namespace crema::membership
