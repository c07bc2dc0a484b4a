// RealPlanner: turns a nemesis schedule's actions (chaos/nemesis.h — the same data the simulator's
// NemesisRunner applies) into concrete steps against a cluster of real processes, each node in
// its own network namespace. Pure: it decides WHAT to do; tools/chaos/ does it to the machine.
//
//   RealPlanner planner(topology, {.max_clock_offset = absl::Milliseconds(125)});
//   for (const NemesisAction& a : schedule.actions) {
//     RealPlan plan = planner.Plan(a);      // steps, or a reason it is skipped
//     ... execute plan.steps at a.at ...
//   }
//   RealPlan heal = planner.HealAll();      // the liveness phase starts after these
//
// How each action is made real (docs/chaos.md):
//   partition / heal   iptables DROP rules in chain CREMA_PART of the RECEIVING node's namespace,
//                      one per blocked directed link `from > to` (packets from `from`'s address);
//                      heal flushes the chain everywhere. Only peer traffic is cut: clients reach
//                      nodes from the host through the bridge, as Jepsen's clients do.
//   clog / unclog      one DROP rule `-s from` in chain CREMA_CLOG of `to`'s namespace, deleted on
//                      unclog: TCP retransmits what was sent meanwhile, so it arrives late — the
//                      simulator's "held, then delivered" clog.
//   crash / restart    SIGKILL (then reaped); restart on the same data directory.
//   pause / resume     SIGSTOP / SIGCONT.
//   clock-step         the node's wall-clock offset (libfaketime's timestamp file) moves by delta,
//                      clamped so the offset stays within +-max_clock_offset.
//   disk-full / -space a filler file takes every free byte of the node's size-limited filesystem
//                      / is deleted.
//   disk-errors/-healthy, membership kinds: skipped ("unsupported" — no I/O-error mechanism on
//                      this kernel, see docs/chaos.md; membership runs from its own plan).
// Preconditions follow the simulated runner: restarting a node that is up, pausing one that is
// down, resuming one that is not paused... are skipped and counted, never errors.
//
// Thread safety: none (a plain value).
#ifndef CREMA_CHAOS_REAL_REAL_PLAN_H_
#define CREMA_CHAOS_REAL_REAL_PLAN_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/container/btree_map.h"
#include "absl/container/btree_set.h"
#include "absl/time/time.h"
#include "chaos/nemesis.h"

namespace crema::chaos {

inline constexpr char kPartitionChain[] = "CREMA_PART";
inline constexpr char kClogChain[] = "CREMA_CLOG";
inline constexpr char kLossChain[] = "CREMA_LOSS";    // hooked from INPUT
inline constexpr char kDelayChain[] = "CREMA_DELAY";  // hooked from OUTPUT
inline constexpr int kDelayQueue = 0;                 // the NFQUEUE tools/chaos/netdelay reads

struct RealNode {
  NodeId id = kNoNode;
  std::string ip;  // its address on the bridge, e.g. "10.250.7.1"
};

struct RealStep {
  enum class Kind : uint8_t {
    kIptables,     // run `iptables <args>` in `node`'s namespace
    kSignal,       // send `signal` to `node`'s server process
    kStart,        // start `node`'s server again (same flags, same data directory)
    kClockOffset,  // write `clock_offset` into `node`'s libfaketime timestamp file
    kFillDisk,     // fill `node`'s filesystem
    kFreeDisk,     // delete the filler
  };
  Kind kind = Kind::kIptables;
  NodeId node = kNoNode;
  std::vector<std::string> args;
  int signal = 0;
  absl::Duration clock_offset;
  std::string ToString() const;
};

struct RealPlan {
  std::vector<RealStep> steps;
  std::string skipped;  // non-empty: the action does nothing, and why
};

struct RealPlannerOptions {
  // Every node's wall-clock offset stays within +-this (pairwise skew <= twice it).
  absl::Duration max_clock_offset = absl::Milliseconds(125);
};

class RealPlanner {
 public:
  RealPlanner(std::vector<RealNode> nodes, RealPlannerOptions options);

  RealPlan Plan(const NemesisAction& action);
  // Ends every fault: partition and clogs removed, paused nodes resumed, crashed nodes started,
  // disks freed. Clock offsets stay (they are within the bound).
  RealPlan HealAll();

  // Rules that create the chains in one namespace (run once per node at setup).
  static std::vector<std::vector<std::string>> SetupRules();
  // Random packet loss on every link into a node (real-only; `percent` 0 removes it).
  static std::vector<std::string> LossRule(int percent);
  // The node's outgoing peer traffic (to or from `peer_port`) handed to NFQUEUE kDelayQueue,
  // where netdelay holds it (real-only); `on` false removes them. Fail-open: with no netdelay
  // reading the queue, packets pass (--queue-bypass).
  static std::vector<std::vector<std::string>> DelayRules(bool on, int peer_port);

  bool up(NodeId node) const { return !down_.contains(node); }
  absl::Duration clock_offset(NodeId node) const;
  // Node ids this planner knows, sorted.
  std::vector<NodeId> nodes() const;

  // Membership (tools/chaos/): a node that is gone for good (removed) or newly added.
  void Forget(NodeId node);
  void Add(RealNode node);
  // The process exited without a nemesis action (e.g. a graceful restart in progress).
  void MarkDown(NodeId node) { down_.insert(node); }
  void MarkUp(NodeId node) { down_.erase(node); }

 private:
  const RealNode* Find(NodeId id) const;

  absl::btree_map<NodeId, RealNode> nodes_;
  RealPlannerOptions options_;
  absl::btree_set<NodeId> down_;
  absl::btree_set<NodeId> paused_;
  absl::btree_set<NodeId> disk_full_;
  absl::btree_map<std::pair<NodeId, NodeId>, int> clogged_;  // link -> rules installed
  bool partitioned_ = false;
  absl::btree_map<NodeId, absl::Duration> offsets_;
};

}  // namespace crema::chaos

#endif  // CREMA_CHAOS_REAL_REAL_PLAN_H_
