// SimEventLoop and SimTracer: one node incarnation's crema::EventLoop and crema::Tracer on the
// simulator.
//
// Every callback becomes an event on the global queue tagged with (node, incarnation): after a
// crash the incarnation is over and none of its callbacks run; while the node is paused they are
// held. `RunAfter` delays are in the node's monotonic time, converted to virtual time through the
// node's clock drift (rounded up). `Post` runs at the current virtual time, after events already
// queued for it (FIFO).
//
// Thread safety: none.
#ifndef CREMA_SIM_SIM_EVENT_LOOP_H_
#define CREMA_SIM_SIM_EVENT_LOOP_H_

#include <string>

#include "node/event_loop.h"
#include "node/tracer.h"
#include "sim/simulator.h"

namespace crema::sim {

class SimEventLoop final : public EventLoop {
 public:
  SimEventLoop(Simulator* sim, NodeId node, uint64_t incarnation, const SimClock* clock)
      : sim_(sim), node_(node), incarnation_(incarnation), clock_(clock) {}

  void Post(Callback callback) override {
    sim_->ScheduleNodeEvent(node_, incarnation_, sim_->now_ns(), "loop.post", std::move(callback));
  }
  TimerId RunAfter(absl::Duration delay, Callback callback) override {
    const int64_t delay_ns = absl::ToInt64Nanoseconds(clock_->ToVirtualDelay(delay));
    return sim_->ScheduleNodeEvent(node_, incarnation_, sim_->now_ns() + delay_ns, "loop.timer",
                                   std::move(callback));
  }
  void Cancel(TimerId timer) override { sim_->CancelNodeEvent(node_, timer); }

 private:
  Simulator* sim_;
  NodeId node_;
  uint64_t incarnation_;
  const SimClock* clock_;
};

// Node code's own trace records join the run's trace as kind "app.<kind>".
class SimTracer final : public Tracer {
 public:
  SimTracer(Simulator* sim, NodeId node) : sim_(sim), node_(node) {}
  void Record(std::string_view kind, std::string_view detail) override {
    std::string full_kind = "app.";
    full_kind.append(kind);
    sim_->Trace(node_, full_kind, detail);
    sim_->coverage().Add(full_kind);  // "app.<kind>" (sim/coverage.h)
  }

 private:
  Simulator* sim_;
  NodeId node_;
};

}  // namespace crema::sim

#endif  // CREMA_SIM_SIM_EVENT_LOOP_H_
