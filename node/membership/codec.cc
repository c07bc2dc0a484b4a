#include "node/membership/codec.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace crema::membership {
namespace {

constexpr uint8_t kMagic = 0xC5;
constexpr uint8_t kVersion = 1;
constexpr uint8_t kFlagReply = 0x01;
constexpr uint8_t kMaxStateValue = static_cast<uint8_t>(MemberState::kLeft);

void CheckOrDie(bool condition, const char* what) {
  if (!condition) {
    std::fprintf(stderr, "membership codec: %s\n", what);
    std::abort();
  }
}

class Writer {
 public:
  explicit Writer(std::string* out) : out_(out) {}
  void U8(uint8_t v) { out_->push_back(static_cast<char>(v)); }
  void U16(uint16_t v) { Little(v, 2); }
  void U32(uint32_t v) { Little(v, 4); }
  void U64(uint64_t v) { Little(v, 8); }
  void Bytes(std::string_view s) { out_->append(s.data(), s.size()); }

 private:
  void Little(uint64_t v, int n) {
    for (int i = 0; i < n; ++i) out_->push_back(static_cast<char>((v >> (8 * i)) & 0xff));
  }
  std::string* out_;
};

class Reader {
 public:
  explicit Reader(std::string_view in) : in_(in) {}
  bool U8(uint8_t* v) { return Little(v, 1); }
  bool U16(uint16_t* v) { return Little(v, 2); }
  bool U32(uint32_t* v) { return Little(v, 4); }
  bool U64(uint64_t* v) { return Little(v, 8); }
  bool Bytes(size_t n, std::string* out) {
    if (in_.size() - pos_ < n) return false;
    out->assign(in_.data() + pos_, n);
    pos_ += n;
    return true;
  }
  size_t remaining() const { return in_.size() - pos_; }

 private:
  template <typename T>
  bool Little(T* v, size_t n) {
    if (in_.size() - pos_ < n) return false;
    uint64_t x = 0;
    for (size_t i = 0; i < n; ++i) {
      x |= static_cast<uint64_t>(static_cast<uint8_t>(in_[pos_ + i])) << (8 * i);
    }
    pos_ += n;
    *v = static_cast<T>(x);
    return true;
  }
  std::string_view in_;
  size_t pos_ = 0;
};

absl::Status Truncated(const char* what) {
  return absl::InvalidArgumentError(absl::StrCat("membership message truncated in ", what));
}

absl::Status DecodeUpdate(Reader& r, MemberUpdate* update) {
  uint8_t state = 0;
  uint8_t address_len = 0;
  uint8_t metadata_count = 0;
  Member& m = update->member;
  if (!r.U8(&state) || !r.U32(&m.id) || !r.U64(&m.incarnation) || !r.U32(&update->accuser) ||
      !r.U8(&address_len) || !r.Bytes(address_len, &m.address) || !r.U8(&metadata_count)) {
    return Truncated("update");
  }
  if (state > kMaxStateValue) {
    return absl::InvalidArgumentError(absl::StrCat("bad member state ", state));
  }
  m.state = static_cast<MemberState>(state);
  if (m.id == kNoNode) return absl::InvalidArgumentError("update about node id 0");
  if (metadata_count > kMaxMetadataEntries) {
    return absl::InvalidArgumentError(absl::StrCat("too many metadata entries: ", metadata_count));
  }
  std::string previous_key;
  for (int i = 0; i < metadata_count; ++i) {
    uint8_t key_len = 0;
    uint16_t value_len = 0;
    std::string key;
    std::string value;
    if (!r.U8(&key_len) || !r.Bytes(key_len, &key) || !r.U16(&value_len)) {
      return Truncated("metadata");
    }
    if (key_len > kMaxMetadataKeyBytes || value_len > kMaxMetadataValueBytes) {
      return absl::OutOfRangeError("metadata key or value too long");
    }
    if (!r.Bytes(value_len, &value)) return Truncated("metadata value");
    if (i > 0 && key <= previous_key) {
      return absl::InvalidArgumentError("metadata keys not strictly increasing");
    }
    previous_key = key;
    m.metadata.emplace_hint(m.metadata.end(), std::move(key), std::move(value));
  }
  return absl::OkStatus();
}

}  // namespace

std::string_view MessageTypeName(MessageType type) {
  switch (type) {
    case MessageType::kPing:
      return "ping";
    case MessageType::kAck:
      return "ack";
    case MessageType::kPingReq:
      return "ping-req";
    case MessageType::kNack:
      return "nack";
    case MessageType::kPushPull:
      return "push-pull";
    case MessageType::kGossip:
      return "gossip";
  }
  return "invalid";
}

size_t EncodedUpdateBytes(const MemberUpdate& update) {
  size_t bytes = 1 + 4 + 8 + 4 + 1 + update.member.address.size() + 1;
  for (const auto& [key, value] : update.member.metadata) bytes += 1 + key.size() + 2 + value.size();
  return bytes;
}

