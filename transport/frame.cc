#include "transport/frame.h"

#define XXH_STATIC_LINKING_ONLY  // for a stack-allocated XXH3_state_t
#include <xxhash.h>

#include <algorithm>
#include <cassert>
#include <cstring>

#include "absl/strings/str_cat.h"

namespace crema::transport {
namespace {

constexpr size_t kChecksummedHeaderBytes = 16;  // header bytes before the checksum field

void PutU32(char* out, uint32_t v) {
  for (int i = 0; i < 4; ++i) out[i] = static_cast<char>((v >> (8 * i)) & 0xff);
}
void PutU64(char* out, uint64_t v) {
  for (int i = 0; i < 8; ++i) out[i] = static_cast<char>((v >> (8 * i)) & 0xff);
}
uint32_t GetU32(const char* in) {
  uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v |= uint32_t{static_cast<uint8_t>(in[i])} << (8 * i);
  return v;
}
uint64_t GetU64(const char* in) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v |= uint64_t{static_cast<uint8_t>(in[i])} << (8 * i);
  return v;
}

uint64_t Checksum(std::string_view header16, std::string_view payload) {
  XXH3_state_t state;
  XXH3_INITSTATE(&state);
  XXH3_64bits_reset(&state);
  XXH3_64bits_update(&state, header16.data(), header16.size());
  XXH3_64bits_update(&state, payload.data(), payload.size());
  return XXH3_64bits_digest(&state);
}

bool KnownKind(uint8_t kind) {
  return kind >= static_cast<uint8_t>(FrameKind::kHello) &&
         kind <= static_cast<uint8_t>(FrameKind::kData);
}

void PutHeader16(char* h, FrameKind kind, uint8_t service, NodeId from, size_t payload_bytes) {
  PutU32(h, kFrameMagic);
  h[4] = static_cast<char>(kFrameVersion);
  h[5] = static_cast<char>(kind);
  h[6] = static_cast<char>(service);
  h[7] = 0;
  PutU32(h + 8, from);
  PutU32(h + 12, static_cast<uint32_t>(payload_bytes));
}

size_t TrailerBytes(uint8_t kind) {
  return kind == static_cast<uint8_t>(FrameKind::kData) ? kDataFrameTagBytes : 0;
}

}  // namespace

std::string EncodeFrame(FrameKind kind, uint8_t service, NodeId from, std::string_view payload) {
  assert(payload.size() <= kMaxFramePayloadBytes);
  std::string out;
  // Room for the tag the sending connection appends to a data frame, so sealing never reallocates.
  out.reserve(kFrameHeaderBytes + payload.size() + TrailerBytes(static_cast<uint8_t>(kind)));
  out.resize(kFrameHeaderBytes + payload.size());
  char* h = out.data();
  PutHeader16(h, kind, service, from, payload.size());
  PutU64(h + 16, Checksum(std::string_view(h, kChecksummedHeaderBytes), payload));
  if (!payload.empty()) std::memcpy(h + kFrameHeaderBytes, payload.data(), payload.size());
  return out;
}

std::string AuthenticatedHeader(const Frame& frame) {
  std::string out(kFrameAuthenticatedHeaderBytes, '\0');
  PutHeader16(out.data(), frame.kind, frame.service, frame.from, frame.payload.size());
  return out;
}

void FrameReader::set_max_payload_bytes(size_t max_payload_bytes) {
  assert(max_payload_bytes <= kMaxFramePayloadBytes);
  max_payload_bytes_ = max_payload_bytes;
}

void FrameReader::Append(std::string_view bytes) {
  if (failed()) return;
  if (consumed_ > 0 && consumed_ * 2 >= buffer_.size()) {
    buffer_.erase(0, consumed_);
    consumed_ = 0;
  }
  buffer_.append(bytes.data(), bytes.size());
}

absl::Status FrameReader::Fail(const std::string& why) {
  error_ = absl::DataLossError(absl::StrCat("bad frame: ", why));
  buffer_.clear();
  buffer_.shrink_to_fit();
  consumed_ = 0;
  return error_;
}

absl::StatusOr<std::optional<Frame>> FrameReader::Next() {
  if (failed()) return error_;
  if (buffered_bytes() < kFrameHeaderBytes) return std::nullopt;
  const char* h = buffer_.data() + consumed_;
  if (GetU32(h) != kFrameMagic) return Fail("bad magic");
  if (static_cast<uint8_t>(h[4]) != kFrameVersion) {
    return Fail(absl::StrCat("unsupported version ", static_cast<uint8_t>(h[4])));
  }
  const uint8_t kind = static_cast<uint8_t>(h[5]);
  if (!KnownKind(kind)) return Fail("unknown kind");
  if (h[7] != 0) return Fail("reserved byte set");
  const uint32_t length = GetU32(h + 12);
  const size_t limit = kind == static_cast<uint8_t>(FrameKind::kData)
                           ? max_payload_bytes_
                           : std::min(max_payload_bytes_, kMaxHandshakePayloadBytes);
  if (length > limit) {
    return Fail(absl::StrCat("payload of ", length, " bytes exceeds the limit of ", limit));
  }
  const size_t trailer = TrailerBytes(kind);
  if (buffered_bytes() < kFrameHeaderBytes + length + trailer) return std::nullopt;
  std::string_view payload(h + kFrameHeaderBytes, length);
  if (Checksum(std::string_view(h, kChecksummedHeaderBytes), payload) != GetU64(h + 16)) {
    return Fail("checksum mismatch");
  }
  Frame frame;
  frame.kind = static_cast<FrameKind>(h[5]);
  frame.service = static_cast<uint8_t>(h[6]);
  frame.from = GetU32(h + 8);
  frame.payload.assign(payload.data(), payload.size());
  frame.tag.assign(h + kFrameHeaderBytes + length, trailer);
  consumed_ += kFrameHeaderBytes + length + trailer;
  return frame;
}

}  // namespace crema::transport
