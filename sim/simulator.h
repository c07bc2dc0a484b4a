// Simulator: a whole cluster in one process, on one thread, driven by one event queue and one seed.
//
// The simulator owns virtual time, the global EventQueue (ordered by (virtual time, sequence)),
// the NetworkFabric, the run's TraceLog, and one SimNode per node: a SimDisk and a SimClock that
// survive crashes, plus per *incarnation* a SimEventLoop, SimNetwork endpoint, Random, Buggify,
// Tracer, Executor and the node's program. Node code is started by a `NodeFactory` that receives
// the node's `Env`; the simulator calls it at `Start` and again at every `Restart` (on the
// surviving disk).
//
// Randomness: every random choice derives from `SimOptions::seed` through named forks —
// "net" (fabric), "node"/<id> (per node: "disk", "clock", "env"/<incarnation>, "buggify"/...),
// and whatever the caller forks from `random()` (e.g. "faults", "clients") — so adding a draw in one
// subsystem never reshuffles another.
//
// Process faults (call them from simulator-level code: tests, the FaultScheduler, `After`
// callbacks — never from inside the node being faulted):
//   Crash    — the incarnation ends: its Executor is destroyed (unwinding every fiber), then its
//              program, endpoint and loop; none of its queued callbacks ever run; the disk gets
//              crash semantics (SimDisk::Crash). Messages in flight to it are dropped on arrival.
//   Restart  — a new incarnation: fresh loop/endpoint/executor, the factory runs again.
//   Pause    — a GC-like stall: the node runs nothing; its events (timers, deliveries) are held
//              and run, in order, when it is `Resume`d. Its clock keeps moving.
//   Amnesia  — Crash, and the disk is wiped.
// Clock faults: per-node offset and drift are drawn at AddNode within SimOptions::clock bounds;
// `StepWallClock` steps wall time.
//
// Coverage (sim/coverage.h): the simulator counts every fault it injects ("fault.<kind>", declared
// when the kind is enabled by SimOptions) and whether it mattered ("effect.<kind>"), BUGGIFY
// firings per site, and node trace records by kind ("app.<kind>"); scenarios add their oracles and
// sometimes-properties to `coverage()`. `CollectCoverage()` is the run's total so far.
//
// Determinism: every event run is recorded in the TraceLog (time, node, kind, detail digest), and
// so are sends/deliveries/drops, faults and the nodes' own Tracer records. Same seed and binary =>
// same trace hash. Nothing here iterates a hash container or reads a real clock.
//
// Example:
//   Simulator sim(SimOptions{.seed = 42});
//   for (NodeId id : {1, 2, 3}) sim.AddNode(id, [](Env env) { return MakeMyProgram(env); });
//   sim.StartAll();
//   sim.RunFor(absl::Seconds(10));
//   sim.Crash(2);
//   sim.RunFor(absl::Seconds(1));
//   sim.Restart(2);
//
// Thread safety: none; one thread.
#ifndef CREMA_SIM_SIMULATOR_H_
#define CREMA_SIM_SIMULATOR_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <ostream>
#include <string_view>
#include <vector>

#include "absl/container/btree_map.h"
#include "absl/functional/any_invocable.h"
#include "absl/time/time.h"
#include "node/buggify.h"
#include "node/env.h"
#include "node/random.h"
#include "sim/coverage.h"
#include "sim/event_queue.h"
#include "sim/network_fabric.h"
#include "sim/sim_clock.h"
#include "sim/sim_disk.h"
#include "sim/trace_log.h"

namespace crema::sim {

class SimNetwork;

// What a node runs. The simulator destroys it after the node's Executor (whose fibers may still
// reference it while unwinding), so its destructor must not use the Env.
class NodeProgram {
 public:
  virtual ~NodeProgram() = default;
};

// Builds a node's program on a fresh incarnation; may return nullptr (nothing to keep).
using NodeFactory = std::function<std::unique_ptr<NodeProgram>(Env env)>;

struct ClockFaultConfig {
  absl::Duration max_offset = absl::ZeroDuration();  // |initial wall offset| per node
  int64_t max_drift_ppm = 0;                         // |drift| per node, <= SimClock::kMaxDriftPpm
};

struct SimOptions {
  uint64_t seed = 1;
  NetworkConfig network;
  DiskFaultConfig disk;
  ClockFaultConfig clock;
  bool buggify = false;            // enable BUGGIFY fault points in node code for this run
  bool keep_trace_records = false;  // keep every event for FirstDifference
  std::ostream* trace_json = nullptr;  // if set, every event as a JSON line
  // If both set: "checkpoint events=<n> hash=<16 hex>" every `hash_checkpoint_every` events.
  uint64_t hash_checkpoint_every = 0;
  std::ostream* hash_checkpoints = nullptr;
};

enum class NodeState : uint8_t { kDown, kUp, kPaused };

class Simulator {
 public:
  // A bound on events held for one paused node; beyond it the oldest held deliveries are dropped.
  static constexpr size_t kMaxHeldEventsPerNode = 1 << 20;

  explicit Simulator(SimOptions options);
  ~Simulator();
  Simulator(const Simulator&) = delete;
  Simulator& operator=(const Simulator&) = delete;

