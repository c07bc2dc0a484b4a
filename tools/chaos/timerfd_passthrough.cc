// A preload library for chaos runs: timerfd_settime and timerfd_gettime go straight to the kernel,
// so libfaketime (preloaded after this) cannot rewrite them.
//
// Why: the harness fakes only the wall clock (FAKETIME_DONT_FAKE_MONOTONIC=1), but Debian's
// libfaketime 0.9.10 still rewrites every TFD_TIMER_ABSTIME timerfd_settime as if its value were
// faked time — even on a CLOCK_MONOTONIC timerfd — whenever the timestamp file holds a positive
// offset or a rate other than 1. Asio arms its one timerfd with TFD_TIMER_ABSTIME and a value of 0
// when the earliest timer has already expired (a thread preempted or SIGSTOPped between computing
// a timer's expiry and queueing it); libfaketime turns that 0 into a negative time, the kernel
// answers EINVAL, Asio ignores the error, and the process never runs another timer: Raft ticks,
// peer redials and maintenance stop for good while socket I/O goes on (docs/chaos.md, "a link
// that stayed down"). crema_server uses only monotonic timers (Asio steady_timer), which the
// harness never means to fake, so passing them through is exactly the intended fault model.
//
// Contract: same signatures and errno behaviour as glibc's wrappers (syscall(2) sets errno).
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <unistd.h>

extern "C" int timerfd_settime(int fd, int flags, const struct itimerspec* new_value,
                               struct itimerspec* old_value) {
  return static_cast<int>(syscall(SYS_timerfd_settime, fd, flags, new_value, old_value));
}

extern "C" int timerfd_gettime(int fd, struct itimerspec* curr_value) {
  return static_cast<int>(syscall(SYS_timerfd_gettime, fd, curr_value));
}
