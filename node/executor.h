// Executor: cooperative fibers (Boost.Context) on one node's event loop.
//
// Protocol drivers are written as straight-line code — "send, then wait for a reply or a timeout" —
// while everything stays single-threaded and deterministic: exactly one fiber (or loop callback)
// runs at a time, and a fiber only gives up the thread at a blocking call (`Sleep`, `Yield`, a
// `Channel`/`Future` wait, a Disk call). Between blocking calls, code runs atomically.
//
// Example:
//   executor.Spawn("heartbeat", [&] {
//     while (executor.Sleep(absl::Milliseconds(100)).ok()) network.Send(peer, Service::kPing, "hb");
//   });
//
// Cancellation:
//   * `Cancel(id)` cancels one fiber: its current and every later blocking call returns CANCELLED
//     at once; the fiber should then return.
//   * Destroying the Executor (a node crash) unwinds every unfinished fiber's stack, newest fiber
//     first, running its destructors; no further code of those fibers runs. Fiber code must therefore never swallow
//     exceptions with `catch (...)` without rethrowing, and destructors must not block.
//
// Waiting primitives for sync.h are `WaitList` + `Wait`: a fiber parks itself on a WaitList until
// another party calls `WakeOne`/`WakeAll`, a deadline passes, or it is cancelled. Wake-ups may be
// spurious from the waiter's point of view (another fiber consumed what it woke for): callers loop
// on their own condition.
//
// Thread safety: none. All methods run on the node's loop thread.
#ifndef CREMA_NODE_EXECUTOR_H_
#define CREMA_NODE_EXECUTOR_H_

#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <string>

#include "absl/container/btree_map.h"
#include "absl/functional/any_invocable.h"
#include "absl/status/status.h"
#include "absl/time/time.h"
#include "node/clock.h"
#include "node/event_loop.h"

namespace crema {

using FiberId = uint64_t;  // never 0; ids are assigned in spawn order (deterministic)

class Executor;

// A queue of parked fibers. Owned by a sync primitive; must outlive its waiters' waits.
class WaitList {
 public:
  // Wakes the longest-waiting fiber, if any.
  void WakeOne(Executor& executor);
  // Wakes every waiting fiber.
  void WakeAll(Executor& executor);
  bool empty() const { return waiters_.empty(); }

 private:
  friend class Executor;
  struct Waiter {
    FiberId fiber;
    uint64_t generation;
  };
  std::deque<Waiter> waiters_;
};

class FiberStackPool;  // executor.cc

class Executor {
 public:
  static constexpr size_t kDefaultStackBytes = 256 << 10;
  // Finished fibers' stacks kept for reuse (see executor.cc): at most this many bytes of them
  // (address space: only the pages a fiber touched are resident, a few KiB per stack). 1,024
  // default stacks: a server with 50 pipelining clients runs ~700 fibers at once (a batch of
  // SETs takes one per shard), and every stack beyond the pool is an mmap, page faults and an
  // munmap (17% of the CPU of pipelined SETs with a 256-stack pool; docs/server.md).
  static constexpr size_t kMaxPooledStackBytes = 256 << 20;
  static constexpr size_t kMaxFibers = 100'000;  // a bound on live fibers per node

  // `loop` and `clock` must outlive the executor.
  Executor(EventLoop* loop, const Clock* clock, size_t stack_bytes = kDefaultStackBytes);
  // Unwinds every unfinished fiber (see the file comment).
  ~Executor();
  Executor(const Executor&) = delete;
  Executor& operator=(const Executor&) = delete;

  // Starts `body` in a new fiber soon (not before Spawn returns). Callable from anywhere on the
  // loop. REQUIRES: fewer than kMaxFibers live fibers.
  FiberId Spawn(std::string name, absl::AnyInvocable<void()> body);

  // Cancels a fiber (see the file comment). A no-op for a finished fiber.
  void Cancel(FiberId fiber);

  // --- Fiber-only calls (REQUIRES: InFiber()) ---

  // Suspends for `duration` of monotonic time. OK, or CANCELLED.
  absl::Status Sleep(absl::Duration duration);
  absl::Status SleepUntil(absl::Time deadline);

  // Lets every other runnable fiber and loop callback run, then continues. OK, or CANCELLED.
  absl::Status Yield();

  // Parks the current fiber on `list` until woken (OK), `deadline` passes (DEADLINE_EXCEEDED), or
  // it is cancelled (CANCELLED). `absl::InfiniteFuture()` waits without a deadline.
  absl::Status Wait(WaitList& list, absl::Time deadline);

  // --- Introspection ---
  bool InFiber() const { return current_ != nullptr; }
  FiberId CurrentFiber() const;            // 0 outside fibers
  const std::string& CurrentFiberName() const;
  size_t live_fibers() const { return fibers_.size(); }
  const Clock& clock() const { return *clock_; }
  EventLoop& loop() { return *loop_; }

 private:
  enum class WaitOutcome : uint8_t { kWoken, kTimedOut, kCancelled };
  // Wait's work, with the outcome as a value (Sleep needs no error Status).
  WaitOutcome WaitUntil(WaitList& list, absl::Time deadline);
  friend class WaitList;
  struct Fiber;

  void Wake(FiberId fiber, uint64_t generation);
  void MakeRunnable(Fiber* fiber);
  void RunReady();
  void Resume(Fiber* fiber);
  // Suspends the current fiber until something makes it runnable again.
  void SuspendCurrent();

  EventLoop* loop_;
  const Clock* clock_;
  size_t stack_bytes_;
  // Shared with every live fiber's stack allocator, so it outlives whichever goes last.
  std::shared_ptr<FiberStackPool> stacks_;
  FiberId next_id_ = 1;
  absl::btree_map<FiberId, std::unique_ptr<Fiber>> fibers_;
  std::deque<FiberId> ready_;
  bool run_posted_ = false;
  bool destroying_ = false;
  Fiber* current_ = nullptr;
  // Loop callbacks hold a weak reference, so they do nothing once the executor is gone.
  std::shared_ptr<Executor*> self_;
};

}  // namespace crema

#endif  // CREMA_NODE_EXECUTOR_H_
