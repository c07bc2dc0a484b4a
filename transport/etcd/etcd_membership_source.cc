#include "transport/etcd/etcd_membership_source.h"

#include <algorithm>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace crema::transport {
namespace {

using membership::MemberState;
using membership::MembershipEventKind;

constexpr size_t kMaxSubscribers = 64;
constexpr absl::Duration kMinBackoff = absl::Milliseconds(200);

// etcd's gateway writes int64 fields as strings; accept numbers too. 0 if absent or malformed.
int64_t JsonInt(const nlohmann::json& object, const char* field) {
  if (!object.is_object() || !object.contains(field)) return 0;
  const nlohmann::json& v = object[field];
  if (v.is_number_integer()) return v.get<int64_t>();
  int64_t out = 0;
  if (v.is_string() && absl::SimpleAtoi(v.get<std::string>(), &out)) return out;
  return 0;
}

}  // namespace

EtcdMembershipSource::EtcdMembershipSource(NodeId self, Executor* executor, const Clock* clock,
                                           boost::asio::io_context& io, EtcdMembershipConfig config)
    : self_(self),
      executor_(executor),
      clock_(clock),
      config_(std::move(config)),
      client_(io, EtcdClientOptions{config_.host, config_.port, config_.request_timeout}) {
  // A generation per process, so others can tell a restart from an update.
  incarnation_ = static_cast<uint64_t>(absl::ToUnixMillis(clock_->Now())) << 16;
}

EtcdMembershipSource::~EtcdMembershipSource() {
  *alive_ = false;
  if (watch_) watch_->Cancel();
}

absl::Status EtcdMembershipSource::Start() {
  if (started_) return absl::FailedPreconditionError("EtcdMembershipSource already started");
  started_ = true;
  session_running_ = true;
  session_ = executor_->Spawn("etcd.session", [this] {
    SessionLoop();
    session_running_ = false;
  });
  return absl::OkStatus();
}

void EtcdMembershipSource::Stop() {
  if (stopped_) return;
  stopped_ = true;
  if (watch_) watch_->Cancel();
  if (session_ != 0) executor_->Cancel(session_);
}

void EtcdMembershipSource::Leave() {
  if (left_ || !started_ || stopped_) return;
  left_ = true;
  executor_->Spawn("etcd.leave", [this] {
    if (lease_ != 0) {
      (void)PutSelf("left");
      (void)CallAndWait("/v3/lease/revoke", {{"ID", std::to_string(lease_)}});
      lease_ = 0;
    }
    Stop();
  });
}

absl::Status EtcdMembershipSource::UpdateMetadata(membership::Metadata metadata) {
  if (metadata.size() > membership::kMaxMetadataEntries) {
    return absl::InvalidArgumentError("too many metadata entries");
  }
  config_.metadata = std::move(metadata);
  self_put_ = false;  // the session loop puts the new value
  session_wake_.WakeAll(*executor_);
  return absl::OkStatus();
}

absl::StatusOr<EtcdMembershipSource::SubscriptionId> EtcdMembershipSource::Subscribe(EventCallback callback) {
  if (subscribers_.size() >= kMaxSubscribers) return absl::ResourceExhaustedError("too many subscribers");
  const SubscriptionId id = next_subscription_++;
  subscribers_.emplace(id, std::make_shared<EventCallback>(std::move(callback)));
  return id;
}

std::vector<membership::Member> EtcdMembershipSource::Members() const {
  std::vector<membership::Member> out;
  const absl::Time now = clock_->MonotonicNow();
  bool self_listed = false;
  for (const auto& [id, entry] : members_) {
    if (id == self_) continue;
    if (!entry.present && now - entry.gone_at >= config_.tombstone_ttl) continue;
    out.push_back(entry.member);
  }
  membership::Member me;
  me.id = self_;
  me.address = config_.address;
  me.incarnation = incarnation_;
  me.state = left_ ? MemberState::kLeft : MemberState::kAlive;
  me.metadata = config_.metadata;
  out.push_back(me);
  (void)self_listed;
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.id < b.id; });
  return out;
}

bool EtcdMembershipSource::IsAvailable(NodeId id) const {
  if (id == self_) return !left_ && !stopped_;
  auto it = members_.find(id);
  return it != members_.end() && it->second.present && it->second.member.state == MemberState::kAlive;
}

absl::StatusOr<nlohmann::json> EtcdMembershipSource::CallAndWait(std::string path,
                                                                 const nlohmann::json& body) {
  auto promise = std::make_shared<Promise<nlohmann::json>>(executor_);
  Future<nlohmann::json> future = promise->GetFuture();
  client_.Call(std::move(path), body, [promise, alive = alive_](absl::StatusOr<nlohmann::json> r) {
    if (*alive) promise->Set(std::move(r));
  });
  return future.Wait(config_.request_timeout + absl::Seconds(1));
}

