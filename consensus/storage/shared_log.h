// SharedLog: ONE durable log per node for the entries and hard state of ALL its Raft groups, so a
// host cycle across every ready group costs one Write and one File::Sync instead of one per group.
// Snapshots stay per group (snapshot_store.h, under each group's prefix).
//
// The design follows production multi-Raft engines: TiKV's raft-engine keeps every region's log
// in one append-only stream of files with an in-memory index per region ("memtable": file
// locations, not entries), purges a file once no region needs it, and rewrites the few live
// entries of cold regions forward so they stop pinning old files; CockroachDB gets the same
// effect from the one write-ahead log of its storage engine shared by all ranges. Our version:
//
// Files: "<prefix>log-<seq, 16 hex>" segments, consecutive by seq; the last one is appended to.
// Records use the WAL framing and torn-tail rules of wal_format.h unchanged (the same scan, the
// same tests); every segment starts with a kLogHeader record, every other record is tagged with
// its group: kGroupEntries, kGroupHardState, kGroupReset (as a per-group WAL's), kGroupCopy (a
// rewrite's copy of live entries; never truncates) and kGroupDestroy (a tombstone).
//
// Memory: per group a GroupIndex (group_index.h) — hard state and the disk locations of its live
// entries — and an index from segment to the groups that pin it. A mostly idle group costs a few
// dozen bytes and nothing per cycle.
//
// Write path (group commit): Append/SetHardState/Reset/Destroy encode a record into ONE write
// buffer for all groups; Sync writes the buffer with one Write and makes it durable with one
// File::Sync. Sync is group commit across fibers too: a caller whose records were already synced
// by another fiber's Sync returns without syncing again.
//
// Recovery (Open, Reopen): scans every segment (torn tail of the last one truncated; reads that
// fail are re-read, verified_read.h), replays the records into the per-group indexes, and then
// SYNCS the last segment before trusting it (what it read may include writes whose Sync failed:
// issue 8's bug, which this log must not repeat). Recover(group) then reads that group's live
// entries back from their locations. A group first seen in the middle of its history (its older
// segments were purged) starts where its first surviving record says.
//
// Purge and rewrite (Maintain): a segment older than every group's pin (group_index.h) holds
// nothing anyone needs and is deleted, oldest first (so the remaining segments stay consecutive).
// Once more than `rewrite_after_segments` segments are kept, the groups pinning the oldest one
// (idle or lagging groups) get their live records copied into the active segment — a hard state
// record, and the live entries as kGroupCopy records (or a reset, for an empty log) — synced,
// after which that segment is deleted. A copy never truncates the log it is replayed onto, so a
// crash that keeps only part of a rewrite loses nothing: the old records are still there.
//
// Group lifecycle: a group exists in the log from its first record. Destroy writes a tombstone
// (with the group's storage prefix) and syncs it: replay forgets everything of the group before
// it, so a re-created group with the same id starts empty, and Open deletes the files under the
// prefix of a group whose tombstone is its last record (finishing a destroy cut short by a
// crash). A tombstone pins nothing: it only shadows older records, and segments are deleted
// oldest first.
//
// Errors: any Disk error fails the log (sticky, returned by every later call) — the owner stops
// every group that had records in flight and calls Reopen. DataLoss from Open/Reopen means the
// stored log itself is corrupt (reads that merely disagree give UNAVAILABLE): `corrupt()`; as with
// every production engine that shares one log, the node's Raft storage is then down as a whole.
//
// Bounds: kMaxGroups groups; kMaxPendingBytes in the write buffer (written early beyond it);
// segments up to segment_bytes (+ one buffer); max_rewrite_bytes_per_pass per Maintain call.
//
// Example (a host, per cycle):
//   auto log = SharedLog::Open(env.disk, env.executor, "raftlog/", {});       // in a fiber
//   std::unique_ptr<GroupLog> g7 = (*log)->ForGroup(7);    // what RaftStorage uses for group 7
//   g7->Append(rd.entries); g7->SetHardState(*rd.hard_state);   // ... for every ready group
//   (*log)->Sync();                                        // ONE sync for all of them
//   if ((*log)->NeedsMaintenance()) (*log)->Maintain();
//
// Thread safety: none; one node's event loop. Calls that do I/O are fiber-only and serialised
// by an IoLock (io_lock.h).
#ifndef CREMA_CONSENSUS_STORAGE_SHARED_LOG_H_
#define CREMA_CONSENSUS_STORAGE_SHARED_LOG_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/btree_map.h"
#include "absl/container/btree_set.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "consensus/storage/group_index.h"
#include "consensus/storage/group_log.h"
#include "consensus/storage/io_lock.h"
#include "consensus/storage/wal.h"
#include "consensus/types.h"
#include "node/disk.h"
#include "node/executor.h"

