// AsioLoop: crema::EventLoop over a single-threaded Boost.Asio io_context (production only).
//
// The fiber Executor (node/executor.h) and TcpNetwork both run on one AsioLoop: executor wake-ups
// are `Post`ed, fiber sleeps are `RunAfter` timers (asio::steady_timer, i.e. CLOCK_MONOTONIC, the
// same clock as RealClock::MonotonicNow), and socket completions are asio handlers on the same
// io_context. Everything therefore runs on one thread, one callback at a time.
//
// Example:
//   AsioLoop loop;
//   RealClock clock;
//   Executor executor(&loop, &clock);
//   executor.Spawn("hello", [&] { (void)executor.Sleep(absl::Milliseconds(10)); loop.Stop(); });
//   loop.Run();
//
// Contract (crema::EventLoop, plus):
//   * `Post` callbacks run in FIFO order; `RunAfter` callbacks run no earlier than `delay` after
//     the call; a cancelled timer never runs. Timers with equal deadlines run in an unspecified
//     order (production only promises "not earlier than").
//   * `Run` returns after `Stop` (or, once `StopOnSignals` was called, SIGINT/SIGTERM). Callbacks
//     still pending when the loop is destroyed are destroyed without running.
//   * Pending timers are bounded by kMaxPendingTimers; exceeding it is a programmer error (abort).
//
// Thread safety: none. Every method except `Stop` must be called on the thread that runs the loop
// (or before it runs). `Stop` is safe from any thread.
#ifndef CREMA_TRANSPORT_ASIO_LOOP_H_
#define CREMA_TRANSPORT_ASIO_LOOP_H_

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cstddef>
#include <deque>
#include <memory>
#include <optional>

#include "absl/container/flat_hash_map.h"
#include "absl/functional/any_invocable.h"
#include "absl/time/time.h"
#include "node/event_loop.h"

namespace crema::transport {

class AsioLoop final : public EventLoop {
 public:
  static constexpr size_t kMaxPendingTimers = 1'000'000;

  AsioLoop();
  ~AsioLoop() override;
  AsioLoop(const AsioLoop&) = delete;
  AsioLoop& operator=(const AsioLoop&) = delete;

  void Post(Callback callback) override;
  TimerId RunAfter(absl::Duration delay, Callback callback) override;
  void Cancel(TimerId timer) override;

  // Runs callbacks until `Stop` is called (or a handled signal arrives).
  void Run();

  // Runs callbacks until `done()` returns true (checked after every callback) or `timeout` has
  // passed; returns done()'s final value. For tests and clients; never blocks past the timeout.
  bool RunUntil(absl::AnyInvocable<bool()> done, absl::Duration timeout);

  // Makes `Run` return after the current callback. Thread-safe.
  void Stop();

  // From now on SIGINT and SIGTERM stop `Run` (and are otherwise ignored). Call once, before Run.
  void StopOnSignals();
  // The signal that stopped the loop, if any.
  std::optional<int> stop_signal() const { return stop_signal_; }

  size_t pending_timers() const { return timers_.size(); }
  boost::asio::io_context& io_context() { return io_; }

 private:
  struct Timer {
    std::unique_ptr<boost::asio::steady_timer> timer;
    Callback callback;
  };
  void RunNextPosted();
  void FireTimer(TimerId id);

  // Declared first, destroyed last: its destructor destroys pending handlers, which only hold
  // `this` and never run after that.
  boost::asio::io_context io_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_;
  std::deque<Callback> posted_;
  // Looked up by id only, never iterated: hash order cannot leak.
  absl::flat_hash_map<TimerId, Timer> timers_;
  TimerId next_timer_id_ = 1;
  std::unique_ptr<boost::asio::signal_set> signals_;
  std::optional<int> stop_signal_;
};

}  // namespace crema::transport

#endif  // CREMA_TRANSPORT_ASIO_LOOP_H_
