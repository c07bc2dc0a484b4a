// Quorum tallies for one coordinated operation: pure bookkeeping of who answered what, so the
// fiber code in the driver only sends, waits and asks "done yet?".
//
// WriteTally — a write sent to its targets (ring.h: home replicas and stand-ins). Acks are counted
//   once per node; with a strict quorum only home replicas' acks count, with a sloppy one every
//   target's. `satisfied` once `required` counted acks arrived; `impossible` once even every
//   still-pending target acknowledging could not get there (refusals: disk full, hint store full).
// ReadTally — a read sent to replicas. Every answer (a record or "none") is merged into the newest
//   record seen (record.h order); answers from counted replicas (home replicas; stand-ins too when
//   sloppy) count towards `required`. A replica that is not ready (recovering, eventual_node.h)
//   answers "not ready", which counts as a refusal. `Stale()` lists the counted replicas that
//   answered with something older than the newest record: the read-repair set.
//
// Thread safety: values.
#ifndef CREMA_NODE_EVENTUAL_CORE_TALLY_H_
#define CREMA_NODE_EVENTUAL_CORE_TALLY_H_

#include <cstdint>
#include <optional>
#include <vector>

#include "absl/container/btree_map.h"
#include "node/eventual/core/record.h"
#include "node/eventual/core/ring.h"

namespace crema::eventual {

class WriteTally {
 public:
  // REQUIRES: required >= 1; targets distinct.
  WriteTally(std::vector<WriteTarget> targets, int required, bool sloppy);

  // True if `node` is a pending target (and is now counted as acknowledged or refused).
  bool OnAck(NodeId node);
  bool OnRefusal(NodeId node);

  int counted() const { return counted_; }
  int acks() const { return acks_; }
  int required() const { return required_; }
  bool satisfied() const { return counted_ >= required_; }
  bool impossible() const { return counted_ + pending_countable_ < required_; }
  std::vector<WriteTarget> Pending() const;
  const std::vector<WriteTarget>& targets() const { return targets_; }

 private:
  enum class State : uint8_t { kPending, kAcked, kRefused };
  bool Counts(const WriteTarget& target) const { return sloppy_ || target.home(); }
  bool Resolve(NodeId node, State state);

  std::vector<WriteTarget> targets_;
  std::vector<State> states_;
  int required_;
  bool sloppy_;
  int counted_ = 0;
  int acks_ = 0;
  int pending_countable_ = 0;
};

struct ReadTarget {
  NodeId node = kNoNode;
  bool counts = true;  // its answer counts towards R
};

class ReadTally {
 public:
  // REQUIRES: required >= 1; targets distinct.
  ReadTally(std::vector<ReadTarget> targets, int required);

  // An answer from `node` (nullopt: it holds nothing for the key). True if `node` was pending.
  bool OnAnswer(NodeId node, std::optional<Record> record);
  bool OnNotReady(NodeId node);

  bool satisfied() const { return counted_ >= required_; }
  bool impossible() const { return counted_ + pending_countable_ < required_; }
  int counted() const { return counted_; }
  const std::optional<Record>& newest() const { return newest_; }
  // Counted replicas whose answer is older than newest() (or empty while newest() is not).
  std::vector<NodeId> Stale() const;
  std::vector<NodeId> Pending() const;
  // Every node that answered (in target order), with what it answered.
  std::vector<std::pair<NodeId, std::optional<Record>>> Answers() const;

 private:
  enum class State : uint8_t { kPending, kAnswered, kNotReady };
  struct Slot {
    ReadTarget target;
    State state = State::kPending;
    std::optional<Record> record;
  };
  bool Find(NodeId node, Slot** slot);

  std::vector<Slot> slots_;
  int required_;
  int counted_ = 0;
  int pending_countable_ = 0;
  std::optional<Record> newest_;
};

}  // namespace crema::eventual

#endif  // CREMA_NODE_EVENTUAL_CORE_TALLY_H_
