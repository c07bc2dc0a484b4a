// SharedLog: purging segments nobody needs, and rewriting the live records of the groups that
// pin the oldest segment (shared_log.h, "Purge and rewrite").
#include <algorithm>
#include <cassert>
#include <utility>

#include "absl/strings/str_cat.h"
#include "consensus/storage/shared_log.h"
#include "consensus/storage/shared_log_format.h"

namespace crema::raft::storage {

bool SharedLog::NeedsMaintenance() const {
  if (!failed_.ok() || segments_.size() <= 1) return false;
  const uint64_t oldest_pin = pins_.empty() ? kPendingSeq : pins_.begin()->first;
  return oldest_pin > segments_.front() || segments_.size() > options_.rewrite_after_segments;
}

absl::Status SharedLog::PurgeLocked() {
  assert(lock_.held());
  while (segments_.size() > 1) {
    // Pins describe the log including buffered records; until those are durable, the records
    // they supersede are still the durable truth. Purge only when everything buffered is synced
    // (checked again after every Delete: other fibers may buffer meanwhile).
    if (synced_ != appended_) break;
    const uint64_t oldest_pin = pins_.empty() ? kPendingSeq : pins_.begin()->first;
    const uint64_t seq = segments_.front();
    if (seq >= oldest_pin) break;
    // Oldest first, so the segments left stay consecutive whatever happens next.
    if (absl::Status s = disk_->Delete(SegmentName(seq)); !s.ok()) return Fail(s);
    segments_.erase(segments_.begin());
    ++stats_.segments_purged;
  }
  return absl::OkStatus();
}

absl::Status SharedLog::Maintain() {
  if (!failed_.ok()) return failed_;
  IoLockGuard guard(&lock_);
  if (!guard.status().ok()) return guard.status();
  if (!failed_.ok()) return failed_;
  if (absl::Status s = SyncLocked(); !s.ok()) return s;  // so that the pins are durable facts
  if (absl::Status s = PurgeLocked(); !s.ok()) return s;
  if (segments_.size() <= options_.rewrite_after_segments) return absl::OkStatus();
  // Copy the live records of the groups pinning the oldest segment into the active one.
  const uint64_t oldest = segments_.front();
  auto pinned = pins_.find(oldest);
  if (pinned == pins_.end()) return absl::OkStatus();
  const std::vector<GroupId> groups(pinned->second.begin(), pinned->second.end());
  uint64_t bytes = 0;
  for (GroupId group : groups) {
    if (bytes >= options_.max_rewrite_bytes_per_pass) break;
    absl::Status s = RewriteLocked(group, &bytes);
    if (s.ok()) continue;
    if (!failed_.ok()) return failed_;
    // A read that keeps failing: leave this group for a later pass (the log itself is fine).
  }
  if (absl::Status s = SyncLocked(); !s.ok()) return s;
  return PurgeLocked();
}

absl::Status SharedLog::RewriteLocked(GroupId group, uint64_t* bytes) {
  assert(lock_.held());
  auto it = groups_.find(group);
  if (it == groups_.end()) return absl::OkStatus();
  const GroupIndex before = it->second;
  if (before.pin() == kPendingSeq) return absl::OkStatus();  // everything is being written anyway
  // Read the whole live tail: a copy always reaches the end of the log, so that, replayed onto
  // whatever of the group survives before it, it never leaves a gap (group_index.h).
  // Entries that do not pin the oldest segment stay where they are.
  const bool copy_entries = !before.runs().empty() && before.runs().front().seq <= segments_.front();
  std::vector<Entry> entries;
  std::unique_ptr<File> file;
  uint64_t file_seq = 0;
  for (const EntryRun& run : copy_entries ? before.runs() : std::deque<EntryRun>{}) {
    if (run.seq == kPendingSeq) return absl::OkStatus();  // being written: rewrite later
    if (file == nullptr || file_seq != run.seq) {
      absl::StatusOr<std::unique_ptr<File>> f =
          disk_->Open(SegmentName(run.seq), OpenMode::kOpenExisting);
      if (!f.ok()) return f.status();
      file = *std::move(f);
      file_seq = run.seq;
    }
    if (absl::Status s = ReadEntries(run, *file, &entries); !s.ok()) return s;
  }
  it = groups_.find(group);
  if (it == groups_.end() || it->second.version() != before.version()) {
    return absl::OkStatus();  // written or destroyed while we read: its pin moves by itself
  }
  GroupIndex& index = it->second;
  const uint64_t old_pin = index.pin();
  const uint64_t pending_before = pending_bytes_;
  if (index.has_hard_state()) {
    index.ApplyHardState(index.hard_state(), kPendingSeq);
    Buffer(RecordType::kGroupHardState, group, EncodeHardState(index.hard_state()));
  }
  if (!copy_entries) {
    if (index.runs().empty() && index.base_from_reset()) {
      const Index base = index.first_index() - 1;
      index.ApplyReset(base, kPendingSeq);
      Buffer(RecordType::kGroupReset, group, EncodeReset(base, 0));  // recovery ignores the term
    }
  } else {
    // Split into records from the END backwards: every copy record then overlaps or touches
    // what replay holds when it meets it (group_index.h), whatever survives of the rest.
    const size_t kBodyBudget = std::min(options_.copy_record_bytes, kMaxRecordPayloadBytes - 64);
    size_t end = entries.size();
    while (end > 0) {
      size_t begin = end;
      size_t body_bytes = 4;
      while (begin > 0 && (begin == end ||
                           body_bytes + EncodedEntryBytes(entries[begin - 1]) <= kBodyBudget)) {
        body_bytes += EncodedEntryBytes(entries[begin - 1]);
        --begin;
      }
      std::string body = EncodeEntries(entries, begin, end);
      const EntryRun run{0, 0, kPendingSeq, pending_bytes_, GroupRecordBytes(body.size())};
      absl::Status s = index.ApplyCopy(entries[begin].index, entries[end - 1].index, run);
      assert(s.ok());
      if (!s.ok()) return Fail(absl::InternalError(absl::StrCat("rewrite: ", s.message())));
      Buffer(RecordType::kGroupCopy, group, std::move(body));
      end = begin;
    }
  }
  Repin(group, old_pin);
  *bytes += pending_bytes_ - pending_before;
  stats_.bytes_rewritten += pending_bytes_ - pending_before;
  ++stats_.groups_rewritten;
  if (pending_bytes_ > kMaxPendingBytes) return FlushLocked();
  return absl::OkStatus();
}

}  // namespace crema::raft::storage
