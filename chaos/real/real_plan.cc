#include "chaos/real/real_plan.h"

#include <algorithm>
#include <csignal>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace crema::chaos {
namespace {

RealStep Iptables(NodeId node, std::vector<std::string> args) {
  // -w: wait for the xtables lock instead of failing when another run holds it.
  args.insert(args.begin(), "-w");
  return RealStep{.kind = RealStep::Kind::kIptables, .node = node, .args = std::move(args)};
}

RealStep Signal(NodeId node, int signal) {
  return RealStep{.kind = RealStep::Kind::kSignal, .node = node, .signal = signal};
}

RealPlan Skip(std::string why) { return RealPlan{.skipped = std::move(why)}; }

}  // namespace

std::string RealStep::ToString() const {
  switch (kind) {
    case Kind::kIptables: return absl::StrCat("n", node, ": iptables ", absl::StrJoin(args, " "));
    case Kind::kSignal: return absl::StrCat("n", node, ": signal ", signal);
    case Kind::kStart: return absl::StrCat("n", node, ": start");
    case Kind::kClockOffset:
      return absl::StrCat("n", node, ": clock offset ", absl::FormatDuration(clock_offset));
    case Kind::kFillDisk: return absl::StrCat("n", node, ": fill disk");
    case Kind::kFreeDisk: return absl::StrCat("n", node, ": free disk");
  }
  return "?";
}

RealPlanner::RealPlanner(std::vector<RealNode> nodes, RealPlannerOptions options)
    : options_(options) {
  for (RealNode& n : nodes) nodes_[n.id] = std::move(n);
}

const RealNode* RealPlanner::Find(NodeId id) const {
  auto it = nodes_.find(id);
  return it == nodes_.end() ? nullptr : &it->second;
}

std::vector<NodeId> RealPlanner::nodes() const {
  std::vector<NodeId> out;
  for (const auto& [id, n] : nodes_) out.push_back(id);
  return out;
}

void RealPlanner::Forget(NodeId node) {
  nodes_.erase(node);
  down_.erase(node);
  paused_.erase(node);
  disk_full_.erase(node);
  offsets_.erase(node);
}

void RealPlanner::Add(RealNode node) { nodes_[node.id] = std::move(node); }

absl::Duration RealPlanner::clock_offset(NodeId node) const {
  auto it = offsets_.find(node);
  return it == offsets_.end() ? absl::ZeroDuration() : it->second;
}

std::vector<std::vector<std::string>> RealPlanner::SetupRules() {
  std::vector<std::vector<std::string>> rules;
  for (const char* chain : {kPartitionChain, kClogChain, kLossChain, kDelayChain}) {
    rules.push_back({"-w", "-N", chain});
    rules.push_back({"-w", "-A", chain == kDelayChain ? "OUTPUT" : "INPUT", "-j", chain});
  }
  return rules;
}

std::vector<std::vector<std::string>> RealPlanner::DelayRules(bool on, int peer_port) {
  if (!on) return {{"-w", "-F", kDelayChain}};
  std::vector<std::vector<std::string>> rules;
  for (const char* direction : {"--dport", "--sport"}) {
    rules.push_back({"-w", "-A", kDelayChain, "-p", "tcp", direction, absl::StrCat(peer_port), "-j",
                     "NFQUEUE", "--queue-num", absl::StrCat(kDelayQueue), "--queue-bypass"});
  }
  return rules;
}

std::vector<std::string> RealPlanner::LossRule(int percent) {
  if (percent <= 0) return {"-w", "-F", kLossChain};
  // The statistic match drops each packet independently with this probability.
  return {"-w", "-A", kLossChain, "-m", "statistic", "--mode", "random", "--probability",
          absl::StrCat(std::min(percent, 100) / 100.0), "-j", "DROP"};
}

