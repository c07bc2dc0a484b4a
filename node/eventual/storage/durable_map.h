// DurableMap: a durable string → string map on crema::Disk — an append-only, checksummed log of
// put/erase records with group commit, compacted into snapshots. Eventual mode keeps its replica
// data and its hints in two of them.
//
// Files under `prefix` (generation G, 16 hex digits):
//   snap-G   the whole map as of generation G (absent for G = 0), written as "snap.tmp", synced,
//            then renamed into place — so a snapshot file is always complete;
//   log-G    records appended after snap-G.
// Record framing: length u32 | XXH3-64(payload) u64 | payload, payload = op u8 (1 put, 2 erase)
// | key | value. A snapshot starts with a header record ("CREMAEVS", format version, G) and ends
// with a trailer record holding the entry count.
//
// Contract:
//   * Put/Erase only buffer (at most kMaxPendingBytes). `Commit` writes the buffer with one Write
//     and makes it durable with one Sync; nothing is durable before it returns OK. If it fails,
//     the log is truncated back to its last synced size and synced again, so the failed batch is
//     certainly *not* durable and the caller must not act on it (never acknowledge it). If even
//     that fails, the map is *failed*: every later call retries the truncation first and returns
//     the error until it succeeds.
//   * `Compact(for_each)` writes a new snapshot from the caller's complete current state (which
//     must equal the map's committed contents) and starts an empty log. Crash-safe at every step.
//   * Recovery (`Open`): the newest snapshot, then its log. Reads may return flipped bits, so a
//     record failing its checksum is re-read (kMaxReadAttempts whole-file reads; the furthest
//     parse wins). A record that stays bad can only be the tail of a write that was never synced
//     (torn, lost, or a hole under a later surviving write: the log is append-only and every Sync
//     covers all earlier writes), so the log is truncated there and `torn_tail_bytes` reports it.
//     (On a real disk, rot inside synced data would be cut the same way: this replica loses those
//     records and anti-entropy restores them from the others.) A snapshot that stays corrupt is
//     DATA_LOSS: the caller wipes the map (`Wipe`) and recovers its data from other replicas.
//   * Every call must be made from a fiber (Disk may suspend).
//
// Thread safety: none; one DurableMap belongs to one node's event loop.
#ifndef CREMA_NODE_EVENTUAL_STORAGE_DURABLE_MAP_H_
#define CREMA_NODE_EVENTUAL_STORAGE_DURABLE_MAP_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "absl/container/btree_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "node/disk.h"

namespace crema::eventual {

struct DurableMapOptions {
  // Compact once the log exceeds max(compact_log_bytes, 2 × the last snapshot's size).
  uint64_t compact_log_bytes = uint64_t{64} << 20;
};

struct DurableMapRecovery {
  uint64_t generation = 0;
  uint64_t snapshot_entries = 0;
  uint64_t log_records = 0;
  uint64_t torn_tail_bytes = 0;  // cut from the end of the log
  uint64_t corrupt_rereads = 0;  // whole-file re-reads caused by checksum failures
};

class DurableMap {
 public:
  using Contents = absl::btree_map<std::string, std::string>;
  using Emit = std::function<void(std::string_view key, std::string_view value)>;
  using ForEach = std::function<void(const Emit& emit)>;

  static constexpr uint64_t kMaxFileBytes = uint64_t{1} << 30;
  static constexpr size_t kMaxPendingBytes = size_t{64} << 20;
  static constexpr int kMaxReadAttempts = 8;
  static constexpr size_t kMaxEntryBytes = (size_t{4} << 10) + (size_t{2} << 20);

  // Opens (creating if absent) the map under `prefix`, filling `contents` and `recovery`.
  // DATA_LOSS if the snapshot is unreadable; other errors from the disk.
  [[nodiscard]] static absl::StatusOr<std::unique_ptr<DurableMap>> Open(
      Disk* disk, std::string prefix, DurableMapOptions options, Contents* contents,
      DurableMapRecovery* recovery);

  // Deletes every file of the map under `prefix`.
  [[nodiscard]] static absl::Status Wipe(Disk* disk, std::string_view prefix);

  // REQUIRES: key.size() + value.size() <= kMaxEntryBytes.
  void Put(std::string_view key, std::string_view value);
  void Erase(std::string_view key);
  bool has_pending() const { return !pending_.empty(); }
  size_t pending_bytes() const { return pending_.size(); }
  // True when another Put of `bytes` would exceed kMaxPendingBytes (commit first).
  bool PendingFull(size_t bytes) const { return pending_.size() + bytes + 64 > kMaxPendingBytes; }

  // Writes and syncs the buffered records (see the contract). Drops the buffer either way.
  [[nodiscard]] absl::Status Commit();
  // Discards buffered records without writing them.
  void DiscardPending() { pending_.clear(); }

  bool NeedsCompaction() const;
  // REQUIRES: no pending records. `for_each` emits every committed (key, value).
  [[nodiscard]] absl::Status Compact(const ForEach& for_each);

  uint64_t generation() const { return generation_; }
  uint64_t log_bytes() const { return log_bytes_; }
  uint64_t snapshot_bytes() const { return snapshot_bytes_; }
  uint64_t commits() const { return commits_; }
  const absl::Status& failure() const { return failed_; }

 private:
  DurableMap(Disk* disk, std::string prefix, DurableMapOptions options)
      : disk_(disk), prefix_(std::move(prefix)), options_(options) {}

  absl::Status Recover(Contents* contents, DurableMapRecovery* recovery);
  absl::Status OpenLog(uint64_t generation, bool truncate_to_known);
  absl::Status Repair();
  std::string FileName(std::string_view kind, uint64_t generation) const;

  Disk* disk_;
  std::string prefix_;
  DurableMapOptions options_;
  uint64_t generation_ = 0;
  std::unique_ptr<File> log_;
  uint64_t log_bytes_ = 0;       // synced size of the current log
  uint64_t snapshot_bytes_ = 0;
  std::string pending_;          // framed records not yet written
  uint64_t commits_ = 0;
  absl::Status failed_;
};

// Frames one record: length u32 | XXH3-64 u64 | payload. Exposed for tests.
std::string FrameRecord(std::string_view payload);

}  // namespace crema::eventual

#endif  // CREMA_NODE_EVENTUAL_STORAGE_DURABLE_MAP_H_
