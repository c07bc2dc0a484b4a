#include "consensus/testing/cluster.h"

#include <algorithm>
#include <cassert>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "consensus/conf_change.h"

namespace crema::raft::testing {
namespace {

std::string Entries(const std::vector<Entry>& es) {
  std::vector<std::string> parts;
  for (const Entry& e : es) {
    std::string s = FormatEntry(e);
    if (e.type == EntryType::kConfChange) {
      absl::StatusOr<ConfChange> cc = DecodeConfChange(e.data);
      absl::StrAppend(&s, " ", cc.ok() ? FormatConfChange(*cc) : "invalid");
    }
    parts.push_back(std::move(s));
  }
  return absl::StrCat("[", absl::StrJoin(parts, ", "), "]");
}

std::string StateLine(const Raft& r) {
  return absl::StrCat(RoleName(r.role()), " term=", r.term(), " leader=", r.leader(),
                      r.quiesced() ? " quiet" : "");
}

}  // namespace

void Cluster::Log(std::string line) {
  if (trace_ != nullptr) trace_->push_back(std::move(line));
}

void Cluster::AddNode(const Config& config, const ConfState& conf, bool join) {
  assert(!nodes_.contains(config.id));
  Node n;
  n.config = config;
  InitialState init = join ? InitialState::Joining() : InitialState::Bootstrap(conf);
  n.disk.hard_state = init.hard_state;
  n.disk.snapshot = init.snapshot;
  absl::StatusOr<std::unique_ptr<Raft>> raft = Raft::Create(config, init);
  assert(raft.ok());
  n.raft = *std::move(raft);
  n.applied_index = init.snapshot.index;
  last_state_[config.id] = StateLine(*n.raft);
  nodes_.emplace(config.id, std::move(n));
}

std::vector<ReplicaId> Cluster::ids() const {
  std::vector<ReplicaId> out;
  for (const auto& [id, n] : nodes_) out.push_back(id);
  return out;
}

void Cluster::NoteStateChanges() {
  for (auto& [id, n] : nodes_) {
    std::string now = StateLine(*n.raft);
    if (now != last_state_[id]) {
      Log(absl::StrCat("  ", id, " is ", now));
      last_state_[id] = std::move(now);
    }
  }
}

void Cluster::Tick(ReplicaId id) {
  Node& n = nodes_.at(id);
  n.now += n.config.tick_interval;
  n.raft->Tick(n.now);
  NoteStateChanges();
}

void Cluster::Persist(Node& n, const Ready& rd) {
  const ReplicaId id = n.config.id;
  if (rd.snapshot.has_value()) {
    n.disk.snapshot = *rd.snapshot;
    n.disk.snapshot_data = n.staged_snapshot;
    n.disk.entries.clear();  // a snapshot replaces the whole stored log
    n.state_machine = n.staged_snapshot;
    n.applied_index = rd.snapshot->index;
    if (!(n.staged_meta == *rd.snapshot) && apply_violation_.empty()) {
      apply_violation_ = absl::StrCat(id, " installed a snapshot it did not receive");
    }
    Log(absl::StrCat("  ", id, " install snapshot ", rd.snapshot->term, "/", rd.snapshot->index,
                     " ", FormatConfState(rd.snapshot->conf)));
  }
  if (!rd.entries.empty()) {
    const Index first = rd.entries.front().index;
    auto& es = n.disk.entries;
    es.erase(std::remove_if(es.begin(), es.end(), [&](const Entry& e) { return e.index >= first; }),
             es.end());
    assert(es.empty() || es.back().index + 1 == first);
    es.insert(es.end(), rd.entries.begin(), rd.entries.end());
    Log(absl::StrCat("  ", id, " persist ", Entries(rd.entries)));
  }
  if (rd.hard_state.has_value()) {
    n.disk.hard_state = *rd.hard_state;
    Log(absl::StrCat("  ", id, " persist hard state term=", rd.hard_state->term,
                     " vote=", rd.hard_state->vote, " commit=", rd.hard_state->commit));
  }
}

void Cluster::Apply(Node& n, const Ready& rd) {
  const ReplicaId id = n.config.id;
  if (!rd.committed_entries.empty()) {
    Log(absl::StrCat("  ", id, " apply ", Entries(rd.committed_entries)));
  }
  for (const Entry& e : rd.committed_entries) {
    if (e.index != n.applied_index + 1 && apply_violation_.empty()) {
      apply_violation_ = absl::StrCat(id, " applied index ", e.index, " after ", n.applied_index);
    }
    n.applied_index = e.index;
    if (e.type == EntryType::kNormal && !e.data.empty()) n.state_machine.emplace_back(e.index, e.data);
  }
  for (const ReadState& rs : rd.read_states) {
    Log(absl::StrCat("  ", id, " read-state ctx=", rs.context, " index=", rs.index));
    n.read_states.push_back(rs);
  }
  for (const std::string& context : rd.rejected_reads) {
    Log(absl::StrCat("  ", id, " read rejected ctx=", context));
    n.rejected_reads.push_back(context);
  }
}

bool Cluster::ProcessReady(ReplicaId id) {
  Node& n = nodes_.at(id);
  if (!n.raft->HasReady()) return false;
  Ready rd = n.raft->GetReady();
  Persist(n, rd);  // then "Sync": this harness's disk is durable at once
  for (const Message& m : rd.messages) in_flight_.push_back(m);
  Apply(n, rd);
  n.raft->Advance();
  NoteStateChanges();
  return true;
}

bool Cluster::Connected(ReplicaId a, ReplicaId b) const {
  return !cut_.contains({a, b}) && !cut_.contains({b, a});
}

void Cluster::Dispatch(const Message& m, bool drop) {
  const bool lost = drop || !Connected(m.from, m.to) || !nodes_.contains(m.to);
  Log(absl::StrCat(lost ? "  drop " : "  ", FormatMessage(m)));
  Message msg = m;
  if (m.type == MessageType::kSnap && nodes_.contains(m.from)) {
    // The driver streams its latest snapshot (possibly newer than the one requested), then
    // reports to the sender's core; the receiver steps the metadata of what it received.
    Node& sender = nodes_.at(m.from);
    if (!lost) {
      nodes_.at(m.to).staged_snapshot = sender.disk.snapshot_data;
      nodes_.at(m.to).staged_meta = sender.disk.snapshot;
      msg.snapshot = sender.disk.snapshot;
    }
    sender.raft->ReportSnapshot(m.to, !lost);
  }
  if (lost) return;
  absl::Status st = nodes_.at(m.to).raft->Step(msg);
  if (!st.ok()) Log(absl::StrCat("  ", m.to, " step error: ", st.message()));
  NoteStateChanges();
}

size_t Cluster::Deliver(ReplicaId to, bool drop) {
  std::vector<Message> batch;
  std::vector<Message> keep;
  for (Message& m : in_flight_) (to == kNoReplica || m.to == to ? batch : keep).push_back(m);
  in_flight_ = std::move(keep);
  for (const Message& m : batch) Dispatch(m, drop);
  return batch.size();
}

void Cluster::DeliverAt(size_t i, bool drop) {
  assert(i < in_flight_.size());
  Message m = std::move(in_flight_[i]);
  in_flight_.erase(in_flight_.begin() + i);
  Dispatch(m, drop);
}

bool Cluster::Stabilize(int max_rounds) {
  for (int round = 0; round < max_rounds; ++round) {
    bool progressed = false;
    for (ReplicaId id : ids()) progressed |= ProcessReady(id);
    progressed |= Deliver(kNoReplica) > 0;
    if (!progressed) return true;
  }
  return false;
}

void Cluster::Partition(const std::vector<ReplicaId>& a, const std::vector<ReplicaId>& b) {
  for (ReplicaId x : a) {
    for (ReplicaId y : b) cut_.insert({x, y});
  }
}

void Cluster::Isolate(ReplicaId id) {
  for (ReplicaId other : ids()) {
    if (other != id) cut_.insert({id, other});
  }
}

absl::Status Cluster::Restart(ReplicaId id) {
  Node& n = nodes_.at(id);
  InitialState init{n.disk.hard_state, n.disk.snapshot, n.disk.entries};
  absl::StatusOr<std::unique_ptr<Raft>> raft = Raft::Create(n.config, init);
  if (!raft.ok()) return raft.status();
  n.raft = *std::move(raft);
  n.state_machine = n.disk.snapshot_data;
  n.applied_index = n.disk.snapshot.index;
  n.staged_snapshot.clear();
  NoteStateChanges();
  return absl::OkStatus();
}

absl::Status Cluster::Compact(ReplicaId id, Index index) {
  Node& n = nodes_.at(id);
  if (index > n.applied_index) {
    return absl::FailedPreconditionError("the state machine has not applied that far");
  }
  if (absl::Status st = n.raft->Compact(index); !st.ok()) return st;
  const SnapshotMeta& snap = n.raft->log().snapshot();
  if (snap.index != n.disk.snapshot.index) {
    n.disk.snapshot = snap;
    n.disk.snapshot_data.clear();
    for (const auto& [i, data] : n.state_machine) {
      if (i <= snap.index) n.disk.snapshot_data.emplace_back(i, data);
    }
  }
  const Index offset = n.raft->log().offset();
  auto& es = n.disk.entries;
  es.erase(std::remove_if(es.begin(), es.end(), [&](const Entry& e) { return e.index < offset; }),
           es.end());
  return absl::OkStatus();
}

absl::Status Cluster::CheckInvariants() {
  std::vector<ReplicaView> views;
  for (const auto& [id, n] : nodes_) views.push_back(ViewOf(*n.raft));
  if (!apply_violation_.empty()) return absl::InternalError(apply_violation_);
  if (absl::Status st = checker_.Check(views); !st.ok()) return st;
  if (fixed_voters_.empty()) return absl::OkStatus();
  return checker_.CheckCommittedEntriesElectable(views, fixed_voters_);
}

std::string Cluster::Status(ReplicaId id) const {
  const Raft& r = *nodes_.at(id).raft;
  std::string s = absl::StrCat(id, ": ", StateLine(r), " commit=", r.commit(),
                               " applied=", r.applied(), " last=", r.log().last_index(), " ",
                               FormatConfState(r.conf()));
  for (const auto& [pid, pr] : r.progress()) {
    absl::StrAppend(&s, "\n  ", pid, ": ", pr.DebugString());
  }
  return s;
}

std::string Cluster::LogString(ReplicaId id) const {
  const Node& n = nodes_.at(id);
  const RaftLog& log = n.raft->log();
  std::vector<Entry> es;
  for (Index i = log.first_index(); i <= log.last_index(); ++i) es.push_back(log.At(i));
  std::vector<std::string> sm;
  for (const auto& [i, data] : n.state_machine) sm.push_back(absl::StrCat(i, ":", data));
  return absl::StrCat(id, ": snapshot=", log.snapshot().term, "/", log.snapshot().index,
                      " offset=", log.offset(), " entries=", Entries(es), "\n", id,
                      ": state machine=[", absl::StrJoin(sm, " "), "]");
}

}  // namespace crema::raft::testing
