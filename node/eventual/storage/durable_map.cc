#include "node/eventual/storage/durable_map.h"

#include <algorithm>
#include <cassert>
#include <cstdio>
#include <optional>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "node/eventual/core/wire.h"
#include "xxhash.h"

namespace crema::eventual {
namespace {

constexpr uint8_t kOpPut = 1;
constexpr uint8_t kOpErase = 2;
constexpr uint8_t kOpHeader = 3;
constexpr uint8_t kOpTrailer = 4;
constexpr char kMagic[] = "CREMAEVS";
constexpr uint32_t kFormatVersion = 1;
constexpr size_t kFrameHeaderBytes = 12;
constexpr size_t kSnapshotChunkBytes = size_t{8} << 20;
constexpr char kTempSnapshot[] = "snap.tmp";

std::string Payload(uint8_t op, std::string_view key, std::string_view value) {
  WireWriter w;
  w.PutU8(op);
  w.PutBytes(key);
  w.PutBytes(value);
  return std::move(w).Finish();
}

struct Entry {
  uint8_t op = 0;
  std::string key;
  std::string value;
};

bool DecodePayload(std::string_view payload, Entry* entry) {
  WireReader r(payload);
  return r.GetU8(&entry->op) && entry->op >= kOpPut && entry->op <= kOpTrailer &&
         r.GetBytes(&entry->key, DurableMap::kMaxEntryBytes) &&
         r.GetBytes(&entry->value, DurableMap::kMaxEntryBytes) && r.done();
}

// Parses frames from the start of `bytes`; returns the entries and the offset of the first frame
// that does not parse (bytes.size() when all do).
size_t ParseFrames(std::string_view bytes, std::vector<Entry>* entries) {
  size_t offset = 0;
  while (offset < bytes.size()) {
    if (bytes.size() - offset < kFrameHeaderBytes) break;
    WireReader header(bytes.substr(offset, kFrameHeaderBytes));
    uint32_t length = 0;
    uint64_t checksum = 0;
    if (!header.GetU32(&length) || !header.GetU64(&checksum)) break;
    if (length > DurableMap::kMaxEntryBytes + 64 ||
        bytes.size() - offset - kFrameHeaderBytes < length) {
      break;
    }
    const std::string_view payload = bytes.substr(offset + kFrameHeaderBytes, length);
    if (XXH3_64bits(payload.data(), payload.size()) != checksum) break;
    Entry entry;
    if (!DecodePayload(payload, &entry)) break;
    entries->push_back(std::move(entry));
    offset += kFrameHeaderBytes + length;
  }
  return offset;
}

absl::StatusOr<std::string> ReadAll(File& file, std::string_view name) {
  const uint64_t size = file.Size();
  if (size > DurableMap::kMaxFileBytes) {
    return absl::DataLossError(absl::StrCat(std::string(name), ": ", size, " bytes exceeds the bound"));
  }
  std::string out;
  out.reserve(size);
  while (out.size() < size) {
    const size_t chunk = std::min<uint64_t>(size - out.size(), kMaxReadBytes);
    absl::StatusOr<std::string> part = file.Read(out.size(), chunk);
    if (!part.ok()) return part.status();
    if (part->empty()) break;
    out += *part;
  }
  return out;
}

// Reads `file` up to kMaxReadAttempts times and keeps the attempt that parsed furthest; stops at
// the first attempt that parses completely.
absl::StatusOr<size_t> ReadBest(File& file, std::string_view name, std::vector<Entry>* best,
                                uint64_t* size, uint64_t* rereads) {
  size_t best_offset = 0;
  for (int attempt = 0; attempt < DurableMap::kMaxReadAttempts; ++attempt) {
    absl::StatusOr<std::string> bytes = ReadAll(file, name);
    if (!bytes.ok()) return bytes.status();
    std::vector<Entry> entries;
    const size_t offset = ParseFrames(*bytes, &entries);
    *size = bytes->size();
    if (attempt == 0 || offset > best_offset) {
      best_offset = offset;
      *best = std::move(entries);
    }
    if (best_offset == bytes->size()) break;
    ++*rereads;
  }
  return best_offset;
}

std::optional<uint64_t> GenerationOf(std::string_view name, std::string_view kind) {
  if (name.size() != kind.size() + 16 || name.substr(0, kind.size()) != kind) return std::nullopt;
  uint64_t generation = 0;
  if (!absl::SimpleHexAtoi(absl::string_view(name.data() + kind.size(), 16), &generation)) {
    return std::nullopt;
  }
  return generation;
}

}  // namespace

std::string FrameRecord(std::string_view payload) {
  WireWriter w;
  w.PutU32(static_cast<uint32_t>(payload.size()));
  w.PutU64(XXH3_64bits(payload.data(), payload.size()));
  std::string out = std::move(w).Finish();
  out.append(payload.data(), payload.size());
  return out;
}

std::string DurableMap::FileName(std::string_view kind, uint64_t generation) const {
  char digits[17];
  std::snprintf(digits, sizeof(digits), "%016llx", static_cast<unsigned long long>(generation));
  return absl::StrCat(prefix_, std::string(kind), digits);
}

absl::StatusOr<std::unique_ptr<DurableMap>> DurableMap::Open(Disk* disk, std::string prefix,
                                                             DurableMapOptions options,
                                                             Contents* contents,
                                                             DurableMapRecovery* recovery) {
  std::unique_ptr<DurableMap> map(new DurableMap(disk, std::move(prefix), options));
  contents->clear();
  *recovery = DurableMapRecovery{};
  absl::Status status = map->Recover(contents, recovery);
  if (!status.ok()) return status;
  return map;
}

absl::Status DurableMap::Wipe(Disk* disk, std::string_view prefix) {
  absl::StatusOr<std::vector<std::string>> names = disk->List(prefix);
  if (!names.ok()) return names.status();
  for (const std::string& name : *names) {
    absl::Status status = disk->Delete(name);
    if (!status.ok() && !absl::IsNotFound(status)) return status;
  }
  return absl::OkStatus();
}

absl::Status DurableMap::Recover(Contents* contents, DurableMapRecovery* recovery) {
  absl::StatusOr<std::vector<std::string>> names = disk_->List(prefix_);
  if (!names.ok()) return names.status();
  std::vector<uint64_t> snapshots, logs;
  for (const std::string& full : *names) {
    const std::string_view name = std::string_view(full).substr(prefix_.size());
    if (name == kTempSnapshot) {
      (void)disk_->Delete(full);  // an unfinished compaction; nothing refers to it
    } else if (auto g = GenerationOf(name, "snap-")) {
      snapshots.push_back(*g);
    } else if (auto g = GenerationOf(name, "log-")) {
      logs.push_back(*g);
    }
  }
  generation_ = snapshots.empty() ? 0 : *std::max_element(snapshots.begin(), snapshots.end());
  recovery->generation = generation_;
  if (!snapshots.empty()) {
    const std::string name = FileName("snap-", generation_);
    absl::StatusOr<std::unique_ptr<File>> file = disk_->Open(name, OpenMode::kOpenExisting);
    if (!file.ok()) return file.status();
    std::vector<Entry> entries;
    uint64_t size = 0;
    absl::StatusOr<size_t> parsed = ReadBest(**file, name, &entries, &size, &recovery->corrupt_rereads);
    if (!parsed.ok()) return parsed.status();
    WireReader header(entries.empty() ? std::string_view() : std::string_view(entries[0].value));
    uint32_t version = 0;
    uint64_t generation = 0;
    const bool valid = *parsed == size && entries.size() >= 2 && entries[0].op == kOpHeader &&
                       entries[0].key == kMagic && header.GetU32(&version) &&
                       version == kFormatVersion && header.GetU64(&generation) &&
                       generation == generation_ && entries.back().op == kOpTrailer &&
                       entries.back().key == absl::StrCat(entries.size() - 2);
    if (!valid) return absl::DataLossError(absl::StrCat(name, ": corrupt snapshot"));
    for (size_t i = 1; i + 1 < entries.size(); ++i) {
      if (entries[i].op != kOpPut) return absl::DataLossError(absl::StrCat(name, ": bad entry"));
      (*contents)[std::move(entries[i].key)] = std::move(entries[i].value);
    }
    recovery->snapshot_entries = entries.size() - 2;
    snapshot_bytes_ = size;
  }
  // Leftovers of a compaction interrupted after its rename.
  for (uint64_t g : snapshots) {
    if (g != generation_) (void)disk_->Delete(FileName("snap-", g));
  }
  uint64_t good_bytes = 0;
  for (uint64_t g : logs) {
    if (g != generation_) {
      (void)disk_->Delete(FileName("log-", g));
      continue;
    }
    const std::string name = FileName("log-", g);
    absl::StatusOr<std::unique_ptr<File>> file = disk_->Open(name, OpenMode::kOpenExisting);
    if (!file.ok()) return file.status();
    std::vector<Entry> entries;
    uint64_t size = 0;
    absl::StatusOr<size_t> parsed = ReadBest(**file, name, &entries, &size, &recovery->corrupt_rereads);
    if (!parsed.ok()) return parsed.status();
    for (Entry& entry : entries) {
      if (entry.op == kOpPut) {
        (*contents)[std::move(entry.key)] = std::move(entry.value);
      } else if (entry.op == kOpErase) {
        contents->erase(entry.key);
      }
    }
    recovery->log_records = entries.size();
    recovery->torn_tail_bytes = size - *parsed;
    good_bytes = *parsed;
  }
  log_bytes_ = good_bytes;
  return OpenLog(generation_, /*truncate_to_known=*/true);
}

absl::Status DurableMap::OpenLog(uint64_t generation, bool truncate_to_known) {
  absl::StatusOr<std::unique_ptr<File>> file = disk_->Open(FileName("log-", generation), OpenMode::kCreate);
  if (!file.ok()) return file.status();
  log_ = std::move(*file);
  if (truncate_to_known && log_->Size() != log_bytes_) {
    absl::Status status = log_->Truncate(log_bytes_);
    if (status.ok()) status = log_->Sync();
    if (!status.ok()) return status;
  }
  return absl::OkStatus();
}

void DurableMap::Put(std::string_view key, std::string_view value) {
  assert(key.size() + value.size() <= kMaxEntryBytes);
  pending_ += FrameRecord(Payload(kOpPut, key, value));
}

void DurableMap::Erase(std::string_view key) { pending_ += FrameRecord(Payload(kOpErase, key, "")); }

absl::Status DurableMap::Repair() {
  absl::Status status;
  if (log_ == nullptr) {
    status = OpenLog(generation_, /*truncate_to_known=*/true);
  } else {
    status = log_->Truncate(log_bytes_);
    if (status.ok()) status = log_->Sync();
  }
  failed_ = status;
  return status;
}

absl::Status DurableMap::Commit() {
  std::string batch = std::move(pending_);
  pending_.clear();
  if (!failed_.ok() && !Repair().ok()) return failed_;
  if (batch.empty()) return absl::OkStatus();
  absl::Status status = log_->Write(log_bytes_, batch);
  if (status.ok()) status = log_->Sync();
  if (!status.ok()) {
    failed_ = status;
    (void)Repair();  // the batch is certainly not durable once the truncation is synced
    return status;
  }
  log_bytes_ += batch.size();
  ++commits_;
  return absl::OkStatus();
}

bool DurableMap::NeedsCompaction() const {
  return log_bytes_ > std::max<uint64_t>(options_.compact_log_bytes, 2 * snapshot_bytes_);
}

absl::Status DurableMap::Compact(const ForEach& for_each) {
  assert(pending_.empty());
  if (!failed_.ok() && !Repair().ok()) return failed_;
  const std::string temp = prefix_ + kTempSnapshot;
  absl::StatusOr<std::unique_ptr<File>> file = disk_->Open(temp, OpenMode::kCreate);
  if (!file.ok()) return file.status();
  absl::Status status = (*file)->Truncate(0);
  uint64_t offset = 0;
  uint64_t count = 0;
  std::string chunk;
  auto flush = [&] {
    if (status.ok() && !chunk.empty()) status = (*file)->Write(offset, chunk);
    offset += chunk.size();
    chunk.clear();
  };
  WireWriter header;
  header.PutU32(kFormatVersion);
  header.PutU64(generation_ + 1);
  chunk += FrameRecord(Payload(kOpHeader, kMagic, std::move(header).Finish()));
  for_each([&](std::string_view key, std::string_view value) {
    chunk += FrameRecord(Payload(kOpPut, key, value));
    ++count;
    if (chunk.size() >= kSnapshotChunkBytes) flush();
  });
  chunk += FrameRecord(Payload(kOpTrailer, absl::StrCat(count), ""));
  flush();
  if (status.ok()) status = (*file)->Sync();
  file->reset();
  if (status.ok()) status = disk_->Rename(temp, FileName("snap-", generation_ + 1));
  if (!status.ok()) {
    (void)disk_->Delete(temp);
    return status;
  }
  const uint64_t old = generation_;
  generation_ = old + 1;
  snapshot_bytes_ = offset;
  log_.reset();
  log_bytes_ = 0;
  status = OpenLog(generation_, /*truncate_to_known=*/true);
  if (!status.ok()) {
    failed_ = status;  // Repair reopens the new log
    return status;
  }
  (void)disk_->Delete(FileName("log-", old));
  if (old > 0) (void)disk_->Delete(FileName("snap-", old));
  return absl::OkStatus();
}

}  // namespace crema::eventual
