// EventualView: an eventual keyspace's CacheApi over the EventualNode (keyspace_node.h has the
// mapping; keyspace_api.h the refused operations).
#include "absl/strings/str_cat.h"
#include "node/eventual/core/record.h"
#include "node/keyspace/keyspace_node.h"
#include "node/keyspace/views.h"

namespace crema::keyspace {
namespace {

// The node's "not started / recovering / stopped" (FAILED_PRECONDITION) is, for a client, the
// node not serving yet: UNAVAILABLE (CacheApi reserves FAILED_PRECONDITION for INCR errors).
absl::Status Fix(absl::Status s) {
  if (absl::IsFailedPrecondition(s)) return absl::UnavailableError(s.message());
  return s;
}

class EventualView final : public CacheApi {
 public:
  EventualView(const Keyspace& keyspace, CacheApi* strong, eventual::EventualNode* node,
               const Clock* clock, const RequestLevels& levels, std::function<uint64_t()> usage)
      : keyspace_(keyspace), spec_(&keyspace_.spec), strong_(strong), node_(node), clock_(clock),
        usage_(std::move(usage)) {
    read_.consistency = levels.read.value_or(spec_->read);
    write_.consistency = levels.write.value_or(spec_->write);
  }

  absl::StatusOr<std::optional<std::string>> Get(std::string_view key, const ReadOptions&) override {
    absl::StatusOr<eventual::ReadResult> r = node_->Get(Stored(key), read_);
    if (!r.ok()) return Fix(r.status());
    if (!r->found) return std::nullopt;
    return std::move(r->value);
  }
  absl::StatusOr<std::vector<std::optional<std::string>>> MultiGet(const std::vector<std::string>& keys,
                                                                   const ReadOptions& o) override {
    if (keys.size() > kMaxMultiKeys) return absl::InvalidArgumentError("too many keys");
    std::vector<std::optional<std::string>> out;
    for (const std::string& key : keys) {
      absl::StatusOr<std::optional<std::string>> v = Get(key, o);
      if (!v.ok()) return v.status();
      out.push_back(*std::move(v));
    }
    return out;
  }
  absl::StatusOr<TtlResult> Ttl(std::string_view key, const ReadOptions&) override {
    absl::StatusOr<eventual::ReadResult> r = node_->Get(Stored(key), read_);
    if (!r.ok()) return Fix(r.status());
    TtlResult t;
    if (!r->found) return t;
    if (r->expires_at_ns == 0) {
      t.kind = TtlResult::Kind::kNoExpiry;
      return t;
    }
    const absl::Duration left = absl::FromUnixNanos(r->expires_at_ns) - clock_->Now();
    if (left <= absl::ZeroDuration()) return t;
    t.kind = TtlResult::Kind::kExpires;
    t.remaining = left;
    return t;
  }
  absl::StatusOr<PutResult> Put(std::string_view key, std::string_view value, const PutOptions& o) override {
    if (o.condition != PutCondition::kAlways || o.return_previous) {
      return Refuse("conditional SET (NX/XX/GET)");
    }
    if (absl::Status s = Write(key, value, o.expiration); !s.ok()) return s;
    return PutResult{.written = true};
  }
  absl::Status MultiPut(const std::vector<std::pair<std::string, std::string>>& entries,
                        const Expiration& e, const WriteOptions&) override {
    if (entries.size() > kMaxMultiKeys) return absl::InvalidArgumentError("too many keys");
    for (const auto& [key, value] : entries) {
      if (absl::Status s = Write(key, value, e); !s.ok()) return s;
    }
    return absl::OkStatus();
  }
  absl::StatusOr<std::optional<std::string>> Delete(std::string_view key, const WriteOptions& o) override {
    absl::StatusOr<std::optional<std::string>> before = Get(key, ReadOptions{});
    if (!before.ok()) return before.status();
    absl::StatusOr<eventual::WriteResult> d = node_->Delete(Stored(key), write_);
    if (!d.ok()) return Fix(d.status());
    return before;
  }
  absl::StatusOr<bool> CompareAndSet(std::string_view, std::optional<std::string>, std::string_view,
                                     const Expiration&, const WriteOptions&) override {
    return Refuse("compare-and-set");
  }
  absl::StatusOr<int64_t> Increment(std::string_view, int64_t, const WriteOptions&) override {
    return Refuse("INCR/DECR");
  }
  absl::StatusOr<bool> Expire(std::string_view, const Expiration&, const WriteOptions&) override {
    return Refuse("EXPIRE/PERSIST");
  }
  absl::StatusOr<std::optional<std::string>> GetAndTouch(std::string_view key, std::optional<Expiration> e,
                                                         const WriteOptions&) override {
    if (e) return Refuse("GETEX with a new expiry");
    return Get(key, ReadOptions{});
  }
  absl::StatusOr<int64_t> Size(const ReadOptions&) override { return Refuse("DBSIZE"); }
  absl::Status AdmitNode(NodeId n, const WriteOptions& o) override { return strong_->AdmitNode(n, o); }
  absl::Status DrainNode(NodeId n, const WriteOptions& o) override { return strong_->DrainNode(n, o); }
  absl::Status RemoveNode(NodeId n, const WriteOptions& o) override { return strong_->RemoveNode(n, o); }
  absl::Status TransferShardLeader(uint32_t s, NodeId to, const WriteOptions& o) override {
    return strong_->TransferShardLeader(s, to, o);
  }
  ClusterStatus Status() override { return strong_->Status(); }

