#include "consensus/testing/scenario.h"

#include <cstdlib>
#include <memory>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "consensus/testing/cluster.h"

namespace crema::raft::testing {
namespace {

std::vector<ReplicaId> ParseIdList(absl::string_view s) {
  // "(1,2,3)"
  s = absl::StripPrefix(absl::StripSuffix(s, ")"), "(");
  std::vector<ReplicaId> out;
  for (absl::string_view part : absl::StrSplit(s, ',', absl::SkipEmpty())) {
    uint32_t id;
    if (absl::SimpleAtoi(part, &id)) out.push_back(id);
  }
  return out;
}

uint64_t Num(const std::vector<std::string>& args, size_t i, uint64_t fallback = 0) {
  uint64_t v;
  if (i < args.size() && absl::SimpleAtoi(args[i], &v)) return v;
  return fallback;
}

class Interpreter {
 public:
  explicit Interpreter(std::vector<std::string>* out) : out_(out), cluster_(out) {}

  void Run(const std::vector<std::string>& args);

 private:
  void Print(std::string s) { out_->push_back(std::move(s)); }
  void Result(const absl::Status& st) {
    if (!st.ok()) Print(absl::StrCat("  error: ", st.ToString()));
  }
  void AddNodes(const std::vector<std::string>& args);
  void ProposeConfChange(const std::vector<std::string>& args);
  std::vector<ReplicaId> IdsOrAll(const std::vector<std::string>& args) {
    std::vector<ReplicaId> ids;
    for (size_t i = 1; i < args.size(); ++i) ids.push_back(static_cast<ReplicaId>(Num(args, i)));
    return ids.empty() ? cluster_.ids() : ids;
  }

