// Processes for the chaos harness: bounded command runs, and long-lived children started inside a
// network namespace (setns between fork and exec, so the child's pid is the server's own pid and
// signals reach it directly).
//
//   CommandResult r = RunCommand({"ip", "link", "add", ...}, absl::Seconds(10));
//   absl::StatusOr<pid_t> pid = SpawnInNetns("/run/netns/x", argv, env, "/tmp/log");
//   WaitExit(pid, absl::Seconds(5));      // reaps; false if still running at the deadline
//
// Every wait here is bounded. RunCommand kills (SIGKILL) a command still running at its deadline.
// Thread safety: the functions are safe to call from any thread (children are reaped only by the
// waits here, by pid).
#ifndef CREMA_TOOLS_CHAOS_PROC_H_
#define CREMA_TOOLS_CHAOS_PROC_H_

#include <sys/types.h>

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace crema::chaos_tool {

struct CommandResult {
  int exit_code = -1;  // -1: could not run, or killed at the deadline
  std::string output;  // stdout and stderr together (the first kMaxCommandOutput bytes)
  bool ok() const { return exit_code == 0; }
};

inline constexpr size_t kMaxCommandOutput = 64 * 1024;

// Runs argv[0] (found on PATH) with stdin from /dev/null.
CommandResult RunCommand(const std::vector<std::string>& argv,
                         absl::Duration timeout = absl::Seconds(20));
// The same, inside the named network namespace (`ip netns exec NAME ...`).
CommandResult RunInNetns(const std::string& netns, const std::vector<std::string>& argv,
                         absl::Duration timeout = absl::Seconds(20));

// Starts argv with exactly `env` (KEY=VALUE), in the network namespace whose handle is at
// `netns_path`, stdout+stderr appended to `log_path`, in a new process group.
absl::StatusOr<pid_t> SpawnInNetns(const std::string& netns_path,
                                   const std::vector<std::string>& argv,
                                   const std::vector<std::string>& env,
                                   const std::string& log_path);

// Waits for `pid` to exit and reaps it; true if it exited (or was already gone) in time.
bool WaitExit(pid_t pid, absl::Duration timeout);
// SIGTERM, then SIGKILL after `grace`; reaps. Bounded by grace + 5 s.
void StopProcess(pid_t pid, absl::Duration grace);
// Whether `pid` is a running (not zombie) child; reaps it if it has exited.
bool Alive(pid_t pid);

// The host's monotonic clock (what histories are timed with), in nanoseconds.
int64_t MonotonicNanos();
void Nap(absl::Duration d);

}  // namespace crema::chaos_tool

#endif  // CREMA_TOOLS_CHAOS_PROC_H_
