// SimDisk: an in-memory crema::Disk with the faults of a real one, usable inside the simulator or
// standalone in crash tests (e.g. Raft storage).
//
// Model. Each file (an "inode") keeps two images: `synced`, what is durable, and `current`, what the
// node sees; plus the ordered list of unsynced operations (writes, truncates) that turn one into
// the other. `Sync` makes `synced = current`. The namespace (name -> inode) is separate: `Rename`
// and `Delete` are durable when they return; a name created by `Open(kCreate)` becomes durable at
// the file's first `Sync` (or a `Rename` of it).
//
// Crash semantics (`Crash()`), each decision an independent draw from the disk's own Random:
//   * every unsynced write independently survives, vanishes (`unsynced_write_lost`), or is torn
//     (`unsynced_write_torn`): only a prefix of it ending on an absolute `sector_bytes` boundary
//     survives. Unsynced truncates survive or vanish. Survivors are applied in their original order.
//   * a file whose name was never made durable vanishes with `unsynced_file_vanishes`.
//   * every File handle opened before the crash becomes stale: its calls return FAILED_PRECONDITION.
// `Wipe()` (amnesia) deletes everything and also stales every handle.
//
// Other faults: `Read` flips one random bit of the returned bytes with `read_corruption` (the stored
// data is not changed: a re-read usually succeeds); a Write, Truncate or Sync fails with EIO-like
// UNAVAILABLE with `io_error`; writes that would grow the disk past `capacity_bytes` fail with
// RESOURCE_EXHAUSTED ("disk full"), as do writes to a file with kMaxUnsyncedOps pending operations.
//
// Latency. With `latency_max` > 0 every call sleeps for a uniform duration in
// [latency_min, latency_max] on the attached Executor (`AttachExecutor`), so it must be called from
// a fiber; the operation takes effect after the sleep (a crash during it loses the call). With
// `latency_max == 0` (the default) no Executor is needed and calls complete at once: this is the
// mode for standalone tests.
//
// Standalone example (a crash test of a storage engine):
//   sim::SimDisk disk(Random(seed), sim::DiskFaultConfig{});   // defaults: lost & torn writes on
//   { MyLog log(&disk); log.Append("a"); log.Sync(); log.Append("b"); }   // "b" unsynced
//   disk.Crash();                                  // "a" survives; "b" survives, vanishes or is torn
//   MyLog recovered(&disk);                        // must see "a", and a valid or no "b"
//
// Thread safety: none; one SimDisk per node, used on one thread. File handles must not outlive
// their SimDisk.
#ifndef CREMA_SIM_SIM_DISK_H_
#define CREMA_SIM_SIM_DISK_H_

#include <cstddef>
#include <cstdint>
#include <limits>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/btree_map.h"
#include "absl/functional/any_invocable.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "node/disk.h"
#include "node/executor.h"
#include "node/random.h"
#include "sim/ratio.h"

namespace crema::sim {

struct DiskFaultConfig {
  // Per-call latency; when latency_max > 0 calls need an attached Executor and a fiber.
  absl::Duration latency_min = absl::ZeroDuration();
  absl::Duration latency_max = absl::ZeroDuration();
  // At Crash(): fate of each unsynced write (the remainder survives whole).
  Ratio unsynced_write_lost{1, 3};
  Ratio unsynced_write_torn{1, 3};
  // At Crash(): a file created and never synced vanishes.
  Ratio unsynced_file_vanishes{1, 2};
  // Per Read: one bit of the returned data is flipped.
  Ratio read_corruption{0, 1};
  // Per Write/Truncate/Sync: the call fails with UNAVAILABLE and has no effect.
  Ratio io_error{0, 1};
  // Total bytes of all files' current contents; growing past it fails with RESOURCE_EXHAUSTED.
  uint64_t capacity_bytes = std::numeric_limits<uint64_t>::max();
  uint64_t sector_bytes = 512;  // torn writes keep whole sectors; REQUIRES: > 0
};

// Counts of injected faults, for tests and reports.
struct DiskFaultStats {
  uint64_t writes_lost = 0;
  uint64_t writes_torn = 0;
  uint64_t writes_survived = 0;
  uint64_t files_vanished = 0;
  uint64_t reads_corrupted = 0;
  uint64_t io_errors = 0;
  uint64_t full_errors = 0;
  uint64_t crashes = 0;
  uint64_t syncs = 0;  // File::Sync calls that succeeded (not a fault: a cost, for benchmarks)
};

class SimDisk final : public Disk {
 public:
  // A bound on unsynced operations per file (a queue bound: Sync more often).
  static constexpr size_t kMaxUnsyncedOps = 1 << 16;

  // Reports a fault or crash outcome to the run's trace (kind like "disk.torn", short detail).
  using TraceFn = absl::AnyInvocable<void(std::string_view kind, std::string_view detail)>;

  SimDisk(Random random, DiskFaultConfig config);
  ~SimDisk() override;
  SimDisk(const SimDisk&) = delete;
  SimDisk& operator=(const SimDisk&) = delete;

  // --- crema::Disk ---
  absl::StatusOr<std::unique_ptr<File>> Open(std::string_view name, OpenMode mode) override;
  absl::Status Delete(std::string_view name) override;
  absl::Status Rename(std::string_view from, std::string_view to) override;
  absl::StatusOr<std::vector<std::string>> List(std::string_view prefix) override;

  // --- Fault control ---
  // Applies crash semantics (see the file comment) and stales all open handles.
  void Crash();
  // Amnesia: deletes every file and stales all open handles.
  void Wipe();
  // The Executor used for latency sleeps; nullptr detaches (e.g. while the node is down).
  void AttachExecutor(Executor* executor) { executor_ = executor; }
  void SetTrace(TraceFn trace) { trace_ = std::move(trace); }
  DiskFaultConfig& config() { return config_; }
  const DiskFaultStats& stats() const { return stats_; }

  // --- Inspection (tests, checkers): never fault-injected ---
  uint64_t UsedBytes() const;
  // Whether a crash now could lose anything: an unsynced write or truncate, or a file whose name
  // is not yet durable.
  bool HasUnsyncedChanges() const;
  // The durable content of `name` (what a crash with no surviving unsynced writes would leave).
  absl::StatusOr<std::string> SyncedContent(std::string_view name) const;
  // The content as the node currently sees it.
  absl::StatusOr<std::string> CurrentContent(std::string_view name) const;

 private:
  class SimFile;
  struct Inode;
  struct Entry {
    std::shared_ptr<Inode> inode;
    bool durable = false;  // the name survives a crash
  };

  // Sleeps for the configured latency (if any). Non-OK if the fiber was cancelled.
  absl::Status Delay();
  // Draws the io_error fault for one call; non-OK if it fires.
  absl::Status MaybeIoError(std::string_view op);
  void CrashInode(const std::string& name, Inode& inode);
  void Trace(std::string_view kind, std::string_view detail);
  static absl::Status CheckName(std::string_view name);

  Random random_;
  DiskFaultConfig config_;
  DiskFaultStats stats_;
  Executor* executor_ = nullptr;
  TraceFn trace_;
  uint64_t generation_ = 1;  // bumped by Crash/Wipe; handles of older generations are stale
  absl::btree_map<std::string, Entry, std::less<>> files_;
};

}  // namespace crema::sim

#endif  // CREMA_SIM_SIM_DISK_H_
