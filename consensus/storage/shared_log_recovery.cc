// SharedLog: opening and recovery — scanning segments, replaying records into the per-group
// indexes, finishing destroys, and reading a group's entries back (Recover).
#include <algorithm>
#include <cassert>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "consensus/storage/shared_log.h"
#include "consensus/storage/shared_log_format.h"
#include "consensus/storage/verified_read.h"

namespace crema::raft::storage {
namespace {
constexpr size_t kSeqHexDigits = 16;
}  // namespace

absl::StatusOr<std::unique_ptr<SharedLog>> SharedLog::Open(Disk* disk, Executor* executor,
                                                           std::string prefix,
                                                           const SharedLogOptions& options) {
  assert(options.segment_bytes > 0);
  std::unique_ptr<SharedLog> log(new SharedLog(disk, executor, std::move(prefix), options));
  IoLockGuard guard(&log->lock_);
  if (!guard.status().ok()) return guard.status();
  if (absl::Status s = log->RecoverLocked(); !s.ok()) return s;
  return log;
}

absl::Status SharedLog::Reopen() {
  IoLockGuard guard(&lock_);
  if (!guard.status().ok()) return guard.status();
  if (failed_.ok()) {
    // Not failed: keep what is buffered (its owners were told nothing went wrong).
    if (absl::Status s = SyncLocked(); !s.ok()) return s;
  }
  ++stats_.reopens;
  absl::Status s = RecoverLocked();
  if (!s.ok()) failed_ = s;  // until a later Reopen succeeds
  return s;
}

absl::Status SharedLog::RecoverLocked() {
  assert(lock_.held());
  segments_.clear();
  file_.reset();
  file_bytes_ = synced_bytes_ = 0;
  groups_.clear();
  pins_.clear();
  destroyed_.clear();
  pending_.clear();
  pending_bytes_ = 0;
  synced_ = appended_;  // nothing is buffered any more
  stats_.torn_bytes_dropped = 0;
  failed_ = absl::OkStatus();

  const std::string list_prefix = absl::StrCat(prefix_, kLogSegmentPrefix);
  absl::StatusOr<std::vector<std::string>> names = disk_->List(list_prefix);
  if (!names.ok()) return names.status();
  for (const std::string& name : *names) {
    const std::string_view hex = std::string_view(name).substr(list_prefix.size());
    uint64_t seq = 0;
    if (hex.size() != kSeqHexDigits || !absl::SimpleHexAtoi(std::string(hex), &seq) || seq == 0) {
      return absl::DataLossError(absl::StrCat("unexpected file in the shared log: ", name));
    }
    if (!segments_.empty() && seq != segments_.back() + 1) {
      return absl::DataLossError(absl::StrCat("shared log segment missing before ", name));
    }
    segments_.push_back(seq);
  }
  uint64_t next_seq = segments_.empty() ? 1 : segments_.back() + 1;
  for (size_t i = 0; i < segments_.size(); ++i) {
    bool dropped = false;
    if (absl::Status s = RecoverSegment(i, i + 1 == segments_.size(), &dropped); !s.ok()) {
      return s;
    }
    if (dropped) {
      next_seq = segments_.back();
      segments_.pop_back();
      break;
    }
  }
  if (segments_.empty()) {
    if (absl::Status s = StartSegment(next_seq); !s.ok()) return s;
  } else if (file_ == nullptr) {
    // The last segment was a new one whose header never became durable: continue the previous
    // one (fully synced before the new one was created; synced again so that is a fact).
    absl::StatusOr<std::unique_ptr<File>> file =
        disk_->Open(SegmentName(segments_.back()), OpenMode::kOpenExisting);
    if (!file.ok()) return file.status();
    if (absl::Status s = (*file)->Sync(); !s.ok()) return s;
    file_ = *std::move(file);
    file_bytes_ = synced_bytes_ = file_->Size();
  }
  return FinishDestroys();
}

absl::Status SharedLog::RecoverSegment(size_t i, bool is_last, bool* dropped) {
  const uint64_t seq = segments_[i];
  const std::string name = SegmentName(seq);
  absl::StatusOr<std::unique_ptr<File>> file = disk_->Open(name, OpenMode::kOpenExisting);
  if (!file.ok()) return file.status();
  std::string bytes;
  SegmentScan scan;
  // A torn tail is truncated below: decided only on bytes read twice alike (verified_read.h).
  if (absl::Status s = ReadVerified(**file, kMaxSegmentFileBytes, name, &bytes,
                                    [&](std::string_view b) {
                                      absl::Status st = ScanSegment(b, name, is_last, &scan);
                                      return ReadCheck{st, st.ok() && scan.torn};
                                    });
      !s.ok()) {
    return s;
  }
  if (scan.records.empty() && is_last && (scan.torn || bytes.empty())) {
    // A new segment whose header never became durable: it holds nothing that was synced.
    if (absl::Status s = disk_->Delete(name); !s.ok()) return s;
    stats_.torn_bytes_dropped += bytes.size();
    *dropped = true;
    return absl::OkStatus();
  }
  const std::string where = absl::StrCat("shared log segment ", name, ": ");
  uint64_t header_seq = 0;
  if (scan.records.empty() || scan.records[0].type != RecordType::kLogHeader) {
    return absl::DataLossError(absl::StrCat(where, "does not start with a header"));
  }
  if (absl::Status s = DecodeLogHeader(scan.records[0].body, &header_seq); !s.ok()) {
    return absl::DataLossError(absl::StrCat(where, s.message()));
  }
  if (header_seq != seq) return absl::DataLossError(absl::StrCat(where, "wrong seq"));
  for (size_t r = 1; r < scan.records.size(); ++r) {
    if (absl::Status s = Replay(scan.records[r], seq); !s.ok()) {
      return absl::DataLossError(
          absl::StrCat(where, "offset ", scan.records[r].offset, ": ", s.message()));
    }
  }
  if (!is_last) return absl::OkStatus();
  if (scan.torn) {
    if (absl::Status s = (*file)->Truncate(scan.valid_end); !s.ok()) return s;
    stats_.torn_bytes_dropped += bytes.size() - scan.valid_end;
  }
  // What the scan read may include writes whose Sync failed (the owner reopened without a crash):
  // everything recovered is treated as durable from now on, so make it so before trusting it.
  if (absl::Status s = (*file)->Sync(); !s.ok()) return s;
  file_ = *std::move(file);
  file_bytes_ = synced_bytes_ = scan.valid_end;
  return absl::OkStatus();
}

absl::Status SharedLog::Replay(const RecordView& record, uint64_t seq) {
  if (record.type == RecordType::kLogHeader) return absl::DataLossError("header in the middle");
  if (record.type < RecordType::kGroupEntries) {
    return absl::DataLossError(absl::StrCat("unexpected record type ",
                                            static_cast<int>(record.type)));
  }
  GroupId group = 0;
  std::string_view body;
  if (absl::Status s = SplitGroupBody(record.body, &group, &body); !s.ok()) return s;
  if (record.type == RecordType::kGroupDestroy) {
    if (body.size() > kMaxFileNameBytes) return absl::DataLossError("tombstone prefix too long");
    auto it = groups_.find(group);
    if (it != groups_.end()) {
      const uint64_t old_pin = it->second.pin();
      groups_.erase(it);
      Repin(group, old_pin);
    }
    destroyed_[group] = std::string(body);
    return absl::OkStatus();
  }
  destroyed_.erase(group);  // a later record: the group was created again
  if (!groups_.contains(group) && groups_.size() >= kMaxGroups) {
    return absl::DataLossError("more groups in the shared log than kMaxGroups");
  }
  GroupIndex& index = IndexOf(group, /*base_known=*/false);
  const uint64_t old_pin = index.pin();
  absl::Status s;
  switch (record.type) {
    case RecordType::kGroupEntries:
    case RecordType::kGroupCopy: {
      Index first = 0;
      Index last = 0;
      s = ScanEntries(body, &first, &last);
      if (!s.ok()) break;
      const EntryRun run{first, last, seq, record.offset, record.size};
      s = record.type == RecordType::kGroupEntries ? index.ApplyEntries(first, last, run)
                                                   : index.ApplyCopy(first, last, run);
      break;
    }
    case RecordType::kGroupHardState: {
      HardState hs;
      s = DecodeHardState(body, &hs);
      if (s.ok()) index.ApplyHardState(hs, seq);
      break;
    }
    case RecordType::kGroupReset: {
      Index at = 0;
      Term term = 0;
      s = DecodeReset(body, &at, &term);
      if (s.ok()) index.ApplyReset(at, seq);
      break;
    }
    default:
      s = absl::DataLossError(absl::StrCat("unexpected record type ",
                                           static_cast<int>(record.type)));
  }
  Repin(group, old_pin);
  if (s.ok() && index.empty()) {  // a record that left nothing (cannot happen; keep maps tidy)
    groups_.erase(group);
  }
  return s;
}

absl::Status SharedLog::FinishDestroys() {
  for (const auto& [group, prefix] : destroyed_) {
    if (!SafeToDelete(prefix)) continue;  // never written so; never delete the log itself
    absl::StatusOr<std::vector<std::string>> files = disk_->List(prefix);
    if (!files.ok()) return files.status();
    for (const std::string& name : *files) {
      if (absl::Status s = disk_->Delete(name); !s.ok()) return s;
    }
  }
  destroyed_.clear();
  return absl::OkStatus();
}

// --- reading a group back -----------------------------------------------------------------------

absl::Status SharedLog::ReadEntries(const EntryRun& run, File& file, std::vector<Entry>* out) {
  const std::string name = SegmentName(run.seq);
  std::string bytes;
  std::vector<Entry> decoded;
  absl::Status s = ReadVerifiedRange(
      file, run.offset, static_cast<size_t>(run.size), name, &bytes, [&](std::string_view b) {
        RecordView record;
        absl::Status st = ParseRecord(b, run.offset, &record);
        GroupId group = 0;
        std::string_view body;
        if (st.ok() && record.size != run.size) st = absl::DataLossError("record size changed");
        if (st.ok()) st = SplitGroupBody(record.body, &group, &body);
        decoded.clear();
        if (st.ok()) st = DecodeEntries(body, &decoded);
        if (st.ok() && (decoded.front().index > run.first || decoded.back().index < run.last)) {
          st = absl::DataLossError("record does not hold the entries indexed to it");
        }
        return ReadCheck{st.ok() || absl::IsDataLoss(st) ? st : absl::DataLossError(st.message())};
      });
  if (!s.ok()) {
    return absl::IsDataLoss(s) ? absl::DataLossError(absl::StrCat(name, ": ", s.message())) : s;
  }
  for (Entry& e : decoded) {
    if (e.index >= run.first && e.index <= run.last) out->push_back(std::move(e));
  }
  return absl::OkStatus();
}

absl::Status SharedLog::Recover(GroupId group, WalContents* contents) {
  *contents = WalContents();
  if (!failed_.ok()) return failed_;
  IoLockGuard guard(&lock_);
  if (!guard.status().ok()) return guard.status();
  if (!pending_.empty()) {  // locations must be on disk to be read back
    if (absl::Status s = FlushLocked(); !s.ok()) return s;
  }
  auto it = groups_.find(group);
  if (it == groups_.end()) return absl::OkStatus();
  // Copy what is needed: the index may change while this fiber waits for the disk.
  const GroupIndex index = it->second;
  contents->hard_state = index.hard_state();
  contents->base_index = index.first_index() - 1;
  std::unique_ptr<File> file;
  uint64_t file_seq = 0;
  for (const EntryRun& run : index.runs()) {
    assert(run.seq != kPendingSeq);
    if (file == nullptr || file_seq != run.seq) {
      absl::StatusOr<std::unique_ptr<File>> f =
          disk_->Open(SegmentName(run.seq), OpenMode::kOpenExisting);
      if (!f.ok()) return f.status();
      file = *std::move(f);
      file_seq = run.seq;
    }
    if (absl::Status s = ReadEntries(run, *file, &contents->entries); !s.ok()) return s;
  }
  for (size_t i = 1; i < contents->entries.size(); ++i) {
    if (contents->entries[i].index != contents->entries[i - 1].index + 1) {
      return absl::DataLossError(absl::StrCat("group ", group, ": recovered entries not consecutive"));
    }
  }
  return absl::OkStatus();
}

}  // namespace crema::raft::storage
