// Wire format of SWIM membership messages: a strict, bounded binary codec.
//
// Every message is one datagram of at most `kMaxMembershipMessageBytes` (fits a UDP-sized 64 KiB payload):
//
//   header (26 bytes, little-endian):
//     u8 magic (0xC5) | u8 version (1) | u8 type | u8 flags (bit 0: push-pull reply)
//     u32 from | u32 to | u64 seq | u32 target | u16 update_count
//   update_count × update:
//     u8 state | u32 member | u64 incarnation | u32 accuser
//     u8 address_len | address | u8 metadata_count | metadata_count × (u8 key_len | key |
//                                                                      u16 value_len | value)
//   optional trailer (8 bytes): i64 sender's wall clock, Unix nanoseconds (acks to a direct ping,
//     for clock-offset estimates; clock_monitor.h). It came later: a message without it (an
//     older peer) decodes with `wall_unix_ns` unset, meaning "unknown". An OLDER decoder rejects
//     a message carrying it (trailing bytes), exactly as with consensus' quiesce flag; so a
//     rolling upgrade from a binary without it sees probes of upgraded nodes fail until the
//     upgrade is done (docs/membership.md, "Clock offsets").
//
// Decoding never trusts the input: every length is checked against the remaining bytes and the
// named bounds in types.h, enums are range-checked, metadata keys must be strictly increasing
// (canonical, no duplicates), node ids must be non-zero and trailing bytes are rejected. Garbage
// yields an absl::Status, never a crash or an unbounded allocation.
//
// Thread safety: pure functions.
#ifndef CREMA_NODE_MEMBERSHIP_CODEC_H_
#define CREMA_NODE_MEMBERSHIP_CODEC_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "node/membership/types.h"

namespace crema::membership {

inline constexpr size_t kMaxMembershipMessageBytes = 65000;  // one UDP-ish datagram
inline constexpr size_t kMessageHeaderBytes = 26;
inline constexpr size_t kWallTimeTrailerBytes = 8;
// The smallest update is 19 bytes, so this is implied by kMaxMembershipMessageBytes; named for clarity.
inline constexpr size_t kMaxUpdatesPerMessage = (kMaxMembershipMessageBytes - kMessageHeaderBytes) / 19;

enum class MessageType : uint8_t {
  kPing = 1,      // probe `to`; answer with kAck carrying the same seq
  kAck = 2,       // answer to kPing (or forwarded by an indirect prober for a kPingReq)
  kPingReq = 3,   // "probe `target` for me and forward its ack with my seq"
  kNack = 4,      // from an indirect prober: target did not answer in time (Lifeguard)
  kPushPull = 5,  // full state exchange (anti-entropy and join); flag says request or reply
  kGossip = 6,    // updates only (leave announcements, telling a member it is suspected)
};

std::string_view MessageTypeName(MessageType type);

struct Message {
  MessageType type = MessageType::kPing;
  NodeId from = kNoNode;
  NodeId to = kNoNode;
  uint64_t seq = 0;          // kPing, kAck, kPingReq, kNack
  NodeId target = kNoNode;   // kPingReq: the member to probe; kAck/kNack: the member probed
  bool is_reply = false;     // kPushPull
  std::vector<MemberUpdate> updates;  // piggybacked gossip, or full state for kPushPull
  // The sender's wall clock (Unix ns) when it wrote the message; unset: not carried (unknown).
  std::optional<int64_t> wall_unix_ns;

  friend bool operator==(const Message&, const Message&) = default;
};

// Encoded size of one update, in bytes.
size_t EncodedUpdateBytes(const MemberUpdate& update);

// True if the update respects the bounds in types.h (so it can be encoded).
bool IsEncodable(const MemberUpdate& update);

// REQUIRES: every update IsEncodable, and the total (with the trailer, if `wall_unix_ns` is set)
// fits in kMaxMembershipMessageBytes (callers pack updates with EncodedUpdateBytes). Violations are programmer errors and abort.
std::string EncodeMessage(const Message& message);

// Parses one datagram. Any malformed, truncated, oversized or out-of-range input returns
// InvalidArgument (or OutOfRange for size bounds) with a description.
[[nodiscard]] absl::StatusOr<Message> DecodeMessage(std::string_view bytes);

}  // namespace crema::membership

#endif  // CREMA_NODE_MEMBERSHIP_CODEC_H_
