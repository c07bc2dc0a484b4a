// RaftHost and the node's shared log (consensus/storage/shared_log.h): opening it, the persist
// step of the cycle with ONE Sync for every ready group, reopening it after a failure, keeping
// it small, and deleting a destroyed group's data.
#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "consensus/driver/raft_host.h"

namespace crema::raft {
namespace {
constexpr absl::Duration kMaxLogReopenBackoff = absl::Seconds(30);
}  // namespace

absl::Status RaftHost::EnsureLog() {
  if (!options_.shared_log || log_ != nullptr) return absl::OkStatus();
  storage::IoLockGuard guard(&log_open_lock_);  // concurrent CreateGroups open it once
  if (!guard.status().ok()) return guard.status();
  if (log_ != nullptr) return absl::OkStatus();
  absl::StatusOr<std::unique_ptr<storage::SharedLog>> log =
      storage::SharedLog::Open(env_.disk, env_.executor, options_.log_prefix, options_.log);
  if (!log.ok()) {
    env_.tracer->Record("raft.log_open_failed", std::string(log.status().message()));
    return log.status();
  }
  if (loop_->shutdown) return absl::FailedPreconditionError("raft host shut down");
  log_ = *std::move(log);
  return absl::OkStatus();
}

void RaftHost::PersistAll(const std::vector<GroupDriver*>& ready) {
  if (log_ == nullptr) {  // a WAL per group: each syncs its own
    for (GroupDriver* g : ready) g->Persist();
    return;
  }
  bool needs_sync = false;
  for (GroupDriver* g : ready) needs_sync |= g->BufferReady();
  absl::Status synced;
  if (needs_sync) {
    ++stats_.log_syncs;
    const absl::Time sync_started = env_.clock->MonotonicNow();
    synced = log_->Sync();  // ONE Write and ONE File::Sync for every group of the cycle
    if (options_.on_log_sync) options_.on_log_sync(env_.clock->MonotonicNow() - sync_started);
    if (!synced.ok() && log_failed_at_ == absl::InfinitePast()) {
      log_failed_at_ = env_.clock->MonotonicNow();
      env_.tracer->Record("raft.log_failed", std::string(synced.message()));
    }
  }
  for (GroupDriver* g : ready) g->FinishPersist(synced);
}

void RaftHost::MaybeReopenLog(absl::Time now) {
  if (log_ == nullptr || log_->failure().ok()) {
    log_failed_at_ = absl::InfinitePast();
    return;
  }
  if (log_failed_at_ == absl::InfinitePast()) log_failed_at_ = now;  // failed outside a cycle
  if (now < log_failed_at_ + log_backoff_) return;
  log_failed_at_ = now;
  ++stats_.log_reopens;
  absl::Status s = log_->Reopen();
  if (s.ok()) {
    log_backoff_ = options_.log_reopen_backoff;
    env_.tracer->Record("raft.log_reopened", "");
    return;
  }
  // Real corruption does not heal by itself: look again ever less often, but never give up.
  log_backoff_ = log_->corrupt() ? std::min(2 * log_backoff_, kMaxLogReopenBackoff)
                                 : options_.log_reopen_backoff;
  env_.tracer->Record(log_->corrupt() ? "raft.log_corrupt" : "raft.log_reopen_failed",
                      std::string(s.message()));
}

void RaftHost::MaybeMaintainLog() {
  if (log_ == nullptr || !log_->NeedsMaintenance()) return;
  if (absl::Status s = log_->Maintain(); !s.ok()) {
    env_.tracer->Record("raft.log_maintain_failed", std::string(s.message()));
  }
}

absl::Status RaftHost::DeleteGroupData(GroupId group, std::string storage_prefix) {
  if (loop_->shutdown) return absl::FailedPreconditionError("raft host shut down");
  if (groups_.contains(group) || opening_.contains(group)) {
    return absl::FailedPreconditionError(absl::StrCat("raft group ", group, " is hosted"));
  }
  if (storage_prefix.empty()) storage_prefix = absl::StrCat("raft/", group, "/");
  if (absl::Status s = EnsureLog(); !s.ok()) return s;
  return DestroyGroupData(group, storage_prefix);
}

absl::Status RaftHost::DestroyGroupData(GroupId group, const std::string& prefix) {
  if (log_ != nullptr) {
    // The tombstone first: if it fails, the group's records and files stay, consistent.
    if (absl::Status s = log_->Destroy(group, prefix); !s.ok()) return s;
  }
  absl::StatusOr<std::vector<std::string>> files = env_.disk->List(prefix);
  if (!files.ok()) return files.status();
  for (const std::string& name : *files) {
    if (absl::Status s = env_.disk->Delete(name); !s.ok()) return s;
  }
  return absl::OkStatus();
}

}  // namespace crema::raft