  std::vector<std::string>* out_;
  Cluster cluster_;
};

void Interpreter::AddNodes(const std::vector<std::string>& args) {
  const uint64_t n = Num(args, 1);
  Config base;
  base.election_tick = 10;
  base.heartbeat_tick = 1;
  base.max_inflight_msgs = 256;
  // Scripts show snapshots and compaction step by step: a leader keeps nothing extra for its
  // followers unless the script says so (follower-keep=N).
  base.compaction_follower_keep_entries = 0;
  ConfState conf;
  bool join = false;
  for (size_t i = 2; i < args.size(); ++i) {
    std::vector<std::string> kv = absl::StrSplit(args[i], absl::MaxSplits('=', 1));
    const std::string& key = kv[0];
    const std::string value = kv.size() > 1 ? kv[1] : "";
    uint64_t num = 0;
    (void)absl::SimpleAtoi(value, &num);
    if (key == "voters") conf.voters = ParseIdList(value);
    if (key == "learners") conf.learners = ParseIdList(value);
    if (key == "join") join = true;
    if (key == "pre-vote") base.pre_vote = value == "true";
    if (key == "check-quorum") base.check_quorum = value == "true";
    if (key == "lease") base.lease_based_reads = value == "true";
    if (key == "drift-ms") base.max_clock_drift = absl::Milliseconds(num);
    if (key == "max-inflight") base.max_inflight_msgs = num;
    if (key == "max-entries") base.max_entries_per_msg = num;
    if (key == "keep") base.compaction_keep_entries = num;
    if (key == "follower-keep") base.compaction_follower_keep_entries = num;
    if (key == "seed") base.random_seed = num;
    if (key == "quiesce") base.quiesce = value == "true";
    if (key == "max-reads") base.max_pending_reads = num;
  }
  const std::vector<ReplicaId> existing = cluster_.ids();
  ReplicaId next = existing.empty() ? 1 : existing.back() + 1;
  for (uint64_t i = 0; i < n; ++i, ++next) {
    Config c = base;
    c.id = next;
    c.random_seed = base.random_seed * 1000 + next;
    cluster_.AddNode(c, conf, join);
    Print(absl::StrCat("  ", next, " added ", join ? "(joining)" : FormatConfState(conf)));
  }
}

void Interpreter::ProposeConfChange(const std::vector<std::string>& args) {
  ConfChange cc;
  const std::string& kind = args.size() > 2 ? args[2] : "";
  if (kind == "add-voter") cc.type = ConfChangeType::kAddVoter;
  else if (kind == "add-learner") cc.type = ConfChangeType::kAddLearner;
  else if (kind == "remove") cc.type = ConfChangeType::kRemove;
  else return Print("  error: unknown conf change " + kind);
  cc.replica = static_cast<ReplicaId>(Num(args, 3));
  Result(cluster_.raft(static_cast<ReplicaId>(Num(args, 1))).ProposeConfChange(cc));
}

void Interpreter::Run(const std::vector<std::string>& args) {
  const std::string& cmd = args[0];
  const ReplicaId id = static_cast<ReplicaId>(Num(args, 1));
  if (cmd == "add-nodes") {
    AddNodes(args);
  } else if (id != kNoReplica && !cluster_.Has(id) && cmd != "partition" &&
             cmd != "deliver-msg" && cmd != "drop-msg") {
    Print(absl::StrCat("  error: no node ", id));
    return;
  } else if (cmd == "campaign") {
    cluster_.raft(id).Campaign();
  } else if (cmd == "tick") {
    for (uint64_t i = 0; i < Num(args, 2, 1); ++i) cluster_.Tick(id);
  } else if (cmd == "tick-heartbeat") {
    for (int i = 0; i < cluster_.node(id).config.heartbeat_tick; ++i) cluster_.Tick(id);
  } else if (cmd == "tick-election") {
    // Up to the longest randomised timeout; stops as soon as the node's role or term changes.
    const Raft& r = cluster_.raft(id);
    const auto before = std::make_pair(r.role(), r.term());
    for (int i = 0; i < 2 * r.config().election_tick; ++i) {
      cluster_.Tick(id);
      if (std::make_pair(r.role(), r.term()) != before) break;
    }
  } else if (cmd == "propose") {
    for (uint64_t i = 0; i < Num(args, 3, 1); ++i) {
      std::string data = args.size() > 2 ? args[2] : "";
      if (Num(args, 3, 1) > 1) absl::StrAppend(&data, i);
      Result(cluster_.raft(id).Propose(data));
    }
  } else if (cmd == "propose-conf-change") {
    ProposeConfChange(args);
  } else if (cmd == "read-index") {
    Result(cluster_.raft(id).ReadIndex(args.size() > 2 ? args[2] : "", cluster_.node(id).now));
  } else if (cmd == "transfer-leader") {
    Result(cluster_.raft(id).TransferLeadership(static_cast<ReplicaId>(Num(args, 2))));
  } else if (cmd == "process-ready") {
    for (ReplicaId r : IdsOrAll(args)) cluster_.ProcessReady(r);
  } else if (cmd == "deliver-msgs" || cmd == "drop-msgs") {
    const bool drop = cmd == "drop-msgs";
    if (args.size() == 1) {
      cluster_.Deliver(kNoReplica, drop);
    } else {
      for (ReplicaId r : IdsOrAll(args)) cluster_.Deliver(r, drop);
    }
  } else if (cmd == "deliver-msg" || cmd == "drop-msg") {
    // deliver-msg I / drop-msg I: the I-th in-flight message (0-based, as `msgs` lists them).
    const uint64_t i = Num(args, 1, UINT64_MAX);
    if (i < cluster_.in_flight().size()) cluster_.DeliverAt(i, /*drop=*/cmd == "drop-msg");
  } else if (cmd == "msgs") {
    for (const Message& m : cluster_.in_flight()) Print("  " + FormatMessage(m));
  } else if (cmd == "stabilize") {
    if (!cluster_.Stabilize()) Print("  error: did not stabilize");
  } else if (cmd == "partition") {
    std::vector<ReplicaId> a, b;
    bool second = false;
    for (size_t i = 1; i < args.size(); ++i) {
      if (args[i] == "/") second = true;
      else (second ? b : a).push_back(static_cast<ReplicaId>(Num(args, i)));
    }
    cluster_.Partition(a, b);
  } else if (cmd == "isolate") {
    cluster_.Isolate(id);
  } else if (cmd == "heal") {
    cluster_.Heal();
  } else if (cmd == "compact") {
    Result(cluster_.Compact(id, Num(args, 2)));
  } else if (cmd == "restart") {
    Result(cluster_.Restart(id));
  } else if (cmd == "sleep") {
    cluster_.Sleep(id, absl::Milliseconds(Num(args, 2)));
  } else if (cmd == "unquiesce") {
    cluster_.raft(id).Unquiesce();
  } else if (cmd == "report-peer-down") {
    cluster_.raft(id).ReportPeerDown(static_cast<ReplicaId>(Num(args, 2)));
  } else if (cmd == "report-unreachable") {
    cluster_.raft(id).ReportUnreachable(static_cast<ReplicaId>(Num(args, 2)));
  } else if (cmd == "status") {
    for (ReplicaId r : IdsOrAll(args)) {
      for (absl::string_view line : absl::StrSplit(cluster_.Status(r), '\n')) {
        Print(absl::StrCat("  ", line));
      }
    }
  } else if (cmd == "log") {
    for (ReplicaId r : IdsOrAll(args)) {
      for (absl::string_view line : absl::StrSplit(cluster_.LogString(r), '\n')) {
        Print(absl::StrCat("  ", line));
      }
    }
  } else {
    Print("  error: unknown command " + cmd);
  }
  if (absl::Status st = cluster_.CheckInvariants(); !st.ok()) {
    Print(absl::StrCat("  INVARIANT VIOLATED: ", st.message()));
  }
}

}  // namespace

std::string RunScenario(std::string_view script_in) {
  absl::string_view script(script_in.data(), script_in.size());
  std::vector<std::string> out;
  Interpreter interp(&out);
  for (absl::string_view line : absl::StrSplit(script, '\n')) {
    if (absl::StartsWith(line, "> ")) {
      out.emplace_back(line);
      std::vector<std::string> args =
          absl::StrSplit(std::string(line.substr(2)), ' ', absl::SkipWhitespace());
      if (!args.empty()) interp.Run(args);
    } else if (line.empty() || absl::StartsWith(line, "#")) {
      out.emplace_back(line);
    }  // anything else is old output: regenerated
  }
  while (!out.empty() && out.back().empty()) out.pop_back();
  std::string text;
  for (const std::string& l : out) absl::StrAppend(&text, l, "\n");
  return text;
}

}  // namespace crema::raft::testing
