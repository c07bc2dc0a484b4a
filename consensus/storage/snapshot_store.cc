#include "consensus/storage/snapshot_store.h"

#include <algorithm>
#include <cassert>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "consensus/storage/verified_read.h"
#include "consensus/storage/wal.h"

namespace crema::raft::storage {
namespace {

constexpr char kSnapPrefix[] = "snap-";
constexpr char kTempPrefix[] = "snaptmp-";

absl::Status WriteAndSync(File& file, std::string_view data) {
  if (file.Size() != 0) {
    if (absl::Status s = file.Truncate(0); !s.ok()) return s;
  }
  if (absl::Status s = file.Write(0, data); !s.ok()) return s;
  return file.Sync();
}

// Decode errors of a file are DataLoss (the file, not the caller, is at fault).
absl::Status AsDataLoss(std::string_view name, const absl::Status& s) {
  if (s.ok() || absl::IsDataLoss(s)) return s;
  return absl::DataLossError(absl::StrCat(std::string(name), ": ", s.message()));
}

// Reads, verifies and decodes a whole snapshot file; a read corrupted in transit is read again
// (verified_read.h), so DataLoss means the file itself is bad.
absl::StatusOr<Snapshot> ReadSnapshot(File& file, std::string_view name) {
  absl::StatusOr<Snapshot> snapshot = absl::InternalError("unread");
  std::string bytes;
  absl::Status read = ReadVerified(file, kMaxSnapshotFileBytes, name, &bytes,
                                   [&](std::string_view b) {
                                     snapshot = DecodeSnapshotFile(b);
                                     if (snapshot.ok()) return ReadCheck{};
                                     return ReadCheck{absl::DataLossError(absl::StrCat(
                                         std::string(name), ": ", snapshot.status().message()))};
                                   });
  if (!read.ok()) return read;
  return snapshot;
}

}  // namespace

// --- SnapshotReader -------------------------------------------------------------------------------

absl::StatusOr<SnapshotReader::Chunk> SnapshotReader::Next() {
  assert(!done());
  const size_t want = static_cast<size_t>(std::min<uint64_t>(kSnapshotChunkBytes,
                                                             total_bytes_ - offset_));
  absl::StatusOr<std::string> data = file_->Read(offset_, want);
  if (!data.ok()) return data.status();
  if (data->size() != want) return absl::DataLossError("snapshot file shrank while streaming");
  Chunk chunk{offset_, *std::move(data), false};
  offset_ += want;
  chunk.last = done();
  return chunk;
}

void SnapshotReader::Seek(uint64_t offset) {
  assert(offset <= total_bytes_);
  offset_ = offset;
}

// --- SnapshotReceiver -----------------------------------------------------------------------------

SnapshotReceiver::~SnapshotReceiver() = default;

absl::Status SnapshotReceiver::Write(uint64_t offset, std::string_view chunk) {
  assert(!finished_);
  if (offset != received_) {
    return absl::InvalidArgumentError(
        absl::StrCat("snapshot chunk at offset ", offset, ", expected ", received_));
  }
  if (chunk.size() > kMaxSnapshotFileBytes - received_) {
    return absl::InvalidArgumentError("streamed snapshot exceeds kMaxSnapshotFileBytes");
  }
  if (absl::Status s = file_->Write(offset, chunk); !s.ok()) return s;
  received_ += chunk.size();
  return absl::OkStatus();
}

absl::StatusOr<SnapshotMeta> SnapshotReceiver::Finish() {
  assert(!finished_);
  finished_ = true;
  if (absl::Status s = file_->Sync(); !s.ok()) return s;
  // Verify what is on disk, not what we were sent.
  absl::StatusOr<Snapshot> snapshot = ReadSnapshot(*file_, temp_name_);
  if (!snapshot.ok()) {
    (void)store_->disk_->Delete(temp_name_);  // best effort: Open deletes leftovers too
    return snapshot.status();
  }
  if (absl::Status s = store_->Install(temp_name_, snapshot->meta); !s.ok()) return s;
  return snapshot->meta;
}

// --- SnapshotStore --------------------------------------------------------------------------------

std::string SnapshotStore::FileName(Index index) const {
  return absl::StrCat(prefix_, kSnapPrefix, absl::StrFormat("%016x", index));
}

std::string SnapshotStore::TempName(std::string_view what) const {
  return absl::StrCat(prefix_, kTempPrefix, std::string(what));
}

absl::Status SnapshotStore::Open() {
  absl::StatusOr<std::vector<std::string>> temps = disk_->List(absl::StrCat(prefix_, kTempPrefix));
  if (!temps.ok()) return temps.status();
  for (const std::string& name : *temps) {
    if (absl::Status s = disk_->Delete(name); !s.ok()) return s;
  }
  absl::StatusOr<std::vector<std::string>> names = disk_->List(absl::StrCat(prefix_, kSnapPrefix));
  if (!names.ok()) return names.status();
  latest_.reset();
  if (names->empty()) return absl::OkStatus();
  const std::string& name = names->back();  // sorted, fixed-width hex: the newest
  absl::StatusOr<std::unique_ptr<File>> file = disk_->Open(name, OpenMode::kOpenExisting);
  if (!file.ok()) return file.status();
  absl::StatusOr<SnapshotMeta> meta = absl::InternalError("unread");
  std::string bytes;
  absl::Status read = ReadVerified(**file, kMaxSnapshotFileBytes, name, &bytes,
                                   [&](std::string_view b) {
                                     meta = DecodeSnapshotMeta(b);
                                     return ReadCheck{AsDataLoss(name, meta.status())};
                                   });
  if (!read.ok()) return read;
  if (FileName(meta->index) != name) {
    return absl::DataLossError(absl::StrCat(name, ": holds the snapshot at ", meta->index));
  }
  latest_ = *std::move(meta);
  return absl::OkStatus();
}

absl::Status SnapshotStore::Save(const SnapshotMeta& meta, std::string_view data) {
  if (latest_ && meta.index < latest_->index) {
    return absl::FailedPreconditionError("snapshot older than the latest one");
  }
  if (data.size() > kMaxSnapshotBytes) {
    return absl::InvalidArgumentError("snapshot exceeds kMaxSnapshotBytes");
  }
  const std::string temp = TempName(absl::StrFormat("%016x", meta.index));
  absl::StatusOr<std::unique_ptr<File>> file = disk_->Open(temp, OpenMode::kCreate);
  if (!file.ok()) return file.status();
  if (absl::Status s = WriteAndSync(**file, EncodeSnapshotFile(meta, data)); !s.ok()) return s;
  return Install(temp, meta);
}

absl::Status SnapshotStore::Install(const std::string& temp_name, const SnapshotMeta& meta) {
  if (latest_ && meta.index < latest_->index) {
    (void)disk_->Delete(temp_name);
    return absl::FailedPreconditionError("snapshot older than the latest one");
  }
  if (absl::Status s = disk_->Rename(temp_name, FileName(meta.index)); !s.ok()) return s;
  latest_ = meta;
  return Prune();
}

absl::Status SnapshotStore::Prune() {
  absl::StatusOr<std::vector<std::string>> names = disk_->List(absl::StrCat(prefix_, kSnapPrefix));
  if (!names.ok()) return names.status();
  for (size_t i = 0; i + kRetainedSnapshots < names->size(); ++i) {
    if (absl::Status s = disk_->Delete((*names)[i]); !s.ok()) return s;
  }
  return absl::OkStatus();
}

absl::StatusOr<Snapshot> SnapshotStore::LoadLatest() {
  if (!latest_) return absl::NotFoundError("no snapshot");
  const std::string name = FileName(latest_->index);
  absl::StatusOr<std::unique_ptr<File>> file = disk_->Open(name, OpenMode::kOpenExisting);
  if (!file.ok()) return file.status();
  absl::StatusOr<Snapshot> snapshot = ReadSnapshot(**file, name);
  if (!snapshot.ok()) return snapshot.status();
  if (snapshot->meta != *latest_) return absl::DataLossError(absl::StrCat(name, ": meta changed"));
  return snapshot;
}

absl::StatusOr<std::unique_ptr<SnapshotReader>> SnapshotStore::OpenReader() {
  if (!latest_) return absl::NotFoundError("no snapshot");
  absl::StatusOr<std::unique_ptr<File>> file =
      disk_->Open(FileName(latest_->index), OpenMode::kOpenExisting);
  if (!file.ok()) return file.status();
  const uint64_t size = (*file)->Size();
  return std::unique_ptr<SnapshotReader>(new SnapshotReader(*std::move(file), *latest_, size));
}

absl::StatusOr<std::unique_ptr<SnapshotReceiver>> SnapshotStore::StartReceive() {
  const std::string temp = TempName("receive");
  absl::StatusOr<std::unique_ptr<File>> file = disk_->Open(temp, OpenMode::kCreate);
  if (!file.ok()) return file.status();
  if ((*file)->Size() != 0) {
    if (absl::Status s = (*file)->Truncate(0); !s.ok()) return s;
  }
  return std::unique_ptr<SnapshotReceiver>(new SnapshotReceiver(this, temp, *std::move(file)));
}

}  // namespace crema::raft::storage
