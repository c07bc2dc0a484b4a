#include "tools/chaos/proc.h"

#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace crema::chaos_tool {
namespace {

extern "C" char** environ;

std::vector<char*> CStrings(const std::vector<std::string>& v) {
  std::vector<char*> out;
  for (const std::string& s : v) out.push_back(const_cast<char*>(s.c_str()));
  out.push_back(nullptr);
  return out;
}

}  // namespace

int64_t MonotonicNanos() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return int64_t{ts.tv_sec} * 1'000'000'000 + ts.tv_nsec;
}

void Nap(absl::Duration d) {
  if (d <= absl::ZeroDuration()) return;
  timespec ts = absl::ToTimespec(d);
  while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
  }
}

CommandResult RunCommand(const std::vector<std::string>& argv, absl::Duration timeout) {
  CommandResult result;
  if (argv.empty()) return result;
  int pipe_fds[2];
  if (pipe2(pipe_fds, O_CLOEXEC) != 0) return result;
  std::vector<char*> args = CStrings(argv);
  const pid_t pid = fork();
  if (pid < 0) {
    close(pipe_fds[0]);
    close(pipe_fds[1]);
    return result;
  }
  if (pid == 0) {
    const int devnull = open("/dev/null", O_RDONLY);
    if (devnull >= 0) dup2(devnull, 0);
    dup2(pipe_fds[1], 1);
    dup2(pipe_fds[1], 2);
    execvp(args[0], args.data());
    _exit(127);
  }
  close(pipe_fds[1]);
  const int64_t deadline = MonotonicNanos() + absl::ToInt64Nanoseconds(timeout);
  char buffer[4096];
  bool timed_out = false;
  for (;;) {
    const int64_t left_ms = (deadline - MonotonicNanos()) / 1'000'000;
    if (left_ms <= 0) {
      timed_out = true;
      break;
    }
    pollfd p{.fd = pipe_fds[0], .events = POLLIN, .revents = 0};
    const int n = poll(&p, 1, static_cast<int>(std::min<int64_t>(left_ms, 1000)));
    if (n < 0 && errno != EINTR) break;
    if (n <= 0) continue;
    const ssize_t got = read(pipe_fds[0], buffer, sizeof buffer);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) break;  // EOF: the command (and anything holding the pipe) is done
    if (result.output.size() < kMaxCommandOutput) {
      result.output.append(buffer, static_cast<size_t>(got));
    }
  }
  close(pipe_fds[0]);
  if (timed_out) {
    kill(pid, SIGKILL);
    WaitExit(pid, absl::Seconds(5));
    result.output += "\n(killed: still running after " + absl::FormatDuration(timeout) + ")";
    return result;
  }
  int status = 0;
  const int64_t left = std::max<int64_t>(deadline - MonotonicNanos(), 1'000'000'000);
  for (int64_t waited = 0; waited < left; waited += 10'000'000) {
    const pid_t r = waitpid(pid, &status, WNOHANG);
    if (r == pid) {
      result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
      return result;
    }
    if (r < 0 && errno != EINTR) return result;
    Nap(absl::Milliseconds(10));
  }
  kill(pid, SIGKILL);
  WaitExit(pid, absl::Seconds(5));
  return result;
}

CommandResult RunInNetns(const std::string& netns, const std::vector<std::string>& argv,
                         absl::Duration timeout) {
  std::vector<std::string> full = {"ip", "netns", "exec", netns};
  full.insert(full.end(), argv.begin(), argv.end());
  return RunCommand(full, timeout);
}

absl::StatusOr<pid_t> SpawnInNetns(const std::string& netns_path,
                                   const std::vector<std::string>& argv,
                                   const std::vector<std::string>& env,
                                   const std::string& log_path) {
  if (argv.empty()) return absl::InvalidArgumentError("empty argv");
  const int ns_fd = open(netns_path.c_str(), O_RDONLY | O_CLOEXEC);
  if (ns_fd < 0) {
    return absl::UnavailableError("cannot open " + netns_path + ": " + std::strerror(errno));
  }
  const int log_fd = open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (log_fd < 0) {
    close(ns_fd);
    return absl::UnavailableError("cannot open " + log_path + ": " + std::strerror(errno));
  }
  std::vector<char*> args = CStrings(argv);
  std::vector<char*> envp = CStrings(env);
  const pid_t parent = getpid();
  const pid_t pid = fork();
  if (pid == 0) {
    // Only async-signal-safe calls between fork and exec (the harness has threads).
    // A harness killed with SIGKILL takes its servers with it (spawns come from its main thread,
    // which lives as long as the harness); a parent already gone means the same.
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) _exit(125);
    setpgid(0, 0);
    if (setns(ns_fd, CLONE_NEWNET) != 0) _exit(126);
    const int devnull = open("/dev/null", O_RDONLY);
    if (devnull >= 0) dup2(devnull, 0);
    dup2(log_fd, 1);
    dup2(log_fd, 2);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    execve(args[0], args.data(), envp.data());
    _exit(127);
  }
  close(ns_fd);
  close(log_fd);
  if (pid < 0) return absl::UnavailableError(std::string("fork: ") + std::strerror(errno));
  return pid;
}

bool WaitExit(pid_t pid, absl::Duration timeout) {
  const int64_t deadline = MonotonicNanos() + absl::ToInt64Nanoseconds(timeout);
  for (;;) {
    int status = 0;
    const pid_t r = waitpid(pid, &status, WNOHANG);
    if (r == pid || (r < 0 && errno == ECHILD)) return true;
    if (MonotonicNanos() >= deadline) return false;
    Nap(absl::Milliseconds(10));
  }
}

void StopProcess(pid_t pid, absl::Duration grace) {
  if (pid <= 0) return;
  kill(pid, SIGCONT);  // a stopped process cannot act on SIGTERM
  kill(pid, SIGTERM);
  if (WaitExit(pid, grace)) return;
  kill(pid, SIGKILL);
  WaitExit(pid, absl::Seconds(5));
}

bool Alive(pid_t pid) {
  if (pid <= 0) return false;
  int status = 0;
  const pid_t r = waitpid(pid, &status, WNOHANG);
  return r == 0;
}

}  // namespace crema::chaos_tool
