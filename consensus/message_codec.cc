#include "consensus/message_codec.h"

#include <cassert>

#include "absl/status/status.h"
#include "consensus/conf_change.h"
#include "consensus/wire.h"

namespace crema::raft {
namespace {

constexpr uint64_t kMaxReplicaId = UINT32_MAX;

void PutReplicaList(WireWriter& w, const std::vector<ReplicaId>& ids) {
  w.PutVarint(ids.size());
  for (ReplicaId id : ids) w.PutVarint(id);
}

bool GetReplicaList(WireReader& r, std::vector<ReplicaId>* ids) {
  uint64_t n;
  if (!r.GetVarint(&n, kMaxReplicasPerGroup)) return false;
  ids->clear();
  for (uint64_t i = 0; i < n; ++i) {
    uint64_t id;
    if (!r.GetVarint(&id, kMaxReplicaId)) return false;
    ids->push_back(static_cast<ReplicaId>(id));
  }
  return true;
}

absl::Status Garbage(const char* what) {
  return absl::InvalidArgumentError(std::string("raft message decode: bad ") + what);
}

}  // namespace

std::string EncodeMessage(const Message& m) {
  assert(m.entries.size() <= kMaxEntriesPerMessage);
  assert(m.context.size() <= kMaxContextBytes);
  assert(m.snapshot_chunk.size() <= kMaxSnapshotChunkBytes);
  WireWriter w;
  w.PutU8(kMessageCodecVersion);
  w.PutU8(static_cast<uint8_t>(m.type));
  w.PutVarint(m.group);
  w.PutVarint(m.from);
  w.PutVarint(m.to);
  w.PutVarint(m.term);
  w.PutVarint(m.log_term);
  w.PutVarint(m.index);
  w.PutVarint(m.entries.size());
  for (const Entry& e : m.entries) {
    assert(e.data.size() <= kMaxEntryBytes);
    w.PutVarint(e.term);
    w.PutVarint(e.index);
    w.PutU8(static_cast<uint8_t>(e.type));
    w.PutBytes(e.data);
  }
  w.PutVarint(m.commit);
  w.PutU8(m.reject ? 1 : 0);
  w.PutVarint(m.reject_hint);
  w.PutVarint(m.round);
  w.PutU8(m.leader_transfer ? 1 : 0);
  w.PutBytes(m.context);
  w.PutU8(m.snapshot.has_value() ? 1 : 0);
  if (m.snapshot) {
    w.PutVarint(m.snapshot->index);
    w.PutVarint(m.snapshot->term);
    PutReplicaList(w, m.snapshot->conf.voters);
    PutReplicaList(w, m.snapshot->conf.learners);
    PutReplicaList(w, m.snapshot->conf.voters_outgoing);
  }
  w.PutVarint(m.snapshot_offset);
  w.PutBytes(m.snapshot_chunk);
  w.PutU8(m.snapshot_last ? 1 : 0);
  w.PutU8(m.quiesce ? 1 : 0);
  std::string out = std::move(w).Finish();
  assert(out.size() <= kMaxMessageBytes);
  return out;
}

absl::StatusOr<Message> DecodeMessage(std::string_view bytes) {
  if (bytes.size() > kMaxMessageBytes) return Garbage("size (too large)");
  WireReader r(bytes);
  Message m;
  uint8_t version, type;
  if (!r.GetU8(&version) || version != kMessageCodecVersion) return Garbage("version");
  if (!r.GetU8(&type) || type == 0 || type > kMaxMessageType) return Garbage("type");
  m.type = static_cast<MessageType>(type);
  uint64_t from, to, n;
  if (!r.GetVarint(&m.group) || !r.GetVarint(&from, kMaxReplicaId) ||
      !r.GetVarint(&to, kMaxReplicaId)) {
    return Garbage("header");
  }
  m.from = static_cast<ReplicaId>(from);
  m.to = static_cast<ReplicaId>(to);
  if (!r.GetVarint(&m.term) || !r.GetVarint(&m.log_term) || !r.GetVarint(&m.index)) {
    return Garbage("position");
  }
  // Each entry takes at least 4 bytes, which bounds the reservation by the input size.
  if (!r.GetVarint(&n, kMaxEntriesPerMessage) || n > r.remaining() / 4) return Garbage("entries");
  m.entries.reserve(n);
  for (uint64_t i = 0; i < n; ++i) {
    Entry e;
    uint8_t etype;
    if (!r.GetVarint(&e.term) || !r.GetVarint(&e.index) || !r.GetU8(&etype) ||
        etype > static_cast<uint8_t>(EntryType::kConfChange) ||
        !r.GetBytes(&e.data, kMaxEntryBytes)) {
      return Garbage("entry");
    }
    e.type = static_cast<EntryType>(etype);
    m.entries.push_back(std::move(e));
  }
  bool has_snapshot;
  if (!r.GetVarint(&m.commit) || !r.GetBool(&m.reject) || !r.GetVarint(&m.reject_hint) ||
      !r.GetVarint(&m.round) || !r.GetBool(&m.leader_transfer) ||
      !r.GetBytes(&m.context, kMaxContextBytes) || !r.GetBool(&has_snapshot)) {
    return Garbage("fields");
  }
  if (has_snapshot) {
    SnapshotMeta s;
    if (!r.GetVarint(&s.index) || !r.GetVarint(&s.term) ||
        !GetReplicaList(r, &s.conf.voters) || !GetReplicaList(r, &s.conf.learners) ||
        !GetReplicaList(r, &s.conf.voters_outgoing)) {
      return Garbage("snapshot");
    }
    m.snapshot = std::move(s);
  }
  if (!r.GetVarint(&m.snapshot_offset) ||
      !r.GetBytes(&m.snapshot_chunk, kMaxSnapshotChunkBytes) || !r.GetBool(&m.snapshot_last)) {
    return Garbage("snapshot chunk");
  }
  // The quiesce flag came later; an encoding without it (an older peer) means "not quiescing".
  if (!r.done() && !r.GetBool(&m.quiesce)) return Garbage("quiesce flag");
  if (!r.done()) return Garbage("length (trailing bytes)");
  return m;
}

}  // namespace crema::raft
