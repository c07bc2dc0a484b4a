#include "node/forward/rpc.h"

#include <algorithm>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "node/wire.h"

namespace crema::forward {
namespace {

constexpr uint8_t kVersion = 1;
constexpr uint8_t kTypeRequest = 1;
constexpr uint8_t kTypeReply = 2;

}  // namespace

const char* RequestKindName(RequestKind kind) {
  switch (kind) {
    case RequestKind::kWrite: return "write";
    case RequestKind::kRead: return "read";
    case RequestKind::kReconcile: return "reconcile";
    case RequestKind::kTransferLeader: return "transfer-leader";
    case RequestKind::kMapFetch: return "map-fetch";
    case RequestKind::kMetaPropose: return "meta-propose";
    case RequestKind::kReport: return "report";
    case RequestKind::kMapPush: return "map-push";
    case RequestKind::kStatus: return "status";
  }
  return "?";
}

const char* ReplyStatusName(ReplyStatus status) {
  switch (status) {
    case ReplyStatus::kOk: return "ok";
    case ReplyStatus::kNotLeader: return "not-leader";
    case ReplyStatus::kUnknown: return "unknown";
    case ReplyStatus::kBusy: return "busy";
    case ReplyStatus::kNotHosted: return "not-hosted";
    case ReplyStatus::kError: return "error";
  }
  return "?";
}

Reply Reply::Error(const absl::Status& status) {
  Reply r;
  r.status = ReplyStatus::kError;
  r.payload = absl::StrCat(static_cast<int>(status.code()), ":", std::string(status.message()));
  if (r.payload.size() > 4096) r.payload.resize(4096);
  return r;
}

absl::Status Reply::ErrorStatus() const {
  if (status != ReplyStatus::kError) return absl::InternalError("not an error reply");
  const size_t colon = payload.find(':');
  int code = 0;
  if (colon == std::string::npos ||
      !absl::SimpleAtoi(absl::string_view(payload.data(), colon), &code) || code <= 0 ||
      code > static_cast<int>(absl::StatusCode::kUnauthenticated)) {
    return absl::InternalError(absl::StrCat("malformed error reply: ", payload));
  }
  return absl::Status(static_cast<absl::StatusCode>(code),
                      absl::string_view(payload).substr(colon + 1));
}

std::string EncodeRequest(const Request& q) {
  WireWriter w;
  w.PutU8(kVersion);
  w.PutU8(kTypeRequest);
  w.PutVarint(q.id);
  w.PutU8(static_cast<uint8_t>(q.kind));
  w.PutVarint(q.group);
  w.PutVarint(q.map_version);
  w.PutSigned(absl::ToInt64Nanoseconds(q.timeout));
  w.PutBytes(q.payload);
  return std::move(w).Finish();
}

std::string EncodeReply(const Reply& r) {
  WireWriter w;
  w.PutU8(kVersion);
  w.PutU8(kTypeReply);
  w.PutVarint(r.id);
  w.PutU8(static_cast<uint8_t>(r.status));
  w.PutVarint(r.leader_hint);
  w.PutVarint(r.map_version);
  w.PutBytes(r.payload);
  return std::move(w).Finish();
}

absl::StatusOr<Decoded> DecodeMessage(std::string_view bytes) {
  auto bad = [](const char* what) {
    return absl::InvalidArgumentError(absl::StrCat("forward message: ", what));
  };
  WireReader r(bytes);
  uint8_t version, type;
  if (!r.GetU8(&version) || version != kVersion || !r.GetU8(&type)) return bad("bad header");
  Decoded d;
  if (type == kTypeRequest) {
    auto q = std::make_unique<Request>();
    uint8_t kind;
    int64_t timeout_ns;
    if (!r.GetVarint(&q->id) || !r.GetU8(&kind) || kind < 1 || kind > kMaxRequestKind ||
        !r.GetVarint(&q->group) || !r.GetVarint(&q->map_version) || !r.GetSigned(&timeout_ns) ||
        timeout_ns < 0 || !r.GetBytes(&q->payload, kMaxPayloadBytes) || !r.done()) {
      return bad("malformed request");
    }
    q->kind = static_cast<RequestKind>(kind);
    q->timeout = absl::Nanoseconds(timeout_ns);
    d.request = std::move(q);
  } else if (type == kTypeReply) {
    auto p = std::make_unique<Reply>();
    uint8_t status;
    uint64_t hint;
    if (!r.GetVarint(&p->id) || !r.GetU8(&status) || status < 1 ||
        status > static_cast<uint8_t>(ReplyStatus::kError) ||
        !r.GetVarint(&hint, UINT32_MAX) || !r.GetVarint(&p->map_version) ||
        !r.GetBytes(&p->payload, kMaxPayloadBytes) || !r.done()) {
      return bad("malformed reply");
    }
    p->status = static_cast<ReplyStatus>(status);
    p->leader_hint = static_cast<NodeId>(hint);
    d.reply = std::move(p);
  } else {
    return bad("unknown type");
  }
  return d;
}

Rpc::Rpc(Env env, std::function<uint64_t()> map_version)
    : env_(env), map_version_(std::move(map_version)), next_id_(env.random->Next() >> 8 | 1) {
  env_.network->SetHandler(Service::kForward, [this, alive = alive_](NodeId from,
                                                                      std::string bytes) {
    if (*alive) OnMessage(from, std::move(bytes));
  });
}

Rpc::~Rpc() {
  *alive_ = false;
  // Pending promises are destroyed with the map: their waiters (if any survive) see ABORTED.
}

void Rpc::Shutdown() {
  if (shutdown_) return;
  shutdown_ = true;
  env_.network->SetHandler(Service::kForward, [](NodeId, std::string) {});
  for (auto& [id, call] : pending_) call.promise.Set(absl::CancelledError("node shutting down"));
  pending_.clear();
  queue_.clear();
}

void Rpc::SetHandler(RequestKind kind, Handler handler) {
  handlers_[static_cast<uint8_t>(kind)] = std::move(handler);
}

absl::StatusOr<Reply> Rpc::Call(NodeId to, Request request, absl::Duration timeout) {
  if (shutdown_) return absl::CancelledError("node shutting down");
  if (pending_.size() >= kMaxPendingCalls) {
    return absl::ResourceExhaustedError("too many forwarded calls pending");
  }
  ++stats_.calls;
  const uint64_t id = next_id_++;
  request.id = id;
  request.map_version = map_version_();
  request.timeout = std::min(timeout, kMaxHandlerTimeout);
  Promise<Reply> promise(env_.executor);
  Future<Reply> future = promise.GetFuture();
  pending_.emplace(id, PendingCall{to, std::move(promise)});
  env_.network->Send(to, Service::kForward, EncodeRequest(request));
  if (unreachable_.contains(to)) {
    pending_.erase(id);
    ++stats_.unreachable;
    return absl::UnavailableError(absl::StrCat("node ", to, " is gone (connection lost)"));
  }
  absl::StatusOr<Reply> reply = future.Wait(timeout);
  pending_.erase(id);
  if (!reply.ok() && absl::IsDeadlineExceeded(reply.status())) ++stats_.timeouts;
  return reply;
}

void Rpc::Send(NodeId to, Request request) {
  if (shutdown_) return;
  request.id = next_id_++;
  request.map_version = map_version_();
  env_.network->Send(to, Service::kForward, EncodeRequest(request));
}

void Rpc::SetPeerReachable(NodeId peer, bool reachable) {
  if (shutdown_ || peer == env_.self) return;
  if (reachable) {
    unreachable_.erase(peer);
    return;
  }
  if (!unreachable_.insert(peer).second) return;
  for (auto& [id, call] : pending_) {
    if (call.to != peer) continue;
    ++stats_.unreachable;
    // The waiting Call erases its entry; a second Set of a promise is ignored.
    call.promise.Set(absl::UnavailableError(absl::StrCat("node ", peer, " is gone (connection lost)")));
  }
}

void Rpc::OnMessage(NodeId from, std::string bytes) {
  if (shutdown_) return;
  absl::StatusOr<Decoded> d = DecodeMessage(bytes);
  if (!d.ok()) {
    ++stats_.dropped;
    return;
  }
  const uint64_t peer_version = d->request ? d->request->map_version : d->reply->map_version;
  if (on_peer_map_version_ && peer_version > map_version_()) {
    on_peer_map_version_(from, peer_version);
  }
  if (d->reply) {
    auto it = pending_.find(d->reply->id);
    if (it == pending_.end()) {
      ++stats_.dropped;  // a late or duplicated reply
      return;
    }
    it->second.promise.Set(std::move(*d->reply));
    return;
  }
  if (d->request->kind == RequestKind::kMapPush) {
    // One-way and cheap: served on the loop, never queued behind client work.
    auto h = handlers_.find(static_cast<uint8_t>(RequestKind::kMapPush));
    if (h != handlers_.end()) {
      Request q = std::move(*d->request);
      env_.executor->Spawn("map-push", [handler = h->second, from, q = std::move(q)] {
        (void)handler(from, q);
      });
    }
    return;
  }
  if (inflight_ < kMaxInflight) {
    Serve(from, std::move(d->request));
  } else if (queue_.size() < kMaxQueued) {
    queue_.emplace_back(from, std::move(d->request));
  } else {
    ++stats_.busy;
    Reply busy;
    busy.id = d->request->id;
    busy.status = ReplyStatus::kBusy;
    busy.map_version = map_version_();
    env_.network->Send(from, Service::kForward, EncodeReply(busy));
  }
}

void Rpc::Serve(NodeId from, std::unique_ptr<Request> request) {
  ++inflight_;
  std::string name = absl::StrCat("rpc-", RequestKindName(request->kind));
  env_.executor->Spawn(
      std::move(name),
      [this, alive = alive_, from, request = std::shared_ptr<Request>(std::move(request))] {
        Reply reply;
        auto h = handlers_.find(static_cast<uint8_t>(request->kind));
        if (h == handlers_.end()) {
          reply = Reply::Error(absl::UnimplementedError(
              absl::StrCat("no handler for ", RequestKindName(request->kind))));
        } else {
          reply = h->second(from, *request);
        }
        if (!*alive) return;
        --inflight_;
        ++stats_.served;
        if (!shutdown_) {
          reply.id = request->id;
          reply.map_version = map_version_();
          if (reply.payload.size() > kMaxPayloadBytes) {
            reply = Reply::Error(absl::ResourceExhaustedError("reply too large"));
            reply.id = request->id;
          }
          env_.network->Send(from, Service::kForward, EncodeReply(reply));
        }
        Dispatch();
      });
}

void Rpc::Dispatch() {
  while (!shutdown_ && inflight_ < kMaxInflight && !queue_.empty()) {
    auto [from, request] = std::move(queue_.front());
    queue_.pop_front();
    Serve(from, std::move(request));
  }
}

}  // namespace crema::forward