  // Registers a node (down until started). REQUIRES: id != kNoNode, not yet added.
  void AddNode(NodeId id, NodeFactory factory);
  void Start(NodeId id) { Restart(id); }
  void StartAll();

  // --- Process and clock faults (see the file comment). No-ops when they do not apply. ---
  void Crash(NodeId id);
  void Amnesia(NodeId id);
  void Restart(NodeId id);  // REQUIRES: the node is down
  void Pause(NodeId id);
  void Resume(NodeId id);
  void StepWallClock(NodeId id, absl::Duration step);

  // --- Running ---
  // Runs one event; false if the queue is empty.
  bool Step();
  // Runs every event due within `duration`, then advances virtual time to its end.
  void RunFor(absl::Duration duration);
  // Runs until `done()` (checked between events) or `limit` of virtual time has passed.
  bool RunUntil(const std::function<bool()>& done, absl::Duration limit);
  // Runs `callback` as a simulator-level event after `delay` of virtual time.
  void After(absl::Duration delay, const char* kind, absl::AnyInvocable<void()> callback);

  // --- State ---
  int64_t now_ns() const { return now_ns_; }
  absl::Duration elapsed() const { return absl::Nanoseconds(now_ns_); }
  uint64_t events_run() const { return events_run_; }
  // The node whose event ran last (kNoNode: a simulator-level event), for per-event checkers that
  // only need to look at the node that just ran (see events_run()).
  NodeId last_event_node() const { return last_event_node_; }
  const std::vector<NodeId>& node_ids() const { return node_ids_; }
  bool HasNode(NodeId id) const { return Find(id) != nullptr; }
  NodeState state(NodeId id) const;
  uint64_t incarnation(NodeId id) const;
  NodeProgram* program(NodeId id);
  SimDisk& disk(NodeId id);
  SimClock& clock(NodeId id);
  Buggify* buggify(NodeId id);  // nullptr while down
  NetworkFabric& network() { return fabric_; }
  TraceLog& trace() { return trace_; }
  Random& random() { return root_random_; }
  // Scenario- and nemesis-level coverage; see CollectCoverage for the run's total.
  Coverage& coverage() { return coverage_; }
  // coverage() plus what the simulator keeps elsewhere: disk fault counts, clock reads, BUGGIFY
  // firings of the running incarnations.
  Coverage CollectCoverage() const;
  uint64_t seed() const { return options_.seed; }
  const SimOptions& options() const { return options_; }

  // --- For SimEventLoop, the fabric and tracers ---
  // `tag` (if non-zero) is traced as the event's detail "#<tag>" when it runs.
  EventQueue::EventId ScheduleNodeEvent(NodeId node, uint64_t incarnation, int64_t time_ns,
                                        const char* kind, absl::AnyInvocable<void()> callback,
                                        uint64_t tag = 0);
  void CancelNodeEvent(NodeId node, EventQueue::EventId id);
  // Records an event in the run's trace at the current virtual time.
  // Nothing is recorded once the simulator is being destroyed (the run is over).
  void Trace(NodeId node, std::string_view kind, std::string_view detail) {
    if (!destroying_) trace_.Record(now_ns_, node, kind, detail);
  }
  // The same with the detail's digest given and its text made only if the trace keeps details
  // (TraceLog::RecordDigest): for hot paths.
  void TraceDigest(NodeId node, std::string_view kind, uint64_t digest,
                   absl::FunctionRef<std::string()> detail) {
    if (!destroying_) trace_.RecordDigest(now_ns_, node, kind, digest, detail);
  }
  // The current incarnation's endpoint, or nullptr while the node is down.
  SimNetwork* endpoint(NodeId id);

 private:
  struct Node;
  // Ids below this are looked up in a flat table (every lookup on the event path); others in
  // `nodes_`.
  static constexpr NodeId kMaxDenseNodeId = 1 << 16;
  Node* Find(NodeId id) const {
    return id < dense_.size() ? dense_[id] : FindSparse(id);
  }
  Node* FindSparse(NodeId id) const;
  Node& node(NodeId id);
  const Node& node(NodeId id) const;
  void EndIncarnation(Node& n);
  // Adds an incarnation's BUGGIFY site firings to `coverage`.
  static void AddBuggifyCoverage(const Buggify& buggify, Coverage& coverage);

  SimOptions options_;
  Random root_random_;
  int64_t now_ns_ = 0;
  uint64_t events_run_ = 0;
  NodeId running_node_ = kNoNode;  // the node whose event is running, if any
  NodeId last_event_node_ = kNoNode;
  bool destroying_ = false;
  EventQueue queue_;
  TraceLog trace_;
  Coverage coverage_;
  NetworkFabric fabric_;
  std::vector<NodeId> node_ids_;  // ascending
  absl::btree_map<NodeId, std::unique_ptr<Node>> nodes_;  // owns them; ordered iteration
  std::vector<Node*> dense_;  // id -> node for ids < kMaxDenseNodeId (nullptr: none)
};

}  // namespace crema::sim

#endif  // CREMA_SIM_SIMULATOR_H_
