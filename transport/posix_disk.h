// PosixDisk: crema::Disk over a data directory, with real fsync (production only).
//
// Names map to paths under the data directory; a '/' in a name is a subdirectory, created on demand
// (and its parent fsynced, so the directory entry is durable too). Names are validated: empty
// names, absolute names, empty / "." / ".." components, NUL bytes, and names over kMaxFileNameBytes
// are INVALID_ARGUMENT — so no name can escape the data directory.
//
// Durability (the crema::Disk contract, made real):
//   * File::Sync is fsync(2). The first Sync of a file this handle created also fsyncs the parent
//     directory, so a synced file's name survives a crash.
//   * Rename is rename(2) then fsync of the destination's (and, if different, the source's)
//     directory. Delete is unlink(2) then fsync of the directory.
//   * Errors map from errno: ENOENT -> NOT_FOUND, ENOSPC/EDQUOT -> RESOURCE_EXHAUSTED,
//     EACCES/EPERM -> PERMISSION_DENIED, ENOTDIR/EISDIR -> FAILED_PRECONDITION, others INTERNAL.
//
// Blocking: every call runs its syscall on the loop thread, except File::Sync once
// `OffloadSyncs` was called: then a Sync made from a fiber fsyncs on a worker thread
// (sync_worker.h) while the calling fiber waits and the loop keeps running other fibers and
// network handlers (an fsync takes milliseconds on SSDs, more on spinning disks; the shared
// Raft log's Sync is on every write's path). A Sync from outside a fiber fsyncs inline. The
// directory fsyncs of Delete, Rename and a created file's first Sync stay inline (rare).
// With offloading, Files must not outlive their PosixDisk.
//
// Thread safety: none; a PosixDisk and its Files belong to one loop thread. Two PosixDisks (or
// processes) must not share a data directory.
#ifndef CREMA_TRANSPORT_POSIX_DISK_H_
#define CREMA_TRANSPORT_POSIX_DISK_H_

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "node/disk.h"
#include "transport/sync_worker.h"

namespace crema::transport {

inline constexpr size_t kMaxListedFiles = 1'000'000;  // List gives up beyond this

// OK if `name` is a valid Disk file name (see the file comment).
[[nodiscard]] absl::Status ValidateFileName(std::string_view name);

class PosixDisk final : public Disk {
 public:
  // Creates `data_dir` (and its parents) if needed. Errors if it is not a usable directory.
  [[nodiscard]] static absl::StatusOr<std::unique_ptr<PosixDisk>> Create(std::string data_dir);

  absl::StatusOr<std::unique_ptr<File>> Open(std::string_view name, OpenMode mode) override;
  absl::Status Delete(std::string_view name) override;
  absl::Status Rename(std::string_view from, std::string_view to) override;
  absl::StatusOr<std::vector<std::string>> List(std::string_view prefix) override;

  const std::string& data_dir() const { return data_dir_; }

  // From now on File::Sync from a fiber of `executor` fsyncs on a worker thread whose results
  // come back through `io` (the loop's io_context). Call once, on the loop thread, before the
  // Files are opened; both must outlive this disk. `sync_fn` replaces fsync (tests).
  void OffloadSyncs(boost::asio::io_context* io, Executor* executor,
                    SyncWorker::SyncFn sync_fn = nullptr);
  const SyncWorker* sync_worker() const { return sync_worker_.get(); }
  // Before the Executor goes away: Syncs are inline again (SyncWorker::Stop).
  void StopOffloadingSyncs() {
    if (sync_worker_ != nullptr) sync_worker_->Stop();
  }

 private:
  explicit PosixDisk(std::string data_dir) : data_dir_(std::move(data_dir)) {}
  std::string PathOf(std::string_view name) const;
  // Creates the directories between data_dir_ and `name`'s parent, fsyncing each new one's parent.
  absl::Status MakeParents(std::string_view name);

  std::string data_dir_;  // absolute or relative path, without a trailing '/'
  std::unique_ptr<SyncWorker> sync_worker_;  // null: fsync inline
};

}  // namespace crema::transport

#endif  // CREMA_TRANSPORT_POSIX_DISK_H_
