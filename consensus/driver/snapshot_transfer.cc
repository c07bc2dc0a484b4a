// GroupDriver: streaming snapshots to lagging followers, and receiving them.
//
// Sender (one fiber per follower being caught up, started when the core emits a MsgSnap request):
// streams the *latest* stored snapshot file in chunks of storage::kSnapshotChunkBytes, keeping at
// most max_chunks_in_flight unacknowledged; waits for cumulative acks (MsgSnapResp with
// snapshot_offset = bytes received in order); on chunk_timeout without progress it resends from
// the last acked offset (go-back-N), aborting after max_timeouts consecutive timeouts, on a reject,
// or as soon as this node is no longer leader of the stream's term. The outcome is reported to the
// core (Raft::ReportSnapshot) by the host fiber.
//
// Receiver (inline on the host fiber): one receive at a time per group, identified by (leader,
// term, snapshot metadata). Chunks must arrive in order (SnapshotReceiver); others are answered
// with the current offset so the sender can resume. After the last chunk, Finish syncs and
// verifies the file and installs it in the store; only then is a MsgSnap carrying the metadata
// of what was actually received stepped into the core (raft.h / message.h contract).
#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "consensus/driver/group_driver.h"

namespace crema::raft {
void GroupDriver::StartSnapshotStream(ReplicaId to) {
  if (stopped() || raft_->role() != Role::kLeader) return;
  auto it = streams_.find(to);
  if (it != streams_.end() && it->second->term == raft_->term()) return;  // already streaming
  if (it != streams_.end()) {
    it->second->cancelled = true;
    env_.executor->Cancel(it->second->fiber);
    streams_.erase(it);
  }
  auto stream = std::make_shared<SendStream>(env_.executor, to, raft_->term());
  streams_[to] = stream;
  stream->fiber = env_.executor->Spawn(absl::StrCat("raft-snap-", group(), "-", to),
                                       [this, stream] { StreamSnapshot(stream); });
}

void GroupDriver::CancelStreams() {
  for (auto& [to, stream] : streams_) {
    stream->cancelled = true;
    if (!executor_gone_) env_.executor->Cancel(stream->fiber);
  }
  streams_.clear();
}

void GroupDriver::StreamSnapshot(std::shared_ptr<SendStream> st) {
  // `this` is alive while !st->cancelled: check after every blocking call.
  auto finish = [&](bool ok) {
    streams_.erase(st->to);
    stream_reports_.emplace_back(st->to, ok);
    if (ok) {
      ++snapshots_sent_;
      if (hooks_.counters) ++hooks_.counters->snapshots_sent;
    }
    env_.tracer->Record("raft.snapshot_stream",
                        absl::StrCat(group(), " to ", st->to, ok ? " done" : " failed"));
    if (hooks_.kick) hooks_.kick();
  };
  if (st->cancelled) return;
  absl::StatusOr<std::unique_ptr<storage::SnapshotReader>> opened =
      storage_->snapshots().OpenReader();
  if (st->cancelled) return;
  if (!opened.ok()) return finish(false);
  storage::SnapshotReader& reader = **opened;
  const SnapshotStreamOptions& opts = options_.snapshot_stream;
  const uint64_t window =
      std::max<size_t>(1, opts.max_chunks_in_flight) * storage::kSnapshotChunkBytes;
  uint64_t acked = 0;
  int timeouts = 0;
  while (true) {
    if (stopped() || raft_->role() != Role::kLeader || raft_->term() != st->term) {
      return finish(false);  // a new term: the new leader (maybe us) decides again
    }
    while (!reader.done() && reader.offset() < acked + window) {
      absl::StatusOr<storage::SnapshotReader::Chunk> chunk = reader.Next();
      if (st->cancelled) return;
      if (!chunk.ok()) return finish(false);
      Message m{.type = MessageType::kSnap, .group = group(), .from = options_.raft.id, .to = st->to,
                .term = st->term};
      m.snapshot = reader.meta();
      m.snapshot_offset = chunk->offset;
      m.snapshot_chunk = std::move(chunk->data);
      m.snapshot_last = chunk->last;
      hooks_.send_now(std::move(m));
    }
    absl::StatusOr<Message> ack = st->acks.Recv(opts.chunk_timeout);
    if (st->cancelled) return;
    if (!ack.ok()) {
      if (++timeouts > opts.max_timeouts) return finish(false);
      reader.Seek(acked);  // resend everything not acknowledged
      continue;
    }
    if (ack->index != reader.meta().index) continue;  // an ack of an older stream
    if (ack->reject) return finish(false);
    if (ack->snapshot_offset > acked && ack->snapshot_offset <= reader.offset()) {
      acked = ack->snapshot_offset;
      timeouts = 0;
    }
    if (acked >= reader.total_bytes()) return finish(true);
  }
}

void GroupDriver::OnSnapshotAck(const Message& m) {
  auto it = streams_.find(m.from);
  if (it == streams_.end() || it->second->term != m.term) return;
  (void)it->second->acks.TrySend(m);  // overflow: the sender times out and resends
}

void GroupDriver::AckChunk(const Message& chunk, uint64_t offset, bool reject) {
  Message ack{.type = MessageType::kSnapResp, .group = group(), .from = options_.raft.id,
              .to = chunk.from, .term = chunk.term, .index = chunk.snapshot->index};
  ack.snapshot_offset = offset;
  ack.reject = reject;
  hooks_.send_now(std::move(ack));
}

void GroupDriver::OnSnapshotChunk(const Message& m) {
  if (!m.snapshot.has_value()) return;
  if (m.term < raft_->term()) return AckChunk(m, 0, /*reject=*/true);  // a deposed leader
  const SnapshotMeta& meta = *m.snapshot;
  if (meta.index <= raft_->commit()) {
    // Nothing new for us: let the core answer with where we are, and end the stream.
    Message snap{.type = MessageType::kSnap, .group = group(), .from = m.from,
                 .to = options_.raft.id, .term = m.term};
    snap.snapshot = meta;
    (void)raft_->Step(snap);
    receive_.reset();
    return AckChunk(m, 0, /*reject=*/true);
  }
  const bool same = receive_ != nullptr && receive_->from == m.from &&
                    receive_->term == m.term && receive_->meta == meta;
  if (!same) {
    if (m.snapshot_offset != 0) return AckChunk(m, 0, /*reject=*/false);  // resend from 0
    absl::StatusOr<std::unique_ptr<storage::SnapshotReceiver>> rc =
        storage_->snapshots().StartReceive();
    if (!rc.ok()) {
      receive_.reset();
      return AckChunk(m, 0, /*reject=*/true);
    }
    receive_ = std::make_unique<ReceiveState>();
    receive_->from = m.from;
    receive_->term = m.term;
    receive_->meta = meta;
    receive_->receiver = *std::move(rc);
  }
  storage::SnapshotReceiver& receiver = *receive_->receiver;
  if (m.snapshot_offset != receiver.received_bytes()) {
    return AckChunk(m, receiver.received_bytes(), /*reject=*/false);  // duplicate or gap
  }
  if (absl::Status s = receiver.Write(m.snapshot_offset, m.snapshot_chunk); !s.ok()) {
    receive_.reset();
    return AckChunk(m, 0, /*reject=*/true);
  }
  const uint64_t received = receiver.received_bytes();
  if (!m.snapshot_last) return AckChunk(m, received, /*reject=*/false);
  absl::StatusOr<SnapshotMeta> got = receiver.Finish();
  receive_.reset();
  if (!got.ok()) {
    env_.tracer->Record("raft.snapshot_rejected", absl::StrCat(group(), " ", got.status().message()));
    return AckChunk(m, 0, /*reject=*/true);
  }
  // Step the metadata of the snapshot we actually received and verified.
  Message snap{.type = MessageType::kSnap, .group = group(), .from = m.from, .to = options_.raft.id,
               .term = m.term};
  snap.snapshot = *got;
  (void)raft_->Step(snap);
  AckChunk(m, received, /*reject=*/false);
}

}  // namespace crema::raft
