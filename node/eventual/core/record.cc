#include "node/eventual/core/record.h"

#include "absl/strings/str_cat.h"
#include "xxhash.h"

namespace crema::eventual {
namespace {

constexpr uint8_t kTombstoneFlag = 1;
constexpr uint64_t kLeafSeed = 0x6576656e744c6666ULL;  // "eventLff"

}  // namespace

bool IsLive(const Record& record, absl::Time now) {
  if (record.tombstone) return false;
  return record.expires_at_ns == 0 || absl::ToUnixNanos(now) < record.expires_at_ns;
}

absl::Time PurgeTime(const Record& record, absl::Duration grace) {
  if (record.tombstone) return absl::FromUnixNanos(record.version.wall_ns) + grace;
  if (record.expires_at_ns != 0) return absl::FromUnixNanos(record.expires_at_ns) + grace;
  return absl::InfiniteFuture();
}

uint64_t ContentDigest(const Record& record) {
  WireWriter out;
  EncodeRecord(record, out);
  const std::string bytes = std::move(out).Finish();
  return XXH3_64bits(bytes.data(), bytes.size());
}

bool Supersedes(const Record& a, const Record& b) {
  if (a.version != b.version) return a.version > b.version;
  return ContentDigest(a) > ContentDigest(b);
}

uint64_t LeafDigest(std::string_view key, const Record& record) {
  const uint64_t key_hash = XXH3_64bits_withSeed(key.data(), key.size(), kLeafSeed);
  return XXH3_64bits_withSeed(&key_hash, sizeof(key_hash), ContentDigest(record));
}

size_t RecordBytes(std::string_view key, const Record& record) {
  constexpr size_t kOverheadBytes = 64;  // version, flags, expiry, index entries
  return key.size() + record.value.size() + kOverheadBytes;
}

void EncodeVersion(const Version& version, WireWriter& out) {
  out.PutI64(version.wall_ns);
  out.PutU32(version.logical);
  out.PutU32(version.node);
}

bool DecodeVersion(WireReader& in, Version* version) {
  return in.GetI64(&version->wall_ns) && in.GetU32(&version->logical) && in.GetU32(&version->node);
}

void EncodeRecord(const Record& record, WireWriter& out) {
  out.PutU8(record.tombstone ? kTombstoneFlag : 0);
  EncodeVersion(record.version, out);
  out.PutI64(record.expires_at_ns);
  out.PutBytes(record.value);
}

absl::Status DecodeRecord(WireReader& in, Record* record) {
  uint8_t flags = 0;
  if (!in.GetU8(&flags) || (flags & ~kTombstoneFlag) != 0) {
    return absl::InvalidArgumentError("record: bad flags");
  }
  record->tombstone = (flags & kTombstoneFlag) != 0;
  if (!DecodeVersion(in, &record->version) || !in.GetI64(&record->expires_at_ns) ||
      !in.GetBytes(&record->value, kMaxValueBytes)) {
    return absl::InvalidArgumentError("record: truncated or value too large");
  }
  if (record->tombstone && !record->value.empty()) {
    return absl::InvalidArgumentError("record: tombstone with a value");
  }
  if (record->expires_at_ns < 0 || record->version.wall_ns < 0) {
    return absl::InvalidArgumentError("record: negative time");
  }
  return absl::OkStatus();
}

absl::Status ValidateKey(std::string_view key) {
  if (key.empty()) return absl::InvalidArgumentError("empty key");
  if (key.size() > kMaxKeyBytes) {
    return absl::InvalidArgumentError(absl::StrCat("key of ", key.size(), " bytes exceeds ",
                                                   kMaxKeyBytes));
  }
  return absl::OkStatus();
}

}  // namespace crema::eventual
