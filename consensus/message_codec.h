// Compact binary codec for Raft messages: what goes on the wire between nodes.
//
// Format (version 1): a version byte, then the fields of `Message` in declaration order as
// LEB128 varints (integers), single bytes (enums, bools) and length-prefixed byte strings.
// Optional parts are preceded by a presence byte. The encoding has no checksum: the transport
// frames and checksums whole packets.
//
// Decoding treats its input as untrusted: every length and count is checked against the bytes
// left and against the named bounds below, enums are range-checked, trailing bytes are an error.
// Garbage yields InvalidArgument, never a crash or an unbounded allocation.
#ifndef CREMA_CONSENSUS_MESSAGE_CODEC_H_
#define CREMA_CONSENSUS_MESSAGE_CODEC_H_

#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "consensus/message.h"

namespace crema::raft {

inline constexpr uint8_t kMessageCodecVersion = 1;
inline constexpr size_t kMaxMessageBytes = size_t{64} << 20;      // one encoded message
inline constexpr size_t kMaxEntriesPerMessage = 65536;
inline constexpr size_t kMaxEntryBytes = size_t{16} << 20;        // one entry's data
inline constexpr size_t kMaxContextBytes = 4096;                  // read-index context
inline constexpr size_t kMaxSnapshotChunkBytes = size_t{8} << 20;

// REQUIRES: `m` within the bounds above (asserted: the core never produces bigger messages
// when configured with max_bytes_per_msg below kMaxMessageBytes).
std::string EncodeMessage(const Message& m);
[[nodiscard]] absl::StatusOr<Message> DecodeMessage(std::string_view bytes);

}  // namespace crema::raft

#endif  // CREMA_CONSENSUS_MESSAGE_CODEC_H_