bool IsEncodable(const MemberUpdate& update) {
  const Member& m = update.member;
  if (m.id == kNoNode || m.address.size() > kMaxAddressBytes) return false;
  if (m.metadata.size() > kMaxMetadataEntries) return false;
  for (const auto& [key, value] : m.metadata) {
    if (key.size() > kMaxMetadataKeyBytes || value.size() > kMaxMetadataValueBytes) return false;
  }
  return true;
}

std::string EncodeMessage(const Message& message) {
  CheckOrDie(message.updates.size() <= kMaxUpdatesPerMessage, "too many updates");
  size_t total = kMessageHeaderBytes;
  for (const MemberUpdate& u : message.updates) {
    CheckOrDie(IsEncodable(u), "update not encodable");
    total += EncodedUpdateBytes(u);
  }
  if (message.wall_unix_ns.has_value()) total += kWallTimeTrailerBytes;
  CheckOrDie(total <= kMaxMembershipMessageBytes, "message exceeds kMaxMembershipMessageBytes");
  std::string out;
  out.reserve(total);
  Writer w(&out);
  w.U8(kMagic);
  w.U8(kVersion);
  w.U8(static_cast<uint8_t>(message.type));
  w.U8(message.is_reply ? kFlagReply : 0);
  w.U32(message.from);
  w.U32(message.to);
  w.U64(message.seq);
  w.U32(message.target);
  w.U16(static_cast<uint16_t>(message.updates.size()));
  for (const MemberUpdate& u : message.updates) {
    const Member& m = u.member;
    w.U8(static_cast<uint8_t>(m.state));
    w.U32(m.id);
    w.U64(m.incarnation);
    w.U32(u.accuser);
    w.U8(static_cast<uint8_t>(m.address.size()));
    w.Bytes(m.address);
    w.U8(static_cast<uint8_t>(m.metadata.size()));
    for (const auto& [key, value] : m.metadata) {
      w.U8(static_cast<uint8_t>(key.size()));
      w.Bytes(key);
      w.U16(static_cast<uint16_t>(value.size()));
      w.Bytes(value);
    }
  }
  if (message.wall_unix_ns.has_value()) w.U64(static_cast<uint64_t>(*message.wall_unix_ns));
  CheckOrDie(out.size() == total, "encoded size mismatch");
  return out;
}

absl::StatusOr<Message> DecodeMessage(std::string_view bytes) {
  if (bytes.size() > kMaxMembershipMessageBytes) {
    return absl::OutOfRangeError(absl::StrCat("membership message of ", bytes.size(),
                                              " bytes exceeds ", kMaxMembershipMessageBytes));
  }
  Reader r(bytes);
  uint8_t magic = 0, version = 0, type = 0, flags = 0;
  uint16_t count = 0;
  Message message;
  if (!r.U8(&magic) || !r.U8(&version) || !r.U8(&type) || !r.U8(&flags) ||
      !r.U32(&message.from) || !r.U32(&message.to) || !r.U64(&message.seq) ||
      !r.U32(&message.target) || !r.U16(&count)) {
    return Truncated("header");
  }
  if (magic != kMagic) return absl::InvalidArgumentError("not a membership message (bad magic)");
  if (version != kVersion) {
    return absl::InvalidArgumentError(absl::StrCat("unsupported membership version ", version));
  }
  if (type < static_cast<uint8_t>(MessageType::kPing) ||
      type > static_cast<uint8_t>(MessageType::kGossip)) {
    return absl::InvalidArgumentError(absl::StrCat("bad message type ", type));
  }
  if ((flags & ~kFlagReply) != 0) return absl::InvalidArgumentError("unknown flags");
  message.type = static_cast<MessageType>(type);
  message.is_reply = (flags & kFlagReply) != 0;
  if (message.from == kNoNode || message.to == kNoNode) {
    return absl::InvalidArgumentError("message from or to node id 0");
  }
  // Each update needs at least 19 bytes, so a count the remaining bytes cannot hold is rejected
  // before any allocation.
  if (count > kMaxUpdatesPerMessage || static_cast<size_t>(count) * 19 > r.remaining()) {
    return absl::InvalidArgumentError(absl::StrCat("update count ", count, " impossible"));
  }
  message.updates.resize(count);
  for (MemberUpdate& update : message.updates) {
    absl::Status status = DecodeUpdate(r, &update);
    if (!status.ok()) return status;
  }
  // The wall-clock trailer came later: without it (an older peer) the time is unknown.
  if (r.remaining() == kWallTimeTrailerBytes) {
    uint64_t wall = 0;
    if (!r.U64(&wall)) return Truncated("wall time");
    message.wall_unix_ns = static_cast<int64_t>(wall);
  }
  if (r.remaining() != 0) {
    return absl::InvalidArgumentError(absl::StrCat(r.remaining(), " trailing bytes"));
  }
  return message;
}

}  // namespace crema::membership
