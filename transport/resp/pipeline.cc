#include "transport/resp/pipeline.h"

#include <algorithm>
#include <cassert>

namespace crema::resp {

uint64_t Pipeline::Add(Item item) {
  assert(!full());
  item.seq = next_seq_++;
  item.started = item.done = false;
  items_.push_back(std::move(item));
  return items_.back().seq;
}

bool Pipeline::CanStart(size_t index) const {
  const Item& candidate = items_[index];
  for (size_t j = 0; j < index; ++j) {
    const Item& earlier = items_[j];
    if (earlier.done) continue;
    if (earlier.barrier || candidate.barrier) return false;
    for (const std::string& k : candidate.keys) {
      if (std::find(earlier.keys.begin(), earlier.keys.end(), k) != earlier.keys.end()) {
        return false;
      }
    }
  }
  return true;
}

Pipeline::Item* Pipeline::PeekRunnable() {
  for (size_t i = 0; i < items_.size(); ++i) {
    Item& item = items_[i];
    if (item.started) continue;
    if (CanStart(i)) return &item;
    if (item.barrier) return nullptr;  // nothing after a waiting barrier may start
  }
  return nullptr;
}

void Pipeline::Start(uint64_t seq) {
  Item* item = Find(seq);
  assert(item != nullptr && !item->started);
  item->started = true;
  ++running_;
}

Pipeline::Item* Pipeline::NextRunnable() {
  Item* item = PeekRunnable();
  if (item != nullptr) Start(item->seq);
  return item;
}

bool Pipeline::HasRunnable() const {
  for (size_t i = 0; i < items_.size(); ++i) {
    if (items_[i].started) continue;
    if (CanStart(i)) return true;
    if (items_[i].barrier) return false;
  }
  return false;
}

Pipeline::Item* Pipeline::Find(uint64_t seq) {
  if (items_.empty() || seq < items_.front().seq) return nullptr;
  const uint64_t index = seq - items_.front().seq;
  if (index >= items_.size()) return nullptr;
  return &items_[index];
}

void Pipeline::Complete(uint64_t seq, std::string reply) {
  Item* item = Find(seq);
  assert(item != nullptr && item->started && !item->done);
  item->done = true;
  item->reply = std::move(reply);
  --running_;
}

void Pipeline::TruncateAfter(uint64_t seq) {
  while (!items_.empty() && items_.back().seq > seq) {
    assert(!items_.back().started);
    items_.pop_back();
  }
}

size_t Pipeline::PopReplies(std::string* out) {
  size_t popped = 0;
  while (!items_.empty() && items_.front().done) {
    out->append(items_.front().reply);
    items_.pop_front();
    ++popped;
  }
  return popped;
}

}  // namespace crema::resp
