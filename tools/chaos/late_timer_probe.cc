// late_timer_probe: does this process still run timers after one that was already due when it
// was armed? Exit 0 if a 20 ms timer fires within 2 s after a zero-delay timer, 1 if not.
//
// The chaos harness runs crema_server under libfaketime; chaos_clock_test runs this probe (on the
// node's own event loop, transport::AsioLoop) with the harness's environment to show that the
// timerfd_passthrough preload keeps timers alive where libfaketime alone kills them.
#include <cstdio>

#include "absl/time/time.h"
#include "transport/asio_loop.h"

int main() {
  crema::transport::AsioLoop loop;
  bool due_fired = false, later_fired = false;
  loop.RunAfter(absl::ZeroDuration(), [&] { due_fired = true; });  // already due when queued
  loop.RunAfter(absl::Milliseconds(20), [&] { later_fired = true; });
  const bool ok = loop.RunUntil([&] { return due_fired && later_fired; }, absl::Seconds(2));
  std::printf("late_timer_probe: zero-delay timer %s, 20 ms timer %s\n",
              due_fired ? "fired" : "did not fire", later_fired ? "fired" : "did not fire");
  return ok ? 0 : 1;
}
