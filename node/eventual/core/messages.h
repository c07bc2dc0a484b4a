// The eventual-mode wire protocol (Service::kEventual): message structs and their codec.
//
// Replica protocol (coordinator ↔ replica; `op` matches a reply to its request):
//   ReplicaWrite{op, key, record, hint_for}  store this record (hint_for != 0: as a stand-in, hold
//                                            it as a hint for that home replica)
//   ReplicaWriteAck{op, status, clock}       status kOk (stored, or already held as new or newer)
//                                            or a refusal; `clock` is the replica's HLC
//   ReplicaRead{op, key, include_hints, peers}  what do you hold for key?
//   ReplicaReadReply{op, ready, record, clock}  ready=false: recovering, not serving reads
// Hinted hand-off (stand-in → recovered home replica):
//   HintDeliver{op, records}  →  HintDeliverAck{op, statuses}   one status per record
// Anti-entropy (initiator ↔ peer; every request is answered from the peer's current tree, so the
//   peer keeps no session state; `xid` names the exchange):
//   AeRoots{shards}                  → AeRootsReply{(shard, root hash)...}
//   AeChildren{shard, level, nodes}  → AeChildrenReply{16 child hashes per node}
//   AeLeafKeys{shard, leaves}        → AeLeafKeysReply{(key, version, digest)..., leaves_covered}
//   AePush{records}                  → AePushAck{statuses}      initiator's newer records
//   AePull{keys}                     → AePullReply{records}     peer's newer records
// Clients (simulation clients and tools; production front ends call EventualNode directly):
//   ClientRequest{req, op, key, value, consistency, ttl_ms}  →  ClientReply{req, code, ...}
//
// Bounds: keys kMaxKeyBytes, values kMaxValueBytes, and every list has a named maximum; a
// message over kMaxMessageBytes is never produced by the driver (it splits batches) and never
// accepted. `DecodeMessage` returns INVALID_ARGUMENT for anything malformed: unknown type,
// truncation, trailing bytes, a count or length over its bound — never a crash.
//
// Thread safety: values and pure functions.
#ifndef CREMA_NODE_EVENTUAL_CORE_MESSAGES_H_
#define CREMA_NODE_EVENTUAL_CORE_MESSAGES_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "absl/status/statusor.h"
#include "node/eventual/core/consistency.h"
#include "node/eventual/core/record.h"
#include "node/eventual/core/merkle.h"
#include "node/membership/placement.h"