namespace crema::raft::storage {

struct SharedLogOptions {
  // A segment is closed and a new one started once it reaches this size.
  uint64_t segment_bytes = uint64_t{64} << 20;
  // Maintain rewrites the groups pinning the oldest segment once more segments than this are kept.
  size_t rewrite_after_segments = 4;
  // Copies written per Maintain call, at most (the rest waits for the next call).
  uint64_t max_rewrite_bytes_per_pass = uint64_t{8} << 20;
  // A rewrite's copy of a group's entries is split into records of at most this many body bytes
  // (at least one entry each). REQUIRES: <= kMaxRecordPayloadBytes - 64.
  size_t copy_record_bytes = kMaxRecordPayloadBytes - 64;
};

struct SharedLogStats {
  uint64_t sync_calls = 0;        // Sync() calls
  uint64_t file_syncs = 0;        // File::Sync calls they made (group commit: <= sync_calls)
  uint64_t records = 0;           // records written (copies included)
  uint64_t bytes_written = 0;
  uint64_t segments_created = 0;
  uint64_t segments_purged = 0;
  uint64_t groups_rewritten = 0;
  uint64_t bytes_rewritten = 0;
  uint64_t torn_bytes_dropped = 0;  // by the last Open/Reopen
  uint64_t reopens = 0;
};

class SharedLog {
 public:
  static constexpr size_t kMaxGroups = size_t{1} << 20;
  static constexpr uint64_t kMaxSegmentFileBytes = uint64_t{1} << 30;
  static constexpr size_t kMaxPendingBytes = size_t{64} << 20;

  // Opens (creating if absent) the log under `prefix` and recovers it. `executor` (nullable
  // standalone) serialises I/O between fibers. `disk` and `executor` must outlive the log.
  [[nodiscard]] static absl::StatusOr<std::unique_ptr<SharedLog>> Open(
      Disk* disk, Executor* executor, std::string prefix, const SharedLogOptions& options);
  ~SharedLog();
  SharedLog(const SharedLog&) = delete;
  SharedLog& operator=(const SharedLog&) = delete;

  // --- one group (GroupLog semantics; group_log.h) ---
  // REQUIRES: entries non-empty and consecutive; front().index <= next_index(group).
  [[nodiscard]] absl::Status Append(GroupId group, const std::vector<Entry>& entries);
  [[nodiscard]] absl::Status SetHardState(GroupId group, const HardState& hs);
  [[nodiscard]] absl::Status Reset(GroupId group, Index index, Term term);
  [[nodiscard]] absl::Status Compact(GroupId group, Index index);  // memory only: no I/O
  Index next_index(GroupId group) const;
  // The group's recovered state (hard state, where its log starts, its live entries), read back
  // from disk. UNAVAILABLE for reads that keep disagreeing; DataLoss if a record is corrupt.
  [[nodiscard]] absl::Status Recover(GroupId group, WalContents* contents);
  // Writes and syncs a tombstone: the group's records are gone for good. `prefix` (<=
  // kMaxFileNameBytes) is the group's storage prefix; the caller then deletes its files.
  [[nodiscard]] absl::Status Destroy(GroupId group, std::string_view prefix);
  // A GroupLog for RaftStorage; its Sync is this log's Sync. The log must outlive it.
  std::unique_ptr<GroupLog> ForGroup(GroupId group);

