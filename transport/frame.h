// Frame: the wire format of peer traffic, and an incremental, defensive decoder for it.
//
// Every message on a peer connection is one frame:
//
//   offset size field
//   0      4    magic     "CRM1" (0x314D5243, little-endian)
//   4      1    version   kFrameVersion (2: data frames carry a tag)
//   5      1    kind      FrameKind (handshake steps or data)
//   6      1    service   crema::Service of a data frame (0 for handshake frames)
//   7      1    reserved  must be 0
//   8      4    from      NodeId of the sender, little-endian
//   12     4    length    payload bytes, little-endian; at most kMaxFramePayloadBytes
//   16     8    checksum  XXH3-64 over bytes [0,16) of the header followed by the payload
//   24     ...  payload
//   24+length   tag       kData frames only: kFrameTagBytes of per-frame MAC (frame_auth.h)
//
// Contract: `FrameReader` accepts bytes in arbitrary pieces and yields whole frames. Anything
// malformed — bad magic, unknown version or kind, non-zero reserved byte, a length over the
// reader's current limit or a handshake frame over kMaxHandshakePayloadBytes (rejected as soon as
// the header arrives, before buffering the payload), or a checksum mismatch — makes `Next` return
// DATA_LOSS, and the reader stays failed: the caller must close the connection. The reader never
// buffers more than one whole frame (header, payload up to its limit, tag) plus one appended chunk.
// The limit starts at kMaxHandshakePayloadBytes, so a connection that has not authenticated can
// make the node hold only a few hundred bytes; the owner raises it after the handshake.
//
// The checksum detects corruption. It is not a defence against tampering: the handshake
// (handshake.h) authenticates the connection, and the tag (frame_auth.h, checked by the
// Connection, not here) authenticates each data frame and its place in the stream.
//
// Thread safety: none (plain values).
#ifndef CREMA_TRANSPORT_FRAME_H_
#define CREMA_TRANSPORT_FRAME_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "node/network.h"

namespace crema::transport {

inline constexpr uint32_t kFrameMagic = 0x314D5243;  // "CRM1" as little-endian bytes
inline constexpr uint8_t kFrameVersion = 2;
inline constexpr size_t kFrameHeaderBytes = 24;
inline constexpr size_t kFrameAuthenticatedHeaderBytes = 16;  // the header bytes a tag covers
inline constexpr size_t kMaxFramePayloadBytes = kMaxMessageBytes;
// Handshake payloads are 36 (hello), 64 (challenge) and 32 (proof) bytes.
inline constexpr size_t kMaxHandshakePayloadBytes = 128;
inline constexpr size_t kDataFrameTagBytes = 16;  // == frame_auth.h kFrameTagBytes

enum class FrameKind : uint8_t {
  kHello = 1,      // dialer -> acceptor: handshake step 1
  kChallenge = 2,  // acceptor -> dialer: handshake step 2
  kProof = 3,      // dialer -> acceptor: handshake step 3
  kData = 4,       // a Network message for `service`
};

struct Frame {
  FrameKind kind = FrameKind::kData;
  uint8_t service = 0;  // raw crema::Service value; unknown values are the caller's to drop
  NodeId from = kNoNode;
  std::string payload;
  std::string tag;  // kData only: kDataFrameTagBytes
};

// The encoded frame. A kData frame comes out WITHOUT its tag: the sending connection appends it
// (FrameSealer), since the tag depends on the frame's place in that connection's stream.
// REQUIRES: payload.size() <= kMaxFramePayloadBytes.
std::string EncodeFrame(FrameKind kind, uint8_t service, NodeId from, std::string_view payload);

// The first kFrameAuthenticatedHeaderBytes of `frame`'s encoding (what its tag covers).
std::string AuthenticatedHeader(const Frame& frame);

class FrameReader {
 public:
  // Buffers `bytes` for decoding. Ignored once the reader has failed.
  void Append(std::string_view bytes);

  // The largest payload accepted from now on (frames whose header arrives later).
  // REQUIRES: max_payload_bytes <= kMaxFramePayloadBytes.
  void set_max_payload_bytes(size_t max_payload_bytes);
  size_t max_payload_bytes() const { return max_payload_bytes_; }

  // The next whole frame; nullopt if more bytes are needed; DATA_LOSS (sticky) on a bad frame.
  [[nodiscard]] absl::StatusOr<std::optional<Frame>> Next();

  size_t buffered_bytes() const { return buffer_.size() - consumed_; }
  bool failed() const { return !error_.ok(); }

 private:
  absl::Status Fail(const std::string& why);

  std::string buffer_;
  size_t max_payload_bytes_ = kMaxHandshakePayloadBytes;
  size_t consumed_ = 0;  // bytes of buffer_ already decoded; compacted lazily
  absl::Status error_;
};

}  // namespace crema::transport

#endif  // CREMA_TRANSPORT_FRAME_H_