 private:
  std::string Stored(std::string_view key) const { return StoredKey(*spec_, keyspace_.generation, key); }

  absl::Status Refuse(std::string_view what) const {
    return absl::UnimplementedError(absl::StrCat(std::string(what), " is not available in eventual keyspace '",
                                                 spec_->name, "' (LWW replicas cannot make it atomic)"));
  }

  absl::Status Write(std::string_view key, std::string_view value, const Expiration& e) {
    if (e.kind == Expiration::Kind::kKeep) return Refuse("KEEPTTL");
    if (value.size() > eventual::kMaxValueBytes) {
      return absl::InvalidArgumentError(absl::StrCat("value larger than ", eventual::kMaxValueBytes,
                                                     " bytes (eventual keyspaces)"));
    }
    if (spec_->capacity_bytes != 0 && usage_() >= spec_->capacity_bytes) {
      return absl::ResourceExhaustedError(absl::StrCat("keyspace '", spec_->name, "' is at its capacity of ",
                                                       spec_->capacity_bytes, " bytes on this node"));
    }
    const std::string stored = Stored(key);
    const std::optional<absl::Duration> ttl = EffectiveTtl(*spec_, e, clock_->Now());
    if (ttl && *ttl <= absl::ZeroDuration()) {  // EXAT in the past: the key goes
      absl::StatusOr<eventual::WriteResult> d = node_->Delete(stored, write_);
      return Fix(d.status());
    }
    eventual::WriteOptions w = write_;
    w.ttl = ttl.value_or(absl::ZeroDuration());
    return Fix(node_->Put(stored, value, w).status());
  }

  const Keyspace keyspace_;  // a copy: the view may outlive the node's table
  const KeyspaceSpec* spec_;  // &keyspace_.spec
  CacheApi* strong_;
  eventual::EventualNode* node_;
  const Clock* clock_;
  std::function<uint64_t()> usage_;
  eventual::ReadOptions read_;
  eventual::WriteOptions write_;
};

}  // namespace

std::shared_ptr<CacheApi> MakeEventualView(const Keyspace& keyspace, CacheApi* strong,
                                           eventual::EventualNode* node, const Clock* clock,
                                           const RequestLevels& levels, std::function<uint64_t()> usage) {
  return std::make_shared<EventualView>(keyspace, strong, node, clock, levels, std::move(usage));
}

}  // namespace crema::keyspace
