// Internal to node/cache_node: the payloads of forwarded writes and reads (node/forward/rpc.h
// carries them). Decoders never crash on garbage.
//
//   write request: the encoded replicated::Command (the leader sets its stamp)
//   write reply:   varint index | bytes encoded replicated::Result
//   read request:  u8 op | u8 consistency | varint min_index | varint n | n x bytes key
//   read reply:    varint index | n x (bool present | bytes value | signed deadline unix ns)
//   corrupt report: varint group | bytes replica list (cluster::EncodeReplicaList)
#ifndef CREMA_NODE_CACHE_NODE_PAYLOADS_H_
#define CREMA_NODE_CACHE_NODE_PAYLOADS_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "cache/replicated/command.h"
#include "consensus/types.h"
#include "node/cache_node/cache_api.h"

namespace crema::payloads {

struct WriteReply {
  uint64_t index = 0;
  replicated::Result result;
};
std::string EncodeWriteReply(const WriteReply& reply);
absl::StatusOr<WriteReply> DecodeWriteReply(std::string_view bytes);

struct ReadRequest {
  uint8_t op = 1;  // 1 get, 2 ttl
  ReadConsistency consistency = ReadConsistency::kLocal;
  uint64_t min_index = 0;
  std::vector<std::string> keys;
};
std::string EncodeReadRequest(const ReadRequest& request);
absl::StatusOr<ReadRequest> DecodeReadRequest(std::string_view bytes);

struct ReadItem {
  bool present = false;
  std::string value;
  absl::Time deadline = absl::InfiniteFuture();
};
struct ReadReply {
  uint64_t index = 0;
  std::vector<ReadItem> items;
};
std::string EncodeReadReply(const ReadReply& reply);
absl::StatusOr<ReadReply> DecodeReadReply(std::string_view bytes, size_t expected_items);

// A node's report of its own corrupt replicas of one group (to the metadata leader). The group
// travels in the payload: the request's own group field routes it to the metadata group.
struct CorruptReport {
  raft::GroupId group = 0;
  std::vector<raft::ReplicaId> replicas;
};
std::string EncodeCorruptReport(const CorruptReport& report);
absl::StatusOr<CorruptReport> DecodeCorruptReport(std::string_view bytes);

}  // namespace crema::payloads

#endif  // CREMA_NODE_CACHE_NODE_PAYLOADS_H_