std::string EtcdMembershipSource::SelfKey() const { return absl::StrCat(config_.prefix, self_); }

std::optional<NodeId> EtcdMembershipSource::IdOfKey(std::string_view key) const {
  if (key.size() <= config_.prefix.size() || key.substr(0, config_.prefix.size()) != config_.prefix) {
    return std::nullopt;
  }
  NodeId id = 0;
  const std::string rest(key.substr(config_.prefix.size()));
  if (!absl::SimpleAtoi(rest, &id) || id == kNoNode) return std::nullopt;
  return id;
}

absl::Status EtcdMembershipSource::PutSelf(std::string_view state) {
  nlohmann::json metadata = nlohmann::json::object();
  for (const auto& [k, v] : config_.metadata) metadata[k] = v;
  const nlohmann::json value = {{"id", self_}, {"address", config_.address},
                                {"state", std::string(state)}, {"incarnation", ++incarnation_},
                                {"metadata", metadata}};
  absl::StatusOr<nlohmann::json> put = CallAndWait(
      "/v3/kv/put", {{"key", Base64Encode(SelfKey())}, {"value", Base64Encode(value.dump())},
                     {"lease", std::to_string(lease_)}});
  return put.status();
}

void EtcdMembershipSource::SessionLoop() {
  absl::Duration backoff = kMinBackoff;
  auto back_off = [&] {
    const bool ok = executor_->Sleep(backoff).ok();
    backoff = std::min(backoff * 2, config_.max_backoff);
    return ok;
  };
  while (!stopped_) {
    if (lease_ == 0) {
      absl::StatusOr<nlohmann::json> grant = CallAndWait(
          "/v3/lease/grant", {{"TTL", std::max<int64_t>(1, absl::ToInt64Seconds(config_.lease_ttl))}});
      if (!grant.ok() || JsonInt(*grant, "ID") == 0) {
        if (!back_off()) return;
        continue;
      }
      lease_ = JsonInt(*grant, "ID");
      ++leases_granted_;
      self_put_ = false;
    }
    if (!self_put_) {
      if (!PutSelf(left_ ? "left" : "alive").ok()) {
        if (!back_off()) return;
        continue;
      }
      self_put_ = true;
    }
    if (!joined_ || watch_broken_) {
      if (!Resync().ok()) {
        if (!back_off()) return;
        continue;
      }
    }
    backoff = kMinBackoff;
    // Keep the lease alive every TTL/3 (or sooner, when the watch broke or metadata changed).
    const absl::Status waited =
        executor_->Wait(session_wake_, clock_->MonotonicNow() + config_.lease_ttl / 3);
    if (absl::IsCancelled(waited) || stopped_) return;
    if (waited.ok()) continue;  // woken: something to redo first
    absl::StatusOr<nlohmann::json> kept =
        CallAndWait("/v3/lease/keepalive", {{"ID", std::to_string(lease_)}});
    if (!kept.ok()) {
      // etcd unreachable: the watch is probably gone too; relist when it answers again.
      watch_broken_ = true;
      if (!back_off()) return;
      continue;
    }
    if (JsonInt(*kept, "TTL") <= 0) lease_ = 0;  // expired: etcd dropped our key; start over
  }
}

absl::Status EtcdMembershipSource::Resync() {
  absl::StatusOr<nlohmann::json> listing = CallAndWait(
      "/v3/kv/range", {{"key", Base64Encode(config_.prefix)},
                       {"range_end", Base64Encode(PrefixEnd(config_.prefix))}});
  if (!listing.ok()) return listing.status();
  const int64_t revision = JsonInt((*listing).value("header", nlohmann::json::object()), "revision");
  absl::btree_map<NodeId, nlohmann::json> seen;
  if (listing->contains("kvs") && (*listing)["kvs"].is_array()) {
    for (const nlohmann::json& kv : (*listing)["kvs"]) {
      absl::StatusOr<std::string> key = Base64Decode(kv.value("key", ""));
      absl::StatusOr<std::string> value = Base64Decode(kv.value("value", ""));
      if (!key.ok() || !value.ok()) continue;
      std::optional<NodeId> id = IdOfKey(*key);
      nlohmann::json parsed = nlohmann::json::parse(*value, nullptr, false);
      if (id && parsed.is_object()) seen[*id] = std::move(parsed);
    }
  }
  for (const auto& [id, value] : seen) ApplyPut(id, value);
  std::vector<NodeId> gone;
  for (const auto& [id, entry] : members_) {
    if (entry.present && !seen.contains(id)) gone.push_back(id);
  }
  for (NodeId id : gone) ApplyDelete(id);
  joined_ = true;
  revision_ = revision;
  if (watch_) watch_->Cancel();
  std::weak_ptr<bool> alive = alive_;
  watch_ = client_.Watch(
      {{"key", Base64Encode(config_.prefix)}, {"range_end", Base64Encode(PrefixEnd(config_.prefix))},
       {"start_revision", std::to_string(revision + 1)}},
      [this, alive](const nlohmann::json& result) {
        if (auto a = alive.lock(); a && *a) OnWatchResult(result);
      },
      [this, alive](absl::Status) {
        if (auto a = alive.lock(); a && *a && !stopped_) {
          watch_broken_ = true;
          session_wake_.WakeAll(*executor_);
        }
      });
  ++watches_started_;
  watch_broken_ = false;
  return absl::OkStatus();
}

