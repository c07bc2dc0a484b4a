// ReadVerified: reads a whole file whose contents must check out, telling a read that was
// corrupted in transit from a file whose stored bytes are bad.
//
// The Disk contract (node/disk.h) lets a Read return flipped bits that are not on the disk (the
// simulator's read corruption comes in windows); a file that is really corrupt reads back the same
// bad bytes every time. A checksum failure on one read therefore proves nothing about the file,
// and treating it as corruption takes a healthy replica down for good. ReadVerified reads, checks,
// and on a failure reads again:
//   * a read the check accepts outright is returned at once (the happy path costs one read);
//   * a check may accept only on confirmation (`Check::confirm`: e.g. a torn tail that recovery
//     is about to truncate, a destructive decision a flipped bit could fake): it is returned once
//     two consecutive reads are byte-identical;
//   * two consecutive byte-identical reads that fail the check with DataLoss: the stored bytes
//     are bad — that DataLoss is returned, and only then (real corruption);
//   * reads that keep coming back different (kMaxVerifyReads of them): UNAVAILABLE "transient read
//     corruption", a retryable error that must never be taken for corruption.
// A false DataLoss needs two consecutive reads corrupted at the same bit; a false acceptance needs
// a corrupted read that passes the check's checksums.
//
// Example:
//   std::string bytes;
//   absl::Status s = ReadVerified(file, kMax, name, &bytes, [&](std::string_view b) {
//     return ReadCheck{DecodeThing(b).status()};
//   });
//
// Thread safety: none; from a fiber (it calls the Disk).
#ifndef CREMA_CONSENSUS_STORAGE_VERIFIED_READ_H_
#define CREMA_CONSENSUS_STORAGE_VERIFIED_READ_H_

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "node/disk.h"

namespace crema::raft::storage {

// Reads of one file before giving up with UNAVAILABLE (transient read corruption).
inline constexpr int kMaxVerifyReads = 4;

struct ReadCheck {
  absl::Status status;   // OK: the bytes check out; DataLoss: they do not; other: returned as is
  bool confirm = false;  // with OK: accept only once two consecutive reads are identical
};

// Reads `file` whole (at most max_bytes) into *bytes and runs `check` on *bytes after each read;
// see the file comment. On OK, *bytes holds the accepted contents, and the last call of `check`
// was on exactly them (so views it kept into *bytes are valid). `name` is for messages.
[[nodiscard]] absl::Status ReadVerified(File& file, uint64_t max_bytes, std::string_view name,
                                        std::string* bytes,
                                        const std::function<ReadCheck(std::string_view)>& check);

// The same for `length` bytes at `offset` of `file` (one record of a log, say). Fewer bytes than
// asked (the file is shorter) are handed to `check` as read.
[[nodiscard]] absl::Status ReadVerifiedRange(File& file, uint64_t offset, size_t length,
                                             std::string_view name, std::string* bytes,
                                             const std::function<ReadCheck(std::string_view)>& check);

// True for the UNAVAILABLE that ReadVerified returns when reads keep differing.
bool IsTransientReadCorruption(const absl::Status& status);

}  // namespace crema::raft::storage

#endif  // CREMA_CONSENSUS_STORAGE_VERIFIED_READ_H_
