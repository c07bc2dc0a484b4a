// Raft messages exchanged between the replicas of one group, and their human-readable form.
//
// A `Message` is a plain value. The pure core (raft.h) produces them in `Ready::messages` and
// consumes them in `Raft::Step`; the driver moves them over the network with the binary codec in
// message_codec.h. Every message names its `group`, so one connection between two nodes can carry
// the traffic of thousands of groups (multi-Raft).
//
// Field use per type (unused fields are zero/empty):
//   MsgVote / MsgPreVote        term (candidate's term; for pre-vote the term it *would* use),
//                               index/log_term = candidate's last log position,
//                               leader_transfer = campaign started by MsgTimeoutNow (bypasses
//                               the check-quorum lease of followers).
//   MsgVoteResp / MsgPreVoteResp  reject.
//   MsgApp                      index/log_term = position preceding `entries`, entries, commit.
//   MsgAppResp                  accept: index = last index known to match the leader.
//                               reject: index = the rejected MsgApp's index, reject_hint = the
//                               largest index <= index whose term is <= the MsgApp's log_term on
//                               the follower, log_term = the term at reject_hint (fast
//                               backtracking: the leader skips whole terms).
//   MsgHeartbeat                commit (min(follower match, leader commit)), round, quiesce (the
//                               leader's last heartbeat before it goes quiet: see raft.h).
//   MsgHeartbeatResp            round (echoed). Heartbeats are separate messages so a multi-Raft
//                               layer may coalesce the heartbeats of many groups between the same
//                               pair of nodes into one network message (see IsHeartbeat).
//   MsgSnap                     snapshot (the metadata). Emitted by a leader's core as a *request*
//                               to the driver: "stream your latest snapshot to `to`". The driver
//                               sends chunks (snapshot_offset/snapshot_chunk/snapshot_last) and,
//                               on the receiving node, steps one MsgSnap carrying the metadata into
//                               the core once every chunk has arrived and been staged. The
//                               driver streams its *latest* snapshot, which may be newer than
//                               the one requested; the receiver steps the metadata of the
//                               snapshot it actually received.
//   MsgSnapResp                 driver-level chunk acknowledgement (snapshot_offset); never
//                               stepped into the core. The core learns of success from the
//                               follower's MsgAppResp or from Raft::ReportSnapshot.
//   MsgReadIndex                context (the read request's id); follower -> leader.
//   MsgReadIndexResp            context, index (the read index); reject if the leader cannot
//                               serve it (e.g. it lost leadership).
//   MsgTimeoutNow               leader -> transfer target: "campaign now".
//   MsgTransferLeader           follower -> leader: "transfer leadership"; index = target id.
//   MsgProp                     follower -> leader: forwarded proposal (entries).
#ifndef CREMA_CONSENSUS_MESSAGE_H_
#define CREMA_CONSENSUS_MESSAGE_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "consensus/types.h"

namespace crema::raft {

enum class MessageType : uint8_t {
  kVote = 1,
  kVoteResp = 2,
  kPreVote = 3,
  kPreVoteResp = 4,
  kApp = 5,
  kAppResp = 6,
  kHeartbeat = 7,
  kHeartbeatResp = 8,
  kSnap = 9,
  kSnapResp = 10,
  kReadIndex = 11,
  kReadIndexResp = 12,
  kTimeoutNow = 13,
  kTransferLeader = 14,
  kProp = 15,
};
inline constexpr uint8_t kMaxMessageType = 15;

const char* MessageTypeName(MessageType type);

struct Message {
  MessageType type = MessageType::kApp;
  GroupId group = 0;
  ReplicaId from = kNoReplica;
  ReplicaId to = kNoReplica;
  Term term = 0;
  Term log_term = 0;
  Index index = 0;
  std::vector<Entry> entries;
  Index commit = 0;
  bool reject = false;
  Index reject_hint = 0;
  uint64_t round = 0;  // heartbeat round (read-index / lease confirmation)
  bool leader_transfer = false;
  bool quiesce = false;  // MsgHeartbeat only: the leader goes quiet after this one
  std::string context;
  std::optional<SnapshotMeta> snapshot;
  // Snapshot streaming, used by the driver only.
  uint64_t snapshot_offset = 0;
  std::string snapshot_chunk;
  bool snapshot_last = false;

  friend bool operator==(const Message&, const Message&) = default;
};

// MsgHeartbeat and MsgHeartbeatResp: the messages a multi-Raft host may batch per destination
// node. They use only group, from, to, term, commit, round and quiesce (every other field is
// zero), so a coalesced encoding can carry just those; each must still be stepped into its own
// group's core on arrival, in any order relative to other messages (the core tolerates
// reordering, loss and duplication of heartbeats).
inline bool IsHeartbeat(const Message& m) {
  return m.type == MessageType::kHeartbeat || m.type == MessageType::kHeartbeatResp;
}

// One line describing `m`, for traces and golden tests, e.g.
// "1->2 MsgApp term=2 log=1/5 commit=5 entries=[2/6 'foo']".
std::string FormatMessage(const Message& m);
std::string FormatEntry(const Entry& e);

// Approximate payload size of an entry in bytes (used for flow control and batching).
inline uint64_t EntryBytes(const Entry& e) { return e.data.size() + 16; }

}  // namespace crema::raft

#endif  // CREMA_CONSENSUS_MESSAGE_H_