void EtcdMembershipSource::OnWatchResult(const nlohmann::json& result) {
  if (result.value("canceled", false) || JsonInt(result, "compact_revision") != 0) {
    watch_broken_ = true;  // compacted past us, or cancelled by etcd: relist
    session_wake_.WakeAll(*executor_);
    return;
  }
  revision_ = std::max(revision_, JsonInt(result.value("header", nlohmann::json::object()), "revision"));
  if (!result.contains("events") || !result["events"].is_array()) return;
  for (const nlohmann::json& event : result["events"]) {
    const nlohmann::json kv = event.value("kv", nlohmann::json::object());
    absl::StatusOr<std::string> key = Base64Decode(kv.value("key", ""));
    if (!key.ok()) continue;
    std::optional<NodeId> id = IdOfKey(*key);
    if (!id) continue;
    if (event.value("type", "PUT") == "DELETE") {
      ApplyDelete(*id);
      continue;
    }
    absl::StatusOr<std::string> value = Base64Decode(kv.value("value", ""));
    if (!value.ok()) continue;
    nlohmann::json parsed = nlohmann::json::parse(*value, nullptr, false);
    if (parsed.is_object()) ApplyPut(*id, parsed);
  }
}

void EtcdMembershipSource::ApplyPut(NodeId id, const nlohmann::json& value) {
  membership::Member m;
  m.id = id;
  const nlohmann::json address = value.value("address", nlohmann::json(""));
  m.address = address.is_string() ? address.get<std::string>().substr(0, membership::kMaxAddressBytes) : "";
  m.incarnation = static_cast<membership::Incarnation>(JsonInt(value, "incarnation"));
  m.state = value.value("state", nlohmann::json("alive")) == "left" ? MemberState::kLeft : MemberState::kAlive;
  const nlohmann::json metadata = value.value("metadata", nlohmann::json::object());
  if (metadata.is_object()) {
    for (const auto& [k, v] : metadata.items()) {
      if (m.metadata.size() >= membership::kMaxMetadataEntries || !v.is_string()) continue;
      m.metadata[k.substr(0, membership::kMaxMetadataKeyBytes)] =
          v.get<std::string>().substr(0, membership::kMaxMetadataValueBytes);
    }
  }
  if (id == self_) return;  // our own record is authoritative locally
  Entry& entry = members_[id];
  const bool was_present = entry.present;
  const membership::Member before = entry.member;
  entry.member = m;
  entry.present = true;
  if (!was_present || before.state != MemberState::kAlive) {
    if (m.state == MemberState::kAlive) {
      ++view_version_;
      Deliver(MembershipEventKind::kJoined, m);
    }
  } else if (m.state == MemberState::kLeft) {
    ++view_version_;
    Deliver(MembershipEventKind::kLeft, m);
  } else if (!(m == before)) {
    Deliver(MembershipEventKind::kUpdated, m);
  }
}

void EtcdMembershipSource::ApplyDelete(NodeId id) {
  if (id == self_) return;
  auto it = members_.find(id);
  if (it == members_.end() || !it->second.present) return;
  Entry& entry = it->second;
  entry.present = false;
  entry.gone_at = clock_->MonotonicNow();
  if (entry.member.state == MemberState::kLeft) return;  // already reported when it announced it
  entry.member.state = MemberState::kDead;
  ++view_version_;
  Deliver(MembershipEventKind::kDead, entry.member);
}

void EtcdMembershipSource::Deliver(MembershipEventKind kind, const membership::Member& member) {
  std::vector<std::shared_ptr<EventCallback>> callbacks;
  for (const auto& [id, callback] : subscribers_) callbacks.push_back(callback);
  const membership::MembershipEvent event{kind, member};
  for (const auto& callback : callbacks) (*callback)(event);
}

}  // namespace crema::transport
