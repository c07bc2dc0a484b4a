#include "node/eventual/core/messages.h"

#include <type_traits>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "node/network.h"

namespace crema::eventual {
namespace {

// ---- encoding pieces ----
void Put(WireWriter& w, const KeyedRecord& r) {
  w.PutBytes(r.key);
  EncodeRecord(r.record, w);
}
void Put(WireWriter& w, const KeyDigest& d) {
  w.PutBytes(d.key);
  EncodeVersion(d.version, w);
  w.PutU64(d.digest);
}
void Put(WireWriter& w, ReplicaStatus s) { w.PutU8(static_cast<uint8_t>(s)); }
void Put(WireWriter& w, uint32_t v) { w.PutU32(v); }
void Put(WireWriter& w, uint64_t v) { w.PutU64(v); }
void Put(WireWriter& w, const std::string& s) { w.PutBytes(s); }
void Put(WireWriter& w, const std::pair<ShardId, uint64_t>& p) {
  w.PutU32(p.first);
  w.PutU64(p.second);
}
template <typename T>
void PutList(WireWriter& w, const std::vector<T>& items) {
  w.PutU32(static_cast<uint32_t>(items.size()));
  for (const T& item : items) Put(w, item);
}

void Encode(WireWriter& w, const ReplicaWrite& m) {
  w.PutU64(m.op); w.PutBytes(m.key); EncodeRecord(m.record, w); w.PutU32(m.hint_for);
}
void Encode(WireWriter& w, const ReplicaWriteAck& m) {
  w.PutU64(m.op); Put(w, m.status); EncodeVersion(m.clock, w);
}
void Encode(WireWriter& w, const ReplicaRead& m) {
  w.PutU64(m.op); w.PutBytes(m.key); w.PutU8(m.include_hints ? 1 : 0); PutList(w, m.peers);
}
void Encode(WireWriter& w, const ReplicaReadReply& m) {
  w.PutU64(m.op); w.PutU8(m.ready ? 1 : 0); w.PutU8(m.record ? 1 : 0);
  if (m.record) EncodeRecord(*m.record, w);
  EncodeVersion(m.clock, w);
}
void Encode(WireWriter& w, const HintDeliver& m) { w.PutU64(m.op); PutList(w, m.records); }
void Encode(WireWriter& w, const HintDeliverAck& m) { w.PutU64(m.op); PutList(w, m.statuses); }
void Encode(WireWriter& w, const AeRoots& m) { w.PutU64(m.xid); PutList(w, m.shards); }
void Encode(WireWriter& w, const AeRootsReply& m) { w.PutU64(m.xid); PutList(w, m.roots); }
void Encode(WireWriter& w, const AeChildren& m) {
  w.PutU64(m.xid); w.PutU32(m.shard); w.PutU8(m.level); PutList(w, m.nodes);
}
void Encode(WireWriter& w, const AeChildrenReply& m) {
  w.PutU64(m.xid); w.PutU32(m.shard); w.PutU8(m.level); PutList(w, m.hashes);
}
void Encode(WireWriter& w, const AeLeafKeys& m) { w.PutU64(m.xid); w.PutU32(m.shard); PutList(w, m.leaves); }
void Encode(WireWriter& w, const AeLeafKeysReply& m) {
  w.PutU64(m.xid); w.PutU32(m.shard); PutList(w, m.keys); w.PutU32(m.leaves_covered);
}
void Encode(WireWriter& w, const AePush& m) { w.PutU64(m.xid); PutList(w, m.records); }
void Encode(WireWriter& w, const AePushAck& m) { w.PutU64(m.xid); PutList(w, m.statuses); }
void Encode(WireWriter& w, const AePull& m) { w.PutU64(m.xid); PutList(w, m.keys); }
void Encode(WireWriter& w, const AePullReply& m) { w.PutU64(m.xid); PutList(w, m.records); }
void Encode(WireWriter& w, const ClientRequest& m) {
  w.PutU64(m.req); w.PutU8(static_cast<uint8_t>(m.op)); w.PutBytes(m.key); w.PutBytes(m.value);
  w.PutU8(static_cast<uint8_t>(m.consistency.level));
  w.PutU32(static_cast<uint32_t>(m.consistency.count));
  w.PutU8(m.consistency.sloppy ? 1 : 0); w.PutI64(m.ttl_ms); w.PutU64(m.session);
}
void Encode(WireWriter& w, const ClientReply& m) {
  w.PutU64(m.req); w.PutU8(m.code); w.PutBytes(m.error); w.PutU8(m.found ? 1 : 0);
  w.PutBytes(m.value); EncodeVersion(m.version, w); w.PutU64(m.session);
}

// ---- decoding pieces (false on any malformed input) ----
bool Get(WireReader& r, KeyedRecord* out) {
  return r.GetBytes(&out->key, kMaxKeyBytes) && !out->key.empty() &&
         DecodeRecord(r, &out->record).ok();
}
bool Get(WireReader& r, KeyDigest* out) {
  return r.GetBytes(&out->key, kMaxKeyBytes) && !out->key.empty() &&
         DecodeVersion(r, &out->version) && r.GetU64(&out->digest);
}
bool Get(WireReader& r, ReplicaStatus* out) {
  uint8_t v = 0;
  if (!r.GetU8(&v) || v > kMaxReplicaStatus) return false;
  *out = static_cast<ReplicaStatus>(v);
  return true;
}
bool Get(WireReader& r, uint32_t* out) { return r.GetU32(out); }
bool Get(WireReader& r, uint64_t* out) { return r.GetU64(out); }
bool Get(WireReader& r, std::string* out) { return r.GetBytes(out, kMaxKeyBytes) && !out->empty(); }
bool Get(WireReader& r, std::pair<ShardId, uint64_t>* out) {
  return r.GetU32(&out->first) && r.GetU64(&out->second);
}
template <typename T>
bool GetList(WireReader& r, std::vector<T>* items, uint32_t max) {
  uint32_t count = 0;
  if (!r.GetCount(&count, max)) return false;
  items->clear();
  for (uint32_t i = 0; i < count; ++i) {
    T item{};
    if (!Get(r, &item)) return false;
    items->push_back(std::move(item));
  }
  return true;
}
bool GetOptionalRecord(WireReader& r, std::optional<Record>* out) {
  bool has = false;
  if (!r.GetBool(&has)) return false;
  if (!has) return true;
  Record record;
  if (!DecodeRecord(r, &record).ok()) return false;
  *out = std::move(record);
  return true;
}

bool Decode(WireReader& r, ReplicaWrite* m) {
  return r.GetU64(&m->op) && r.GetBytes(&m->key, kMaxKeyBytes) && !m->key.empty() &&
         DecodeRecord(r, &m->record).ok() && r.GetU32(&m->hint_for);
}
bool Decode(WireReader& r, ReplicaWriteAck* m) {
  return r.GetU64(&m->op) && Get(r, &m->status) && DecodeVersion(r, &m->clock);
}
bool Decode(WireReader& r, ReplicaRead* m) {
  return r.GetU64(&m->op) && r.GetBytes(&m->key, kMaxKeyBytes) && !m->key.empty() &&
         r.GetBool(&m->include_hints) && GetList(r, &m->peers, kMaxReplication + 1);
}
bool Decode(WireReader& r, ReplicaReadReply* m) {
  return r.GetU64(&m->op) && r.GetBool(&m->ready) && GetOptionalRecord(r, &m->record) &&
         DecodeVersion(r, &m->clock);
}
bool Decode(WireReader& r, HintDeliver* m) {
  return r.GetU64(&m->op) && GetList(r, &m->records, kMaxBatchRecords);
}
bool Decode(WireReader& r, HintDeliverAck* m) {
  return r.GetU64(&m->op) && GetList(r, &m->statuses, kMaxBatchRecords);
}
bool Decode(WireReader& r, AeRoots* m) { return r.GetU64(&m->xid) && GetList(r, &m->shards, kMaxAeShards); }
bool Decode(WireReader& r, AeRootsReply* m) {
  return r.GetU64(&m->xid) && GetList(r, &m->roots, kMaxAeShards);
}
bool Decode(WireReader& r, AeChildren* m) {
  return r.GetU64(&m->xid) && r.GetU32(&m->shard) && r.GetU8(&m->level) &&
         m->level < kMaxTreeDepth && GetList(r, &m->nodes, kMaxAeNodes);
}
bool Decode(WireReader& r, AeChildrenReply* m) {
  return r.GetU64(&m->xid) && r.GetU32(&m->shard) && r.GetU8(&m->level) &&
         m->level < kMaxTreeDepth && GetList(r, &m->hashes, kMaxAeNodes * kTreeFanout);
}
bool Decode(WireReader& r, AeLeafKeys* m) {
  return r.GetU64(&m->xid) && r.GetU32(&m->shard) && GetList(r, &m->leaves, kMaxAeNodes);
}
bool Decode(WireReader& r, AeLeafKeysReply* m) {
  return r.GetU64(&m->xid) && r.GetU32(&m->shard) && GetList(r, &m->keys, kMaxAeKeys) &&
         r.GetU32(&m->leaves_covered) && m->leaves_covered <= kMaxAeNodes;
}
bool Decode(WireReader& r, AePush* m) { return r.GetU64(&m->xid) && GetList(r, &m->records, kMaxBatchRecords); }
bool Decode(WireReader& r, AePushAck* m) {
  return r.GetU64(&m->xid) && GetList(r, &m->statuses, kMaxBatchRecords);
}
bool Decode(WireReader& r, AePull* m) { return r.GetU64(&m->xid) && GetList(r, &m->keys, kMaxBatchRecords); }
bool Decode(WireReader& r, AePullReply* m) {
  return r.GetU64(&m->xid) && GetList(r, &m->records, kMaxBatchRecords);
}
bool Decode(WireReader& r, ClientRequest* m) {
  uint8_t op = 0, level = 0;
  uint32_t count = 0;
  if (!r.GetU64(&m->req) || !r.GetU8(&op) || op > 2 || !r.GetBytes(&m->key, kMaxKeyBytes) ||
      !r.GetBytes(&m->value, kMaxValueBytes) || !r.GetU8(&level) || level > 3 ||
      !r.GetU32(&count) || count > static_cast<uint32_t>(kMaxReplication) ||
      !r.GetBool(&m->consistency.sloppy) || !r.GetI64(&m->ttl_ms) || m->ttl_ms < 0 ||
      !r.GetU64(&m->session)) {
    return false;
  }
  m->op = static_cast<ClientOp>(op);
  m->consistency.level = static_cast<ConsistencyLevel>(level);
  m->consistency.count = static_cast<int>(count);
  return true;
}
bool Decode(WireReader& r, ClientReply* m) {
  return r.GetU64(&m->req) && r.GetU8(&m->code) && m->code <= 16 &&
         r.GetBytes(&m->error, kMaxErrorBytes) && r.GetBool(&m->found) &&
         r.GetBytes(&m->value, kMaxValueBytes) && DecodeVersion(r, &m->version) &&
         r.GetU64(&m->session);
}

template <size_t I>
absl::StatusOr<Message> DecodeAlternative(size_t index, WireReader& r) {
  if constexpr (I < std::variant_size_v<Message>) {
    if (index != I) return DecodeAlternative<I + 1>(index, r);
    std::variant_alternative_t<I, Message> m;
    if (!Decode(r, &m)) return absl::InvalidArgumentError("eventual: malformed message body");
    if (!r.done()) return absl::InvalidArgumentError("eventual: trailing bytes");
    return Message(std::move(m));
  } else {
    return absl::InvalidArgumentError(absl::StrCat("eventual: unknown message type ", index + 1));
  }
}

constexpr const char* kNames[] = {
    "ReplicaWrite", "ReplicaWriteAck", "ReplicaRead", "ReplicaReadReply", "HintDeliver",
    "HintDeliverAck", "AeRoots", "AeRootsReply", "AeChildren", "AeChildrenReply", "AeLeafKeys",
    "AeLeafKeysReply", "AePush", "AePushAck", "AePull", "AePullReply", "ClientRequest",
    "ClientReply"};
static_assert(std::size(kNames) == std::variant_size_v<Message>);

}  // namespace

const char* ReplicaStatusName(ReplicaStatus status) {
  switch (status) {
    case ReplicaStatus::kOk: return "ok";
    case ReplicaStatus::kFull: return "full";
    case ReplicaStatus::kUnavailable: return "unavailable";
    case ReplicaStatus::kBusy: return "busy";
    case ReplicaStatus::kNotOwner: return "not-owner";
  }
  return "?";
}

std::string EncodeMessage(const Message& message) {
  WireWriter w;
  w.PutU8(static_cast<uint8_t>(message.index() + 1));
  std::visit([&w](const auto& m) { Encode(w, m); }, message);
  return std::move(w).Finish();
}

absl::StatusOr<Message> DecodeMessage(std::string_view bytes) {
  if (bytes.size() > kMaxMessageBytes) return absl::InvalidArgumentError("eventual: oversize");
  WireReader r(bytes);
  uint8_t type = 0;
  if (!r.GetU8(&type) || type == 0) return absl::InvalidArgumentError("eventual: no type");
  return DecodeAlternative<0>(type - 1, r);
}

const char* MessageName(const Message& message) { return kNames[message.index()]; }

size_t BatchBytes(const KeyedRecord& record) { return RecordBytes(record.key, record.record); }

}  // namespace crema::eventual
