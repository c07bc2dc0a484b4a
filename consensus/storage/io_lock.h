// IoLock: a fiber mutex that serialises the shared log's disk I/O.
//
// The node's shared log (shared_log.h) is used from several fibers (the Raft host's loop, and a
// fiber creating or destroying a group). A Disk call may suspend its fiber, and two interleaved
// write/sync sequences on one file could lose track of what is durable, so every I/O sequence
// of the log runs under this lock. Without an Executor (standalone tests, where Disk calls never
// suspend) there is no concurrency and the lock only checks that it is not held twice.
//
// Example:
//   IoLockGuard guard(&lock_);
//   if (!guard.status().ok()) return guard.status();   // CANCELLED: the fiber was cancelled
//   ... disk calls ...
//
// Thread safety: none; one node's event loop.
#ifndef CREMA_CONSENSUS_STORAGE_IO_LOCK_H_
#define CREMA_CONSENSUS_STORAGE_IO_LOCK_H_

#include <cassert>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "node/executor.h"

namespace crema::raft::storage {

class IoLock {
 public:
  explicit IoLock(Executor* executor) : executor_(executor) {}
  IoLock(const IoLock&) = delete;
  IoLock& operator=(const IoLock&) = delete;

  // Waits for the lock (fiber-only when there is an Executor). CANCELLED if the fiber is.
  [[nodiscard]] absl::Status Lock() {
    while (held_) {
      assert(executor_ != nullptr && "IoLock contended without an Executor");
      if (executor_ == nullptr) return absl::InternalError("IoLock contended without an Executor");
      if (absl::Status s = executor_->Wait(waiters_, absl::InfiniteFuture()); !s.ok()) return s;
    }
    held_ = true;
    return absl::OkStatus();
  }
  void Unlock() {
    assert(held_);
    held_ = false;
    if (executor_ != nullptr) waiters_.WakeOne(*executor_);
  }
  bool held() const { return held_; }

 private:
  Executor* executor_;
  bool held_ = false;
  WaitList waiters_;
};

class IoLockGuard {
 public:
  explicit IoLockGuard(IoLock* lock) : lock_(lock), status_(lock->Lock()) {}
  ~IoLockGuard() {
    if (status_.ok()) lock_->Unlock();
  }
  IoLockGuard(const IoLockGuard&) = delete;
  IoLockGuard& operator=(const IoLockGuard&) = delete;
  const absl::Status& status() const { return status_; }

 private:
  IoLock* lock_;
  absl::Status status_;
};

}  // namespace crema::raft::storage

#endif  // CREMA_CONSENSUS_STORAGE_IO_LOCK_H_
