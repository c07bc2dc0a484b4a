// Parsing of the cache trace formats in ../shared/traces (see its README.md).
//
//   *.lis(.zst)   ARC traces (Megiddo & Modha): each line is `start nblocks ignore reqno`; one line
//                 is nblocks requests, for keys start, start+1, ..., start+nblocks-1.
//   *.trace(.gz)  LIRS traces (Jiang & Zhang): one integer key per line; lines that are `*` are
//                 markers and are skipped.
//
// Pure parsing, no I/O: tools read (and decompress) the file and feed it here line by line. Bad
// input never crashes: a malformed line returns InvalidArgument naming the problem.
#ifndef CREMA_CACHE_TRACE_FORMAT_H_
#define CREMA_CACHE_TRACE_FORMAT_H_

#include <cstdint>
#include <string_view>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace crema::cache {

enum class TraceFormat { kArcLis, kLirs };

// A line of an ARC trace may expand to at most this many requests.
inline constexpr int64_t kMaxBlocksPerTraceLine = int64_t{1} << 20;

// From the file name: ".lis" or ".lis.zst" is kArcLis, ".trace" or ".trace.gz" is kLirs.
absl::StatusOr<TraceFormat> TraceFormatFromPath(std::string_view path);

// Calls `emit(key)` for each request on one line (without its newline). Blank lines emit nothing.
[[nodiscard]] absl::Status ParseTraceLine(TraceFormat format, std::string_view line,
                                          absl::FunctionRef<void(uint64_t key)> emit);

}  // namespace crema::cache

#endif  // CREMA_CACHE_TRACE_FORMAT_H_
