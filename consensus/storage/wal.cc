#include "consensus/storage/wal.h"

#include <algorithm>
#include <cassert>
#include <cinttypes>
#include <cstdio>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "consensus/storage/verified_read.h"

namespace crema::raft::storage {
namespace {

constexpr char kSegmentPrefix[] = "wal-";
constexpr size_t kSeqHexDigits = 16;

Index NextIndexOf(const WalContents& c) { return c.base_index + c.entries.size() + 1; }

// Applies one kEntries body to the recovered log (Raft's suffix-replacement rule).
absl::Status ApplyEntries(std::string_view body, std::string_view where, WalContents* c,
                          Index* max_index) {
  std::vector<Entry> batch;
  if (absl::Status s = DecodeEntries(body, &batch); !s.ok()) {
    return absl::DataLossError(absl::StrCat(std::string(where), s.message()));
  }
  const Index first = batch.front().index;
  if (first > NextIndexOf(*c)) {
    return absl::DataLossError(absl::StrCat(std::string(where), "entries from ", first,
                                            " leave a gap after ", NextIndexOf(*c) - 1));
  }
  if (first <= c->base_index) {
    c->entries.clear();
    c->base_index = first - 1;
  } else {
    c->entries.resize(first - c->base_index - 1);
  }
  *max_index = std::max(*max_index, batch.back().index);
  for (Entry& e : batch) c->entries.push_back(std::move(e));
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::string> ReadWholeFile(File& file, uint64_t max_bytes, std::string_view name) {
  const uint64_t size = file.Size();
  if (size > max_bytes) {
    return absl::DataLossError(
        absl::StrCat(std::string(name), ": file of ", size, " bytes exceeds the bound of ", max_bytes));
  }
  std::string out;
  out.reserve(size);
  while (out.size() < size) {
    const size_t want = static_cast<size_t>(std::min<uint64_t>(kMaxReadBytes, size - out.size()));
    absl::StatusOr<std::string> chunk = file.Read(out.size(), want);
    if (!chunk.ok()) return chunk.status();
    if (chunk->empty()) break;
    out += *chunk;
  }
  return out;
}

std::string Wal::SegmentName(uint64_t seq) const {
  return absl::StrCat(prefix_, kSegmentPrefix, absl::StrFormat("%016x", seq));
}

absl::StatusOr<std::unique_ptr<Wal>> Wal::Open(Disk* disk, std::string prefix,
                                               const WalOptions& options, WalContents* contents) {
  assert(options.segment_bytes > 0);
  std::unique_ptr<Wal> wal(new Wal(disk, std::move(prefix), options));
  *contents = WalContents();
  if (absl::Status s = wal->Recover(contents); !s.ok()) return s;
  return wal;
}

absl::Status Wal::Recover(WalContents* c) {
  const std::string list_prefix = absl::StrCat(prefix_, kSegmentPrefix);
  absl::StatusOr<std::vector<std::string>> names = disk_->List(list_prefix);
  if (!names.ok()) return names.status();
  for (const std::string& name : *names) {
    const std::string_view hex = std::string_view(name).substr(list_prefix.size());
    uint64_t seq = 0;
    if (hex.size() != kSeqHexDigits || !absl::SimpleHexAtoi(std::string(hex), &seq) || seq == 0) {
      return absl::DataLossError(absl::StrCat("unexpected file in the WAL: ", name));
    }
    if (!segments_.empty() && seq != segments_.back().seq + 1) {
      return absl::DataLossError(absl::StrCat("WAL segment missing before ", name));
    }
    segments_.push_back({seq, name, 0});
  }
  uint64_t next_seq = segments_.empty() ? 1 : segments_.back().seq + 1;
  for (size_t i = 0; i < segments_.size(); ++i) {
    bool dropped = false;
    const bool is_last = i + 1 == segments_.size();
    if (absl::Status s = RecoverSegment(i, is_last, c, &dropped); !s.ok()) return s;
    if (dropped) {
      next_seq = segments_.back().seq;
      segments_.pop_back();
      break;
    }
  }
  hard_state_ = file_hard_state_ = c->hard_state;
  next_index_ = file_next_index_ = NextIndexOf(*c);
  if (segments_.empty()) return StartSegment(next_seq);
  if (file_ == nullptr) {  // the last segment was a torn, never-synced new one: continue the previous
    absl::StatusOr<std::unique_ptr<File>> file =
        disk_->Open(segments_.back().name, OpenMode::kOpenExisting);
    if (!file.ok()) return file.status();
    file_ = *std::move(file);
    // What it holds was synced before the dropped segment was created; sync anyway, so that
    // synced_bytes_ is a fact and not an assumption (see RecoverSegment).
    if (absl::Status s = file_->Sync(); !s.ok()) return s;
    file_bytes_ = synced_bytes_ = file_->Size();
  }
  return absl::OkStatus();
}

absl::Status Wal::RecoverSegment(size_t i, bool is_last, WalContents* c, bool* dropped) {
  const Segment& segment = segments_[i];
  absl::StatusOr<std::unique_ptr<File>> file = disk_->Open(segment.name, OpenMode::kOpenExisting);
  if (!file.ok()) return file.status();
  // A torn tail is truncated below: a destructive decision, taken only on bytes read twice alike.
  std::string bytes_read;
  const std::string* bytes = &bytes_read;
  SegmentScan scan;
  absl::Status read = ReadVerified(**file, kMaxSegmentFileBytes, segment.name, &bytes_read,
                                   [&](std::string_view b) {
                                     absl::Status s = ScanSegment(b, segment.name, is_last, &scan);
                                     return ReadCheck{s, s.ok() && scan.torn};
                                   });
  if (!read.ok()) return read;
  if (scan.records.empty() && is_last && (scan.torn || bytes->empty())) {
    // A new segment whose header never became durable: it holds nothing that was synced.
    if (absl::Status s = disk_->Delete(segment.name); !s.ok()) return s;
    c->torn_bytes_dropped += bytes->size();
    *dropped = true;
    return absl::OkStatus();
  }
  const std::string where = absl::StrCat("WAL segment ", segment.name, ": ");
  if (scan.records.empty() || scan.records[0].type != RecordType::kSegmentHeader) {
    return absl::DataLossError(absl::StrCat(where, "does not start with a segment header"));
  }
  SegmentHeader header;
  if (absl::Status s = DecodeSegmentHeader(scan.records[0].body, &header); !s.ok()) {
    return absl::DataLossError(absl::StrCat(std::string(where), s.message()));
  }
  if (header.seq != segment.seq) return absl::DataLossError(absl::StrCat(where, "wrong seq"));
  if (i == 0) {
    c->hard_state = header.hard_state;
    c->base_index = header.next_index - 1;
  } else if (header.next_index != NextIndexOf(*c) || header.hard_state != c->hard_state) {
    return absl::DataLossError(absl::StrCat(where, "header disagrees with the previous segment"));
  }
  Index max_index = 0;
  for (size_t r = 1; r < scan.records.size(); ++r) {
    const RecordView& record = scan.records[r];
    const std::string at = absl::StrCat(where, "offset ", record.offset, ": ");
    absl::Status s;
    switch (record.type) {
      case RecordType::kSegmentHeader:
        return absl::DataLossError(absl::StrCat(at, "segment header in the middle"));
      case RecordType::kHardState:
        s = DecodeHardState(record.body, &c->hard_state);
        break;
      case RecordType::kEntries:
        s = ApplyEntries(record.body, at, c, &max_index);
        break;
      case RecordType::kReset: {
        Index index = 0;
        Term term = 0;
        s = DecodeReset(record.body, &index, &term);
        c->entries.clear();
        c->base_index = index;
        max_index = 0;  // everything before the reset, here and in older segments, is dead
        for (size_t k = 0; k < i; ++k) segments_[k].max_index = 0;
        break;
      }
      default:  // a record of the shared log (shared_log.h): not a per-group WAL
        return absl::DataLossError(absl::StrCat(at, "unexpected record type ",
                                                static_cast<int>(record.type)));
    }
    if (!s.ok()) return absl::DataLossError(absl::StrCat(at, s.message()));
  }
  segments_[i].max_index = max_index;
  if (!is_last) return absl::OkStatus();
  if (scan.torn) {
    if (absl::Status s = (*file)->Truncate(scan.valid_end); !s.ok()) return s;
    c->torn_bytes_dropped += bytes->size() - scan.valid_end;
  }
  // The scan read what this node sees, which may include writes that were never synced (a Sync
  // failed, then the owner reopened without a crash). Recovery hands all of it to the core as
  // durable, and later records vouch for it through synced_offset: make it durable first.
  if (absl::Status s = (*file)->Sync(); !s.ok()) return s;
  file_ = *std::move(file);
  file_bytes_ = synced_bytes_ = scan.valid_end;
  return absl::OkStatus();
}

absl::Status Wal::StartSegment(uint64_t seq) {
  if (file_ != nullptr && synced_bytes_ < file_bytes_) {
    // Every segment but the last must be fully synced (wal_format.h rule 1).
    if (absl::Status s = file_->Sync(); !s.ok()) return s;
    synced_bytes_ = file_bytes_;
  }
  const std::string name = SegmentName(seq);
  absl::StatusOr<std::unique_ptr<File>> file = disk_->Open(name, OpenMode::kCreate);
  if (!file.ok()) return file.status();
  if ((*file)->Size() != 0) {
    if (absl::Status s = (*file)->Truncate(0); !s.ok()) return s;
  }
  std::string buf;
  AppendRecord(&buf, RecordType::kSegmentHeader, 0,
               EncodeSegmentHeader({seq, file_next_index_, file_hard_state_}));
  if (absl::Status s = (*file)->Write(0, buf); !s.ok()) return s;
  if (absl::Status s = (*file)->Sync(); !s.ok()) return s;
  segments_.push_back({seq, name, 0});
  file_ = *std::move(file);
  file_bytes_ = synced_bytes_ = buf.size();
  return absl::OkStatus();
}

absl::Status Wal::Fail(absl::Status status) {
  assert(!status.ok());
  if (failed_.ok()) failed_ = status;
  return failed_;
}

absl::Status Wal::Append(const std::vector<Entry>& entries) {
  if (!failed_.ok()) return failed_;
  assert(!entries.empty());
  assert(entries.front().index >= 1 && entries.front().index <= next_index_);
  constexpr size_t kBodyBudget = kMaxRecordPayloadBytes - 64;
  size_t begin = 0;
  while (begin < entries.size()) {
    size_t end = begin;
    size_t body_bytes = 4;
    while (end < entries.size() && (end == begin ||
                                    body_bytes + EncodedEntryBytes(entries[end]) <= kBodyBudget)) {
      body_bytes += EncodedEntryBytes(entries[end]);
      ++end;
    }
    if (body_bytes > kBodyBudget) {
      return absl::InvalidArgumentError(
          absl::StrCat("entry ", entries[begin].index, " is too big for the WAL"));
    }
    pending_bytes_ += body_bytes + kRecordOverheadBytes + 8;
    pending_.push_back({RecordType::kEntries, EncodeEntries(entries, begin, end),
                        entries[end - 1].index});
    begin = end;
  }
  next_index_ = entries.back().index + 1;
  if (pending_bytes_ > kMaxPendingBytes) return Flush();
  return absl::OkStatus();
}

absl::Status Wal::SetHardState(const HardState& hs) {
  if (!failed_.ok()) return failed_;
  hard_state_ = hs;
  pending_.push_back({RecordType::kHardState, EncodeHardState(hs), 0});
  pending_bytes_ += pending_.back().body.size() + kRecordOverheadBytes + 8;
  return absl::OkStatus();
}

absl::Status Wal::Reset(Index index, Term term) {
  if (!failed_.ok()) return failed_;
  next_index_ = index + 1;
  pending_.push_back({RecordType::kReset, EncodeReset(index, term), index});
  pending_bytes_ += pending_.back().body.size() + kRecordOverheadBytes + 8;
  return absl::OkStatus();
}

absl::Status Wal::Flush() {
  if (!failed_.ok()) return failed_;
  if (pending_.empty()) return absl::OkStatus();
  if (file_bytes_ >= options_.segment_bytes) {
    if (absl::Status s = StartSegment(segments_.back().seq + 1); !s.ok()) return Fail(s);
  }
  std::string buf;
  buf.reserve(pending_bytes_);
  Index max_index = segments_.back().max_index;
  for (const PendingRecord& record : pending_) {
    AppendRecord(&buf, record.type, synced_bytes_, record.body);
    if (record.type == RecordType::kEntries) max_index = std::max(max_index, record.max_index);
    if (record.type == RecordType::kReset) {
      max_index = 0;
      unsynced_reset_seq_ = segments_.back().seq;  // older segments die once it is durable
    }
  }
  segments_.back().max_index = max_index;
  pending_.clear();
  pending_bytes_ = 0;
  if (absl::Status s = file_->Write(file_bytes_, buf); !s.ok()) return Fail(s);
  file_bytes_ += buf.size();
  file_hard_state_ = hard_state_;
  file_next_index_ = next_index_;
  return absl::OkStatus();
}

absl::Status Wal::Sync() {
  if (absl::Status s = Flush(); !s.ok()) return s;
  if (synced_bytes_ != file_bytes_) {
    if (absl::Status s = file_->Sync(); !s.ok()) return Fail(s);
  }
  synced_bytes_ = file_bytes_;
  if (unsynced_reset_seq_ != 0) {
    for (Segment& segment : segments_) {
      if (segment.seq < unsynced_reset_seq_) segment.max_index = 0;
    }
    unsynced_reset_seq_ = 0;
  }
  return absl::OkStatus();
}

absl::Status Wal::Compact(Index index) {
  if (!failed_.ok()) return failed_;
  while (segments_.size() > 1 && segments_.front().max_index < index) {
    if (absl::Status s = disk_->Delete(segments_.front().name); !s.ok()) return Fail(s);
    segments_.erase(segments_.begin());
  }
  return absl::OkStatus();
}

}  // namespace crema::raft::storage
