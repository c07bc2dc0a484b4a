// The write-ahead log's on-disk record format, and the scan that tells a torn tail from corruption.
//
// A WAL segment file is a sequence of records:
//
//   +------------+---------+----------------+---------------------------+----------------+
//   | length u32 | type u8 | header_chk u32 | payload (length bytes)    | checksum u64   |
//   +------------+---------+----------------+---------------------------+----------------+
//   header_chk = low 32 bits of XXH3-64(length || type)
//   checksum   = XXH3-64(payload, seed = XXH3-64(length || type))   i.e. over length+type+payload
//
// Every payload starts with `synced_offset` (u64): how far this segment was known durable (the
// file size at the last successful Sync) when the record was written. The first record of every
// segment is a kSegmentHeader. All integers are little-endian, fixed width.
//
// Torn tail vs corruption. After a crash the file is a synced prefix followed by whatever survived
// of unsynced writes: nothing, a prefix, or some sectors of them (the rest reads as zeros, since
// the WAL only ever writes past the end of the file). A read may also flip bits anywhere. When the
// record at offset X fails to parse:
//   1. In any segment but the last one it is corruption: segments are synced before the next one
//      is created.
//   2. If any later record in the file parses and has synced_offset > X, the bytes at X were
//      synced: corruption. (A bad record followed by valid records of a *later* sync batch.)
//   3. Otherwise it is a torn tail only with positive evidence of a lost write: fewer bytes than a
//      header remain; a valid header describes a record running past the end of the file; the
//      record (or, if its header is bad, the header) ends in zeros that start at X or at a
//      sector boundary — a write that stopped at a sector boundary, or was lost entirely under a
//      later surviving write (a written record ends in its checksum, which is not zero, and a
//      written header in a header check, which is not zero); or the record holds a whole aligned
//      sector of zeros (a sector lost out of order). The tail from X is then truncated.
//   4. A complete record with a non-zero header that fails its checksum and shows no such
//      evidence is corruption: it was fully written, so the bad bytes are a bit flip.
// Every corruption is reported as absl::DataLossError naming the segment and offset; a corrupt
// record is never used, and a record that might have been synced is never silently dropped,
// except in one residual case: a bit flip in the very last sync batch of the log, in a record
// that also legitimately holds a whole aligned sector of zeros, is taken for a torn write
// (documented in docs/raft.md; a later sync batch would have exposed it by rule 2).
//
// Thread safety: pure functions.
#ifndef CREMA_CONSENSUS_STORAGE_WAL_FORMAT_H_
#define CREMA_CONSENSUS_STORAGE_WAL_FORMAT_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "consensus/types.h"

namespace crema::raft::storage {

enum class RecordType : uint8_t {
  // A per-group WAL (wal.h):
  kSegmentHeader = 1,  // magic, version, segment seq, next_index, hard state
  kEntries = 2,        // consecutive entries from first_index; replaces any suffix from it
  kHardState = 3,      // term, vote, commit
  kReset = 4,          // a snapshot was installed: the log is now empty after (index, term)
  // The node's shared log (shared_log.h); every body but the header starts with the group id:
  kLogHeader = 5,      // magic, version, segment seq
  kGroupEntries = 6,   // group | as kEntries
  kGroupHardState = 7, // group | as kHardState
  kGroupReset = 8,     // group | as kReset
  kGroupCopy = 9,      // group | entries copied from an older segment (never truncates)
  kGroupDestroy = 10,  // group | its storage prefix: the group's data is gone for good
};
inline constexpr uint8_t kMaxRecordType = 10;

inline constexpr size_t kRecordHeaderBytes = 9;
inline constexpr size_t kRecordTrailerBytes = 8;
inline constexpr size_t kRecordOverheadBytes = kRecordHeaderBytes + kRecordTrailerBytes;
// One record's payload; bigger batches are split over several records.
inline constexpr size_t kMaxRecordPayloadBytes = size_t{32} << 20;
// A whole aligned sector of zeros inside a failing record is evidence of a never-written sector.
inline constexpr uint64_t kTornSectorBytes = 512;
inline constexpr uint64_t kWalMagic = 0x4c4157414d455243;  // "CREMAWAL"
inline constexpr uint32_t kWalVersion = 1;

// One parsed record, pointing into the scanned file's bytes.
struct RecordView {
  RecordType type = RecordType::kEntries;
  uint64_t offset = 0;         // of the record's first byte in the segment
  uint64_t size = 0;           // whole record, framing included
  uint64_t synced_offset = 0;  // from the payload
  std::string_view body;       // the payload after synced_offset
};

// Appends one framed record. REQUIRES: body.size() + 8 <= kMaxRecordPayloadBytes.
void AppendRecord(std::string* out, RecordType type, uint64_t synced_offset, std::string_view body);

// The result of scanning one segment file.
struct SegmentScan {
  std::vector<RecordView> records;  // every valid record, in order
  uint64_t valid_end = 0;           // offset after the last valid record
  bool torn = false;                // the tail from valid_end was torn (last segment only)
};

// Parses the one record that starts at `bytes[0]` (it may be followed by more bytes). `offset`
// is where it sits in its segment (for the synced_offset sanity check and messages). DataLoss if
// it is not a whole valid record.
[[nodiscard]] absl::Status ParseRecord(std::string_view bytes, uint64_t offset, RecordView* out);

// Scans `file` (a whole segment). `name` is used in error messages. Returns DataLoss on
// corruption (see the file comment); a torn tail is reported through SegmentScan::torn only if
// `is_last_segment`.
[[nodiscard]] absl::Status ScanSegment(std::string_view file, std::string_view name,
                                       bool is_last_segment, SegmentScan* scan);

// --- payload bodies ---------------------------------------------------------------------------

struct SegmentHeader {
  uint64_t seq = 0;
  Index next_index = 1;  // the index the next appended entry will have when the segment starts
  HardState hard_state;
};

std::string EncodeSegmentHeader(const SegmentHeader& h);
[[nodiscard]] absl::Status DecodeSegmentHeader(std::string_view body, SegmentHeader* h);

std::string EncodeHardState(const HardState& hs);
[[nodiscard]] absl::Status DecodeHardState(std::string_view body, HardState* hs);

// Encodes entries[begin, end). REQUIRES: consecutive indexes.
std::string EncodeEntries(const std::vector<Entry>& entries, size_t begin, size_t end);
// Appends the decoded entries to *out (bounded by the body's size; never trusts counts).
[[nodiscard]] absl::Status DecodeEntries(std::string_view body, std::vector<Entry>* out);
// The first and last index of an entries body, validated like DecodeEntries but without copying.
[[nodiscard]] absl::Status ScanEntries(std::string_view body, Index* first, Index* last);
// Bytes one entry takes in an kEntries body.
inline size_t EncodedEntryBytes(const Entry& e) { return 8 + 8 + 1 + 4 + e.data.size(); }

std::string EncodeReset(Index index, Term term);
[[nodiscard]] absl::Status DecodeReset(std::string_view body, Index* index, Term* term);

}  // namespace crema::raft::storage

#endif  // CREMA_CONSENSUS_STORAGE_WAL_FORMAT_H_
