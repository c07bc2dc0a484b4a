#include "sim/simulator.h"

#include <algorithm>
#include <cassert>
#include <deque>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "sim/sim_event_loop.h"
#include "sim/sim_network.h"

namespace crema::sim {

struct Simulator::Node {
  struct HeldEvent {
    EventQueue::EventId id;
    SimEvent event;
  };

  NodeId id = kNoNode;
  NodeFactory factory;
  NodeState state = NodeState::kDown;
  uint64_t incarnation = 0;  // 0 = never started; bumped at every (re)start
  Random random{0};          // this node's stream: "node"/<id>
  std::unique_ptr<SimDisk> disk;
  std::unique_ptr<SimClock> clock;
  std::deque<HeldEvent> held;  // events that came due while paused, in due order

  // One incarnation's objects, destroyed in reverse dependency order by EndIncarnation.
  std::unique_ptr<SimEventLoop> loop;
  std::unique_ptr<SimNetwork> endpoint;
  std::unique_ptr<Random> env_random;
  std::unique_ptr<Buggify> buggify;
  std::unique_ptr<SimTracer> tracer;
  std::unique_ptr<Executor> executor;
  std::unique_ptr<NodeProgram> program;
};

Simulator::Simulator(SimOptions options)
    : options_(std::move(options)),
      root_random_(options_.seed),
      trace_(options_.keep_trace_records, options_.trace_json),
      fabric_(this, options_.network, root_random_.Fork("net")) {
  trace_.SetCheckpoints(options_.hash_checkpoint_every, options_.hash_checkpoints);
  assert(options_.clock.max_drift_ppm >= 0 &&
         options_.clock.max_drift_ppm <= SimClock::kMaxDriftPpm);
  Trace(kNoNode, "sim.start", absl::StrCat("seed=", options_.seed));
  // Fault kinds this run enables (nemesis-level kinds are declared by the nemesis runners).
  const DiskFaultConfig& disk = options_.disk;
  const std::pair<bool, const char*> enabled[] = {
      {!options_.network.drop.never(), "fault.drop"},
      {!options_.network.duplicate.never(), "fault.duplicate"},
      {!disk.unsynced_write_lost.never(), "fault.disk.lost"},
      {!disk.unsynced_write_torn.never(), "fault.disk.torn"},
      {!disk.unsynced_file_vanishes.never(), "fault.disk.vanished"},
      {!disk.read_corruption.never(), "fault.disk.corrupt_read"},
      {!disk.io_error.never(), "fault.disk.io_error"},
      {options_.clock.max_offset > absl::ZeroDuration(), "fault.clock_offset"},
      {options_.clock.max_drift_ppm > 0, "fault.clock_drift"},
      {options_.buggify, "fault.buggify"}};
  for (const auto& [on, name] : enabled) {
    if (on) coverage_.Declare(name);
  }
  if (options_.clock.max_offset > absl::ZeroDuration()) coverage_.Declare("effect.clock_offset");
}

Simulator::~Simulator() {
  destroying_ = true;
  for (auto& [id, n] : nodes_) EndIncarnation(*n);
}

Simulator::Node* Simulator::FindSparse(NodeId id) const {
  if (id < kMaxDenseNodeId) return nullptr;  // would be in dense_
  auto it = nodes_.find(id);
  return it == nodes_.end() ? nullptr : it->second.get();
}

Simulator::Node& Simulator::node(NodeId id) {
  Node* n = Find(id);
  assert(n != nullptr);
  return *n;
}

const Simulator::Node& Simulator::node(NodeId id) const {
  const Node* n = Find(id);
  assert(n != nullptr);
  return *n;
}

void Simulator::AddNode(NodeId id, NodeFactory factory) {
  assert(id != kNoNode && Find(id) == nullptr);
  auto n = std::make_unique<Node>();
  n->id = id;
  n->factory = std::move(factory);
  n->random = root_random_.Fork("node").Fork(id);
  Random clock_random = n->random.Fork("clock");
  const absl::Duration offset =
      clock_random.DurationBetween(-options_.clock.max_offset, options_.clock.max_offset);
  const int64_t drift_ppm =
      clock_random.Range(-options_.clock.max_drift_ppm, options_.clock.max_drift_ppm);
  n->clock = std::make_unique<SimClock>(&now_ns_, offset, drift_ppm);
  n->disk = std::make_unique<SimDisk>(n->random.Fork("disk"), options_.disk);
  n->disk->SetTrace([this, id](std::string_view kind, std::string_view detail) {
    Trace(id, kind, detail);
  });
  Trace(id, "node.add",
        absl::StrCat("offset=", absl::FormatDuration(offset), " drift_ppm=", drift_ppm));
  if (offset != absl::ZeroDuration()) coverage_.Add("fault.clock_offset");
  if (drift_ppm != 0) coverage_.Add("fault.clock_drift");
  if (id < kMaxDenseNodeId) {
    if (dense_.size() <= id) dense_.resize(id + 1, nullptr);
    dense_[id] = n.get();
  }
  nodes_.emplace(id, std::move(n));
  node_ids_.insert(std::lower_bound(node_ids_.begin(), node_ids_.end(), id), id);
}

void Simulator::StartAll() {
  for (NodeId id : node_ids_) {
    if (state(id) == NodeState::kDown) Start(id);
  }
}

void Simulator::Restart(NodeId id) {
  Node& n = node(id);
  assert(n.state == NodeState::kDown);
  assert(running_node_ != id);
  const uint64_t incarnation = ++n.incarnation;
  n.clock->Restart(n.random.Fork("epoch").Fork(incarnation).DurationBetween(absl::Hours(1),
                                                                            absl::Hours(1000)));
  n.loop = std::make_unique<SimEventLoop>(this, id, incarnation, n.clock.get());
  n.endpoint = std::make_unique<SimNetwork>(&fabric_, id);
  n.env_random = std::make_unique<Random>(n.random.Fork("env").Fork(incarnation));
  n.buggify = options_.buggify
                  ? std::make_unique<Buggify>(root_random_.Fork("buggify").seed(),
                                              n.random.Fork("buggify").Fork(incarnation))
                  : std::make_unique<Buggify>();
  n.tracer = std::make_unique<SimTracer>(this, id);
  n.executor = std::make_unique<Executor>(n.loop.get(), n.clock.get());
  n.disk->AttachExecutor(n.executor.get());
  n.state = NodeState::kUp;
  Trace(id, "node.start", absl::StrCat("incarnation=", incarnation));
  Env env;
  env.self = id;
  env.clock = n.clock.get();
  env.network = n.endpoint.get();
  env.disk = n.disk.get();
  env.random = n.env_random.get();
  env.executor = n.executor.get();
  env.buggify = n.buggify.get();
  env.tracer = n.tracer.get();
  running_node_ = id;
  n.program = n.factory(env);
  running_node_ = kNoNode;
}

void Simulator::EndIncarnation(Node& n) {
  if (n.buggify != nullptr && !destroying_) AddBuggifyCoverage(*n.buggify, coverage_);
  // The Executor goes first: unwinding fibers may still touch the program and the endpoint.
  n.executor.reset();
  n.program.reset();
  n.tracer.reset();
  n.buggify.reset();
  n.env_random.reset();
  n.endpoint.reset();
  n.loop.reset();
  n.disk->AttachExecutor(nullptr);
  for (const Node::HeldEvent& held : n.held) queue_.Release(held.id);
  n.held.clear();
}

void Simulator::Crash(NodeId id) {
  Node& n = node(id);
  if (n.state == NodeState::kDown) return;
  assert(running_node_ != id);  // never from inside the node itself
  Trace(id, "node.crash", absl::StrCat("incarnation=", n.incarnation));
  n.state = NodeState::kDown;  // first: sends from unwinding fibers are dropped
  EndIncarnation(n);
  fabric_.OnCrash(id);  // its connections close: live peers hear of it
  const DiskFaultStats before = n.disk->stats();
  n.disk->Crash();
  const DiskFaultStats& after = n.disk->stats();
  coverage_.Add("fault.crash");
  // It mattered if unsynced work was lost here (deliveries to the down node count too: fabric).
  coverage_.Add("effect.crash", after.writes_lost + after.writes_torn + after.files_vanished >
                                        before.writes_lost + before.writes_torn +
                                            before.files_vanished
                                    ? 1
                                    : 0);
}

void Simulator::Amnesia(NodeId id) {
  Crash(id);
  Trace(id, "node.amnesia", "");
  SimDisk& disk = *node(id).disk;
  coverage_.Add("fault.amnesia");
  coverage_.Add("effect.amnesia", disk.UsedBytes() > 0 ? 1 : 0);
  disk.Wipe();
}

void Simulator::Pause(NodeId id) {
  Node& n = node(id);
  if (n.state != NodeState::kUp) return;
  n.state = NodeState::kPaused;
  Trace(id, "node.pause", "");
  coverage_.Add("fault.pause");
}

void Simulator::Resume(NodeId id) {
  Node& n = node(id);
  if (n.state != NodeState::kPaused) return;
  n.state = NodeState::kUp;
  Trace(id, "node.resume", absl::StrCat("held=", n.held.size()));
  coverage_.Add("effect.pause", n.held.empty() ? 0 : 1);
  // Held events run now, in the order they came due, keeping their ids (so Cancel still works).
  for (Node::HeldEvent& held : n.held) queue_.Requeue(now_ns_, held.id, std::move(held.event));
  n.held.clear();
}

void Simulator::StepWallClock(NodeId id, absl::Duration step) {
  node(id).clock->StepWall(step);
  Trace(id, "clock.step", absl::FormatDuration(step));
  coverage_.Add("fault.clock_step");
  coverage_.Declare("effect.clock_step");
}

void Simulator::AddBuggifyCoverage(const Buggify& buggify, Coverage& coverage) {
  if (!buggify.enabled()) return;
  for (const auto& [site, active] : buggify.sites()) {
    if (active) coverage.Declare(absl::StrCat("buggify.", site));
  }
  for (const auto& [site, fired] : buggify.fired()) {
    coverage.Add(absl::StrCat("buggify.", site), fired);
    coverage.Add("fault.buggify", fired);
  }
}

Coverage Simulator::CollectCoverage() const {
  Coverage total = coverage_;
  DiskFaultStats disk;
  uint64_t reads_after_step = 0, offset_reads = 0;
  for (const auto& [id, n] : nodes_) {
    if (n->buggify != nullptr) AddBuggifyCoverage(*n->buggify, total);
    const DiskFaultStats& s = n->disk->stats();
    disk.writes_lost += s.writes_lost;
    disk.writes_torn += s.writes_torn;
    disk.files_vanished += s.files_vanished;
    disk.reads_corrupted += s.reads_corrupted;
    disk.io_errors += s.io_errors;
    disk.full_errors += s.full_errors;
    reads_after_step += n->clock->wall_reads_after_step();
    if (n->clock->wall_offset() != absl::ZeroDuration()) offset_reads += n->clock->wall_reads();
  }
  // Counted when they happened, or declared enabled (then a zero is news).
  auto add = [&total](std::string_view name, uint64_t count) {
    if (count > 0 || total.Declared(name)) total.Add(name, count);
  };
  add("fault.disk.lost", disk.writes_lost);
  add("fault.disk.torn", disk.writes_torn);
  add("fault.disk.vanished", disk.files_vanished);
  add("fault.disk.corrupt_read", disk.reads_corrupted);
  add("fault.disk.io_error", disk.io_errors);
  add("effect.clock_step", reads_after_step);
  add("effect.clock_offset", offset_reads);
  add("effect.disk_full", disk.full_errors);
  add("effect.disk_errors", disk.io_errors + disk.reads_corrupted);
  return total;
}

EventQueue::EventId Simulator::ScheduleNodeEvent(NodeId node_id, uint64_t incarnation,
                                                 int64_t time_ns, const char* kind,
                                                 absl::AnyInvocable<void()> callback,
                                                 uint64_t tag) {
  assert(time_ns >= now_ns_);
  return queue_.Schedule(time_ns, SimEvent{node_id, incarnation, kind, std::move(callback), tag});
}

void Simulator::CancelNodeEvent(NodeId node_id, EventQueue::EventId id) {
  if (queue_.Cancel(id) || node_id == kNoNode) return;
  Node& n = node(node_id);
  std::erase_if(n.held, [this, id](const Node::HeldEvent& held) {
    if (held.id != id) return false;
    queue_.Release(id);
    return true;
  });
}

void Simulator::After(absl::Duration delay, const char* kind,
                      absl::AnyInvocable<void()> callback) {
  assert(delay >= absl::ZeroDuration());
  ScheduleNodeEvent(kNoNode, kAnyIncarnation, now_ns_ + absl::ToInt64Nanoseconds(delay), kind,
                    std::move(callback));
}

bool Simulator::Step() {
  if (queue_.empty()) return false;
  EventQueue::Popped popped = queue_.Pop();
  assert(popped.time_ns >= now_ns_);
  now_ns_ = popped.time_ns;
  SimEvent& event = popped.event;
  if (event.node != kNoNode) {
    Node& n = node(event.node);
    if (event.incarnation != kAnyIncarnation &&
        (event.incarnation != n.incarnation || n.state == NodeState::kDown)) {
      queue_.Release(popped.id);
      return true;  // a callback of an incarnation that crashed: never runs
    }
    if (n.state == NodeState::kPaused) {
      if (n.held.size() >= kMaxHeldEventsPerNode) {
        Trace(event.node, "node.held_overflow", event.kind);
        queue_.Release(popped.id);
        return true;
      }
      n.held.push_back({popped.id, std::move(event)});  // keeps its id until Resume
      return true;
    }
  }
  queue_.Release(popped.id);
  if (event.tag == 0) {
    Trace(event.node, event.kind, "");
  } else {
    char detail[24] = "#";
    const char* end = absl::numbers_internal::FastIntToBuffer(event.tag, detail + 1);
    Trace(event.node, event.kind, std::string_view(detail, end - detail));
  }
  ++events_run_;
  last_event_node_ = event.node;
  running_node_ = event.node;
  event.callback();
  running_node_ = kNoNode;
  return true;
}

void Simulator::RunFor(absl::Duration duration) {
  const int64_t end_ns = now_ns_ + absl::ToInt64Nanoseconds(duration);
  while (!queue_.empty() && queue_.next_time_ns() <= end_ns) Step();
  now_ns_ = std::max(now_ns_, end_ns);
}

bool Simulator::RunUntil(const std::function<bool()>& done, absl::Duration limit) {
  const int64_t end_ns = now_ns_ + absl::ToInt64Nanoseconds(limit);
  while (!done()) {
    if (queue_.empty() || queue_.next_time_ns() > end_ns) {
      now_ns_ = std::max(now_ns_, end_ns);
      return done();
    }
    Step();
  }
  return true;
}

NodeState Simulator::state(NodeId id) const { return node(id).state; }
uint64_t Simulator::incarnation(NodeId id) const { return node(id).incarnation; }
NodeProgram* Simulator::program(NodeId id) { return node(id).program.get(); }
SimDisk& Simulator::disk(NodeId id) { return *node(id).disk; }
SimClock& Simulator::clock(NodeId id) { return *node(id).clock; }
Buggify* Simulator::buggify(NodeId id) { return node(id).buggify.get(); }

SimNetwork* Simulator::endpoint(NodeId id) {
  Node* n = Find(id);
  if (n == nullptr || n->state == NodeState::kDown) return nullptr;
  return n->endpoint.get();
}

}  // namespace crema::sim
