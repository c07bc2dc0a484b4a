#include "sim/fault_scheduler.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "sim/partitions.h"

namespace crema::sim {

using Kind = FaultAction::Kind;

FaultScheduler::FaultScheduler(Simulator* sim, FaultConfig config, std::vector<NodeId> targets,
                               Random random)
    : sim_(sim), config_(std::move(config)), targets_(std::move(targets)), random_(random) {
  std::sort(targets_.begin(), targets_.end());
}

std::vector<Kind> FaultScheduler::EnabledActions() const {
  std::vector<Kind> actions;
  if (config_.crashes) actions.push_back(Kind::kCrash);
  if (config_.amnesia) actions.push_back(Kind::kAmnesia);
  if (config_.pauses) actions.push_back(Kind::kPause);
  if (config_.partitions && targets_.size() >= 2) actions.push_back(Kind::kPartition);
  if (config_.clogging && targets_.size() >= 2) actions.push_back(Kind::kClog);
  if (config_.swizzle && targets_.size() >= 2) actions.push_back(Kind::kSwizzle);
  if (config_.clock_steps) actions.push_back(Kind::kClockStep);
  if (config_.disk_full) actions.push_back(Kind::kDiskFull);
  return actions;
}

void FaultScheduler::DeclareCoverage() const {
  // sim/coverage.h: the kinds this run could inject (the simulator counts what fired).
  Coverage& c = sim_->coverage();
  for (Kind kind : EnabledActions()) {
    switch (kind) {
      case Kind::kCrash: c.Declare("fault.crash"); c.Declare("effect.crash"); break;
      case Kind::kAmnesia: c.Declare("fault.amnesia"); c.Declare("effect.amnesia"); break;
      case Kind::kPause: c.Declare("fault.pause"); c.Declare("effect.pause"); break;
      case Kind::kPartition: c.Declare("fault.partition"); c.Declare("effect.partition"); break;
      case Kind::kClog: c.Declare("fault.clog"); c.Declare("effect.clog"); break;
      case Kind::kSwizzle: c.Declare("fault.swizzle"); c.Declare("effect.clog"); break;
      case Kind::kClockStep: c.Declare("fault.clock_step"); c.Declare("effect.clock_step"); break;
      case Kind::kDiskFull: c.Declare("fault.disk_full"); c.Declare("effect.disk_full"); break;
      case Kind::kIdle: break;
    }
  }
}

void FaultScheduler::Start() {
  running_ = true;
  start_ = sim_->elapsed();
  DeclareCoverage();
  ScheduleNext();
}

void FaultScheduler::Replay(std::vector<FaultAction> actions) {
  running_ = true;
  start_ = sim_->elapsed();
  DeclareCoverage();
  replay_ = std::move(actions);
  std::stable_sort(replay_.begin(), replay_.end(),
                   [](const FaultAction& x, const FaultAction& y) { return x.at < y.at; });
  ScheduleReplay(0);
}

void FaultScheduler::ScheduleNext() {
  if (!running_ || EnabledActions().empty() || targets_.empty()) return;
  const absl::Duration wait =
      random_.DurationBetween(absl::ZeroDuration(), config_.mean_fault_interval * 2);
  next_tick_ = Since() + wait;
  sim_->After(wait, "fault.tick", [this, epoch = epoch_] {
    next_tick_.reset();
    if (!running_ || epoch != epoch_) return;
    if (std::optional<FaultAction> action = Draw()) {
      Apply(*action);
    } else if (performed_.size() < kMaxRecordedActions) {
      FaultAction idle;
      idle.kind = Kind::kIdle;
      idle.at = idle.end = Since();
      performed_.push_back(idle);
    }
    ScheduleNext();
  });
}

void FaultScheduler::ScheduleReplay(size_t index) {
  if (!running_ || index >= replay_.size()) return;
  const absl::Duration wait = std::max(absl::ZeroDuration(), replay_[index].at - Since());
  sim_->After(wait, "fault.tick", [this, index, epoch = epoch_] {
    if (!running_ || epoch != epoch_) return;
    if (!Apply(replay_[index])) {
      ++stats_.skipped;
      sim_->Trace(kNoNode, "fault.skip", FaultKindName(replay_[index].kind));
    }
    ScheduleReplay(index + 1);
  });
}

absl::Duration FaultScheduler::FaultDuration() {
  return random_.DurationBetween(absl::Milliseconds(10),
                                 std::max(absl::Milliseconds(10), config_.max_fault_duration));
}

void FaultScheduler::Later(absl::Duration end, const char* kind, absl::AnyInvocable<void()> undo) {
  sim_->After(std::max(absl::ZeroDuration(), end - Since()), kind,
              [this, epoch = epoch_, undo = std::move(undo)]() mutable {
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

bool FaultScheduler::IsTarget(NodeId id) const {
  return std::binary_search(targets_.begin(), targets_.end(), id);
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

std::optional<FaultAction> FaultScheduler::Draw() {
  const std::vector<Kind> kinds = EnabledActions();
  FaultAction a;
  a.kind = kinds[random_.Uniform(kinds.size())];
  a.at = Since();
  a.end = a.at;
  switch (a.kind) {
    case Kind::kCrash:
    case Kind::kAmnesia:
    case Kind::kPause:
      a.node = PickTarget(NodeState::kUp);
      if (a.node == kNoNode) return std::nullopt;
      a.end = a.at + FaultDuration();
      return a;
    case Kind::kPartition: {
      if (!sim_->network().blocked_links().empty()) return std::nullopt;  // one at a time
      Partition partition = RandomPartition(targets_, random_);
      a.shape = partition.kind;
      a.blocked = std::move(partition.blocked);
      a.end = a.at + FaultDuration();
      return a;
    }
    case Kind::kClog:
      a.node = targets_[random_.Uniform(targets_.size())];
      a.peer = targets_[random_.Uniform(targets_.size())];
      if (a.node == a.peer) return std::nullopt;
      a.end = a.at + FaultDuration();
      return a;
    case Kind::kSwizzle: {
      // A random subset (at least one node), clogged one by one, then unclogged in a new order.
      std::vector<NodeId> chosen;
      for (NodeId id : targets_) {
        if (random_.OneIn(2)) chosen.push_back(id);
      }
      if (chosen.empty()) chosen.push_back(targets_[random_.Uniform(targets_.size())]);
      auto shuffle = [this](std::vector<NodeId> v) {
        for (size_t i = v.size(); i > 1; --i) std::swap(v[i - 1], v[random_.Uniform(i)]);
        return v;
      };
      const std::vector<NodeId> clog_order = shuffle(chosen);
      const std::vector<NodeId> unclog_order = shuffle(chosen);
      const absl::Duration step = config_.max_fault_duration / (2 * chosen.size() + 1);
      absl::Duration offset = absl::ZeroDuration();
      for (int clog = 1; clog >= 0; --clog) {
        for (NodeId id : clog == 1 ? clog_order : unclog_order) {
          offset += random_.DurationBetween(absl::ZeroDuration(), step);
          a.steps.push_back({offset, id, clog == 1});
        }
      }
      a.end = a.at + offset;
      return a;
    }
    case Kind::kClockStep: {
      a.node = targets_[random_.Uniform(targets_.size())];
      const absl::Duration magnitude =
          random_.DurationBetween(absl::Milliseconds(1), config_.max_clock_step);
      a.delta = random_.OneIn(2) ? magnitude : -magnitude;
      return a;
    }
    case Kind::kDiskFull:
      a.node = targets_[random_.Uniform(targets_.size())];
      if (normal_capacity_bytes_.contains(a.node)) return std::nullopt;
      a.end = a.at + FaultDuration();
      return a;
    case Kind::kIdle:
      return std::nullopt;
  }
  return std::nullopt;
}

bool FaultScheduler::Apply(const FaultAction& a) {
  const bool needs_target =
      a.kind != Kind::kPartition && a.kind != Kind::kSwizzle && a.kind != Kind::kIdle;
  if (needs_target && !IsTarget(a.node)) return false;
  switch (a.kind) {
    case Kind::kIdle:
      break;
    case Kind::kCrash:
    case Kind::kAmnesia: {
      if (sim_->state(a.node) != NodeState::kUp) return false;
      const NodeId id = a.node;
      if (a.kind == Kind::kAmnesia) {
        ++stats_.amnesias;
        sim_->Amnesia(id);
      } else {
        ++stats_.crashes;
        sim_->Crash(id);
      }
      Later(a.end, "fault.restart", [this, id] {
        if (sim_->state(id) == NodeState::kDown) sim_->Restart(id);
      });
      break;
    }
    case Kind::kPause: {
      if (sim_->state(a.node) != NodeState::kUp) return false;
      ++stats_.pauses;
      sim_->Pause(a.node);
      Later(a.end, "fault.resume", [this, id = a.node] { sim_->Resume(id); });
      break;
    }
    case Kind::kPartition:
      if (!sim_->network().blocked_links().empty()) return false;
      ++stats_.partitions;
      sim_->network().SetPartition(a.blocked, a.shape);
      Later(a.end, "fault.heal", [this] { sim_->network().HealPartition(); });
      break;
    case Kind::kClog:
      if (a.node == a.peer || !IsTarget(a.peer)) return false;
      ++stats_.clogs;
      sim_->network().Clog(a.node, a.peer);
      Later(a.end, "fault.unclog",
            [this, from = a.node, to = a.peer] { sim_->network().Unclog(from, to); });
      break;
    case Kind::kSwizzle: {
      ++stats_.swizzles;
      sim_->coverage().Add("fault.swizzle");
      sim_->Trace(kNoNode, "fault.swizzle", absl::StrCat("nodes=", a.steps.size() / 2));
      // Steps past a shortened window are scaled into it (sim/fault_plan.h).
      const absl::Duration last = a.steps.empty() ? absl::ZeroDuration() : a.steps.back().offset;
      const absl::Duration window = a.end - a.at;
      for (const FaultAction::SwizzleStep& step : a.steps) {
        if (!IsTarget(step.node)) continue;
        const absl::Duration offset =
            last <= window || last == absl::ZeroDuration()
                ? step.offset
                : absl::Nanoseconds(static_cast<int64_t>(
                      static_cast<__int128>(absl::ToInt64Nanoseconds(step.offset)) *
                      absl::ToInt64Nanoseconds(window) / absl::ToInt64Nanoseconds(last)));
        Later(a.at + offset, step.clog ? "fault.swizzle_clog" : "fault.swizzle_unclog",
              [this, id = step.node, clog = step.clog] { SetNodeClogged(id, clog); });
      }
      break;
    }
    case Kind::kClockStep:
      ++stats_.clock_steps;
      sim_->StepWallClock(a.node, a.delta);
      break;
    case Kind::kDiskFull: {
      if (normal_capacity_bytes_.contains(a.node)) return false;
      SimDisk& disk = sim_->disk(a.node);
      ++stats_.disk_fulls;
      sim_->coverage().Add("fault.disk_full");
      normal_capacity_bytes_[a.node] = disk.config().capacity_bytes;
      // A real file system fills up mid-write: leave up to 8 KiB of room, so the next writes land
      // in part (sim_disk.h) and recovery meets the unsynced prefix of a Ready. The room is a
      // function of the action itself, so a replayed schedule fills the disk the same way.
      const uint64_t room =
          (static_cast<uint64_t>(absl::ToInt64Nanoseconds(a.at)) * 0x9E3779B97F4A7C15ull ^
           a.node) % 8192;
      disk.config().capacity_bytes = disk.UsedBytes() + room;
      sim_->Trace(a.node, "fault.disk_full", absl::StrCat("capacity=", disk.UsedBytes() + room));
      Later(a.end, "fault.disk_space", [this, id = a.node] {
        sim_->disk(id).config().capacity_bytes = normal_capacity_bytes_[id];
        normal_capacity_bytes_.erase(id);
      });
      break;
    }
  }
  if (performed_.size() < kMaxRecordedActions) performed_.push_back(a);
  return true;
}

void FaultScheduler::RecordPendingTick() {
  // A tick scheduled but not yet run still runs (and does nothing) after Stop/HealAll: keep it in
  // the recording as "idle", so a replay schedules the same event.
  if (next_tick_.has_value() && replay_.empty() && performed_.size() < kMaxRecordedActions) {
    FaultAction idle;
    idle.kind = Kind::kIdle;
    idle.at = idle.end = *next_tick_;
    performed_.push_back(idle);
  }
  next_tick_.reset();
}

void FaultScheduler::HealAll() {
  RecordPendingTick();
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
