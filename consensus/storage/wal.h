// Wal: Raft's segmented write-ahead log on a crema::Disk, one per group (a GroupLog).
//
// Holds the log entries and the hard state (term, vote, commit) of one Raft replica. The node's
// shared log (shared_log.h) is the alternative that lets all groups share one Sync. Hard state
// lives in the WAL as records (not in a side file) so one Sync per Ready covers both entries and
// hard state. Files are "<prefix>wal-<seq as 16 hex digits>"; each segment starts with a header
// record carrying the hard state and the next entry index at the time it was created, so whole
// old segments can be deleted by compaction without losing state. Record format and torn-tail
// rules: wal_format.h.
//
// Example (the driver, per Ready):
//   WalContents recovered;
//   absl::StatusOr<std::unique_ptr<Wal>> wal = Wal::Open(&disk, "raft/7/", {}, &recovered);
//   ... wal->Append(ready.entries); wal->SetHardState(*ready.hard_state); wal->Sync(); ...
//
// Contract:
//   * Append/SetHardState/Reset only buffer records in memory; Sync writes them with one Write
//     and makes them durable with one File::Sync. Nothing is durable before Sync returns OK.
//   * Append(entries) at index i replaces every stored entry from i on (Raft's rule).
//   * Any Disk error makes the Wal *failed*: that error is returned from every later call, since
//     what reached the disk is unknown. Reopen (recovery) to continue. Acknowledged (synced)
//     data is never lost because of it.
//   * All calls must be made from a fiber (they may call the Disk).
//
// Invariants: segments_ are consecutive by seq and the last one is open for appending; every
// segment but the last is fully synced; synced_bytes_ <= the current file's size.
//
// Thread safety: none; one Wal belongs to one node's event loop.
#ifndef CREMA_CONSENSUS_STORAGE_WAL_H_
#define CREMA_CONSENSUS_STORAGE_WAL_H_

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "consensus/storage/group_log.h"
#include "consensus/storage/wal_format.h"
#include "consensus/types.h"
#include "node/disk.h"

namespace crema::raft::storage {

struct WalOptions {
  // A segment is closed and a new one started once it reaches this size.
  uint64_t segment_bytes = uint64_t{64} << 20;
};

// What Open recovered.
struct WalContents {
  HardState hard_state;
  // Entries start at base_index + 1 (everything before was compacted or replaced by a snapshot).
  Index base_index = 0;
  std::vector<Entry> entries;  // consecutive from base_index + 1
  uint64_t torn_bytes_dropped = 0;
};

class Wal final : public GroupLog {
 public:
  // A segment file bigger than this is refused as corrupt (bounds memory during recovery).
  static constexpr uint64_t kMaxSegmentFileBytes = uint64_t{1} << 30;
  // Buffered records are written (not synced) once they exceed this.
  static constexpr size_t kMaxPendingBytes = size_t{64} << 20;

  // Opens (creating if absent) the WAL under `prefix` and recovers its contents. DataLoss on
  // corruption. `disk` must outlive the Wal.
  [[nodiscard]] static absl::StatusOr<std::unique_ptr<Wal>> Open(Disk* disk, std::string prefix,
                                                                 const WalOptions& options,
                                                                 WalContents* contents);

  // REQUIRES: entries non-empty and consecutive; front().index <= next_index().
  [[nodiscard]] absl::Status Append(const std::vector<Entry>& entries) override;
  [[nodiscard]] absl::Status SetHardState(const HardState& hs) override;
  // A snapshot at (index, term) was installed: the log becomes empty, the next entry is index+1.
  [[nodiscard]] absl::Status Reset(Index index, Term term) override;
  // Writes buffered records and makes them durable.
  [[nodiscard]] absl::Status Sync() override;
  // Writes buffered records without syncing them (Sync does this itself; exposed so a caller can
  // start the write early, and so crash tests can leave unsynced writes behind).
  [[nodiscard]] absl::Status Flush();
  // Deletes whole old segments whose entries are all below `index` (never the current one).
  [[nodiscard]] absl::Status Compact(Index index) override;

  Index next_index() const override { return next_index_; }
  const HardState& hard_state() const { return hard_state_; }
  size_t segment_count() const { return segments_.size(); }
  uint64_t synced_bytes() const { return synced_bytes_; }
  const absl::Status& failure() const { return failed_; }

 private:
  struct Segment {
    uint64_t seq = 0;
    std::string name;
    Index max_index = 0;  // largest entry index written in it that may still be live (0: none)
  };
  struct PendingRecord {
    RecordType type;
    std::string body;
    Index max_index = 0;  // kEntries: last index; kReset: the reset index
  };

  Wal(Disk* disk, std::string prefix, const WalOptions& options)
      : disk_(disk), prefix_(std::move(prefix)), options_(options) {}

  absl::Status Recover(WalContents* contents);
  absl::Status RecoverSegment(size_t i, bool is_last, WalContents* contents, bool* dropped);
  absl::Status StartSegment(uint64_t seq);
  absl::Status Fail(absl::Status status);
  std::string SegmentName(uint64_t seq) const;

  Disk* disk_;
  std::string prefix_;
  WalOptions options_;
  std::vector<Segment> segments_;
  std::unique_ptr<File> file_;  // the last segment
  uint64_t file_bytes_ = 0;     // written to the current file
  uint64_t synced_bytes_ = 0;   // of the current file known durable
  std::vector<PendingRecord> pending_;
  size_t pending_bytes_ = 0;
  HardState hard_state_;        // including pending records
  Index next_index_ = 1;        // including pending records
  HardState file_hard_state_;   // as of the records written to the file
  Index file_next_index_ = 1;
  // Seq of the segment holding a written but unsynced kReset record (0: none). Segments older
  // than it still matter until the reset is durable.
  uint64_t unsynced_reset_seq_ = 0;
  absl::Status failed_;
};

// Reads a whole file (in kMaxReadBytes pieces). DataLoss if it is bigger than max_bytes.
[[nodiscard]] absl::StatusOr<std::string> ReadWholeFile(File& file, uint64_t max_bytes,
                                                        std::string_view name);

}  // namespace crema::raft::storage

#endif  // CREMA_CONSENSUS_STORAGE_WAL_H_
