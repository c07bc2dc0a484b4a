// MessageBatch: the driver's network envelope on Service::kRaft — many Raft messages (of any
// groups) from one node to another in one network message.
//
// This is how a multi-Raft host coalesces traffic: every message produced for the same
// destination node in one host cycle (in particular the heartbeats and heartbeat responses of all
// groups, which are produced on the same shared tick) travels in one envelope.
//
// Format: magic u8 0xC7 | count u32 | count x (length u32 | EncodeMessage bytes), little-endian.
// Decoding treats input as untrusted: an envelope over kMaxBatchBytes is refused before anything
// is parsed, counts are bounded (kMaxBatchMessages), memory reserved up front is bounded by the
// input's size, each message goes through DecodeMessage; any error rejects the whole envelope
// (InvalidArgument), never a crash. A bare EncodeMessage (first byte kMessageCodecVersion) is
// accepted as a batch of one, for compatibility with the first driver draft (same size bound).
//
// Senders keep to the same bound: an envelope never exceeds kMaxBatchBytes. A single message
// needs at most kMaxEnvelopedMessageBytes; hosts keep proposals and per-message batching far
// below it (kMaxProposalBytes, raft_host.h) and drop (and count) a message that would not fit.
//
// Thread safety: pure functions / a plain value builder.
#ifndef CREMA_CONSENSUS_DRIVER_MESSAGE_BATCH_H_
#define CREMA_CONSENSUS_DRIVER_MESSAGE_BATCH_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "consensus/message.h"
#include "node/network.h"

namespace crema::raft {

inline constexpr uint8_t kBatchMagic = 0xC7;
inline constexpr size_t kMaxBatchMessages = 8192;
// Below crema::kMaxMessageBytes (8 MiB) so an envelope is never dropped as oversize.
inline constexpr size_t kMaxBatchBytes = size_t{4} << 20;
static_assert(kMaxBatchBytes < crema::kMaxMessageBytes);
inline constexpr size_t kBatchHeaderBytes = 5;          // magic + count
inline constexpr size_t kBatchPerMessageOverhead = 4;   // length prefix
// The largest encoded message an envelope can carry.
inline constexpr size_t kMaxEnvelopedMessageBytes =
    kMaxBatchBytes - kBatchHeaderBytes - kBatchPerMessageOverhead;

// Accumulates encoded messages for one destination; `Full` says when to flush.
class BatchBuilder {
 public:
  // True if adding `encoded_bytes` more would exceed a bound (flush first).
  bool WouldOverflow(size_t encoded_bytes) const;
  // REQUIRES: !WouldOverflow(encoded.size()) and encoded.size() <= kMaxEnvelopedMessageBytes.
  void Add(std::string encoded);
  bool empty() const { return count_ == 0; }
  size_t count() const { return count_; }
  // The envelope; resets the builder.
  std::string Take();

 private:
  std::string body_;
  size_t count_ = 0;
};

[[nodiscard]] absl::StatusOr<std::vector<Message>> DecodeBatch(std::string_view bytes);

}  // namespace crema::raft

#endif  // CREMA_CONSENSUS_DRIVER_MESSAGE_BATCH_H_
