// RunModel: a simulation run's trace (sim/trace_log.h JSON lines, from `//tools:sim --trace_out`)
// turned into what a space-time diagram draws: a lane per node; messages as arrows (send ->
// delivery, or -> dropped); intervals per node (down, paused, Raft roles with their terms);
// partitions and clogged links over time; instants (clock steps, disk faults); client operations
// as spans with their results (sim/op_trace.h); phases; and the failing oracle's events.
//
// Trace kinds understood (anything else is counted and ignored):
//   node.add / node.start / node.crash / node.amnesia / node.pause / node.resume
//   net.send "a>b s<svc> <n>B <digest> #<id>", net.deliver "#<id>", net.drop "... #<id> <why>"
//   net.partition "<shape>: a>b c>d ...", net.heal, net.clog "a>b", net.unclog "a>b ..."
//   clock.step "<duration>", disk.* (torn, lost, vanished, corrupt_read, io_error, full, wipe)
//   app.raft.role "<group> <role> term=<t>", app.op.invoke "id=<n> <what>",
//   app.op.return "id=<n> <result>", scenario.phase "<name>",
//   scenario.violation / app.violation "<text, may name op=<id>>", scenario.fail "<signature> :: <message>"
//
// Thread safety: plain values and pure functions.
#ifndef CREMA_TOOLS_TRACE_VIEWER_RUN_MODEL_H_
#define CREMA_TOOLS_TRACE_VIEWER_RUN_MODEL_H_

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "node/network.h"
#include "sim/trace_log.h"

namespace crema::trace_viewer {

struct Lane {
  NodeId node = kNoNode;
  bool client = false;  // issued client operations
};

struct Arrow {
  int64_t send_ns = 0;
  int64_t deliver_ns = -1;  // -1: never delivered
  NodeId from = kNoNode, to = kNoNode;
  int service = 0;
  uint64_t id = 0;
  int64_t bytes = 0;
  std::string dropped;  // why, if dropped
};

struct Interval {
  NodeId node = kNoNode;
  int64_t start_ns = 0, end_ns = 0;
  std::string kind;   // "down", "paused", "leader", "candidate", "precandidate"
  std::string label;  // e.g. "term 5"
};

struct Mark {
  NodeId node = kNoNode;  // kNoNode: the whole run
  int64_t t_ns = 0;
  std::string kind;  // "crash", "restart", "clock", "disk", "phase", "violation", "fail"
  std::string text;
};

struct OpSpan {
  NodeId node = kNoNode;
  uint64_t id = 0;
  int64_t start_ns = 0, end_ns = -1;  // -1: never returned (indeterminate)
  std::string what, result;
};

struct LinkSpan {
  int64_t start_ns = 0, end_ns = 0;
  std::string text;                     // partition shape, or "" for a clog
  std::vector<std::pair<NodeId, NodeId>> links;
};

struct RunModel {
  std::string title;  // from sim.start (seed) and the verdict
  int64_t end_ns = 0;
  uint64_t events = 0, unknown_events = 0;
  std::vector<Lane> lanes;  // ascending node id
  std::vector<Arrow> arrows;
  std::vector<Interval> intervals;
  std::vector<Mark> marks;
  std::vector<OpSpan> ops;
  std::vector<LinkSpan> partitions, clogs;
  std::vector<uint64_t> violating_ops;  // op ids named by violations ("op=<id>")
};

RunModel BuildModel(const std::vector<sim::TraceEvent>& events);
// Reads a --trace_out file; INVALID_ARGUMENT names the first malformed line.
absl::StatusOr<std::vector<sim::TraceEvent>> ReadTraceFile(const std::string& path);
// The model as one JSON object (compact arrays; what the HTML page embeds).
std::string ModelJson(const RunModel& model);

}  // namespace crema::trace_viewer

#endif  // CREMA_TOOLS_TRACE_VIEWER_RUN_MODEL_H_
