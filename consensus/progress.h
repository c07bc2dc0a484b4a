// Progress: what a leader knows about each follower's log, and flow control towards it.
//
// States (as in the Raft thesis §4.2.1 / etcd's progress tracker, written anew here):
//   kProbe      the leader does not know where the follower's log matches; it sends one MsgApp
//               and waits for the answer (or the next heartbeat response) before the next one.
//   kReplicate  the logs match up to `match`; the leader streams entries optimistically
//               (`next` advances on send, "pipelining"), bounded by `Inflights`.
//   kSnapshot   the follower needs compacted entries; the driver streams a snapshot; nothing
//               else is sent until the follower acknowledges it or the driver reports failure.
//
// Invariants: match < next; in kReplicate inflights only holds indexes in (match, next).
#ifndef CREMA_CONSENSUS_PROGRESS_H_
#define CREMA_CONSENSUS_PROGRESS_H_

#include <cstdint>
#include <deque>
#include <string>

#include "consensus/types.h"

namespace crema::raft {

// In-flight MsgApps to one follower: each identified by its last index, with its size in bytes.
class Inflights {
 public:
  Inflights(size_t max_count, uint64_t max_bytes) : max_count_(max_count), max_bytes_(max_bytes) {}
  // REQUIRES: !Full(); last_index greater than every tracked index.
  void Add(Index last_index, uint64_t bytes);
  // Frees every message whose last index is <= index (acknowledged).
  void FreeUpTo(Index index);
  // Frees the oldest message (after a heartbeat response hints that messages were lost).
  void FreeFirst();
  void Reset();
  bool Full() const { return items_.size() >= max_count_ || bytes_ >= max_bytes_; }
  size_t count() const { return items_.size(); }
  uint64_t bytes() const { return bytes_; }

 private:
  struct Item {
    Index last_index;
    uint64_t bytes;
  };
  size_t max_count_;
  uint64_t max_bytes_;
  std::deque<Item> items_;
  uint64_t bytes_ = 0;
};

enum class ProgressState : uint8_t { kProbe, kReplicate, kSnapshot };
const char* ProgressStateName(ProgressState s);

struct Progress {
  Progress(Index next_index, size_t max_inflight_msgs, uint64_t max_inflight_bytes)
      : next(next_index), inflights(max_inflight_msgs, max_inflight_bytes) {}

  Index match = 0;
  Index next = 1;
  ProgressState state = ProgressState::kProbe;
  bool probe_sent = false;        // kProbe: a MsgApp is outstanding
  Index pending_snapshot = 0;     // kSnapshot: index of the snapshot being sent
  bool recent_active = false;     // heard from it since the last check-quorum round
  bool is_learner = false;
  bool reported_down = false;     // the host reported its node down; cleared when it answers
  uint64_t acked_round = 0;       // highest heartbeat round it acknowledged
  Inflights inflights;

  void BecomeProbe();
  void BecomeReplicate();
  void BecomeSnapshot(Index snapshot_index);
  // An acknowledgement up to `index`. Returns true if match moved.
  bool MaybeUpdate(Index index);
  // A rejection of the MsgApp at `rejected` with a hint of where to resume (`hint` = the index
  // the leader will probe next, minus one). Returns false if the rejection is stale.
  bool MaybeDecrTo(Index rejected, Index hint);
  // Should the leader hold back MsgApps to this follower?
  bool IsPaused() const;
  std::string DebugString() const;
};

}  // namespace crema::raft

#endif  // CREMA_CONSENSUS_PROGRESS_H_
