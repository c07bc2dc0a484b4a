#include "node/eventual/core/tally.h"

#include <cassert>

namespace crema::eventual {

WriteTally::WriteTally(std::vector<WriteTarget> targets, int required, bool sloppy)
    : targets_(std::move(targets)), required_(required), sloppy_(sloppy) {
  assert(required_ >= 1);
  states_.assign(targets_.size(), State::kPending);
  for (const WriteTarget& t : targets_) {
    if (Counts(t)) ++pending_countable_;
  }
}

bool WriteTally::Resolve(NodeId node, State state) {
  for (size_t i = 0; i < targets_.size(); ++i) {
    if (targets_[i].node != node || states_[i] != State::kPending) continue;
    states_[i] = state;
    const bool counts = Counts(targets_[i]);
    if (counts) --pending_countable_;
    if (state == State::kAcked) {
      ++acks_;
      if (counts) ++counted_;
    }
    return true;
  }
  return false;
}

bool WriteTally::OnAck(NodeId node) { return Resolve(node, State::kAcked); }
bool WriteTally::OnRefusal(NodeId node) { return Resolve(node, State::kRefused); }

std::vector<WriteTarget> WriteTally::Pending() const {
  std::vector<WriteTarget> pending;
  for (size_t i = 0; i < targets_.size(); ++i) {
    if (states_[i] == State::kPending) pending.push_back(targets_[i]);
  }
  return pending;
}

ReadTally::ReadTally(std::vector<ReadTarget> targets, int required) : required_(required) {
  assert(required_ >= 1);
  for (const ReadTarget& t : targets) {
    slots_.push_back(Slot{t});
    if (t.counts) ++pending_countable_;
  }
}

bool ReadTally::Find(NodeId node, Slot** slot) {
  for (Slot& s : slots_) {
    if (s.target.node == node && s.state == State::kPending) {
      *slot = &s;
      return true;
    }
  }
  return false;
}

bool ReadTally::OnAnswer(NodeId node, std::optional<Record> record) {
  Slot* slot = nullptr;
  if (!Find(node, &slot)) return false;
  slot->state = State::kAnswered;
  if (record && (!newest_ || Supersedes(*record, *newest_))) newest_ = record;
  slot->record = std::move(record);
  if (slot->target.counts) {
    --pending_countable_;
    ++counted_;
  }
  return true;
}

bool ReadTally::OnNotReady(NodeId node) {
  Slot* slot = nullptr;
  if (!Find(node, &slot)) return false;
  slot->state = State::kNotReady;
  if (slot->target.counts) --pending_countable_;
  return true;
}

std::vector<NodeId> ReadTally::Stale() const {
  std::vector<NodeId> stale;
  if (!newest_) return stale;
  for (const Slot& s : slots_) {
    if (s.state != State::kAnswered || !s.target.counts) continue;
    if (!s.record || Supersedes(*newest_, *s.record)) stale.push_back(s.target.node);
  }
  return stale;
}

std::vector<NodeId> ReadTally::Pending() const {
  std::vector<NodeId> pending;
  for (const Slot& s : slots_) {
    if (s.state == State::kPending) pending.push_back(s.target.node);
  }
  return pending;
}

std::vector<std::pair<NodeId, std::optional<Record>>> ReadTally::Answers() const {
  std::vector<std::pair<NodeId, std::optional<Record>>> answers;
  for (const Slot& s : slots_) {
    if (s.state == State::kAnswered) answers.emplace_back(s.target.node, s.record);
  }
  return answers;
}

}  // namespace crema::eventual