RealPlan RealPlanner::Plan(const NemesisAction& a) {
  RealPlan plan;
  const bool known = a.node == kNoNode || Find(a.node) != nullptr;
  if (!known) return Skip(absl::StrCat("no node ", a.node));
  switch (a.kind) {
    case NemesisKind::kPartition: {
      if (partitioned_) return Skip("a partition is already in place");
      for (const auto& [from, to] : a.blocked) {
        const RealNode* f = Find(from);
        if (f == nullptr || Find(to) == nullptr) continue;
        plan.steps.push_back(Iptables(to, {"-A", kPartitionChain, "-s", f->ip, "-j", "DROP"}));
      }
      partitioned_ = true;
      return plan;
    }
    case NemesisKind::kHeal:
      if (!partitioned_) return Skip("no partition");
      for (const auto& [id, n] : nodes_) {
        plan.steps.push_back(Iptables(id, {"-F", kPartitionChain}));
      }
      partitioned_ = false;
      return plan;
    case NemesisKind::kClog:
    case NemesisKind::kUnclog: {
      const RealNode* from = Find(a.node);
      if (Find(a.peer) == nullptr) return Skip(absl::StrCat("no node ", a.peer));
      int& rules = clogged_[{a.node, a.peer}];
      if (a.kind == NemesisKind::kUnclog && rules == 0) {
        clogged_.erase({a.node, a.peer});
        return Skip("link not clogged");
      }
      rules += a.kind == NemesisKind::kClog ? 1 : -1;
      plan.steps.push_back(Iptables(a.peer, {a.kind == NemesisKind::kClog ? "-A" : "-D",
                                             kClogChain, "-s", from->ip, "-j", "DROP"}));
      if (rules == 0) clogged_.erase({a.node, a.peer});
      return plan;
    }
    case NemesisKind::kCrash:
    case NemesisKind::kCrashAtSend:  // a real process cannot be caught between send and sync
      if (!up(a.node)) return Skip("already down");
      if (paused_.erase(a.node) > 0) plan.steps.push_back(Signal(a.node, SIGCONT));
      plan.steps.push_back(Signal(a.node, SIGKILL));
      down_.insert(a.node);
      return plan;
    case NemesisKind::kRestart:
      if (up(a.node)) return Skip("already up");
      plan.steps.push_back(RealStep{.kind = RealStep::Kind::kStart, .node = a.node});
      down_.erase(a.node);
      return plan;
    case NemesisKind::kPause:
      if (!up(a.node) || paused_.contains(a.node)) return Skip("down or already paused");
      plan.steps.push_back(Signal(a.node, SIGSTOP));
      paused_.insert(a.node);
      return plan;
    case NemesisKind::kResume:
      if (!paused_.contains(a.node)) return Skip("not paused");
      plan.steps.push_back(Signal(a.node, SIGCONT));
      paused_.erase(a.node);
      return plan;
    case NemesisKind::kClockStep: {
      const absl::Duration now = clock_offset(a.node);
      const absl::Duration next =
          std::clamp(now + a.delta, -options_.max_clock_offset, options_.max_clock_offset);
      if (next == now) return Skip("clock offset already at its bound");
      offsets_[a.node] = next;
      plan.steps.push_back(
          RealStep{.kind = RealStep::Kind::kClockOffset, .node = a.node, .clock_offset = next});
      return plan;
    }
    case NemesisKind::kDiskFull:
      if (disk_full_.contains(a.node)) return Skip("disk already full");
      disk_full_.insert(a.node);
      plan.steps.push_back(RealStep{.kind = RealStep::Kind::kFillDisk, .node = a.node});
      return plan;
    case NemesisKind::kDiskSpace:
      if (disk_full_.erase(a.node) == 0) return Skip("disk not full");
      plan.steps.push_back(RealStep{.kind = RealStep::Kind::kFreeDisk, .node = a.node});
      return plan;
    case NemesisKind::kDiskErrors:
    case NemesisKind::kDiskHealthy:
      return Skip("unsupported: no I/O-error injection on this machine (docs/chaos.md)");
    case NemesisKind::kRemoveVoter:
    case NemesisKind::kAddLearner:
    case NemesisKind::kPromote:
      return Skip("unsupported: membership runs from the harness's own plan");
  }
  return Skip("unknown action");
}

RealPlan RealPlanner::HealAll() {
  RealPlan plan;
  for (const auto& [id, n] : nodes_) {
    plan.steps.push_back(Iptables(id, {"-F", kPartitionChain}));
    plan.steps.push_back(Iptables(id, {"-F", kClogChain}));
    plan.steps.push_back(Iptables(id, {"-F", kLossChain}));
    plan.steps.push_back(Iptables(id, {"-F", kDelayChain}));
  }
  partitioned_ = false;
  clogged_.clear();
  for (NodeId id : paused_) plan.steps.push_back(Signal(id, SIGCONT));
  paused_.clear();
  // Clocks back to true time, as Jepsen's clock nemesis resets them at the end: a node whose clock
  // stays beyond the skew bound rightly refuses wall-clock work (docs/cache-node.md, "Clock
  // bound"), which is not what the after-heal liveness check asks about.
  for (const auto& [id, offset] : offsets_) {
    if (offset != absl::ZeroDuration() && nodes_.contains(id)) {
      plan.steps.push_back(
          RealStep{.kind = RealStep::Kind::kClockOffset, .node = id, .clock_offset = absl::ZeroDuration()});
    }
  }
  offsets_.clear();
  for (NodeId id : disk_full_) {
    plan.steps.push_back(RealStep{.kind = RealStep::Kind::kFreeDisk, .node = id});
  }
  disk_full_.clear();
  for (NodeId id : down_) {
    if (nodes_.contains(id)) plan.steps.push_back(RealStep{.kind = RealStep::Kind::kStart, .node = id});
  }
  down_.clear();
  return plan;
}

}  // namespace crema::chaos