  // --- the node ---
  // Writes every buffered record (of every group) and makes it durable: one Write, one File::Sync.
  [[nodiscard]] absl::Status Sync();
  // Writes buffered records without syncing them (Sync does this itself; exposed so a caller
  // can start the write early, and so crash tests can leave unsynced writes behind).
  [[nodiscard]] absl::Status Flush();
  // Whether Maintain has segments to delete or groups to rewrite (cheap).
  bool NeedsMaintenance() const;
  // Deletes segments nobody needs; rewrites the groups pinning the oldest one when too many are
  // kept (see the file comment). Fiber-only.
  [[nodiscard]] absl::Status Maintain();
  // After a failure: drops the write buffer, rescans the disk and rebuilds every index.
  [[nodiscard]] absl::Status Reopen();

  const absl::Status& failure() const { return failed_; }
  bool corrupt() const { return absl::IsDataLoss(failed_); }
  const SharedLogStats& stats() const { return stats_; }
  size_t segment_count() const { return segments_.size(); }
  size_t group_count() const { return groups_.size(); }
  // The segment the group pins (kPendingSeq if none), for tests.
  uint64_t pin(GroupId group) const;
  uint64_t first_segment() const { return segments_.empty() ? 0 : segments_.front(); }

 private:
  struct Pending {
    RecordType type;
    GroupId group;
    std::string body;  // without the group tag
  };

  SharedLog(Disk* disk, Executor* executor, std::string prefix, const SharedLogOptions& options)
      : disk_(disk), lock_(executor), prefix_(std::move(prefix)), options_(options) {}

  // shared_log.cc — the write path (REQUIRES: lock held for the I/O ones).
  void Buffer(RecordType type, GroupId group, std::string body);  // no I/O
  absl::Status MaybeFlush();  // writes the buffer if it outgrew kMaxPendingBytes (locks)
  absl::Status FlushLocked();
  absl::Status SyncLocked();
  absl::Status StartSegment(uint64_t seq);
  absl::Status Fail(absl::Status status);
  GroupIndex& IndexOf(GroupId group, bool base_known);  // creates it (bounded by kMaxGroups)
  void Repin(GroupId group, uint64_t old_pin);        // after any change of the group's pin
  std::string SegmentName(uint64_t seq) const;
  // A tombstone's prefix may be deleted: not empty, not overlapping the log's own files.
  bool SafeToDelete(std::string_view prefix) const;
  // shared_log_recovery.cc
  absl::Status RecoverLocked();
  absl::Status RecoverSegment(size_t i, bool is_last, bool* dropped);
  absl::Status Replay(const RecordView& record, uint64_t seq);
  absl::Status FinishDestroys();
  absl::Status ReadEntries(const EntryRun& run, File& file, std::vector<Entry>* out);
  // shared_log_maintain.cc
  absl::Status PurgeLocked();
  absl::Status RewriteLocked(GroupId group, uint64_t* bytes);

  Disk* disk_;
  IoLock lock_;
  std::string prefix_;
  SharedLogOptions options_;
  std::vector<uint64_t> segments_;  // seqs, consecutive; back() is being appended to
  std::unique_ptr<File> file_;      // the last segment
  uint64_t file_bytes_ = 0;         // written to it
  uint64_t synced_bytes_ = 0;       // of it known durable (a fact: recovery syncs)
  absl::btree_map<GroupId, GroupIndex> groups_;
  absl::btree_map<uint64_t, absl::btree_set<GroupId>> pins_;  // segment -> groups pinning it
  absl::btree_map<GroupId, std::string> destroyed_;  // replay: tombstone is the group's last record
  std::vector<Pending> pending_;
  // FlushLocked's batch and scratch, kept between flushes so their capacity is reused (a
  // vector and two strings grown from empty per flush were a large share of the node's
  // malloc/free under pipelined writes). Used only under the I/O lock.
  std::vector<Pending> flushing_;
  static constexpr size_t kMaxRetainedFlushBytes = size_t{4} << 20;  // flush_buf_ kept up to this
  std::string flush_buf_;
  std::string flush_tagged_;
  size_t pending_bytes_ = 0;
  uint64_t appended_ = 0;  // records buffered so far (a sequence number)
  uint64_t synced_ = 0;    // records known durable
  absl::Status failed_;
  SharedLogStats stats_;
};

}  // namespace crema::raft::storage

#endif  // CREMA_CONSENSUS_STORAGE_SHARED_LOG_H_
