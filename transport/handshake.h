// Handshake: mutual authentication of a peer connection with a shared cluster secret.
//
// Three frames (frame.h kinds), after which the connection is bound to the dialer's NodeId on the
// acceptor's side and to the acceptor's NodeId on the dialer's side:
//
//   1. dialer -> acceptor  kHello      from=D  payload = to:u32 (the NodeId D expects) | nonce_d[32]
//   2. acceptor -> dialer  kChallenge  from=A  payload = nonce_a[32] | HMAC(secret, "crema/accept" |
//                                                        D | A | nonce_d | nonce_a)
//   3. dialer -> acceptor  kProof      from=D  payload = HMAC(secret, "crema/dial" | D | A |
//                                                        nonce_d | nonce_a)
//
// HMAC is HMAC-SHA256 (OpenSSL libcrypto); nonces come from OpenSSL's CSPRNG. Each side proves
// knowledge of the secret over a nonce the other side just chose, so a recorded handshake cannot be
// replayed; the distinct labels stop a reflection of one side's MAC as the other's; both NodeIds
// are inside the MAC, so a proof for one identity cannot be reused for another. MACs are compared
// in constant time.
//
// A completed handshake also yields the connection's per-direction frame keys (`keys()`,
// derived with HKDF from the secret and both nonces: frame_auth.h), with which every data frame
// after it is authenticated and sequenced. Payloads are not encrypted.
//
// Contract: these classes are pure (no I/O); every malformed or wrong input gives
// UNAUTHENTICATED or INVALID_ARGUMENT, never a crash. Thread safety: none (plain values).
#ifndef CREMA_TRANSPORT_HANDSHAKE_H_
#define CREMA_TRANSPORT_HANDSHAKE_H_

#include <array>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "node/network.h"
#include "transport/frame_auth.h"

namespace crema::transport {

inline constexpr size_t kNonceBytes = 32;
inline constexpr size_t kMacBytes = 32;  // HMAC-SHA256
inline constexpr size_t kMinClusterSecretBytes = 16;
inline constexpr size_t kMaxClusterSecretBytes = 1024;

using Nonce = std::array<unsigned char, kNonceBytes>;

// A fresh nonce from the OS-seeded CSPRNG (aborts if the CSPRNG fails, which it does not on Linux).
Nonce RandomNonce();

// OK if `secret` is usable as a cluster secret (length within the bounds above).
[[nodiscard]] absl::Status ValidateClusterSecret(std::string_view secret);

class DialerHandshake {
 public:
  // REQUIRES: ValidateClusterSecret(secret).ok(); self and expected_peer are not kNoNode.
  DialerHandshake(std::string secret, NodeId self, NodeId expected_peer, Nonce nonce);

  // Payload of the kHello frame.
  std::string HelloPayload() const;

  // Checks the acceptor's kChallenge (sent `from`) and returns the kProof payload.
  [[nodiscard]] absl::StatusOr<std::string> OnChallenge(NodeId from, std::string_view payload);

  // The connection's frame keys. REQUIRES: OnChallenge succeeded.
  const SessionKeys& keys() const;

 private:
  std::string secret_;
  NodeId self_;
  NodeId peer_;
  Nonce nonce_;
  std::optional<SessionKeys> keys_;
};

class AcceptorHandshake {
 public:
  // REQUIRES: ValidateClusterSecret(secret).ok(); self is not kNoNode.
  AcceptorHandshake(std::string secret, NodeId self, Nonce nonce);

  // Checks a kHello (sent `from`) and returns the kChallenge payload.
  [[nodiscard]] absl::StatusOr<std::string> OnHello(NodeId from, std::string_view payload);

  // Checks the kProof; on OK the connection belongs to `peer()`. An error before a good hello.
  [[nodiscard]] absl::Status OnProof(NodeId from, std::string_view payload);

  NodeId peer() const { return peer_; }
  // The connection's frame keys. REQUIRES: OnProof succeeded.
  const SessionKeys& keys() const;

 private:
  std::string secret_;
  NodeId self_;
  NodeId peer_ = kNoNode;
  Nonce nonce_;
  Nonce peer_nonce_{};
  std::optional<SessionKeys> keys_;
};

}  // namespace crema::transport

#endif  // CREMA_TRANSPORT_HANDSHAKE_H_
