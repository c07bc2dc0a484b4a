// The snapshot file format (see snapshot_store.h).
#include <lz4.h>
#include <xxhash.h>

#include <cassert>

#include "absl/strings/str_cat.h"
#include "consensus/storage/encoding.h"
#include "consensus/storage/snapshot_store.h"

namespace crema::raft::storage {
namespace {

constexpr uint64_t kSnapshotMagic = 0x504e53414d455243;  // "CREMASNP"
constexpr uint32_t kSnapshotVersion = 1;
constexpr size_t kTrailerBytes = 8;
// An LZ4 block expands at most 255-fold: every output byte beyond the literals comes from a
// length byte worth at most 255 (the block format's length extension), so a block of n bytes
// decompresses to at most 255 * n bytes. A file declaring more is corrupt; checking this first
// bounds what decoding allocates by the bytes actually received, not by the declared size.
constexpr uint64_t kLz4MaxExpansion = 255;

void PutIds(std::string* out, const std::vector<ReplicaId>& ids) {
  PutU32(out, static_cast<uint32_t>(ids.size()));
  for (ReplicaId id : ids) PutU32(out, id);
}

bool GetIds(Decoder& d, std::vector<ReplicaId>* ids) {
  uint32_t count = 0;
  if (!d.GetU32(&count) || count > kMaxConfReplicas || d.remaining() < size_t{count} * 4) {
    return false;
  }
  ids->resize(count);
  for (uint32_t i = 0; i < count; ++i) {
    if (!d.GetU32(&(*ids)[i])) return false;
  }
  return true;
}

struct ParsedFile {
  SnapshotMeta meta;
  uint64_t raw_bytes = 0;
  std::string_view compressed;
};

absl::Status Malformed(std::string_view what) {
  return absl::DataLossError(absl::StrCat("corrupt snapshot file: ", std::string(what)));
}

absl::StatusOr<ParsedFile> Parse(std::string_view file) {
  if (file.size() < kTrailerBytes) return Malformed("too short");
  if (file.size() > kMaxSnapshotFileBytes) return Malformed("too big");
  const std::string_view body = file.substr(0, file.size() - kTrailerBytes);
  if (LoadU64(file.data() + body.size()) != XXH3_64bits(body.data(), body.size())) {
    return Malformed("checksum mismatch");
  }
  Decoder d(body);
  ParsedFile parsed;
  uint64_t magic = 0;
  uint32_t version = 0;
  uint64_t compressed_bytes = 0;
  if (!d.GetU64(&magic) || magic != kSnapshotMagic) return Malformed("bad magic");
  if (!d.GetU32(&version) || version != kSnapshotVersion) return Malformed("unsupported version");
  if (!d.GetU64(&parsed.meta.index) || !d.GetU64(&parsed.meta.term) ||
      !GetIds(d, &parsed.meta.conf.voters) || !GetIds(d, &parsed.meta.conf.learners) ||
      !GetIds(d, &parsed.meta.conf.voters_outgoing) || !d.GetU64(&parsed.raw_bytes) ||
      !d.GetU64(&compressed_bytes) || compressed_bytes != d.remaining() ||
      !d.GetView(compressed_bytes, &parsed.compressed)) {
    return Malformed("bad layout");
  }
  if (parsed.raw_bytes > kMaxSnapshotBytes) return Malformed("declared size over the bound");
  if (parsed.raw_bytes > compressed_bytes * kLz4MaxExpansion) {
    return Malformed("declared size is more than the LZ4 data can hold");
  }
  if (parsed.meta.index == 0 || parsed.meta.term == 0) return Malformed("zero index or term");
  return parsed;
}

}  // namespace

std::string EncodeSnapshotFile(const SnapshotMeta& meta, std::string_view data) {
  assert(data.size() <= kMaxSnapshotBytes);
  std::string out;
  PutU64(&out, kSnapshotMagic);
  PutU32(&out, kSnapshotVersion);
  PutU64(&out, meta.index);
  PutU64(&out, meta.term);
  PutIds(&out, meta.conf.voters);
  PutIds(&out, meta.conf.learners);
  PutIds(&out, meta.conf.voters_outgoing);
  PutU64(&out, data.size());
  const int bound = LZ4_compressBound(static_cast<int>(data.size()));
  std::string compressed(static_cast<size_t>(bound), '\0');
  const int n = LZ4_compress_default(data.data(), compressed.data(), static_cast<int>(data.size()),
                                     bound);
  assert(n > 0);
  compressed.resize(static_cast<size_t>(n));
  PutU64(&out, compressed.size());
  out += compressed;
  PutU64(&out, XXH3_64bits(out.data(), out.size()));
  return out;
}

absl::StatusOr<SnapshotMeta> DecodeSnapshotMeta(std::string_view file) {
  absl::StatusOr<ParsedFile> parsed = Parse(file);
  if (!parsed.ok()) return parsed.status();
  return parsed->meta;
}

absl::StatusOr<Snapshot> DecodeSnapshotFile(std::string_view file) {
  absl::StatusOr<ParsedFile> parsed = Parse(file);
  if (!parsed.ok()) return parsed.status();
  Snapshot snapshot;
  snapshot.meta = std::move(parsed->meta);
  snapshot.data.resize(parsed->raw_bytes);
  const int n = LZ4_decompress_safe(parsed->compressed.data(), snapshot.data.data(),
                                    static_cast<int>(parsed->compressed.size()),
                                    static_cast<int>(parsed->raw_bytes));
  if (n < 0 || static_cast<uint64_t>(n) != parsed->raw_bytes) {
    return Malformed("LZ4 data does not decompress to the declared size");
  }
  return snapshot;
}

}  // namespace crema::raft::storage
