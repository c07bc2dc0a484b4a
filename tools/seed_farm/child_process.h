// ChildProcess: runs a program with its stdout and stderr on pipes, for the farm and the shrinker
// (which run //tools:sim as child processes: one crashing, hanging or leaking seed cannot take the
// sweep down with it, and several run at once on several cores).
//
//   absl::StatusOr<ChildProcess> child = ChildProcess::Spawn({"/path/sim", "--seed=1"});
//   while (child->Poll(absl::Milliseconds(100))) { for (auto& line : child->TakeStdoutLines()) ...; }
//   ChildProcess::Exit exit = child->Wait();
//
// `Poll` reads whatever is available (non-blocking pipes, poll(2)) and returns false once both
// pipes are closed. Output is split into lines; stderr keeps only its last kMaxStderrBytes (for
// crash reports). `Kill` sends SIGKILL to this child only (by its pid). The destructor kills and
// reaps a child that is still running, so none is ever left behind.
//
// `RunToCompletion` is the simple form: run, collect everything, wait (with a timeout after which
// the child is killed).
//
// Thread safety: a ChildProcess belongs to one thread. Linux only (posix_spawn, poll, waitpid).
#ifndef CREMA_TOOLS_SEED_FARM_CHILD_PROCESS_H_
#define CREMA_TOOLS_SEED_FARM_CHILD_PROCESS_H_

#include <sys/types.h>

#include <cstddef>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace crema::farm {

class ChildProcess {
 public:
  static constexpr size_t kMaxStderrBytes = 16 << 10;
  static constexpr size_t kMaxLineBytes = 4 << 20;  // a longer stdout line is cut

  struct Exit {
    bool exited = false;  // exit() was called: `code` is its status
    int code = -1;
    int signal = 0;       // killed by this signal (0 if it exited)
  };

  // Starts argv[0] (a path) with the rest as arguments; the environment is inherited.
  static absl::StatusOr<ChildProcess> Spawn(const std::vector<std::string>& argv);

  ChildProcess(ChildProcess&& other) noexcept;
  ChildProcess& operator=(ChildProcess&& other) noexcept;
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;
  ~ChildProcess();

  // Waits up to `timeout` for output; reads it. False when both pipes are at end of file.
  bool Poll(absl::Duration timeout);
  // Complete stdout lines read so far (without '\n'), removing them from the buffer.
  std::vector<std::string> TakeStdoutLines();
  // The last kMaxStderrBytes of stderr.
  const std::string& stderr_tail() const { return stderr_; }
  pid_t pid() const { return pid_; }
  int stdout_fd() const { return out_fd_; }
  int stderr_fd() const { return err_fd_; }
  bool open() const { return out_fd_ >= 0 || err_fd_ >= 0; }

  void Kill();
  // Reaps the child (blocking). Reads and keeps any remaining output first.
  Exit Wait();

  // Runs to completion: all stdout lines, the stderr tail and the exit. The child is killed if it
  // runs longer than `timeout` (then exit.signal == SIGKILL).
  struct Completed {
    std::vector<std::string> stdout_lines;
    std::string stderr_tail;
    Exit exit;
    bool timed_out = false;
  };
  static absl::StatusOr<Completed> RunToCompletion(const std::vector<std::string>& argv,
                                                   absl::Duration timeout);

  // Reads from the fds that poll(2) reported ready (for callers polling many children at once).
  void ReadReady(bool stdout_ready, bool stderr_ready);

 private:
  ChildProcess(pid_t pid, int out_fd, int err_fd) : pid_(pid), out_fd_(out_fd), err_fd_(err_fd) {}
  void ReadFd(int& fd, bool is_stdout);
  void CloseFds();

  pid_t pid_ = -1;
  int out_fd_ = -1;
  int err_fd_ = -1;
  bool reaped_ = false;
  Exit exit_;
  std::string stdout_partial_;
  std::vector<std::string> stdout_lines_;
  std::string stderr_;
};

// "exit 1", "signal 6 (SIGABRT)", ...
std::string DescribeExit(const ChildProcess::Exit& exit);

}  // namespace crema::farm

#endif  // CREMA_TOOLS_SEED_FARM_CHILD_PROCESS_H_
