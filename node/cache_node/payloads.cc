#include "node/cache_node/payloads.h"

#include "node/cluster/placement_controller.h"
#include "node/wire.h"

namespace crema::payloads {
namespace {

absl::Status Bad(const char* what) {
  return absl::InvalidArgumentError(std::string("forwarded payload: ") + what);
}

int64_t UnixNs(absl::Time t) {
  return t == absl::InfiniteFuture() ? INT64_MAX : absl::ToUnixNanos(t);
}

absl::Time FromUnixNs(int64_t ns) {
  return ns == INT64_MAX ? absl::InfiniteFuture() : absl::FromUnixNanos(ns);
}

}  // namespace

std::string EncodeWriteReply(const WriteReply& reply) {
  WireWriter w;
  w.PutVarint(reply.index);
  w.PutBytes(replicated::EncodeResult(reply.result));
  return std::move(w).Finish();
}

absl::StatusOr<WriteReply> DecodeWriteReply(std::string_view bytes) {
  WireReader r(bytes);
  WriteReply out;
  std::string_view result;
  if (!r.GetVarint(&out.index) || !r.GetView(&result, kMaxValueBytes + 64) || !r.done()) {
    return Bad("malformed write reply");
  }
  absl::StatusOr<replicated::Result> decoded = replicated::DecodeResult(result);
  if (!decoded.ok()) return decoded.status();
  out.result = *std::move(decoded);
  return out;
}

std::string EncodeReadRequest(const ReadRequest& q) {
  WireWriter w;
  w.PutU8(q.op);
  w.PutU8(static_cast<uint8_t>(q.consistency));
  w.PutVarint(q.min_index);
  w.PutVarint(q.keys.size());
  for (const std::string& k : q.keys) w.PutBytes(k);
  return std::move(w).Finish();
}

absl::StatusOr<ReadRequest> DecodeReadRequest(std::string_view bytes) {
  WireReader r(bytes);
  ReadRequest q;
  uint8_t consistency;
  uint64_t n;
  if (!r.GetU8(&q.op) || q.op < 1 || q.op > 2 || !r.GetU8(&consistency) ||
      consistency > static_cast<uint8_t>(ReadConsistency::kLinearizable) ||
      !r.GetVarint(&q.min_index) || !r.GetVarint(&n, kMaxMultiKeys) || n == 0) {
    return Bad("malformed read request");
  }
  q.consistency = static_cast<ReadConsistency>(consistency);
  for (uint64_t i = 0; i < n; ++i) {
    std::string key;
    if (!r.GetBytes(&key, kMaxKeyBytes) || key.empty()) return Bad("bad key");
    q.keys.push_back(std::move(key));
  }
  if (!r.done()) return Bad("trailing bytes");
  return q;
}

std::string EncodeReadReply(const ReadReply& reply) {
  WireWriter w;
  w.PutVarint(reply.index);
  for (const ReadItem& item : reply.items) {
    w.PutBool(item.present);
    w.PutBytes(item.value);
    w.PutSigned(UnixNs(item.deadline));
  }
  return std::move(w).Finish();
}

absl::StatusOr<ReadReply> DecodeReadReply(std::string_view bytes, size_t expected_items) {
  WireReader r(bytes);
  ReadReply out;
  if (!r.GetVarint(&out.index)) return Bad("malformed read reply");
  for (size_t i = 0; i < expected_items; ++i) {
    ReadItem item;
    int64_t deadline;
    if (!r.GetBool(&item.present) || !r.GetBytes(&item.value, kMaxValueBytes) ||
        !r.GetSigned(&deadline)) {
      return Bad("truncated read reply");
    }
    item.deadline = FromUnixNs(deadline);
    out.items.push_back(std::move(item));
  }
  if (!r.done()) return Bad("trailing bytes in read reply");
  return out;
}

std::string EncodeCorruptReport(const CorruptReport& report) {
  WireWriter w;
  w.PutVarint(report.group);
  w.PutBytes(cluster::EncodeReplicaList(report.replicas));
  return std::move(w).Finish();
}

absl::StatusOr<CorruptReport> DecodeCorruptReport(std::string_view bytes) {
  WireReader r(bytes);
  CorruptReport out;
  std::string list;
  if (!r.GetVarint(&out.group) || !r.GetBytes(&list, bytes.size()) || !r.done()) {
    return Bad("malformed corrupt report");
  }
  absl::StatusOr<std::vector<raft::ReplicaId>> replicas = cluster::DecodeReplicaList(list);
  if (!replicas.ok()) return replicas.status();
  out.replicas = *std::move(replicas);
  return out;
}

}  // namespace crema::payloads
