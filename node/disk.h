// Disk: a small file API with explicit durability.
//
// Each node has its own flat namespace of files (names may contain '/', e.g. "raft/7/log"; no
// directories need creating). Contract:
//   * Data written with `Write` is durable only after `Sync` on that file returns OK. At a crash,
//     any write not yet synced may vanish entirely, survive, or be *torn* (a prefix of it, or some
//     of its sectors, survives). A file created and never synced may vanish at a crash.
//   * `Rename` atomically replaces `to` with `from` and is durable when it returns OK (the real
//     adapter syncs the directory). `Delete` is durable when it returns OK. Together they give the
//     usual "write temp, Sync, Rename" for atomic whole-file replacement.
//   * `Read` may return corrupted bytes (bit flips) without an error: every record on disk must
//     carry a checksum (XXH3) and readers must verify it. Reads past the end return fewer bytes.
//   * Any call may fail with an error (e.g. disk full: RESOURCE_EXHAUSTED); callers must not lose
//     acknowledged data because of it — stop acknowledging, report, and retry or step down.
//   * All calls must be made from a fiber: they may suspend it for the disk's latency.
//
// Implementations: sim::SimDisk (faults injected by the simulator) and transport::PosixDisk.
// Thread safety: none; a Disk belongs to one node's event loop.
#ifndef CREMA_NODE_DISK_H_
#define CREMA_NODE_DISK_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace crema {

inline constexpr size_t kMaxFileNameBytes = 255;
inline constexpr size_t kMaxReadBytes = 64 << 20;  // one Read returns at most 64 MiB

class File {
 public:
  virtual ~File() = default;

  // Up to `length` bytes from `offset` (fewer at end of file). REQUIRES: length <= kMaxReadBytes.
  [[nodiscard]] virtual absl::StatusOr<std::string> Read(uint64_t offset, size_t length) = 0;

  // Writes `data` at `offset`, extending the file (with zeros) if needed. Not durable until Sync.
  [[nodiscard]] virtual absl::Status Write(uint64_t offset, std::string_view data) = 0;

  // Sets the file's size (shrinking or zero-extending). Not durable until Sync.
  [[nodiscard]] virtual absl::Status Truncate(uint64_t size) = 0;

  // Makes every earlier Write/Truncate on this file durable.
  [[nodiscard]] virtual absl::Status Sync() = 0;

  // Current size in bytes as this node sees it (including unsynced writes).
  virtual uint64_t Size() const = 0;
};

enum class OpenMode : uint8_t {
  kOpenExisting,  // NOT_FOUND if missing
  kCreate,        // open, creating an empty file if missing
};

class Disk {
 public:
  virtual ~Disk() = default;

  [[nodiscard]] virtual absl::StatusOr<std::unique_ptr<File>> Open(std::string_view name,
                                                                   OpenMode mode) = 0;
  [[nodiscard]] virtual absl::Status Delete(std::string_view name) = 0;
  [[nodiscard]] virtual absl::Status Rename(std::string_view from, std::string_view to) = 0;
  // Names of existing files that start with `prefix`, sorted.
  [[nodiscard]] virtual absl::StatusOr<std::vector<std::string>> List(std::string_view prefix) = 0;
};

}  // namespace crema

#endif  // CREMA_NODE_DISK_H_
