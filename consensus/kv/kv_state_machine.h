// KvStateMachine: the deterministic replicated key-value map that a Raft log drives.
//
// Every replica applies the same committed entries in the same order and so holds the same map;
// `Digest()` summarises that state for the convergence oracle. Entries are commands
// (command.h). Applying one:
//   * Sessions give exactly-once semantics to retried commands (Ongaro's thesis §6.3): each
//     client has a session id and numbers its calls with increasing `seq`. The machine keeps,
//     per session, the highest seq applied and its result. A command whose seq equals it is a
//     retry: it is NOT applied again, the cached result is returned. A lower seq is a late
//     duplicate of a call the client has given up on: kStale, not applied. A higher seq is
//     applied and cached. So a put retried after a timeout never applies twice.
//   * Sessions are never expired here; a new session beyond kMaxSessions is refused
//     (kSessionLimit, not applied). Expiry needs an agreed clock through the log (thesis §6.3)
//     and registration, which the simulation's fixed set of clients does not need.
//   * An entry that does not decode is answered kInvalid and changes nothing (all replicas agree).
// The result of each applied entry is also kept for a while by log index (`ResultAt`), with the
// command's (session, seq) so the proposer can check the entry at that index is its own.
//
// Checkpoint/Restore: the map and the sessions (not the recent results, which are local), in a
// versioned, bounded format; Restore never crashes on garbage (InvalidArgument) and leaves the
// machine empty on error. Checkpoint is deterministic (sorted maps), so equal states give equal
// bytes and equal digests.
//
// Thread safety: none; owned by one node's event loop.
#ifndef CREMA_CONSENSUS_KV_KV_STATE_MACHINE_H_
#define CREMA_CONSENSUS_KV_KV_STATE_MACHINE_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "absl/container/btree_map.h"
#include "absl/status/status.h"
#include "consensus/kv/command.h"
#include "consensus/types.h"

namespace crema::kv {

class KvStateMachine {
 public:
  static constexpr size_t kMaxSessions = 4096;
  static constexpr size_t kMaxKeys = 1 << 20;             // puts beyond it: kInvalid
  static constexpr size_t kMaxRecentResults = 4096;       // ResultAt window
  static constexpr size_t kMaxCheckpointBytes = size_t{512} << 20;

  struct AppliedResult {
    uint64_t session = 0;
    uint64_t seq = 0;
    Result result;
  };

  // The shape of the driver's StateMachine interface (kv_replica.cc adapts it; this class does
  // not depend on the driver). REQUIRES: index > last_applied().
  const AppliedResult& Apply(raft::Index index, std::string_view data);
  std::string Checkpoint();
  [[nodiscard]] absl::Status Restore(std::string_view checkpoint);

  // Applies one decoded command (also used by tests and the reference model).
  Result ApplyCommand(const Command& command);

  // The result of the entry applied at `index`, if still remembered (last kMaxRecentResults).
  const AppliedResult* ResultAt(raft::Index index) const;

  // Local read (e.g. after a ReadIndex): nullopt if absent.
  std::optional<std::string> Read(std::string_view key) const;

  // XXH3 of Checkpoint(): equal iff the replicated state is equal (up to hash collisions).
  uint64_t Digest();

  raft::Index last_applied() const { return last_applied_; }
  size_t size() const { return data_.size(); }
  size_t sessions() const { return sessions_.size(); }

 private:
  struct Session {
    uint64_t last_seq = 0;
    Result last_result;
  };
  Result Execute(const Command& command);

  absl::btree_map<std::string, std::string, std::less<>> data_;
  absl::btree_map<uint64_t, Session> sessions_;
  absl::btree_map<raft::Index, AppliedResult> recent_;
  raft::Index last_applied_ = 0;
};

}  // namespace crema::kv

#endif  // CREMA_CONSENSUS_KV_KV_STATE_MACHINE_H_
