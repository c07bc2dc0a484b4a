#include "consensus/read_only.h"

#include <cassert>

namespace crema::raft {

uint64_t ReadOnly::Add(std::string context, ReplicaId from, Index index) {
  needs_round_ = true;
  requests_.push_back({std::move(context), from, index, current_round_ + 1});
  return current_round_ + 1;
}

uint64_t ReadOnly::StartRound(absl::Time now) {
  ++current_round_;
  needs_round_ = false;
  round_sent_at_[current_round_] = now;
  while (round_sent_at_.size() > kMaxTrackedRounds) round_sent_at_.erase(round_sent_at_.begin());
  return current_round_;
}

std::vector<ReadRequest> ReadOnly::Confirm(uint64_t round) {
  assert(round <= current_round_);
  std::vector<ReadRequest> out;
  if (round <= confirmed_round_) return out;
  confirmed_round_ = round;
  auto it = round_sent_at_.find(round);
  if (it != round_sent_at_.end() && round > lease_floor_round_) lease_start_ = it->second;
  round_sent_at_.erase(round_sent_at_.begin(), round_sent_at_.upper_bound(round));
  while (!requests_.empty() && requests_.front().round <= round) {
    out.push_back(std::move(requests_.front()));
    requests_.pop_front();
  }
  return out;
}

std::vector<ReadRequest> ReadOnly::Reset() {
  std::vector<ReadRequest> out(std::make_move_iterator(requests_.begin()),
                               std::make_move_iterator(requests_.end()));
  *this = ReadOnly();
  return out;
}

}  // namespace crema::raft
