#include "transport/handshake.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include <cassert>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "absl/strings/str_cat.h"

namespace crema::transport {
namespace {

constexpr std::string_view kAcceptLabel = "crema/accept";
constexpr std::string_view kDialLabel = "crema/dial";

void AppendU32(std::string& out, uint32_t v) {
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}
uint32_t GetU32(const char* in) {
  uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v |= uint32_t{static_cast<uint8_t>(in[i])} << (8 * i);
  return v;
}
void AppendNonce(std::string& out, const Nonce& nonce) {
  out.append(reinterpret_cast<const char*>(nonce.data()), nonce.size());
}
Nonce ReadNonce(const char* in) {
  Nonce nonce;
  std::memcpy(nonce.data(), in, nonce.size());
  return nonce;
}

std::string Mac(std::string_view secret, std::string_view label, NodeId dialer, NodeId acceptor,
                const Nonce& dialer_nonce, const Nonce& acceptor_nonce) {
  std::string input(label);
  AppendU32(input, dialer);
  AppendU32(input, acceptor);
  AppendNonce(input, dialer_nonce);
  AppendNonce(input, acceptor_nonce);
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int out_bytes = 0;
  if (HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
           reinterpret_cast<const unsigned char*>(input.data()), input.size(), out,
           &out_bytes) == nullptr ||
      out_bytes != kMacBytes) {
    std::fprintf(stderr, "handshake: HMAC-SHA256 failed\n");
    std::abort();
  }
  return std::string(reinterpret_cast<const char*>(out), out_bytes);
}

bool MacEquals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace

Nonce RandomNonce() {
  Nonce nonce;
  if (RAND_bytes(nonce.data(), static_cast<int>(nonce.size())) != 1) {
    std::fprintf(stderr, "handshake: RAND_bytes failed\n");
    std::abort();
  }
  return nonce;
}

absl::Status ValidateClusterSecret(std::string_view secret) {
  if (secret.size() < kMinClusterSecretBytes || secret.size() > kMaxClusterSecretBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("cluster secret must be ", kMinClusterSecretBytes, "..",
                     kMaxClusterSecretBytes, " bytes, got ", secret.size()));
  }
  return absl::OkStatus();
}

DialerHandshake::DialerHandshake(std::string secret, NodeId self, NodeId expected_peer,
                                 Nonce nonce)
    : secret_(std::move(secret)), self_(self), peer_(expected_peer), nonce_(nonce) {
  assert(ValidateClusterSecret(secret_).ok());
  assert(self_ != kNoNode && peer_ != kNoNode);
}

std::string DialerHandshake::HelloPayload() const {
  std::string out;
  AppendU32(out, peer_);
  AppendNonce(out, nonce_);
  return out;
}

absl::StatusOr<std::string> DialerHandshake::OnChallenge(NodeId from, std::string_view payload) {
  if (from != peer_) {
    return absl::UnauthenticatedError(
        absl::StrCat("dialed node ", peer_, " but node ", from, " answered"));
  }
  if (payload.size() != kNonceBytes + kMacBytes) {
    return absl::InvalidArgumentError("challenge has the wrong size");
  }
  const Nonce acceptor_nonce = ReadNonce(payload.data());
  const std::string expected = Mac(secret_, kAcceptLabel, self_, peer_, nonce_, acceptor_nonce);
  if (!MacEquals(expected, payload.substr(kNonceBytes))) {
    return absl::UnauthenticatedError(
        absl::StrCat("node ", from, " does not know the cluster secret"));
  }
  keys_ = DeriveSessionKeys(secret_, self_, peer_, nonce_.data(), acceptor_nonce.data(),
                            kNonceBytes, /*is_dialer=*/true);
  return Mac(secret_, kDialLabel, self_, peer_, nonce_, acceptor_nonce);
}

const SessionKeys& DialerHandshake::keys() const {
  assert(keys_.has_value());
  return *keys_;
}

AcceptorHandshake::AcceptorHandshake(std::string secret, NodeId self, Nonce nonce)
    : secret_(std::move(secret)), self_(self), nonce_(nonce) {
  assert(ValidateClusterSecret(secret_).ok());
  assert(self_ != kNoNode);
}

absl::StatusOr<std::string> AcceptorHandshake::OnHello(NodeId from, std::string_view payload) {
  if (peer_ != kNoNode) return absl::InvalidArgumentError("second hello");
  if (from == kNoNode) return absl::InvalidArgumentError("hello from node 0");
  if (payload.size() != 4 + kNonceBytes) return absl::InvalidArgumentError("hello has the wrong size");
  const NodeId to = GetU32(payload.data());
  if (to != self_) {
    return absl::InvalidArgumentError(
        absl::StrCat("node ", from, " dialed node ", to, " but this is node ", self_));
  }
  peer_nonce_ = ReadNonce(payload.data() + 4);
  peer_ = from;
  std::string out;
  AppendNonce(out, nonce_);
  out += Mac(secret_, kAcceptLabel, peer_, self_, peer_nonce_, nonce_);
  return out;
}

absl::Status AcceptorHandshake::OnProof(NodeId from, std::string_view payload) {
  if (peer_ == kNoNode) return absl::InvalidArgumentError("proof before hello");
  if (from != peer_) return absl::UnauthenticatedError("proof from a different node than hello");
  const std::string expected = Mac(secret_, kDialLabel, peer_, self_, peer_nonce_, nonce_);
  if (!MacEquals(expected, payload)) {
    return absl::UnauthenticatedError(
        absl::StrCat("node ", from, " does not know the cluster secret"));
  }
  keys_ = DeriveSessionKeys(secret_, peer_, self_, peer_nonce_.data(), nonce_.data(), kNonceBytes,
                            /*is_dialer=*/false);
  return absl::OkStatus();
}

const SessionKeys& AcceptorHandshake::keys() const {
  assert(keys_.has_value());
  return *keys_;
}

}  // namespace crema::transport
