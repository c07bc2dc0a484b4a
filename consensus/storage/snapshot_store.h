// SnapshotStore: durable, LZ4-compressed, checksummed state-machine snapshots, and their chunked
// transfer (InstallSnapshot streaming).
//
// File "<prefix>snap-<index as 16 hex digits>" (all integers little-endian, fixed width):
//   body    = magic u64 "CREMASNP" | version u32 | meta (index u64, term u64, then voters,
//             learners, voters_outgoing each as count u32 + ids u32) | raw_bytes u64 |
//             compressed_bytes u64 | LZ4 block of the state machine's checkpoint
//   trailer = XXH3-64(body) u64
// A file is written under "<prefix>snaptmp-..." , synced, then renamed into place, so a snapshot
// file is either absent or complete. Reading verifies the checksum over the whole file before
// trusting any field, then decompresses into a buffer of exactly raw_bytes (bounded by
// kMaxSnapshotBytes, and by 255 x the LZ4 block's size, LZ4's largest expansion, so the buffer is
// proportional to the bytes actually read or received): a corrupt or oversized snapshot is
// DataLoss, never a crash.
//
// Streaming: the bytes sent are exactly the file's bytes. `SnapshotReader` yields chunks of at
// most kSnapshotChunkBytes with their offsets; `SnapshotReceiver` accepts chunks strictly in
// order into a temp file and, on Finish, syncs it, verifies the whole file (checksum, format,
// decompression) and renames it into place. The newest kRetainedSnapshots snapshots are kept.
//
// Example (leader side / follower side):
//   auto reader = store.OpenReader();           // latest snapshot
//   while (!(*reader)->done()) Send((*reader)->Next());
//   auto receiver = store.StartReceive();
//   for (chunk : arriving) receiver->Write(chunk.offset, chunk.data);
//   absl::StatusOr<SnapshotMeta> meta = receiver->Finish();
//
// All calls must be made from a fiber (they call the Disk). Thread safety: none.
#ifndef CREMA_CONSENSUS_STORAGE_SNAPSHOT_STORE_H_
#define CREMA_CONSENSUS_STORAGE_SNAPSHOT_STORE_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "consensus/types.h"
#include "node/disk.h"

namespace crema::raft::storage {

inline constexpr size_t kSnapshotChunkBytes = size_t{256} << 10;
inline constexpr uint64_t kMaxSnapshotBytes = uint64_t{512} << 20;  // a checkpoint, uncompressed
inline constexpr uint64_t kMaxSnapshotFileBytes = kMaxSnapshotBytes + (kMaxSnapshotBytes / 128);
inline constexpr size_t kMaxConfReplicas = 4096;  // per list in a snapshot's ConfState
inline constexpr size_t kRetainedSnapshots = 2;

struct Snapshot {
  SnapshotMeta meta;
  std::string data;  // the state machine's checkpoint
};

// The file format, exposed for tests and tools.
// REQUIRES: data.size() <= kMaxSnapshotBytes.
std::string EncodeSnapshotFile(const SnapshotMeta& meta, std::string_view data);
// Verifies the checksum and parses the metadata only.
[[nodiscard]] absl::StatusOr<SnapshotMeta> DecodeSnapshotMeta(std::string_view file);
// Verifies, parses and decompresses.
[[nodiscard]] absl::StatusOr<Snapshot> DecodeSnapshotFile(std::string_view file);

class SnapshotStore;

class SnapshotReader {
 public:
  struct Chunk {
    uint64_t offset = 0;
    std::string data;
    bool last = false;
  };

  const SnapshotMeta& meta() const { return meta_; }
  uint64_t total_bytes() const { return total_bytes_; }
  uint64_t offset() const { return offset_; }
  bool done() const { return offset_ >= total_bytes_; }
  // The next chunk (at most kSnapshotChunkBytes). REQUIRES: !done().
  [[nodiscard]] absl::StatusOr<Chunk> Next();
  // Restarts from `offset` (e.g. to resend after a lost chunk). REQUIRES: offset <= total_bytes().
  void Seek(uint64_t offset);

 private:
  friend class SnapshotStore;
  SnapshotReader(std::unique_ptr<File> file, SnapshotMeta meta, uint64_t total_bytes)
      : file_(std::move(file)), meta_(std::move(meta)), total_bytes_(total_bytes) {}
  std::unique_ptr<File> file_;
  SnapshotMeta meta_;
  uint64_t total_bytes_;
  uint64_t offset_ = 0;
};

class SnapshotReceiver {
 public:
  ~SnapshotReceiver();  // an unfinished receive leaves a temp file that the next Open deletes
  uint64_t received_bytes() const { return received_; }
  // Appends a chunk. InvalidArgument if offset != received_bytes() (out of order) or the total
  // would exceed kMaxSnapshotFileBytes.
  [[nodiscard]] absl::Status Write(uint64_t offset, std::string_view chunk);
  // Syncs, verifies the whole file and installs it. DataLoss if it does not verify;
  // FailedPrecondition if it is older than the store's latest snapshot.
  [[nodiscard]] absl::StatusOr<SnapshotMeta> Finish();

 private:
  friend class SnapshotStore;
  SnapshotReceiver(SnapshotStore* store, std::string temp_name, std::unique_ptr<File> file)
      : store_(store), temp_name_(std::move(temp_name)), file_(std::move(file)) {}
  SnapshotStore* store_;
  std::string temp_name_;
  std::unique_ptr<File> file_;
  uint64_t received_ = 0;
  bool finished_ = false;
};

class SnapshotStore {
 public:
  // `disk` must outlive the store.
  SnapshotStore(Disk* disk, std::string prefix) : disk_(disk), prefix_(std::move(prefix)) {}

  // Deletes leftover temp files, finds the latest snapshot and verifies it (DataLoss if corrupt).
  [[nodiscard]] absl::Status Open();
  const std::optional<SnapshotMeta>& latest() const { return latest_; }

  // Writes a snapshot atomically and prunes old ones. FailedPrecondition if older than latest().
  [[nodiscard]] absl::Status Save(const SnapshotMeta& meta, std::string_view data);
  // The latest snapshot, verified and decompressed. NotFound if there is none.
  [[nodiscard]] absl::StatusOr<Snapshot> LoadLatest();
  // Streams the latest snapshot's file. NotFound if there is none.
  [[nodiscard]] absl::StatusOr<std::unique_ptr<SnapshotReader>> OpenReader();
  // Starts receiving a streamed snapshot (replacing any unfinished receive).
  [[nodiscard]] absl::StatusOr<std::unique_ptr<SnapshotReceiver>> StartReceive();

 private:
  friend class SnapshotReceiver;
  std::string FileName(Index index) const;
  std::string TempName(std::string_view what) const;
  // Renames a synced, verified temp file into place as the snapshot `meta`.
  absl::Status Install(const std::string& temp_name, const SnapshotMeta& meta);
  absl::Status Prune();

  Disk* disk_;
  std::string prefix_;
  std::optional<SnapshotMeta> latest_;
};

}  // namespace crema::raft::storage

#endif  // CREMA_CONSENSUS_STORAGE_SNAPSHOT_STORE_H_
