// ChildProcess (tests only): runs a program as a child with its output in a file, and makes sure
// it never outlives the test — killed (SIGKILL) and reaped on destruction, also when the test
// fails, and killed by the kernel if the test process itself dies (PR_SET_PDEATHSIG).
#ifndef CREMA_TRANSPORT_ETCD_TESTING_CHILD_PROCESS_H_
#define CREMA_TRANSPORT_ETCD_TESTING_CHILD_PROCESS_H_

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace crema::transport::testing {

class ChildProcess {
 public:
  // Starts `args[0]` with `args`, stdout and stderr appended to `log_path`.
  ChildProcess(std::vector<std::string> args, std::string log_path)
      : args_(std::move(args)), log_path_(std::move(log_path)) {
    const pid_t parent = ::getpid();
    pid_ = ::fork();
    if (pid_ == 0) {
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);
      if (::getppid() != parent) ::_exit(127);
      const int fd = ::open(log_path_.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
      if (fd >= 0) {
        ::dup2(fd, STDOUT_FILENO);
        ::dup2(fd, STDERR_FILENO);
      }
      std::vector<char*> argv;
      for (std::string& a : args_) argv.push_back(a.data());
      argv.push_back(nullptr);
      ::execv(argv[0], argv.data());
      ::_exit(127);
    }
  }
  ~ChildProcess() { Kill(SIGKILL); }
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  bool started() const { return pid_ > 0; }

  // Sends `sig` and, for SIGKILL, reaps the child. No-op once it exited.
  void Kill(int sig) {
    if (pid_ <= 0 || exited_) return;
    ::kill(pid_, sig);
    if (sig == SIGKILL) Wait();
  }

  // Waits for the child to exit; its exit code (128 + signal if killed).
  int Wait() {
    if (pid_ <= 0) return -1;
    if (!exited_) {
      int status = 0;
      ::waitpid(pid_, &status, 0);
      exited_ = true;
      code_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    }
    return code_;
  }

  bool Running() {
    if (pid_ <= 0 || exited_) return false;
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == 0) return true;
    exited_ = true;
    code_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    return false;
  }

  std::string Output() const {
    std::ifstream in(log_path_);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
  }

 private:
  std::vector<std::string> args_;
  std::string log_path_;
  pid_t pid_ = -1;
  bool exited_ = false;
  int code_ = -1;
};

}  // namespace crema::transport::testing

#endif  // CREMA_TRANSPORT_ETCD_TESTING_CHILD_PROCESS_H_
