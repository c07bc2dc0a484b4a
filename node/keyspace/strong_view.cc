// StrongView: a strong keyspace over the shared Raft cache (keyspace_node.h: namespacing, TTL).
#include "absl/strings/str_cat.h"
#include "node/keyspace/keyspace_node.h"
#include "node/keyspace/views.h"

namespace crema::keyspace {
namespace {

constexpr std::string_view kReserved = "\xffks";

// Binds `var` to the stored key of `key`, or returns the error.
#define ASSIGN_OR_RETURN_KEY(var, key)              \
  absl::StatusOr<std::string> var##_or = Key(key); \
  if (!var##_or.ok()) return var##_or.status();    \
  std::string var = *std::move(var##_or)

class StrongView final : public CacheApi {
 public:
  StrongView(const Keyspace& keyspace, CacheApi* strong, const Clock* clock)
      : spec_(keyspace.spec), generation_(keyspace.generation), api_(strong), clock_(clock) {}

  absl::StatusOr<std::optional<std::string>> Get(std::string_view key, const ReadOptions& o) override {
    ASSIGN_OR_RETURN_KEY(k, key);
    return api_->Get(k, o);
  }
  // The Raft cache's inline reads (pipelined GETs answered on the loop) for every strong keyspace.
  std::optional<absl::StatusOr<std::optional<std::string>>> TryGetNow(std::string_view key,
                                                                       const ReadOptions& o) override {
    if (Plain()) {
      if (Reserved(key)) return std::nullopt;  // Get refuses it
      return api_->TryGetNow(key, o);
    }
    return api_->TryGetNow(StoredKey(spec_, generation_, key), o);
  }
  absl::StatusOr<std::vector<std::optional<std::string>>> MultiGet(const std::vector<std::string>& keys,
                                                                   const ReadOptions& o) override {
    std::vector<std::string> stored;
    for (const std::string& key : keys) {
      ASSIGN_OR_RETURN_KEY(k, key);
      stored.push_back(std::move(k));
    }
    return api_->MultiGet(stored, o);
  }
  absl::StatusOr<TtlResult> Ttl(std::string_view key, const ReadOptions& o) override {
    ASSIGN_OR_RETURN_KEY(k, key);
    return api_->Ttl(k, o);
  }
  absl::StatusOr<PutResult> Put(std::string_view key, std::string_view value, const PutOptions& o) override {
    ASSIGN_OR_RETURN_KEY(k, key);
    PutOptions options = o;
    options.expiration = Rule(o.expiration);
    return api_->Put(k, value, options);
  }
  absl::Status MultiPut(const std::vector<std::pair<std::string, std::string>>& entries,
                        const Expiration& e, const WriteOptions& o) override {
    std::vector<std::pair<std::string, std::string>> stored;
    for (const auto& [key, value] : entries) {
      ASSIGN_OR_RETURN_KEY(k, key);
      stored.emplace_back(std::move(k), value);
    }
    return api_->MultiPut(stored, Rule(e), o);
  }
  // Each entry its own outcome (pipelined SETs): a key this keyspace refuses fails alone, and the
  // others get their own shard's outcome, not the batch's first error.
  std::vector<absl::Status> MultiPutEach(const std::vector<std::pair<std::string, std::string>>& entries,
                                         const Expiration& e, const WriteOptions& o) override {
    std::vector<absl::Status> out(entries.size());
    std::vector<std::pair<std::string, std::string>> stored;
    std::vector<size_t> positions;
    stored.reserve(entries.size());
    positions.reserve(entries.size());
    for (size_t i = 0; i < entries.size(); ++i) {
      absl::StatusOr<std::string> k = Key(entries[i].first);
      if (!k.ok()) {
        out[i] = k.status();
        continue;
      }
      stored.emplace_back(*std::move(k), entries[i].second);
      positions.push_back(i);
    }
    if (stored.empty()) return out;
    std::vector<absl::Status> written = api_->MultiPutEach(stored, Rule(e), o);
    for (size_t j = 0; j < positions.size() && j < written.size(); ++j) {
      out[positions[j]] = std::move(written[j]);
    }
    return out;
  }
  absl::StatusOr<std::optional<std::string>> Delete(std::string_view key, const WriteOptions& o) override {
    ASSIGN_OR_RETURN_KEY(k, key);
    return api_->Delete(k, o);
  }
  absl::StatusOr<bool> CompareAndSet(std::string_view key, std::optional<std::string> expected,
                                     std::string_view new_value, const Expiration& e,
                                     const WriteOptions& o) override {
    ASSIGN_OR_RETURN_KEY(k, key);
    return api_->CompareAndSet(k, std::move(expected), new_value, Rule(e), o);
  }
  absl::StatusOr<int64_t> Increment(std::string_view key, int64_t delta, const WriteOptions& o) override {
    ASSIGN_OR_RETURN_KEY(k, key);
    return api_->Increment(k, delta, o);
  }
  absl::StatusOr<bool> Expire(std::string_view key, const Expiration& e, const WriteOptions& o) override {
    ASSIGN_OR_RETURN_KEY(k, key);
    return api_->Expire(k, Rule(e), o);
  }
  absl::StatusOr<bool> ExpireIf(std::string_view key, const Expiration& e, ExpireCondition when,
                                const WriteOptions& o) override {
    ASSIGN_OR_RETURN_KEY(k, key);
    return api_->ExpireIf(k, Rule(e), when, o);
  }
  absl::StatusOr<std::optional<std::string>> GetAndTouch(std::string_view key, std::optional<Expiration> e,
                                                         const WriteOptions& o) override {
    ASSIGN_OR_RETURN_KEY(k, key);
    if (e) e = Rule(*e);
    return api_->GetAndTouch(k, e, o);
  }
  absl::StatusOr<int64_t> Size(const ReadOptions& o) override {
    if (spec_.index != 0) {
      return absl::UnimplementedError("DBSIZE counts the whole strong cache; only keyspace 0 has it");
    }
    return api_->Size(o);
  }
  absl::Status AdmitNode(NodeId n, const WriteOptions& o) override { return api_->AdmitNode(n, o); }
  absl::Status DrainNode(NodeId n, const WriteOptions& o) override { return api_->DrainNode(n, o); }
  absl::Status RemoveNode(NodeId n, const WriteOptions& o) override { return api_->RemoveNode(n, o); }
  absl::Status TransferShardLeader(uint32_t s, NodeId to, const WriteOptions& o) override {
    return api_->TransferShardLeader(s, to, o);
  }
  ClusterStatus Status() override { return api_->Status(); }

 private:
  // Keyspace 0 of generation 0 stores keys as they are (what clients that never SELECT saw).
  bool Plain() const { return spec_.index == 0 && generation_ == 0; }
  static bool Reserved(std::string_view key) { return key.substr(0, kReserved.size()) == kReserved; }
  absl::StatusOr<std::string> Key(std::string_view key) const {
    if (Plain()) {
      if (Reserved(key)) {
        return absl::InvalidArgumentError("keys starting with \\xffks are reserved for keyspaces");
      }
      return std::string(key);
    }
    return StoredKey(spec_, generation_, key);
  }
  // The keyspace's TTL rules as a CacheApi expiration.
  Expiration Rule(const Expiration& e) const {
    if (e.kind == Expiration::Kind::kKeep) return e;
    if (e.kind == Expiration::Kind::kAt && e.at <= clock_->Now()) return e;  // deletes
    if (e.kind == Expiration::Kind::kDefault && !spec_.default_ttl && !spec_.max_ttl) return e;
    std::optional<absl::Duration> ttl = EffectiveTtl(spec_, e, clock_->Now());
    if (!ttl) return Expiration::Never();
    if (e.kind == Expiration::Kind::kAt && (!spec_.max_ttl || e.at - clock_->Now() <= *spec_.max_ttl)) {
      return e;
    }
    return Expiration::After(*ttl);
  }

  KeyspaceSpec spec_;
  uint64_t generation_;
  CacheApi* api_;
  const Clock* clock_;
};

#undef ASSIGN_OR_RETURN_KEY

}  // namespace

std::shared_ptr<CacheApi> MakeStrongView(const Keyspace& keyspace, CacheApi* strong, const Clock* clock) {
  return std::make_shared<StrongView>(keyspace, strong, clock);
}

}  // namespace crema::keyspace
