#include "consensus/driver/raft_node.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "consensus/message_codec.h"
#include "consensus/storage/encoding.h"

namespace crema::raft {
namespace {

constexpr size_t kProposalHeaderBytes = 12;  // u32 origin node + u64 proposal id
constexpr size_t kMaxMessagesPerWake = 1024;  // messages stepped before handling a Ready

std::string WrapProposal(NodeId origin, uint64_t id, std::string_view data) {
  std::string out;
  storage::PutU32(&out, origin);
  storage::PutU64(&out, id);
  out.append(data);
  return out;
}

}  // namespace

RaftNode::RaftNode(Env env, const RaftNodeOptions& options, StateMachine* sm)
    : env_(env), options_(options), state_machine_(sm),
      inbox_(env.executor, options.inbox_capacity) {}

RaftNode::~RaftNode() = default;

void RaftNode::Shutdown() {
  env_.network->SetHandler(Service::kRaft, [](NodeId, std::string) {});
  if (fiber_ != 0) env_.executor->Cancel(fiber_);
  fiber_ = 0;
}

absl::StatusOr<std::unique_ptr<RaftNode>> RaftNode::Start(Env env, const RaftNodeOptions& options,
                                                          StateMachine* state_machine) {
  std::unique_ptr<RaftNode> node(new RaftNode(env, options, state_machine));
  storage::RecoveredState rec;
  absl::StatusOr<std::unique_ptr<storage::RaftStorage>> st =
      storage::RaftStorage::Open(env.disk, options.storage_prefix, {}, &rec);
  if (!st.ok()) return st.status();
  node->storage_ = *std::move(st);
  storage::RaftStorage& disk = *node->storage_;
  if (!rec.snapshot && rec.entries.empty() && !options.bootstrap.voters.empty()) {
    // A founding member's first start: persist InitialState::Bootstrap.
    const InitialState boot = InitialState::Bootstrap(options.bootstrap);
    if (absl::Status s = disk.SaveSnapshot(boot.snapshot, state_machine->Checkpoint()); !s.ok()) {
      return s;
    }
    if (absl::Status s = disk.ApplySnapshot(boot.snapshot); !s.ok()) return s;
    if (absl::Status s = disk.SetHardState(boot.hard_state); !s.ok()) return s;
    if (absl::Status s = disk.Sync(); !s.ok()) return s;
    rec.snapshot = boot.snapshot;
    rec.hard_state = boot.hard_state;
  }
  InitialState init;
  init.hard_state = rec.hard_state;
  init.snapshot = rec.snapshot.value_or(SnapshotMeta{});
  init.entries = std::move(rec.entries);
  if (rec.snapshot) {
    absl::StatusOr<storage::Snapshot> snap = disk.snapshots().LoadLatest();
    if (!snap.ok()) return snap.status();
    if (absl::Status s = state_machine->Restore(snap->data); !s.ok()) return s;
  }
  Config config = options.raft;
  config.random_seed = env.random->Next();
  absl::StatusOr<std::unique_ptr<Raft>> raft = Raft::Create(config, init);
  if (!raft.ok()) return raft.status();
  node->raft_ = *std::move(raft);
  RaftNode* self = node.get();
  env.network->SetHandler(Service::kRaft, [self](NodeId from, std::string bytes) {
    absl::StatusOr<Message> m = DecodeMessage(bytes);
    // Garbage, spoofed senders and other groups are dropped; so is overflow (Raft retries).
    if (!m.ok() || m->from != from || m->group != self->raft_->group()) return;
    (void)self->inbox_.TrySend(*std::move(m));
  });
  node->fiber_ = env.executor->Spawn(absl::StrCat("raft-", config.group), [self] { self->Run(); });
  return node;
}

absl::StatusOr<Index> RaftNode::Propose(std::string data) {
  if (!failure_.ok()) return failure_;
  if (proposals_.size() >= options_.max_pending_proposals) {
    return absl::ResourceExhaustedError("too many pending proposals");
  }
  const uint64_t id = next_proposal_id_++;
  Message m;
  m.type = MessageType::kProp;
  m.group = raft_->group();
  m.from = m.to = raft_->id();
  m.entries.push_back(Entry{0, 0, EntryType::kNormal, WrapProposal(env_.self, id, data)});
  Promise<Index> promise(env_.executor);
  Future<Index> future = promise.GetFuture();
  proposals_.emplace(id, std::move(promise));
  if (!inbox_.TrySend(std::move(m))) {
    proposals_.erase(id);
    return absl::ResourceExhaustedError("raft inbox full");
  }
  absl::StatusOr<Index> result = future.Wait(options_.proposal_timeout);
  proposals_.erase(id);
  return result;
}

void RaftNode::Run() {
  const absl::Duration tick = options_.raft.tick_interval;
  absl::Time next_tick = env_.clock->MonotonicNow() + tick;
  while (failure_.ok()) {
    const absl::Duration wait = std::max(absl::ZeroDuration(),
                                         next_tick - env_.clock->MonotonicNow());
    absl::StatusOr<Message> m = inbox_.Recv(wait);
    if (absl::IsCancelled(m.status())) return;
    for (size_t n = 0; m.ok() && n < kMaxMessagesPerWake; ++n) {
      const bool local_proposal = m->type == MessageType::kProp && m->from == raft_->id() &&
                                  m->entries.size() == 1 && m->entries[0].term == 0;
      uint64_t proposal_id = 0;
      if (local_proposal && m->entries[0].data.size() >= kProposalHeaderBytes) {
        proposal_id = storage::LoadU64(m->entries[0].data.data() + 4);
      }
      absl::Status s = local_proposal ? raft_->Propose(std::move(m->entries[0].data))
                                      : raft_->Step(*m);
      if (!s.ok() && local_proposal) {
        auto it = proposals_.find(proposal_id);
        if (it != proposals_.end()) {
          it->second.Set(absl::UnavailableError(absl::StrCat(
              "not leader (", s.message(), "); leader hint: ", raft_->leader())));
        }
      }
      std::optional<Message> next = inbox_.TryRecv();
      if (!next) break;
      m = *std::move(next);
    }
    const absl::Time now = env_.clock->MonotonicNow();
    if (now >= next_tick) {
      raft_->Tick(now);
      next_tick = std::max(next_tick + tick, now);
    }
    if (absl::Status s = HandleReady(); !s.ok()) {
      Stop(s);
      return;
    }
  }
}

absl::Status RaftNode::HandleReady() {
  while (raft_->HasReady()) {
    Ready rd = raft_->GetReady();
    // 1. Persist, then one Sync.
    if (rd.snapshot) {
      if (absl::Status s = storage_->ApplySnapshot(*rd.snapshot); !s.ok()) return s;
    }
    if (!rd.entries.empty()) {
      if (absl::Status s = storage_->Append(rd.entries); !s.ok()) return s;
    }
    if (rd.hard_state) {
      if (absl::Status s = storage_->SetHardState(*rd.hard_state); !s.ok()) return s;
    }
    if (rd.must_sync) {
      if (absl::Status s = storage_->Sync(); !s.ok()) return s;
    }
    if (rd.snapshot) {
      absl::StatusOr<storage::Snapshot> snap = storage_->snapshots().LoadLatest();
      if (!snap.ok()) return snap.status();
      if (absl::Status s = state_machine_->Restore(snap->data); !s.ok()) return s;
    }
    // 2. Send, only now that the state they promise is durable.
    std::vector<ReplicaId> snapshot_requests;
    for (const Message& m : rd.messages) {
      if (m.type == MessageType::kSnap) {
        snapshot_requests.push_back(m.to);  // streaming not implemented yet
        continue;
      }
      env_.network->Send(m.to, Service::kRaft, EncodeMessage(m));
    }
    // 3. Apply.
    for (const Entry& e : rd.committed_entries) ApplyEntry(e);
    // 4. Advance.
    raft_->Advance();
    for (ReplicaId to : snapshot_requests) raft_->ReportSnapshot(to, false);
  }
  return absl::OkStatus();
}

void RaftNode::ApplyEntry(const Entry& entry) {
  if (entry.type != EntryType::kNormal || entry.data.empty()) return;  // no-ops, conf changes
  if (entry.data.size() < kProposalHeaderBytes) return;  // not written by a RaftNode
  const NodeId origin = storage::LoadU32(entry.data.data());
  const uint64_t id = storage::LoadU64(entry.data.data() + 4);
  state_machine_->Apply(entry.index,
                        std::string_view(entry.data).substr(kProposalHeaderBytes));
  if (origin != env_.self) return;
  auto it = proposals_.find(id);
  if (it != proposals_.end()) it->second.Set(entry.index);
}

void RaftNode::Stop(absl::Status status) {
  failure_ = status;
  for (auto& [id, promise] : proposals_) promise.Set(status);
}

}  // namespace crema::raft
