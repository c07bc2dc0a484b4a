// SyncWorker: runs fsync(2) on a worker thread so the node's event loop does not stall on it
// (production only; transport/ may use threads, node logic may not).
//
// A fiber calling PosixDisk's File::Sync hands the worker a dup(2) of the file's descriptor and
// parks on the job's wait list; the worker fsyncs it, closes the dup, and posts the result back
// to the loop thread (boost::asio::post is thread-safe), where the job is marked done and the
// fiber woken. Everything else — every other Disk call, the job's state, the fiber — stays on the
// loop thread.
// Meanwhile the loop runs other fibers and network handlers.
//
// Contract:
//   * Sync(fd, path) is fiber-only; it returns fsync's result, or CANCELLED if the waiting fiber
//     is cancelled (the fsync still runs to completion on its own descriptor; nothing is lost:
//     Sync only promises durability when it returns OK).
//   * Jobs run one at a time, in order. At most kMaxQueuedJobs wait; beyond that Sync fsyncs on
//     the calling thread (correct, only slower).
//   * Destruction drains the queue and joins the thread on the loop thread; completions posted
//     after that (or after Stop) find the worker gone and do nothing. The io_context must
//     outlive the worker; call Stop before the Executor goes away (NodeRuntime::Shutdown does).
//
// Thread safety: construct, Sync and destroy on the loop thread; the rest is internal.
#ifndef CREMA_TRANSPORT_SYNC_WORKER_H_
#define CREMA_TRANSPORT_SYNC_WORKER_H_

#include <boost/asio/io_context.hpp>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "absl/status/status.h"
#include "node/executor.h"

namespace crema::transport {

class SyncWorker {
 public:
  static constexpr size_t kMaxQueuedJobs = 1024;
  // Does the actual fsync of a descriptor; returns 0 or an errno (replaceable in tests).
  using SyncFn = std::function<int(int fd)>;

  // `io` and `executor` must outlive the worker. `sync_fn` defaults to fsync(2).
  SyncWorker(boost::asio::io_context* io, Executor* executor, SyncFn sync_fn = nullptr);
  ~SyncWorker();
  SyncWorker(const SyncWorker&) = delete;
  SyncWorker& operator=(const SyncWorker&) = delete;

  // Fiber-only (InFiber()). fsyncs `fd` on the worker thread; see the contract above.
  [[nodiscard]] absl::Status Sync(int fd, const std::string& path);
  // Whether the calling context can wait for the worker (else: fsync inline).
  bool CanWait() const { return !stopped_ && executor_->InFiber(); }
  // Before the Executor goes away: completions wake nobody from now on, and every later Sync
  // fsyncs inline (the thread stays until destruction, so Files keep a valid worker).
  void Stop() {
    stopped_ = true;
    *alive_ = false;
  }
  uint64_t offloaded() const { return offloaded_; }

 private:
  struct Job;
  void Run();

  boost::asio::io_context* io_;
  Executor* executor_;
  SyncFn sync_fn_;
  // Shared with posted completions: they check it is still alive (loop thread only).
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::shared_ptr<Job>> queue_;  // guarded by mu_
  bool stopping_ = false;                   // guarded by mu_
  uint64_t offloaded_ = 0;                  // loop thread only
  bool stopped_ = false;                    // loop thread only
  std::thread thread_;
};

// The fsync result as a Status (shared with PosixDisk's messages).
absl::Status FsyncStatus(int error, const std::string& path);

}  // namespace crema::transport

#endif  // CREMA_TRANSPORT_SYNC_WORKER_H_
