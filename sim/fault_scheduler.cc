#include "sim/fault_scheduler.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "sim/partitions.h"

namespace crema::sim {

FaultScheduler::FaultScheduler(Simulator* sim, FaultConfig config, std::vector<NodeId> targets,
                               Random random)
    : sim_(sim), config_(std::move(config)), targets_(std::move(targets)), random_(random) {
  std::sort(targets_.begin(), targets_.end());
}

std::vector<FaultScheduler::Action> FaultScheduler::EnabledActions() const {
  std::vector<Action> actions;
  if (config_.crashes) actions.push_back(Action::kCrash);
  if (config_.amnesia) actions.push_back(Action::kAmnesia);
  if (config_.pauses) actions.push_back(Action::kPause);
  if (config_.partitions && targets_.size() >= 2) actions.push_back(Action::kPartition);
  if (config_.clogging && targets_.size() >= 2) actions.push_back(Action::kClog);
  if (config_.swizzle && targets_.size() >= 2) actions.push_back(Action::kSwizzle);
  if (config_.clock_steps) actions.push_back(Action::kClockStep);
  if (config_.disk_full) actions.push_back(Action::kDiskFull);
  return actions;
}

void FaultScheduler::Start() {
  running_ = true;
  ScheduleNext();
}

void FaultScheduler::ScheduleNext() {
  if (!running_ || EnabledActions().empty() || targets_.empty()) return;
  const absl::Duration wait =
      random_.DurationBetween(absl::ZeroDuration(), config_.mean_fault_interval * 2);
  sim_->After(wait, "fault.tick", [this, epoch = epoch_] {
    if (!running_ || epoch != epoch_) return;
    Act();
    ScheduleNext();
  });
}

absl::Duration FaultScheduler::FaultDuration() {
  return random_.DurationBetween(absl::Milliseconds(10),
                                 std::max(absl::Milliseconds(10), config_.max_fault_duration));
}

void FaultScheduler::Later(const char* kind, absl::AnyInvocable<void()> undo) {
  sim_->After(FaultDuration(), kind, [this, epoch = epoch_, undo = std::move(undo)]() mutable {
    if (epoch == epoch_) undo();
  });
}

NodeId FaultScheduler::PickTarget(NodeState state) {
  std::vector<NodeId> candidates;
  for (NodeId id : targets_) {
    if (sim_->state(id) == state) candidates.push_back(id);
  }
  return candidates.empty() ? kNoNode : candidates[random_.Uniform(candidates.size())];
}

void FaultScheduler::CrashAction(bool amnesia) {
  const NodeId id = PickTarget(NodeState::kUp);
  if (id == kNoNode) return;
  if (amnesia) {
    ++stats_.amnesias;
    sim_->Amnesia(id);
  } else {
    ++stats_.crashes;
    sim_->Crash(id);
  }
  Later("fault.restart", [this, id] {
    if (sim_->state(id) == NodeState::kDown) sim_->Restart(id);
  });
}

void FaultScheduler::SetNodeClogged(NodeId node, bool clogged) {
  for (NodeId other : targets_) {
    if (other == node) continue;
    if (clogged) {
      sim_->network().Clog(node, other);
      sim_->network().Clog(other, node);
    } else {
      sim_->network().Unclog(node, other);
      sim_->network().Unclog(other, node);
    }
  }
}

void FaultScheduler::SwizzleAction() {
  // A random subset (at least one node), clogged one by one, then unclogged in a new order.
  std::vector<NodeId> chosen;
  for (NodeId id : targets_) {
    if (random_.OneIn(2)) chosen.push_back(id);
  }
  if (chosen.empty()) chosen.push_back(targets_[random_.Uniform(targets_.size())]);
  ++stats_.swizzles;
  sim_->Trace(kNoNode, "fault.swizzle", absl::StrCat("nodes=", chosen.size()));
  auto shuffle = [this](std::vector<NodeId> v) {
    for (size_t i = v.size(); i > 1; --i) std::swap(v[i - 1], v[random_.Uniform(i)]);
    return v;
  };
  const std::vector<NodeId> clog_order = shuffle(chosen);
  const std::vector<NodeId> unclog_order = shuffle(chosen);
  const absl::Duration step = config_.max_fault_duration / (2 * chosen.size() + 1);
  absl::Duration at = absl::ZeroDuration();
  for (NodeId id : clog_order) {
    at += random_.DurationBetween(absl::ZeroDuration(), step);
    sim_->After(at, "fault.swizzle_clog", [this, id, epoch = epoch_] {
      if (epoch == epoch_) SetNodeClogged(id, true);
    });
  }
  for (NodeId id : unclog_order) {
    at += random_.DurationBetween(absl::ZeroDuration(), step);
    sim_->After(at, "fault.swizzle_unclog", [this, id, epoch = epoch_] {
      if (epoch == epoch_) SetNodeClogged(id, false);
    });
  }
}

void FaultScheduler::Act() {
  const std::vector<Action> actions = EnabledActions();
  switch (actions[random_.Uniform(actions.size())]) {
    case Action::kCrash:
      return CrashAction(/*amnesia=*/false);
    case Action::kAmnesia:
      return CrashAction(/*amnesia=*/true);
    case Action::kPause: {
      const NodeId id = PickTarget(NodeState::kUp);
      if (id == kNoNode) return;
      ++stats_.pauses;
      sim_->Pause(id);
      return Later("fault.resume", [this, id] { sim_->Resume(id); });
    }
    case Action::kPartition: {
      if (!sim_->network().blocked_links().empty()) return;  // one partition at a time
      ++stats_.partitions;
      Partition partition = RandomPartition(targets_, random_);
      sim_->network().SetPartition(std::move(partition.blocked), partition.kind);
      return Later("fault.heal", [this] { sim_->network().HealPartition(); });
    }
    case Action::kClog: {
      const NodeId from = targets_[random_.Uniform(targets_.size())];
      NodeId to = targets_[random_.Uniform(targets_.size())];
      if (from == to) return;
      ++stats_.clogs;
      sim_->network().Clog(from, to);
      return Later("fault.unclog", [this, from, to] { sim_->network().Unclog(from, to); });
    }
    case Action::kSwizzle:
      return SwizzleAction();
    case Action::kClockStep: {
      const NodeId id = targets_[random_.Uniform(targets_.size())];
      const absl::Duration magnitude =
          random_.DurationBetween(absl::Milliseconds(1), config_.max_clock_step);
      ++stats_.clock_steps;
      sim_->StepWallClock(id, random_.OneIn(2) ? magnitude : -magnitude);
      return;
    }
    case Action::kDiskFull: {
      const NodeId id = targets_[random_.Uniform(targets_.size())];
      if (normal_capacity_bytes_.contains(id)) return;
      SimDisk& disk = sim_->disk(id);
      ++stats_.disk_fulls;
      normal_capacity_bytes_[id] = disk.config().capacity_bytes;
      disk.config().capacity_bytes = disk.UsedBytes();
      sim_->Trace(id, "fault.disk_full", absl::StrCat("capacity=", disk.UsedBytes()));
      return Later("fault.disk_space", [this, id] {
        sim_->disk(id).config().capacity_bytes = normal_capacity_bytes_[id];
        normal_capacity_bytes_.erase(id);
      });
    }
  }
}

void FaultScheduler::HealAll() {
  running_ = false;
  ++epoch_;
  sim_->Trace(kNoNode, "fault.heal_all", "");
  sim_->network().HealPartition();
  sim_->network().UnclogAll();
  for (const auto& [id, capacity] : normal_capacity_bytes_) {
    sim_->disk(id).config().capacity_bytes = capacity;
  }
  normal_capacity_bytes_.clear();
  for (NodeId id : targets_) {
    if (sim_->state(id) == NodeState::kPaused) sim_->Resume(id);
    if (sim_->state(id) == NodeState::kDown) sim_->Restart(id);
  }
}

}  // namespace crema::sim
