#include "transport/asio_loop.h"

#include <signal.h>

#include <boost/asio/post.hpp>
#include <cassert>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <utility>

namespace crema::transport {
namespace {

// Longest single timer; longer delays are clamped (a node never sleeps this long in practice).
constexpr absl::Duration kMaxTimerDelay = absl::Hours(24 * 365);

}  // namespace

AsioLoop::AsioLoop() : io_(/*concurrency_hint=*/1), work_(boost::asio::make_work_guard(io_)) {}

AsioLoop::~AsioLoop() {
  // Cancel timers first so no handler can find a live entry; then the io_context (declared first)
  // is destroyed last and drops every pending handler unrun.
  timers_.clear();
  posted_.clear();
  signals_.reset();
}

void AsioLoop::Post(Callback callback) {
  assert(callback);
  posted_.push_back(std::move(callback));
  // The posted handler is copyable and tiny; the callback itself (maybe move-only) waits in
  // `posted_`. Both queues are FIFO on one thread, so they stay paired in order.
  boost::asio::post(io_, [this] { RunNextPosted(); });
}

void AsioLoop::RunNextPosted() {
  assert(!posted_.empty());
  Callback callback = std::move(posted_.front());
  posted_.pop_front();
  callback();
}

EventLoop::TimerId AsioLoop::RunAfter(absl::Duration delay, Callback callback) {
  assert(delay >= absl::ZeroDuration());
  assert(callback);
  if (timers_.size() >= kMaxPendingTimers) {
    std::fprintf(stderr, "AsioLoop: more than %zu pending timers\n", kMaxPendingTimers);
    std::abort();
  }
  if (delay < absl::ZeroDuration()) delay = absl::ZeroDuration();
  if (delay > kMaxTimerDelay) delay = kMaxTimerDelay;
  const TimerId id = next_timer_id_++;
  auto timer = std::make_unique<boost::asio::steady_timer>(io_);
  timer->expires_after(absl::ToChronoNanoseconds(delay));
  timer->async_wait([this, id](const boost::system::error_code& error) {
    if (error) return;  // cancelled: the entry is already gone
    FireTimer(id);
  });
  timers_.emplace(id, Timer{std::move(timer), std::move(callback)});
  return id;
}

void AsioLoop::FireTimer(TimerId id) {
  auto it = timers_.find(id);
  if (it == timers_.end()) return;  // cancelled after expiry but before its handler ran
  Callback callback = std::move(it->second.callback);
  timers_.erase(it);
  callback();
}

void AsioLoop::Cancel(TimerId timer) {
  // Destroying the steady_timer cancels its wait; the handler then sees operation_aborted.
  timers_.erase(timer);
}

void AsioLoop::Run() {
  if (io_.stopped()) io_.restart();
  io_.run();
}

bool AsioLoop::RunUntil(absl::AnyInvocable<bool()> done, absl::Duration timeout) {
  const auto deadline = std::chrono::steady_clock::now() + absl::ToChronoNanoseconds(timeout);
  if (io_.stopped()) io_.restart();
  while (!done()) {
    const auto now = std::chrono::steady_clock::now();
    if (now >= deadline) return false;
    io_.run_one_for(deadline - now);
    if (io_.stopped()) return done();
  }
  return true;
}

void AsioLoop::Stop() { io_.stop(); }

void AsioLoop::StopOnSignals() {
  assert(signals_ == nullptr);
  signals_ = std::make_unique<boost::asio::signal_set>(io_, SIGINT, SIGTERM);
  signals_->async_wait([this](const boost::system::error_code& error, int signal_number) {
    if (error) return;
    stop_signal_ = signal_number;
    Stop();
  });
}

}  // namespace crema::transport
