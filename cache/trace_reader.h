// Reads a whole cache trace file (../shared/traces formats, see trace_format.h) into memory.
//
// `.gz` is read with zlib, `.zst` through a `zstd -dc` pipe, anything else as plain text. For tools
// and benchmarks only (node logic never reads files). Bad input gives a clear error naming the
// file and line; it never crashes.
#ifndef CREMA_CACHE_TRACE_READER_H_
#define CREMA_CACHE_TRACE_READER_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace crema::cache {

// The requested keys in order. An empty or unreadable trace is an error.
absl::StatusOr<std::vector<uint64_t>> ReadTraceFile(const std::string& path);

}  // namespace crema::cache

#endif  // CREMA_CACHE_TRACE_READER_H_
