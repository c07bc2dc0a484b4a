#include "transport/sync_worker.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include <boost/asio/post.hpp>
#include <utility>

#include "absl/strings/str_cat.h"

namespace crema::transport {

// One fsync: the descriptor is the worker's own (a dup), so the caller may close the file.
struct SyncWorker::Job {
  int fd = -1;
  int error = 0;      // written by the worker before the completion is posted
  bool done = false;  // loop thread
  WaitList waiters;   // loop thread
};

absl::Status FsyncStatus(int error, const std::string& path) {
  if (error == 0) return absl::OkStatus();
  std::string message = absl::StrCat("fsync ", path, ": ", strerror(error));
  if (error == ENOSPC || error == EDQUOT) return absl::ResourceExhaustedError(message);
  return absl::InternalError(message);
}

SyncWorker::SyncWorker(boost::asio::io_context* io, Executor* executor, SyncFn sync_fn)
    : io_(io), executor_(executor), sync_fn_(std::move(sync_fn)) {
  if (!sync_fn_) {
    sync_fn_ = [](int fd) {
      while (true) {
        if (::fsync(fd) == 0) return 0;
        if (errno != EINTR) return errno;
      }
    };
  }
  thread_ = std::thread([this] { Run(); });
}

SyncWorker::~SyncWorker() {
  *alive_ = false;  // completions still in the io_context do nothing from now on
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_one();
  thread_.join();
}

void SyncWorker::Run() {
  while (true) {
    std::shared_ptr<Job> job;
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping, drained
      job = std::move(queue_.front());
      queue_.pop_front();
    }
    job->error = sync_fn_(job->fd);
    ::close(job->fd);
    std::weak_ptr<bool> alive = alive_;
    Executor* executor = executor_;
    boost::asio::post(*io_, [alive, executor, job] {
      std::shared_ptr<bool> still = alive.lock();
      if (!still || !*still) return;
      job->done = true;
      job->waiters.WakeAll(*executor);
    });
  }
}

absl::Status SyncWorker::Sync(int fd, const std::string& path) {
  const int own = ::dup(fd);
  bool queued = false;
  auto job = std::make_shared<Job>();
  job->fd = own;
  if (own >= 0) {
    std::lock_guard<std::mutex> lock(mu_);
    if (queue_.size() < kMaxQueuedJobs && !stopping_) {
      queue_.push_back(job);
      queued = true;
    }
  }
  if (!queued) {  // no descriptor to spare, or too many waiting: fsync here
    if (own >= 0) ::close(own);
    return FsyncStatus(sync_fn_(fd), path);
  }
  cv_.notify_one();
  ++offloaded_;
  while (!job->done) {
    if (absl::Status s = executor_->Wait(job->waiters, absl::InfiniteFuture()); !s.ok()) return s;
  }
  return FsyncStatus(job->error, path);
}

}  // namespace crema::transport
