// SharedLog: the write path — buffering group records, one Write + one File::Sync per Sync,
// segments, the per-group indexes and pins. Recovery: shared_log_recovery.cc; purge and rewrite:
// shared_log_maintain.cc.
#include "consensus/storage/shared_log.h"

#include <algorithm>
#include <cassert>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "consensus/storage/encoding.h"
#include "consensus/storage/shared_log_format.h"

namespace crema::raft::storage {
namespace {

// The group log RaftStorage sees: a view of one group in the shared log.
class SharedGroupLog final : public GroupLog {
 public:
  SharedGroupLog(SharedLog* log, GroupId group) : log_(log), group_(group) {}
  absl::Status Append(const std::vector<Entry>& entries) override {
    return log_->Append(group_, entries);
  }
  absl::Status SetHardState(const HardState& hs) override { return log_->SetHardState(group_, hs); }
  absl::Status Reset(Index index, Term term) override { return log_->Reset(group_, index, term); }
  absl::Status Sync() override { return log_->Sync(); }
  absl::Status Compact(Index index) override { return log_->Compact(group_, index); }
  Index next_index() const override { return log_->next_index(group_); }

 private:
  SharedLog* log_;
  GroupId group_;
};

}  // namespace

SharedLog::~SharedLog() = default;

bool SharedLog::SafeToDelete(std::string_view prefix) const {
  // Never everything, never the log itself.
  auto starts_with = [](std::string_view s, std::string_view p) {
    return s.size() >= p.size() && s.compare(0, p.size(), p) == 0;
  };
  return !prefix.empty() && prefix.size() <= kMaxFileNameBytes && !starts_with(prefix_, prefix) &&
         !starts_with(prefix, prefix_);
}

std::unique_ptr<GroupLog> SharedLog::ForGroup(GroupId group) {
  return std::make_unique<SharedGroupLog>(this, group);
}

std::string SharedLog::SegmentName(uint64_t seq) const {
  return absl::StrCat(prefix_, kLogSegmentPrefix, absl::StrFormat("%016x", seq));
}

absl::Status SharedLog::Fail(absl::Status status) {
  assert(!status.ok());
  if (failed_.ok()) failed_ = status;
  return failed_;
}

GroupIndex& SharedLog::IndexOf(GroupId group, bool base_known) {
  auto it = groups_.find(group);
  if (it == groups_.end()) it = groups_.emplace(group, GroupIndex(base_known)).first;
  return it->second;
}

void SharedLog::Repin(GroupId group, uint64_t old_pin) {
  auto it = groups_.find(group);
  const uint64_t new_pin = it == groups_.end() ? kPendingSeq : it->second.pin();
  if (new_pin == old_pin) return;
  if (old_pin != kPendingSeq) {
    auto p = pins_.find(old_pin);
    assert(p != pins_.end());
    p->second.erase(group);
    if (p->second.empty()) pins_.erase(p);
  }
  if (new_pin != kPendingSeq) pins_[new_pin].insert(group);
}

uint64_t SharedLog::pin(GroupId group) const {
  auto it = groups_.find(group);
  return it == groups_.end() ? kPendingSeq : it->second.pin();
}

Index SharedLog::next_index(GroupId group) const {
  auto it = groups_.find(group);
  return it == groups_.end() ? 1 : it->second.next_index();
}

// --- buffering ----------------------------------------------------------------------------------

void SharedLog::Buffer(RecordType type, GroupId group, std::string body) {
  pending_bytes_ += GroupRecordBytes(body.size());
  pending_.push_back({type, group, std::move(body)});
  ++appended_;
}

absl::Status SharedLog::MaybeFlush() {
  if (pending_bytes_ <= kMaxPendingBytes) return absl::OkStatus();
  IoLockGuard guard(&lock_);
  if (!guard.status().ok()) return guard.status();
  return FlushLocked();
}

absl::Status SharedLog::Append(GroupId group, const std::vector<Entry>& entries) {
  if (!failed_.ok()) return failed_;
  assert(!entries.empty());
  if (!groups_.contains(group) && groups_.size() >= kMaxGroups) {
    return absl::ResourceExhaustedError("too many groups in the shared log");
  }
  GroupIndex& index = IndexOf(group, /*base_known=*/true);
  assert(entries.front().index >= 1 && entries.front().index <= index.next_index());
  constexpr size_t kBodyBudget = kMaxRecordPayloadBytes - 64;
  const uint64_t old_pin = index.pin();
  size_t begin = 0;
  absl::Status status;
  while (begin < entries.size() && status.ok()) {
    size_t end = begin;
    size_t body_bytes = 4;
    while (end < entries.size() &&
           (end == begin || body_bytes + EncodedEntryBytes(entries[end]) <= kBodyBudget)) {
      body_bytes += EncodedEntryBytes(entries[end]);
      ++end;
    }
    if (body_bytes > kBodyBudget) {
      status = absl::InvalidArgumentError(
          absl::StrCat("entry ", entries[begin].index, " is too big for the log"));
      break;
    }
    std::string body = EncodeEntries(entries, begin, end);
    EntryRun run{0, 0, kPendingSeq, pending_bytes_, GroupRecordBytes(body.size())};
    status = index.ApplyEntries(entries[begin].index, entries[end - 1].index, run);
    assert(status.ok());  // REQUIRES of Append
    Buffer(RecordType::kGroupEntries, group, std::move(body));
    begin = end;
  }
  Repin(group, old_pin);
  if (!status.ok()) return status;
  return MaybeFlush();
}

absl::Status SharedLog::SetHardState(GroupId group, const HardState& hs) {
  if (!failed_.ok()) return failed_;
  if (!groups_.contains(group) && groups_.size() >= kMaxGroups) {
    return absl::ResourceExhaustedError("too many groups in the shared log");
  }
  GroupIndex& index = IndexOf(group, /*base_known=*/true);
  const uint64_t old_pin = index.pin();
  index.ApplyHardState(hs, kPendingSeq);
  Repin(group, old_pin);
  Buffer(RecordType::kGroupHardState, group, EncodeHardState(hs));
  return MaybeFlush();
}

absl::Status SharedLog::Reset(GroupId group, Index at, Term term) {
  if (!failed_.ok()) return failed_;
  if (!groups_.contains(group) && groups_.size() >= kMaxGroups) {
    return absl::ResourceExhaustedError("too many groups in the shared log");
  }
  GroupIndex& index = IndexOf(group, /*base_known=*/true);
  const uint64_t old_pin = index.pin();
  index.ApplyReset(at, kPendingSeq);
  Repin(group, old_pin);
  Buffer(RecordType::kGroupReset, group, EncodeReset(at, term));
  return MaybeFlush();
}

absl::Status SharedLog::Compact(GroupId group, Index at) {
  if (!failed_.ok()) return failed_;
  auto it = groups_.find(group);
  if (it == groups_.end()) return absl::OkStatus();
  const uint64_t old_pin = it->second.pin();
  it->second.Compact(at);
  Repin(group, old_pin);
  return absl::OkStatus();
}

absl::Status SharedLog::Destroy(GroupId group, std::string_view prefix) {
  if (!failed_.ok()) return failed_;
  if (!SafeToDelete(prefix)) {
    return absl::InvalidArgumentError(absl::StrCat("cannot destroy storage prefix \"",
                                                   std::string(prefix), "\""));
  }
  auto it = groups_.find(group);
  if (it != groups_.end()) {
    const uint64_t old_pin = it->second.pin();
    groups_.erase(it);
    Repin(group, old_pin);
  }
  Buffer(RecordType::kGroupDestroy, group, std::string(prefix));
  return Sync();
}

// --- writing ------------------------------------------------------------------------------------

absl::Status SharedLog::StartSegment(uint64_t seq) {
  if (file_ != nullptr && synced_bytes_ < file_bytes_) {
    // Every segment but the last must be fully synced (wal_format.h rule 1).
    if (absl::Status s = file_->Sync(); !s.ok()) return s;
    ++stats_.file_syncs;
    synced_bytes_ = file_bytes_;
  }
  const std::string name = SegmentName(seq);
  absl::StatusOr<std::unique_ptr<File>> file = disk_->Open(name, OpenMode::kCreate);
  if (!file.ok()) return file.status();
  if ((*file)->Size() != 0) {
    if (absl::Status s = (*file)->Truncate(0); !s.ok()) return s;
  }
  std::string buf;
  AppendRecord(&buf, RecordType::kLogHeader, 0, EncodeLogHeader(seq));
  if (absl::Status s = (*file)->Write(0, buf); !s.ok()) return s;
  if (absl::Status s = (*file)->Sync(); !s.ok()) return s;
  ++stats_.file_syncs;
  ++stats_.segments_created;
  segments_.push_back(seq);
  file_ = *std::move(file);
  file_bytes_ = synced_bytes_ = buf.size();
  return absl::OkStatus();
}

absl::Status SharedLog::FlushLocked() {
  assert(lock_.held());
  if (!failed_.ok()) return failed_;
  if (pending_.empty()) return absl::OkStatus();
  if (file_bytes_ >= options_.segment_bytes) {
    if (absl::Status s = StartSegment(segments_.back() + 1); !s.ok()) return Fail(s);
  }
  // Buffer() may add to pending_ while this fiber waits in the write below: swap, do not share.
  std::vector<Pending>& batch = flushing_;
  batch.clear();
  batch.swap(pending_);
  std::string& buf = flush_buf_;
  buf.clear();
  buf.reserve(pending_bytes_);
  pending_bytes_ = 0;
  absl::btree_set<GroupId> touched;
  std::string& tagged = flush_tagged_;
  for (const Pending& record : batch) {
    tagged.clear();
    PutU64(&tagged, record.group);
    tagged += record.body;
    AppendRecord(&buf, record.type, synced_bytes_, tagged);
    touched.insert(record.group);
  }
  // Where the buffered records land: resolve the groups' locations (and so their pins).
  const uint64_t seq = segments_.back();
  for (GroupId group : touched) {
    auto it = groups_.find(group);
    if (it == groups_.end()) continue;  // destroyed meanwhile
    const uint64_t old_pin = it->second.pin();
    it->second.ResolvePending(seq, file_bytes_);
    Repin(group, old_pin);
  }
  if (absl::Status s = file_->Write(file_bytes_, buf); !s.ok()) return Fail(s);
  file_bytes_ += buf.size();
  stats_.records += batch.size();
  stats_.bytes_written += buf.size();
  batch.clear();  // the bodies go; the capacity stays for the next flush
  if (buf.capacity() > kMaxRetainedFlushBytes) std::string().swap(buf);  // a rare huge batch
  return absl::OkStatus();
}

absl::Status SharedLog::SyncLocked() {
  assert(lock_.held());
  const uint64_t target = appended_;
  if (absl::Status s = FlushLocked(); !s.ok()) return s;
  if (synced_bytes_ != file_bytes_) {
    if (absl::Status s = file_->Sync(); !s.ok()) return Fail(s);
    ++stats_.file_syncs;
    synced_bytes_ = file_bytes_;
  }
  synced_ = std::max(synced_, target);
  return absl::OkStatus();
}

absl::Status SharedLog::Flush() {
  if (!failed_.ok()) return failed_;
  IoLockGuard guard(&lock_);
  if (!guard.status().ok()) return guard.status();
  return FlushLocked();
}

absl::Status SharedLog::Sync() {
  ++stats_.sync_calls;
  if (!failed_.ok()) return failed_;
  const uint64_t target = appended_;
  IoLockGuard guard(&lock_);
  if (!guard.status().ok()) return guard.status();
  if (!failed_.ok()) return failed_;
  if (synced_ >= target) return absl::OkStatus();  // another fiber's Sync covered our records
  return SyncLocked();
}

}  // namespace crema::raft::storage
