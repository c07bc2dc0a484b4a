#include "consensus/storage/wal_format.h"

#include <xxhash.h>

#include <algorithm>
#include <cassert>

#include "absl/strings/str_cat.h"
#include "consensus/storage/encoding.h"

namespace crema::raft::storage {
namespace {

uint64_t HeaderHash(const char* header5) { return XXH3_64bits(header5, 5); }

// Why the record at an offset could not be used, and whether that looks like a lost write.
struct ParseFailure {
  std::string why;
  bool torn_evidence = false;
};

bool AllZero(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return c == 0; });
}

// Does file[begin, end) contain a whole kTornSectorBytes-aligned sector of zeros?
bool HasZeroSector(std::string_view file, uint64_t begin, uint64_t end) {
  for (uint64_t s = (begin + kTornSectorBytes - 1) / kTornSectorBytes * kTornSectorBytes;
       s + kTornSectorBytes <= end; s += kTornSectorBytes) {
    if (AllZero(file.substr(s, kTornSectorBytes))) return true;
  }
  return false;
}

// Do the bytes [begin, end) end in zeros that start at `begin` or at a sector boundary? That is
// what a write that stopped at a sector boundary (the rest never written) leaves behind; a
// complete record never does, since it ends in a non-zero checksum.
bool EndsInUnwrittenSectors(std::string_view file, uint64_t begin, uint64_t end) {
  uint64_t zeros_from = end;
  while (zeros_from > begin && file[zeros_from - 1] == 0) --zeros_from;
  if (zeros_from == end) return false;
  if (zeros_from == begin) return true;
  const uint64_t boundary =
      (zeros_from + kTornSectorBytes - 1) / kTornSectorBytes * kTornSectorBytes;
  return boundary < end;
}

// Parses the record at `offset` of `file`. On failure fills *failure and returns false.
// `segment_offset` is where the record sits in its segment (default: `offset`), against which its
// synced_offset is checked.
bool ParseRecordAt(std::string_view file, uint64_t offset, RecordView* out, ParseFailure* failure,
                   uint64_t segment_offset = ~uint64_t{0}) {
  if (segment_offset == ~uint64_t{0}) segment_offset = offset;
  const std::string_view rest = file.substr(offset);
  if (rest.size() < kRecordHeaderBytes) {
    failure->why = "incomplete record header";
    failure->torn_evidence = true;
    return false;
  }
  const char* p = rest.data();
  const uint32_t length = LoadU32(p);
  const uint8_t type = static_cast<uint8_t>(p[4]);
  const uint32_t header_check = LoadU32(p + 5);
  if (header_check != static_cast<uint32_t>(HeaderHash(p))) {
    failure->why = "record header checksum mismatch";
    failure->torn_evidence = EndsInUnwrittenSectors(file, offset, offset + kRecordHeaderBytes);
    return false;
  }
  if (type == 0 || type > kMaxRecordType || length < 8 || length > kMaxRecordPayloadBytes) {
    failure->why = absl::StrCat("bad record header (type ", type, ", length ", length, ")");
    return false;
  }
  const uint64_t size = kRecordOverheadBytes + uint64_t{length};
  if (rest.size() < size) {
    failure->why = "record runs past the end of the file";
    failure->torn_evidence = true;
    return false;
  }
  const std::string_view payload = rest.substr(kRecordHeaderBytes, length);
  const uint64_t checksum = LoadU64(rest.data() + kRecordHeaderBytes + length);
  if (checksum != XXH3_64bits_withSeed(payload.data(), payload.size(), HeaderHash(p))) {
    failure->why = "record checksum mismatch";
    // A written record ends in its checksum, which is not zero; and it never holds a whole zero
    // sector in practice: one that does lost a sector out of order.
    failure->torn_evidence = EndsInUnwrittenSectors(file, offset, offset + size) ||
                             HasZeroSector(file, offset, offset + size);
    return false;
  }
  const uint64_t synced_offset = LoadU64(payload.data());
  if (synced_offset > segment_offset) {
    failure->why = "record claims a sync point beyond itself";
    return false;
  }
  out->type = static_cast<RecordType>(type);
  out->offset = offset;
  out->size = size;
  out->synced_offset = synced_offset;
  out->body = payload.substr(8);
  return true;
}