namespace crema::eventual {

using membership::ShardId;

inline constexpr uint32_t kMaxBatchRecords = 1024;   // records per HintDeliver / AePush / AePull
inline constexpr size_t kMaxBatchBytes = 2 << 20;    // keys + values per batch message (2 MiB)
inline constexpr uint32_t kMaxAeShards = 4096;       // shards per AeRoots
inline constexpr uint32_t kMaxAeNodes = 4096;        // tree nodes per AeChildren / AeLeafKeys
inline constexpr uint32_t kMaxAeKeys = 8192;         // key digests per AeLeafKeysReply
inline constexpr size_t kMaxErrorBytes = 1024;

enum class ReplicaStatus : uint8_t {
  kOk = 0,           // stored (or already held as new or newer)
  kFull = 1,         // capacity (store or hint set) exhausted
  kUnavailable = 2,  // the disk failed; nothing was stored
  kBusy = 3,         // queue full; retry later
  kNotOwner = 4,     // a leaving node could not forward to the new owners
};
inline constexpr uint8_t kMaxReplicaStatus = 4;
const char* ReplicaStatusName(ReplicaStatus status);

struct KeyedRecord {
  std::string key;
  Record record;
  friend bool operator==(const KeyedRecord&, const KeyedRecord&) = default;
};

struct KeyDigest {
  std::string key;
  Version version;
  uint64_t digest = 0;  // ContentDigest of the record
  friend bool operator==(const KeyDigest&, const KeyDigest&) = default;
};

struct ReplicaWrite { uint64_t op = 0; std::string key; Record record; NodeId hint_for = kNoNode; };
struct ReplicaWriteAck { uint64_t op = 0; ReplicaStatus status = ReplicaStatus::kOk; Version clock; };
// `peers`: the other members the coordinator considers replicas of the key (its owners and the
// next member of the preference list); a recovering replica answers only if it has synchronised
// with all of them (eventual_node.h, "Readiness").
struct ReplicaRead {
  uint64_t op = 0;
  std::string key;
  bool include_hints = false;
  std::vector<NodeId> peers;
};
struct ReplicaReadReply {
  uint64_t op = 0;
  bool ready = true;
  std::optional<Record> record;
  Version clock;
};
struct HintDeliver { uint64_t op = 0; std::vector<KeyedRecord> records; };
struct HintDeliverAck { uint64_t op = 0; std::vector<ReplicaStatus> statuses; };
struct AeRoots { uint64_t xid = 0; std::vector<ShardId> shards; };
struct AeRootsReply { uint64_t xid = 0; std::vector<std::pair<ShardId, uint64_t>> roots; };
struct AeChildren { uint64_t xid = 0; ShardId shard = 0; uint8_t level = 0; std::vector<uint32_t> nodes; };
struct AeChildrenReply { uint64_t xid = 0; ShardId shard = 0; uint8_t level = 0; std::vector<uint64_t> hashes; };
struct AeLeafKeys { uint64_t xid = 0; ShardId shard = 0; std::vector<uint32_t> leaves; };
// `leaves_covered`: how many of the requested leaves (in request order) are listed completely;
// the rest did not fit (kMaxAeKeys / kMaxBatchBytes) and are asked again. A single leaf too big to
// list is listed partially (its first keys) with leaves_covered = 0.
struct AeLeafKeysReply {
  uint64_t xid = 0;
  ShardId shard = 0;
  std::vector<KeyDigest> keys;
  uint32_t leaves_covered = 0;
};
struct AePush { uint64_t xid = 0; std::vector<KeyedRecord> records; };
struct AePushAck { uint64_t xid = 0; std::vector<ReplicaStatus> statuses; };
struct AePull { uint64_t xid = 0; std::vector<std::string> keys; };
struct AePullReply { uint64_t xid = 0; std::vector<KeyedRecord> records; };

enum class ClientOp : uint8_t { kGet = 0, kPut = 1, kDelete = 2 };
struct ClientRequest {
  uint64_t req = 0;
  ClientOp op = ClientOp::kGet;
  std::string key;
  std::string value;
  Consistency consistency;
  int64_t ttl_ms = 0;  // 0: no TTL
  // The coordinator incarnation the client addresses (0: not known yet). A coordinator executes
  // only requests carrying its own session and answers any other with FAILED_PRECONDITION and
  // its session, executing nothing — so a copy of a request delayed across a restart (which the
  // restarted node's duplicate table no longer knows) is never executed a second time.
  uint64_t session = 0;
};
struct ClientReply {
  uint64_t req = 0;
  uint8_t code = 0;  // absl::StatusCode
  std::string error;
  bool found = false;
  std::string value;
  Version version;
  uint64_t session = 0;  // the coordinator's session (every reply)
};

using Message = std::variant<ReplicaWrite, ReplicaWriteAck, ReplicaRead, ReplicaReadReply,
                             HintDeliver, HintDeliverAck, AeRoots, AeRootsReply, AeChildren,
                             AeChildrenReply, AeLeafKeys, AeLeafKeysReply, AePush, AePushAck,
                             AePull, AePullReply, ClientRequest, ClientReply>;

std::string EncodeMessage(const Message& message);
[[nodiscard]] absl::StatusOr<Message> DecodeMessage(std::string_view bytes);

// A short name of the message's type, for traces and stats ("ReplicaWrite", ...).
const char* MessageName(const Message& message);

// Bytes a KeyedRecord adds to a batch (for splitting batches under kMaxBatchBytes).
size_t BatchBytes(const KeyedRecord& record);

}  // namespace crema::eventual

#endif  // CREMA_NODE_EVENTUAL_CORE_MESSAGES_H_
