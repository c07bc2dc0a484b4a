#include "consensus/driver/raft_node.h"

#include <utility>

namespace crema::raft {

absl::StatusOr<std::unique_ptr<RaftNode>> RaftNode::Start(Env env, const RaftNodeOptions& options,
                                                          StateMachine* state_machine) {
  RaftHostOptions host_options;
  host_options.tick_interval = options.raft.tick_interval;
  host_options.inbox_capacity = options.inbox_capacity;
  std::shared_ptr<RaftHost> host = RaftHost::Start(env, host_options);
  GroupOptions g;
  g.raft = options.raft;
  g.bootstrap = options.bootstrap;
  g.storage_prefix = options.storage_prefix;
  g.storage = options.storage;
  g.proposal_timeout = options.proposal_timeout;
  g.read_timeout = options.read_timeout;
  g.max_pending_proposals = options.max_pending_proposals;
  g.checkpoint = options.checkpoint;
  g.snapshot_stream = options.snapshot_stream;
  g.reopen_backoff = options.reopen_backoff;
  absl::StatusOr<GroupDriver*> group = host->CreateGroup(g, state_machine);
  if (!group.ok()) {
    host->Shutdown();
    return group.status();
  }
  return std::unique_ptr<RaftNode>(new RaftNode(std::move(host), *group, options));
}

RaftNode::~RaftNode() = default;  // the host decides whether the Executor is still alive

void RaftNode::Shutdown() { host_->Shutdown(); }

absl::StatusOr<Index> RaftNode::Propose(std::string data) {
  absl::StatusOr<Applied> r = ProposeForResult(std::move(data));
  if (!r.ok()) return r.status();
  return r->index;
}

absl::StatusOr<Applied> RaftNode::ProposeForResult(std::string data) {
  return group_->Propose(std::move(data)).Wait(options_.proposal_timeout);
}

absl::StatusOr<Index> RaftNode::ReadIndex() {
  return group_->ReadIndex().Wait(options_.read_timeout);
}

absl::StatusOr<Index> RaftNode::ProposeConfChange(const ConfChange& change) {
  return group_->ProposeConfChange(change).Wait(options_.proposal_timeout);
}

absl::StatusOr<Term> RaftNode::TransferLeadership(ReplicaId to) {
  return group_->TransferLeadership(to).Wait(options_.proposal_timeout);
}

}  // namespace crema::raft