// A valid record after `offset` whose synced_offset proves `offset` was synced; 0 if none.
uint64_t FindSyncProof(std::string_view file, uint64_t offset) {
  RecordView r;
  ParseFailure ignored;
  for (uint64_t y = offset + 1; y + kRecordOverheadBytes + 8 <= file.size(); ++y) {
    if (ParseRecordAt(file, y, &r, &ignored) && r.synced_offset > offset) return y;
  }
  return 0;
}

absl::Status BodyError(std::string_view what) {
  return absl::DataLossError(absl::StrCat("malformed WAL ", std::string(what), " record"));
}

}  // namespace

void AppendRecord(std::string* out, RecordType type, uint64_t synced_offset,
                  std::string_view body) {
  assert(body.size() + 8 <= kMaxRecordPayloadBytes);
  const uint32_t length = static_cast<uint32_t>(body.size() + 8);
  const size_t start = out->size();
  PutU32(out, length);
  PutU8(out, static_cast<uint8_t>(type));
  const uint64_t header_hash = HeaderHash(out->data() + start);
  PutU32(out, static_cast<uint32_t>(header_hash));
  const size_t payload_start = out->size();
  PutU64(out, synced_offset);
  out->append(body);
  PutU64(out, XXH3_64bits_withSeed(out->data() + payload_start, length, header_hash));
}

absl::Status ParseRecord(std::string_view bytes, uint64_t offset, RecordView* out) {
  ParseFailure failure;
  if (!ParseRecordAt(bytes, 0, out, &failure, offset)) {
    return absl::DataLossError(absl::StrCat("record at offset ", offset, ": ", failure.why));
  }
  out->offset = offset;
  return absl::OkStatus();
}

absl::Status ScanSegment(std::string_view file, std::string_view name, bool is_last_segment,
                         SegmentScan* scan) {
  scan->records.clear();
  scan->torn = false;
  uint64_t offset = 0;
  while (offset < file.size()) {
    RecordView record;
    ParseFailure failure;
    if (ParseRecordAt(file, offset, &record, &failure)) {
      scan->records.push_back(record);
      offset += record.size;
      continue;
    }
    const std::string where = absl::StrCat("WAL segment ", std::string(name), " offset ", offset, ": ");
    if (!is_last_segment) {
      return absl::DataLossError(absl::StrCat(where, failure.why, " (not the last segment)"));
    }
    if (const uint64_t proof = FindSyncProof(file, offset); proof != 0) {
      return absl::DataLossError(absl::StrCat(where, failure.why, "; the record at offset ",
                                              proof, " shows it had been synced"));
    }
    if (!failure.torn_evidence) {
      return absl::DataLossError(
          absl::StrCat(where, failure.why, " in a complete record (corruption, not a torn write)"));
    }
    scan->torn = true;
    break;
  }
  scan->valid_end = offset;
  return absl::OkStatus();
}

std::string EncodeSegmentHeader(const SegmentHeader& h) {
  std::string out;
  PutU64(&out, kWalMagic);
  PutU32(&out, kWalVersion);
  PutU64(&out, h.seq);
  PutU64(&out, h.next_index);
  out += EncodeHardState(h.hard_state);
  return out;
}

absl::Status DecodeSegmentHeader(std::string_view body, SegmentHeader* h) {
  Decoder d(body);
  uint64_t magic = 0;
  uint32_t version = 0;
  std::string_view hs;
  if (!d.GetU64(&magic) || !d.GetU32(&version) || !d.GetU64(&h->seq) ||
      !d.GetU64(&h->next_index) || !d.GetView(d.remaining(), &hs)) {
    return BodyError("segment header");
  }
  if (magic != kWalMagic) return absl::DataLossError("not a WAL segment (bad magic)");
  if (version != kWalVersion) {
    return absl::DataLossError(absl::StrCat("unsupported WAL version ", version));
  }
  if (h->next_index == 0) return BodyError("segment header");
  return DecodeHardState(hs, &h->hard_state);
}

