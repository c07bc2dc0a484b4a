// Fiber synchronisation: a bounded Channel and a one-shot Promise/Future, both with timeouts.
//
// Example:
//   Channel<std::string> inbox(&executor, /*capacity=*/1024);
//   network.SetHandler(Service::kPing, [&](NodeId from, std::string m) { inbox.TrySend(m); });
//   executor.Spawn("server", [&] {
//     while (true) {
//       absl::StatusOr<std::string> m = inbox.Recv(absl::Seconds(1));
//       if (absl::IsCancelled(m.status()) || absl::IsFailedPrecondition(m.status())) return;
//       if (m.ok()) Handle(*m);
//     }
//   });
//
// Contract: single loop thread; `Recv`, `Send` and `Future::Wait` are fiber-only and return
//   DEADLINE_EXCEEDED on timeout, CANCELLED if the fiber is cancelled, and (channels) FAILED_PRECONDITION
//   once the channel is closed and drained. `TrySend`/`TryRecv`/`Promise::Set` are callable from
//   anywhere on the loop, including network handlers. Timeouts count monotonic time.
#ifndef CREMA_NODE_SYNC_H_
#define CREMA_NODE_SYNC_H_

#include <cassert>
#include <cstddef>
#include <deque>
#include <memory>
#include <optional>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "node/executor.h"

namespace crema {

template <typename T>
class Channel {
 public:
  // REQUIRES: capacity > 0. `executor` must outlive the channel.
  Channel(Executor* executor, size_t capacity) : executor_(executor), capacity_(capacity) {
    assert(capacity_ > 0);
  }
  Channel(const Channel&) = delete;
  Channel& operator=(const Channel&) = delete;

  // Enqueues without blocking; false if the channel is full or closed (the value is dropped).
  bool TrySend(T value) {
    if (closed_ || items_.size() >= capacity_) return false;
    items_.push_back(std::move(value));
    receivers_.WakeOne(*executor_);
    return true;
  }

  // Enqueues, waiting up to `timeout` for room. FAILED_PRECONDITION if closed.
  absl::Status Send(T value, absl::Duration timeout = absl::InfiniteDuration()) {
    const absl::Time deadline = Deadline(timeout);
    while (!closed_ && items_.size() >= capacity_) {
      absl::Status s = executor_->Wait(senders_, deadline);
      if (!s.ok()) return s;
    }
    if (closed_) return absl::FailedPreconditionError("channel closed");
    items_.push_back(std::move(value));
    receivers_.WakeOne(*executor_);
    return absl::OkStatus();
  }

  std::optional<T> TryRecv() {
    if (items_.empty()) return std::nullopt;
    T value = std::move(items_.front());
    items_.pop_front();
    senders_.WakeOne(*executor_);
    return value;
  }

  // Dequeues, waiting up to `timeout` for an item.
  absl::StatusOr<T> Recv(absl::Duration timeout = absl::InfiniteDuration()) {
    const absl::Time deadline = Deadline(timeout);
    while (items_.empty()) {
      if (closed_) return absl::FailedPreconditionError("channel closed");
      absl::Status s = executor_->Wait(receivers_, deadline);
      if (!s.ok()) return s;
    }
    return *TryRecv();
  }

  // No more sends; receivers drain what is queued, then get FAILED_PRECONDITION.
  void Close() {
    closed_ = true;
    receivers_.WakeAll(*executor_);
    senders_.WakeAll(*executor_);
  }

  size_t size() const { return items_.size(); }
  size_t capacity() const { return capacity_; }
  bool closed() const { return closed_; }

 private:
  absl::Time Deadline(absl::Duration timeout) const {
    if (timeout == absl::InfiniteDuration()) return absl::InfiniteFuture();
    return executor_->clock().MonotonicNow() + timeout;
  }

  Executor* executor_;
  size_t capacity_;
  bool closed_ = false;
  std::deque<T> items_;
  WaitList receivers_;
  WaitList senders_;
};

template <typename T>
class Future;

// The writing end of a one-shot value. Destroying an unset Promise sets ABORTED ("broken promise").
template <typename T>
class Promise {
 public:
  explicit Promise(Executor* executor) : state_(std::make_shared<State>(executor)) {}
  Promise(Promise&&) = default;
  Promise& operator=(Promise&&) = default;
  ~Promise() {
    if (state_ && !state_->value) Set(absl::AbortedError("broken promise"));
  }

  // Sets the value once; later calls are ignored (first writer wins).
  void Set(absl::StatusOr<T> value) {
    if (state_->value) return;
    state_->value = std::move(value);
    // With no waiters the executor is not touched: a promise may outlive a crashed node's executor.
    if (!state_->waiters.empty()) state_->waiters.WakeAll(*state_->executor);
  }
  bool is_set() const { return state_->value.has_value(); }
  Future<T> GetFuture() const { return Future<T>(state_); }

 private:
  friend class Future<T>;
  struct State {
    explicit State(Executor* e) : executor(e) {}
    Executor* executor;
    std::optional<absl::StatusOr<T>> value;
    WaitList waiters;
  };
  std::shared_ptr<State> state_;
};

// The reading end; copyable, so several fibers may wait on one value.
template <typename T>
class Future {
 public:
  // Waits up to `timeout` and returns a copy of the value (or the promise's error).
  absl::StatusOr<T> Wait(absl::Duration timeout = absl::InfiniteDuration()) const {
    Executor& executor = *state_->executor;
    const absl::Time deadline = timeout == absl::InfiniteDuration()
                                    ? absl::InfiniteFuture()
                                    : executor.clock().MonotonicNow() + timeout;
    while (!state_->value) {
      absl::Status s = executor.Wait(state_->waiters, deadline);
      if (!s.ok()) return s;
    }
    return *state_->value;
  }
  bool is_ready() const { return state_->value.has_value(); }

 private:
  friend class Promise<T>;
  explicit Future(std::shared_ptr<typename Promise<T>::State> state) : state_(std::move(state)) {}
  std::shared_ptr<typename Promise<T>::State> state_;
};

}  // namespace crema

#endif  // CREMA_NODE_SYNC_H_
