// EventLoop: what the fiber Executor needs from whatever drives a node — a place to run callbacks
// soon and at a later monotonic time. The simulator implements it per node on its global event
// queue (virtual time, with the node's clock drift applied); transport/ implements it on epoll.
//
// Contract: callbacks run one at a time on the loop's single thread, never re-entrantly. `Post`
// callbacks run in FIFO order after the current callback returns. A cancelled timer never runs.
// After a node crashes, none of its pending callbacks run.
#ifndef CREMA_NODE_EVENT_LOOP_H_
#define CREMA_NODE_EVENT_LOOP_H_

#include <cstdint>

#include "absl/functional/any_invocable.h"
#include "absl/time/time.h"

namespace crema {

class EventLoop {
 public:
  using TimerId = uint64_t;  // never 0
  using Callback = absl::AnyInvocable<void()>;

  virtual ~EventLoop() = default;

  // Runs `callback` soon, after the current callback returns.
  virtual void Post(Callback callback) = 0;

  // Runs `callback` once `delay` of this node's monotonic time has passed. REQUIRES: delay >= 0.
  virtual TimerId RunAfter(absl::Duration delay, Callback callback) = 0;

  // Cancels a timer that has not run yet; a no-op for one that ran or was cancelled.
  virtual void Cancel(TimerId timer) = 0;
};

}  // namespace crema

#endif  // CREMA_NODE_EVENT_LOOP_H_
