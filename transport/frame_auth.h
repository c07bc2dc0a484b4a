// FrameAuth: per-frame authentication of peer traffic, keyed from the handshake.
//
// The handshake (handshake.h) proves both ends know the cluster secret; this keeps every data
// frame after it honest, so an active on-path attacker can neither inject, modify, replay,
// reorder nor drop frames of an established connection without the receiver closing it.
//
// Keys. Each handshake derives two fresh 256-bit keys, one per direction, with HKDF-SHA256
// (RFC 5869, OpenSSL's EVP_KDF): input key = the cluster secret, salt = nonce_d | nonce_a,
// info = "crema/frame-key/v1" | direction label | dialer NodeId | acceptor NodeId. Both nonces are
// fresh per connection, so keys never repeat across connections (a frame recorded on one
// connection is garbage on any other), and the two directions have different keys (a frame cannot
// be reflected back to its sender).
//
// Tag. Every data frame carries a 16-byte tag after its payload: AES-256-GCM used as a MAC (GMAC,
// NIST SP 800-38D: no plaintext, everything authenticated as associated data) over the frame's
// first 16 header bytes (magic, version, kind, service, reserved, from, length) and its payload,
// with the 96-bit IV = 4 zero bytes | the frame's sequence number (u64, little-endian). Sequence
// numbers count data frames per direction from 0 and are never sent: the receiver expects the next
// one, so a replayed, reordered, dropped or injected frame fails its tag. IVs never repeat under a
// key (the counter is per key, and a sender stops at 2^64 - 1, which it cannot reach). GMAC was
// chosen over HMAC-SHA256 for speed (measured in docs/transport.md); both come from OpenSSL.
//
// Not provided: confidentiality (payloads travel in clear; use WireGuard/IPsec when that matters)
// and detecting that the *last* frames before a connection dies were cut off (indistinguishable
// from a lost connection, which the Network contract already allows).
//
// Thread safety: none (each object belongs to one connection, on the loop thread).
#ifndef CREMA_TRANSPORT_FRAME_AUTH_H_
#define CREMA_TRANSPORT_FRAME_AUTH_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "node/network.h"
#include "transport/frame.h"

namespace crema::transport {

inline constexpr size_t kFrameKeyBytes = 32;
inline constexpr size_t kFrameTagBytes = kDataFrameTagBytes;

using FrameKey = std::array<unsigned char, kFrameKeyBytes>;

// The keys of one connection, as each side sees them.
struct SessionKeys {
  FrameKey send{};
  FrameKey receive{};
};

// Derives the per-direction keys (see the file comment). `is_dialer` picks which is `send`.
SessionKeys DeriveSessionKeys(std::string_view secret, NodeId dialer, NodeId acceptor,
                              const unsigned char* dialer_nonce, const unsigned char* acceptor_nonce,
                              size_t nonce_bytes, bool is_dialer);

// Seals outgoing data frames: appends the tag of the next sequence number.
class FrameSealer {
 public:
  explicit FrameSealer(const FrameKey& key);
  ~FrameSealer();
  FrameSealer(const FrameSealer&) = delete;
  FrameSealer& operator=(const FrameSealer&) = delete;

  // `frame` is an encoded data frame (frame.h) without a tag; appends its tag.
  // REQUIRES: frame->size() >= kFrameHeaderBytes.
  void Seal(std::string* frame);
  uint64_t next_sequence() const { return next_; }

 private:
  struct Cipher;
  std::unique_ptr<Cipher> cipher_;
  uint64_t next_ = 0;
};

// Verifies incoming data frames in order.
class FrameOpener {
 public:
  explicit FrameOpener(const FrameKey& key);
  ~FrameOpener();
  FrameOpener(const FrameOpener&) = delete;
  FrameOpener& operator=(const FrameOpener&) = delete;

  // Checks the tag of the next frame, given its first 16 header bytes, payload and tag.
  // UNAUTHENTICATED on a mismatch; the opener is then failed for good (close the connection).
  [[nodiscard]] absl::Status Open(std::string_view header16, std::string_view payload,
                                  std::string_view tag);
  uint64_t next_sequence() const { return next_; }
  bool failed() const { return failed_; }

 private:
  struct Cipher;
  std::unique_ptr<Cipher> cipher_;
  uint64_t next_ = 0;
  bool failed_ = false;
};

}  // namespace crema::transport

#endif  // CREMA_TRANSPORT_FRAME_AUTH_H_
