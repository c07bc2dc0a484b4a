#include "transport/frame_auth.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/params.h>

#include <cassert>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace crema::transport {
namespace {

constexpr std::string_view kKeyLabel = "crema/frame-key/v1";
constexpr std::string_view kDialToAccept = "dialer->acceptor";
constexpr std::string_view kAcceptToDial = "acceptor->dialer";
constexpr size_t kHeaderAuthBytes = kFrameAuthenticatedHeaderBytes;
constexpr size_t kIvBytes = 12;

[[noreturn]] void CryptoFailure(const char* what) {
  std::fprintf(stderr, "frame_auth: OpenSSL %s failed\n", what);
  std::abort();
}

void AppendU32(std::string& out, uint32_t v) {
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

FrameKey Hkdf(std::string_view secret, std::string_view salt, std::string_view info) {
  EVP_KDF* kdf = EVP_KDF_fetch(nullptr, "HKDF", nullptr);
  if (kdf == nullptr) CryptoFailure("EVP_KDF_fetch(HKDF)");
  EVP_KDF_CTX* ctx = EVP_KDF_CTX_new(kdf);
  EVP_KDF_free(kdf);
  if (ctx == nullptr) CryptoFailure("EVP_KDF_CTX_new");
  char digest[] = "SHA256";
  OSSL_PARAM params[] = {
      OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, digest, 0),
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, const_cast<char*>(secret.data()),
                                        secret.size()),
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, const_cast<char*>(salt.data()),
                                        salt.size()),
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, const_cast<char*>(info.data()),
                                        info.size()),
      OSSL_PARAM_construct_end(),
  };
  FrameKey key;
  if (EVP_KDF_derive(ctx, key.data(), key.size(), params) != 1) CryptoFailure("HKDF");
  EVP_KDF_CTX_free(ctx);
  return key;
}

}  // namespace

SessionKeys DeriveSessionKeys(std::string_view secret, NodeId dialer, NodeId acceptor,
                              const unsigned char* dialer_nonce, const unsigned char* acceptor_nonce,
                              size_t nonce_bytes, bool is_dialer) {
  std::string salt(reinterpret_cast<const char*>(dialer_nonce), nonce_bytes);
  salt.append(reinterpret_cast<const char*>(acceptor_nonce), nonce_bytes);
  auto info = [&](std::string_view direction) {
    std::string out(kKeyLabel);
    out += direction;
    AppendU32(out, dialer);
    AppendU32(out, acceptor);
    return out;
  };
  const FrameKey dial_to_accept = Hkdf(secret, salt, info(kDialToAccept));
  const FrameKey accept_to_dial = Hkdf(secret, salt, info(kAcceptToDial));
  return is_dialer ? SessionKeys{dial_to_accept, accept_to_dial}
                   : SessionKeys{accept_to_dial, dial_to_accept};
}

namespace frame_auth_internal {

// AES-256-GCM with the key schedule set up once; each tag only resets the IV.
class GmacCipher {
 public:
  explicit GmacCipher(const FrameKey& key) : ctx(EVP_CIPHER_CTX_new()) {
    if (ctx == nullptr ||
        EVP_EncryptInit_ex(ctx, EVP_aes_256_gcm(), nullptr, key.data(), nullptr) != 1) {
      CryptoFailure("AES-256-GCM init");
    }
  }
  ~GmacCipher() { EVP_CIPHER_CTX_free(ctx); }
  GmacCipher(const GmacCipher&) = delete;
  GmacCipher& operator=(const GmacCipher&) = delete;

  void Tag(uint64_t sequence, std::string_view header16, std::string_view payload,
           unsigned char* tag) {
    unsigned char iv[kIvBytes] = {0};
    for (int i = 0; i < 8; ++i) iv[4 + i] = static_cast<unsigned char>((sequence >> (8 * i)) & 0xff);
    int len = 0;
    unsigned char unused[16];
    if (EVP_EncryptInit_ex(ctx, nullptr, nullptr, nullptr, iv) != 1 ||
        EVP_EncryptUpdate(ctx, nullptr, &len, reinterpret_cast<const unsigned char*>(header16.data()),
                          static_cast<int>(header16.size())) != 1 ||
        (!payload.empty() &&
         EVP_EncryptUpdate(ctx, nullptr, &len, reinterpret_cast<const unsigned char*>(payload.data()),
                           static_cast<int>(payload.size())) != 1) ||
        EVP_EncryptFinal_ex(ctx, unused, &len) != 1 ||
        EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, kFrameTagBytes, tag) != 1) {
      CryptoFailure("GMAC");
    }
  }

  EVP_CIPHER_CTX* ctx;
};

}  // namespace frame_auth_internal

struct FrameSealer::Cipher : frame_auth_internal::GmacCipher {
  using GmacCipher::GmacCipher;
};
struct FrameOpener::Cipher : frame_auth_internal::GmacCipher {
  using GmacCipher::GmacCipher;
};

FrameSealer::FrameSealer(const FrameKey& key) : cipher_(std::make_unique<Cipher>(key)) {}
FrameSealer::~FrameSealer() = default;

void FrameSealer::Seal(std::string* frame) {
  assert(frame->size() >= kFrameHeaderBytes);
  if (next_ == UINT64_MAX) CryptoFailure("sequence space");  // 2^64 frames: unreachable
  unsigned char tag[kFrameTagBytes];
  const std::string_view bytes(*frame);
  cipher_->Tag(next_++, bytes.substr(0, kHeaderAuthBytes), bytes.substr(kFrameHeaderBytes), tag);
  frame->append(reinterpret_cast<const char*>(tag), sizeof(tag));
}

FrameOpener::FrameOpener(const FrameKey& key) : cipher_(std::make_unique<Cipher>(key)) {}
FrameOpener::~FrameOpener() = default;

absl::Status FrameOpener::Open(std::string_view header16, std::string_view payload,
                               std::string_view tag) {
  if (failed_) return absl::UnauthenticatedError("frame authentication already failed");
  unsigned char expected[kFrameTagBytes];
  if (header16.size() == kHeaderAuthBytes) cipher_->Tag(next_, header16, payload, expected);
  if (header16.size() != kHeaderAuthBytes || tag.size() != kFrameTagBytes ||
      CRYPTO_memcmp(expected, tag.data(), kFrameTagBytes) != 0) {
    failed_ = true;
    return absl::UnauthenticatedError(
        "frame tag mismatch: the frame was forged, modified, replayed, reordered or one was lost");
  }
  ++next_;
  return absl::OkStatus();
}

}  // namespace crema::transport
