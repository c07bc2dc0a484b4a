#include "tools/seed_farm/child_process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

extern char** environ;

namespace crema::farm {

absl::StatusOr<ChildProcess> ChildProcess::Spawn(const std::vector<std::string>& argv) {
  if (argv.empty()) return absl::InvalidArgumentError("no program to run");
  int out[2], err[2];
  if (pipe2(out, O_CLOEXEC) != 0) return absl::InternalError("pipe failed");
  if (pipe2(err, O_CLOEXEC) != 0) {
    close(out[0]);
    close(out[1]);
    return absl::InternalError("pipe failed");
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, out[1], STDOUT_FILENO);
  posix_spawn_file_actions_adddup2(&actions, err[1], STDERR_FILENO);
  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = -1;
  const int rc = posix_spawn(&pid, args[0], &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  close(out[1]);
  close(err[1]);
  if (rc != 0) {
    close(out[0]);
    close(err[0]);
    return absl::InternalError(absl::StrCat("cannot start ", argv[0], ": ", strerror(rc)));
  }
  fcntl(out[0], F_SETFL, fcntl(out[0], F_GETFL) | O_NONBLOCK);
  fcntl(err[0], F_SETFL, fcntl(err[0], F_GETFL) | O_NONBLOCK);
  return ChildProcess(pid, out[0], err[0]);
}

ChildProcess::ChildProcess(ChildProcess&& o) noexcept
    : pid_(std::exchange(o.pid_, -1)), out_fd_(std::exchange(o.out_fd_, -1)),
      err_fd_(std::exchange(o.err_fd_, -1)), reaped_(std::exchange(o.reaped_, true)),
      exit_(o.exit_), stdout_partial_(std::move(o.stdout_partial_)),
      stdout_lines_(std::move(o.stdout_lines_)), stderr_(std::move(o.stderr_)) {}

ChildProcess& ChildProcess::operator=(ChildProcess&& o) noexcept {
  if (this != &o) {
    this->~ChildProcess();
    new (this) ChildProcess(std::move(o));
  }
  return *this;
}

ChildProcess::~ChildProcess() {
  if (pid_ > 0 && !reaped_) {
    Kill();
    CloseFds();
    int status = 0;
    waitpid(pid_, &status, 0);
  }
  CloseFds();
}

void ChildProcess::CloseFds() {
  if (out_fd_ >= 0) close(out_fd_);
  if (err_fd_ >= 0) close(err_fd_);
  out_fd_ = err_fd_ = -1;
}

void ChildProcess::ReadFd(int& fd, bool is_stdout) {
  char buffer[65536];
  while (fd >= 0) {
    const ssize_t n = read(fd, buffer, sizeof(buffer));
    if (n > 0) {
      if (is_stdout) {
        for (ssize_t i = 0; i < n; ++i) {
          if (buffer[i] == '\n') {
            stdout_lines_.push_back(std::move(stdout_partial_));
            stdout_partial_.clear();
          } else if (stdout_partial_.size() < kMaxLineBytes) {
            stdout_partial_ += buffer[i];
          }
        }
      } else {
        stderr_.append(buffer, static_cast<size_t>(n));
        if (stderr_.size() > kMaxStderrBytes) stderr_.erase(0, stderr_.size() - kMaxStderrBytes);
      }
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
    close(fd);  // end of file (or an error: treat alike)
    fd = -1;
    if (is_stdout && !stdout_partial_.empty()) {
      stdout_lines_.push_back(std::move(stdout_partial_));
      stdout_partial_.clear();
    }
  }
}

void ChildProcess::ReadReady(bool stdout_ready, bool stderr_ready) {
  if (stdout_ready) ReadFd(out_fd_, true);
  if (stderr_ready) ReadFd(err_fd_, false);
}

bool ChildProcess::Poll(absl::Duration timeout) {
  if (!open()) return false;
  pollfd fds[2] = {{out_fd_, POLLIN, 0}, {err_fd_, POLLIN, 0}};
  const int ms = static_cast<int>(absl::ToInt64Milliseconds(timeout));
  const int ready = poll(fds, 2, ms);
  if (ready > 0) {
    ReadReady(fds[0].revents != 0, fds[1].revents != 0);
  }
  return open();
}

std::vector<std::string> ChildProcess::TakeStdoutLines() { return std::exchange(stdout_lines_, {}); }

void ChildProcess::Kill() {
  if (pid_ > 0 && !reaped_) kill(pid_, SIGKILL);
}

ChildProcess::Exit ChildProcess::Wait() {
  while (open()) Poll(absl::Milliseconds(100));
  if (pid_ > 0 && !reaped_) {
    int status = 0;
    while (waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
    }
    reaped_ = true;
    if (WIFEXITED(status)) {
      exit_ = Exit{true, WEXITSTATUS(status), 0};
    } else if (WIFSIGNALED(status)) {
      exit_ = Exit{false, -1, WTERMSIG(status)};
    }
  }
  return exit_;
}

absl::StatusOr<ChildProcess::Completed> ChildProcess::RunToCompletion(
    const std::vector<std::string>& argv, absl::Duration timeout) {
  absl::StatusOr<ChildProcess> child = Spawn(argv);
  if (!child.ok()) return child.status();
  Completed done;
  const absl::Time deadline = absl::Now() + timeout;
  while (child->Poll(absl::Milliseconds(100))) {
    for (std::string& line : child->TakeStdoutLines()) done.stdout_lines.push_back(std::move(line));
    if (absl::Now() > deadline) {
      done.timed_out = true;
      child->Kill();
    }
  }
  done.exit = child->Wait();
  for (std::string& line : child->TakeStdoutLines()) done.stdout_lines.push_back(std::move(line));
  done.stderr_tail = child->stderr_tail();
  return done;
}

std::string DescribeExit(const ChildProcess::Exit& exit) {
  if (exit.exited) return absl::StrCat("exit ", exit.code);
  const char* name = exit.signal > 0 ? sigabbrev_np(exit.signal) : nullptr;
  return absl::StrCat("signal ", exit.signal, name ? absl::StrCat(" (SIG", name, ")") : "");
}

}  // namespace crema::farm