std::string EncodeHardState(const HardState& hs) {
  std::string out;
  PutU64(&out, hs.term);
  PutU32(&out, hs.vote);
  PutU64(&out, hs.commit);
  return out;
}

absl::Status DecodeHardState(std::string_view body, HardState* hs) {
  Decoder d(body);
  if (!d.GetU64(&hs->term) || !d.GetU32(&hs->vote) || !d.GetU64(&hs->commit) || !d.done()) {
    return BodyError("hard state");
  }
  return absl::OkStatus();
}

std::string EncodeEntries(const std::vector<Entry>& entries, size_t begin, size_t end) {
  assert(begin < end && end <= entries.size());
  std::string out;
  PutU32(&out, static_cast<uint32_t>(end - begin));
  for (size_t i = begin; i < end; ++i) {
    const Entry& e = entries[i];
    assert(i == begin || e.index == entries[i - 1].index + 1);
    PutU64(&out, e.index);
    PutU64(&out, e.term);
    PutU8(&out, static_cast<uint8_t>(e.type));
    PutU32(&out, static_cast<uint32_t>(e.data.size()));
    out.append(e.data);
  }
  return out;
}

absl::Status DecodeEntries(std::string_view body, std::vector<Entry>* out) {
  Decoder d(body);
  uint32_t count = 0;
  if (!d.GetU32(&count) || count == 0) return BodyError("entries");
  Index prev = 0;
  for (uint32_t i = 0; i < count; ++i) {
    Entry e;
    uint8_t type = 0;
    uint32_t length = 0;
    std::string_view data;
    if (!d.GetU64(&e.index) || !d.GetU64(&e.term) || !d.GetU8(&type) || !d.GetU32(&length) ||
        !d.GetView(length, &data)) {
      return BodyError("entries");
    }
    if (type > static_cast<uint8_t>(EntryType::kConfChange) || e.index == 0 || e.term == 0 ||
        (i > 0 && e.index != prev + 1)) {
      return BodyError("entries");
    }
    e.type = static_cast<EntryType>(type);
    e.data.assign(data);
    prev = e.index;
    out->push_back(std::move(e));
  }
  if (!d.done()) return BodyError("entries");
  return absl::OkStatus();
}

absl::Status ScanEntries(std::string_view body, Index* first, Index* last) {
  Decoder d(body);
  uint32_t count = 0;
  if (!d.GetU32(&count) || count == 0) return BodyError("entries");
  for (uint32_t i = 0; i < count; ++i) {
    Index index = 0;
    Term term = 0;
    uint8_t type = 0;
    uint32_t length = 0;
    std::string_view data;
    if (!d.GetU64(&index) || !d.GetU64(&term) || !d.GetU8(&type) || !d.GetU32(&length) ||
        !d.GetView(length, &data)) {
      return BodyError("entries");
    }
    if (type > static_cast<uint8_t>(EntryType::kConfChange) || index == 0 || term == 0 ||
        (i > 0 && index != *last + 1)) {
      return BodyError("entries");
    }
    if (i == 0) *first = index;
    *last = index;
  }
  if (!d.done()) return BodyError("entries");
  return absl::OkStatus();
}

std::string EncodeReset(Index index, Term term) {
  std::string out;
  PutU64(&out, index);
  PutU64(&out, term);
  return out;
}

absl::Status DecodeReset(std::string_view body, Index* index, Term* term) {
  Decoder d(body);
  if (!d.GetU64(index) || !d.GetU64(term) || !d.done()) return BodyError("reset");
  return absl::OkStatus();
}

}  // namespace crema::raft::storage
