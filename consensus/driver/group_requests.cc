// GroupDriver: client requests and their futures (proposals, ReadIndex, membership, transfer).
#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "consensus/driver/group_driver.h"
#include "consensus/storage/encoding.h"

namespace crema::raft {
namespace {

std::string WrapProposal(NodeId origin, uint64_t id, std::string_view data) {
  std::string out;
  storage::PutU32(&out, origin);
  storage::PutU64(&out, id);
  out.append(data);
  return out;
}

std::string ReadContext(uint64_t id) {
  std::string out;
  storage::PutU64(&out, id);
  return out;
}

// Unanswered ReadIndex requests are re-issued after this many ticks (the leader drops local
// reads it cannot serve yet, e.g. before its first commit in a new term).
constexpr int kReadRetryTicks = 3;

}  // namespace

bool GroupDriver::Enqueue(Request request) {
  if (requests_.size() >= options_.max_queued_requests) return false;
  requests_.push_back(std::move(request));
  if (hooks_.kick) hooks_.kick();
  return true;
}

Future<Applied> GroupDriver::Propose(std::string data) {
  Promise<Applied> promise(env_.executor);
  Future<Applied> future = promise.GetFuture();
  if (stopped()) {
    promise.Set(failure_);
    return future;
  }
  if (data.size() > kMaxProposalBytes) {
    promise.Set(absl::InvalidArgumentError(
        absl::StrCat("proposal of ", data.size(), " bytes exceeds kMaxProposalBytes")));
    return future;
  }
  if (proposals_.size() >= options_.max_pending_proposals) {
    promise.Set(absl::ResourceExhaustedError("too many pending proposals"));
    return future;
  }
  const uint64_t id = next_id_++;
  Request r{.kind = Request::Kind::kPropose, .id = id, .data = WrapProposal(env_.self, id, data)};
  if (!Enqueue(std::move(r))) {
    promise.Set(absl::ResourceExhaustedError("raft request queue full"));
    return future;
  }
  proposals_.emplace(id, PendingProposal{std::move(promise), Now() + options_.proposal_timeout});
  return future;
}

Future<Index> GroupDriver::ReadIndex() {
  Promise<Index> promise(env_.executor);
  Future<Index> future = promise.GetFuture();
  if (stopped()) {
    promise.Set(failure_);
    return future;
  }
  if (reads_.size() >= options_.max_pending_reads) {
    promise.Set(absl::ResourceExhaustedError("too many pending reads"));
    return future;
  }
  const uint64_t id = next_id_++;
  if (!Enqueue(Request{.kind = Request::Kind::kRead, .id = id})) {
    promise.Set(absl::ResourceExhaustedError("raft request queue full"));
    return future;
  }
  reads_.emplace(id, PendingRead{std::move(promise), Now() + options_.read_timeout});
  return future;
}

Future<Index> GroupDriver::ProposeConfChange(const ConfChange& change) {
  Promise<Index> promise(env_.executor);
  Future<Index> future = promise.GetFuture();
  if (stopped()) {
    promise.Set(failure_);
    return future;
  }
  Request r{.kind = Request::Kind::kConfChange, .change = change};
  r.index_promise.emplace(std::move(promise));
  if (!Enqueue(std::move(r))) {
    // The request (and its promise) was dropped: the future reports a broken promise.
  }
  return future;
}

Future<Term> GroupDriver::TransferLeadership(ReplicaId to) {
  Promise<Term> promise(env_.executor);
  Future<Term> future = promise.GetFuture();
  if (stopped()) {
    promise.Set(failure_);
    return future;
  }
  Request r{.kind = Request::Kind::kTransfer, .to = to};
  r.term_promise.emplace(std::move(promise));
  (void)Enqueue(std::move(r));  // if full, the dropped promise reports ABORTED
  return future;
}

void GroupDriver::ProcessRequests() {
  if (stopped()) {
    requests_.clear();  // their promises were failed by Fail (or break now: ABORTED)
    return;
  }
  for (const auto& [to, ok] : stream_reports_) raft_->ReportSnapshot(to, ok);
  stream_reports_.clear();
  // Bounded by max_queued_requests; requests enqueued meanwhile wait for the next wake-up.
  const size_t n = requests_.size();
  for (size_t i = 0; i < n; ++i) {
    Request r = std::move(requests_.front());
    requests_.pop_front();
    HandleRequest(r);
  }
}

void GroupDriver::HandleRequest(Request& r) {
  switch (r.kind) {
    case Request::Kind::kPropose: {
      auto it = proposals_.find(r.id);
      if (it == proposals_.end()) return;  // timed out already
      absl::Status s = raft_->Propose(std::move(r.data));
      if (!s.ok()) {
        it->second.promise.Set(absl::IsResourceExhausted(s) ? s : NotLeader(s.message()));
        proposals_.erase(it);
      } else if (hooks_.counters) {
        ++hooks_.counters->proposals;
      }
      return;
    }
    case Request::Kind::kRead: {
      auto it = reads_.find(r.id);
      if (it != reads_.end()) IssueRead(r.id, it->second);
      return;
    }
    case Request::Kind::kConfChange: {
      if (raft_->role() != Role::kLeader) {
        r.index_promise->Set(NotLeader("membership changes go to the leader"));
        return;
      }
      if (absl::Status s = raft_->ProposeConfChange(r.change); !s.ok()) {
        r.index_promise->Set(s);
        return;
      }
      // The core appended the change at the end of its log, in its current term.
      const Index index = raft_->log().last_index();
      confs_.emplace(index, PendingConf{std::move(*r.index_promise),
                                        Now() + options_.proposal_timeout, raft_->term()});
      return;
    }
    case Request::Kind::kTransfer: {
      if (absl::Status s = raft_->TransferLeadership(r.to); !s.ok()) {
        r.term_promise->Set(s);
        return;
      }
      const absl::Duration timeout =
          3 * options_.raft.election_tick * options_.raft.tick_interval;
      transfers_.push_back(PendingTransfer{std::move(*r.term_promise), Now() + timeout, r.to});
      return;
    }
  }
}

void GroupDriver::IssueRead(uint64_t id, PendingRead& read) {
  read.issued = Now();
  absl::Status s = raft_->ReadIndex(ReadContext(id), Now());
  if (!s.ok()) {
    read.promise.Set(absl::IsUnavailable(s) ? NotLeader(s.message()) : s);
    reads_.erase(id);
  }
}

void GroupDriver::OnReadStates(const std::vector<ReadState>& states) {
  for (const ReadState& rs : states) {
    if (rs.context.size() != 8) continue;
    auto it = reads_.find(storage::LoadU64(rs.context.data()));
    if (it != reads_.end() && it->second.read_index == 0) {
      it->second.read_index = std::max<Index>(rs.index, 1);
    }
  }
}

void GroupDriver::OnRejectedReads(const std::vector<std::string>& contexts) {
  for (const std::string& context : contexts) {
    if (context.size() != 8) continue;
    auto it = reads_.find(storage::LoadU64(context.data()));
    if (it == reads_.end() || it->second.read_index != 0) continue;
    it->second.promise.Set(NotLeader("read index rejected"));
    reads_.erase(it);
  }
}

void GroupDriver::ResolveReads() {
  for (auto it = reads_.begin(); it != reads_.end();) {
    if (it->second.read_index != 0 && it->second.read_index <= applied_) {
      it->second.promise.Set(it->second.read_index);
      it = reads_.erase(it);
    } else {
      ++it;
    }
  }
}

void GroupDriver::ResolveConfsAndTransfers() {
  // Changes are applied by the core in Advance; ApplyEntry already failed those whose index was
  // taken by another entry.
  while (!confs_.empty() && confs_.begin()->first <= applied_) {
    confs_.begin()->second.promise.Set(confs_.begin()->first);
    confs_.erase(confs_.begin());
  }
  for (auto it = transfers_.begin(); it != transfers_.end();) {
    if (raft_->leader() == it->to) {
      it->promise.Set(raft_->term());
      it = transfers_.erase(it);
    } else {
      ++it;
    }
  }
}

void GroupDriver::ExpireRequests(absl::Time now) {
  // Built only when something expires: this runs on every tick of every awake group.
  auto expired = [] { return absl::DeadlineExceededError("raft request timed out"); };
  for (auto it = proposals_.begin(); it != proposals_.end();) {
    if (now < it->second.deadline) {
      ++it;
      continue;
    }
    it->second.promise.Set(expired());
    it = proposals_.erase(it);
  }
  const absl::Duration retry = kReadRetryTicks * options_.raft.tick_interval;
  std::vector<uint64_t> reissue;  // btree erase invalidates iterators: re-issue after the scan
  for (auto it = reads_.begin(); it != reads_.end();) {
    PendingRead& read = it->second;
    if (now >= read.deadline) {
      read.promise.Set(expired());
      it = reads_.erase(it);
      continue;
    }
    if (read.read_index == 0 && read.issued != absl::InfinitePast() && now >= read.issued + retry) {
      reissue.push_back(it->first);
    }
    ++it;
  }
  for (uint64_t id : reissue) {
    auto it = reads_.find(id);
    if (it != reads_.end()) IssueRead(id, it->second);
  }
  for (auto it = confs_.begin(); it != confs_.end();) {
    if (now < it->second.deadline) {
      ++it;
      continue;
    }
    it->second.promise.Set(expired());
    it = confs_.erase(it);
  }
  for (auto it = transfers_.begin(); it != transfers_.end();) {
    if (now < it->deadline) {
      ++it;
      continue;
    }
    it->promise.Set(expired());
    it = transfers_.erase(it);
  }
}

void GroupDriver::FailAll(const absl::Status& status) {
  for (auto& [id, p] : proposals_) p.promise.Set(status);
  proposals_.clear();
  for (auto& [id, r] : reads_) r.promise.Set(status);
  reads_.clear();
  for (auto& [index, c] : confs_) c.promise.Set(status);
  confs_.clear();
  for (PendingTransfer& t : transfers_) t.promise.Set(status);
  transfers_.clear();
  for (Request& r : requests_) {
    if (r.index_promise) r.index_promise->Set(status);
    if (r.term_promise) r.term_promise->Set(status);
  }
  requests_.clear();
}

}  // namespace crema::raft
