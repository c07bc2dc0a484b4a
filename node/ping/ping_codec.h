// The ping protocol's wire format: one short ASCII line per message, parsed strictly.
//
//   client -> node:  "add <request_id>"               increment the node's own count
//                    "get <request_id>"               read
//   node -> client:  "ack <request_id> <total>"       the add is durable; total after it
//                    "value <request_id> <total> <local_count>"
//   node -> node:    "hb" then " <node>:<count>" per G-Counter entry, ascending node ids
//
// Numbers are unsigned decimal without sign, spaces or leading zeros ("0" itself is fine), at most
// 20 digits, and must fit in 64 bits (node ids in 32 bits, never 0). Tokens are separated by
// exactly one space; nothing trails. Anything else, or more than GCounter::kMaxEntries heartbeat
// entries, or a repeated node id, is INVALID_ARGUMENT: a malformed message never crashes a node.
//
// Thread safety: pure functions.
#ifndef CREMA_NODE_PING_PING_CODEC_H_
#define CREMA_NODE_PING_PING_CODEC_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "node/ping/g_counter.h"

namespace crema::ping {

inline constexpr size_t kMaxPingMessageBytes = 4096;  // longer messages are rejected unparsed

struct PingMessage {
  enum class Kind : uint8_t { kAdd, kGet, kAck, kValue, kHeartbeat };
  Kind kind = Kind::kAdd;
  uint64_t request_id = 0;   // add, get, ack, value
  uint64_t total = 0;        // ack, value
  uint64_t local_count = 0;  // value
  GCounter counter;          // heartbeat
};

std::string EncodePing(const PingMessage& message);
[[nodiscard]] absl::StatusOr<PingMessage> DecodePing(std::string_view text);

}  // namespace crema::ping

#endif  // CREMA_NODE_PING_PING_CODEC_H_
