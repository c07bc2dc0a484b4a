#include "node/ping/state_file.h"

#include <cstring>

#include "absl/strings/str_cat.h"
#include "xxhash.h"

namespace crema::ping {
namespace {

constexpr char kMagic[8] = {'C', 'R', 'E', 'M', 'A', 'P', 'N', 'G'};
constexpr uint32_t kVersion = 1;
constexpr size_t kHeaderBytes = sizeof(kMagic) + 4 + 4;
constexpr size_t kChecksumBytes = 8;

void PutU32(std::string& out, uint32_t v) {
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>(v >> (8 * i)));
}
void PutU64(std::string& out, uint64_t v) {
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>(v >> (8 * i)));
}

// Reads little-endian integers from a bounded buffer; every read is bounds-checked.
class Reader {
 public:
  explicit Reader(std::string_view bytes) : bytes_(bytes) {}
  bool U32(uint32_t* v) { return Fixed(4, v); }
  bool U64(uint64_t* v) { return Fixed(8, v); }
  bool done() const { return pos_ == bytes_.size(); }

 private:
  template <typename T>
  bool Fixed(size_t n, T* v) {
    if (bytes_.size() - pos_ < n) return false;
    T value = 0;
    for (size_t i = 0; i < n; ++i) {
      value |= static_cast<T>(static_cast<unsigned char>(bytes_[pos_ + i])) << (8 * i);
    }
    pos_ += n;
    *v = value;
    return true;
  }
  std::string_view bytes_;
  size_t pos_ = 0;
};

absl::Status Damaged(std::string_view why) {
  return absl::DataLossError(absl::StrCat("ping state file damaged: ", std::string(why)));
}

}  // namespace

RequestWindow::Verdict RequestWindow::Check(uint64_t request_id) const {
  if (request_id > max_request_id) return Verdict::kNew;
  const uint64_t age = max_request_id - request_id;
  if (age >= kDedupWindow) return Verdict::kTooOld;
  return (bits >> age) & 1 ? Verdict::kApplied : Verdict::kNew;
}

void RequestWindow::Mark(uint64_t request_id) {
  if (request_id > max_request_id) {
    const uint64_t shift = request_id - max_request_id;
    bits = shift >= 64 ? 0 : bits << shift;
    max_request_id = request_id;
    bits |= 1;
    return;
  }
  bits |= uint64_t{1} << (max_request_id - request_id);
}

std::string EncodeState(const PersistedState& state) {
  std::string payload;
  PutU32(payload, static_cast<uint32_t>(state.counter.entries().size()));
  for (const auto& [node, count] : state.counter.entries()) {
    PutU32(payload, node);
    PutU64(payload, count);
  }
  PutU32(payload, static_cast<uint32_t>(state.clients.size()));
  for (const auto& [client, window] : state.clients) {
    PutU32(payload, client);
    PutU64(payload, window.max_request_id);
    PutU64(payload, window.bits);
  }
  std::string out(kMagic, sizeof(kMagic));
  PutU32(out, kVersion);
  PutU32(out, static_cast<uint32_t>(payload.size()));
  out += payload;
  PutU64(out, XXH3_64bits(out.data(), out.size()));
  return out;
}

absl::StatusOr<PersistedState> DecodeState(std::string_view bytes) {
  if (bytes.size() < kHeaderBytes + kChecksumBytes) return Damaged("too short");
  if (bytes.size() > kMaxStateFileBytes) return Damaged("too long");
  const std::string_view body = bytes.substr(0, bytes.size() - kChecksumBytes);
  uint64_t stored_checksum = 0;
  Reader tail(bytes.substr(body.size()));
  if (!tail.U64(&stored_checksum) || stored_checksum != XXH3_64bits(body.data(), body.size())) {
    return Damaged("checksum mismatch");
  }
  if (std::memcmp(body.data(), kMagic, sizeof(kMagic)) != 0) return Damaged("bad magic");
  Reader reader(body.substr(sizeof(kMagic)));
  uint32_t version = 0, payload_bytes = 0, entries = 0, clients = 0;
  if (!reader.U32(&version) || version != kVersion) return Damaged("unknown version");
  if (!reader.U32(&payload_bytes) || payload_bytes != body.size() - kHeaderBytes) {
    return Damaged("length mismatch");
  }
  PersistedState state;
  if (!reader.U32(&entries) || entries > GCounter::kMaxEntries) return Damaged("entry count");
  for (uint32_t i = 0; i < entries; ++i) {
    uint32_t node = 0;
    uint64_t count = 0;
    if (!reader.U32(&node) || !reader.U64(&count) || node == kNoNode ||
        state.counter.entries().contains(node)) {
      return Damaged("bad entry");
    }
    state.counter.MergeEntry(node, count);
  }
  if (!reader.U32(&clients) || clients > kMaxClients) return Damaged("client count");
  for (uint32_t i = 0; i < clients; ++i) {
    uint32_t client = 0;
    RequestWindow window;
    if (!reader.U32(&client) || !reader.U64(&window.max_request_id) || !reader.U64(&window.bits) ||
        state.clients.contains(client)) {
      return Damaged("bad client window");
    }
    state.clients.emplace(client, window);
  }
  if (!reader.done()) return Damaged("trailing bytes");
  return state;
}

absl::Status WriteStateFile(Disk& disk, std::string_view name, std::string_view temp_name,
                            const PersistedState& state) {
  const std::string bytes = EncodeState(state);
  absl::StatusOr<std::unique_ptr<File>> file = disk.Open(temp_name, OpenMode::kCreate);
  if (!file.ok()) return file.status();
  if (absl::Status s = (*file)->Truncate(0); !s.ok()) return s;
  if (absl::Status s = (*file)->Write(0, bytes); !s.ok()) return s;
  if (absl::Status s = (*file)->Sync(); !s.ok()) return s;
  return disk.Rename(temp_name, name);
}

absl::StatusOr<PersistedState> ReadStateFile(Disk& disk, std::string_view name) {
  absl::StatusOr<std::unique_ptr<File>> file = disk.Open(name, OpenMode::kOpenExisting);
  if (!file.ok()) return file.status();
  const uint64_t size = (*file)->Size();
  if (size > kMaxStateFileBytes) return Damaged("file too large");
  absl::StatusOr<std::string> bytes = (*file)->Read(0, size);
  if (!bytes.ok()) return bytes.status();
  if (bytes->size() != size) return Damaged("short read");
  return DecodeState(*bytes);
}

}  // namespace crema::ping
