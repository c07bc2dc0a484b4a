#include "consensus/kv/kv_server.h"

#include <utility>

#include "absl/strings/str_cat.h"

namespace crema::kv {

KvServer::KvServer(Env env, KvReplica* replica)
    : env_(env), replica_(replica), inbox_(env.executor, kMaxQueuedRequests) {
  env_.network->SetHandler(kKvService, [this](NodeId from, std::string bytes) {
    (void)inbox_.TrySend({from, std::move(bytes)});  // overflow is dropped: clients retry
  });
  env_.executor->Spawn("kv.server", [this] { Dispatch(); });
}

void KvServer::Dispatch() {
  while (true) {
    absl::StatusOr<std::pair<NodeId, std::string>> item = inbox_.Recv();
    if (!item.ok()) return;  // cancelled (crash)
    absl::StatusOr<Request> request = DecodeRequest(item->second);
    if (!request.ok()) continue;
    ++requests_;
    const NodeId client = item->first;
    if (inflight_ >= kMaxInflightRequests) {
      Reply busy;
      busy.request_id = request->request_id;
      busy.status = ReplyStatus::kBusy;
      env_.network->Send(client, kKvService, EncodeReply(busy));
      continue;
    }
    ++inflight_;
    env_.executor->Spawn("kv.request", [this, client, r = *std::move(request)]() mutable {
      Serve(client, std::move(r));
      --inflight_;
    });
  }
}

void KvServer::Serve(NodeId client, Request request) {
  absl::StatusOr<Result> result = replica_->Execute(request.command);
  Reply reply;
  reply.request_id = request.request_id;
  if (absl::IsCancelled(result.status())) return;
  if (result.ok()) {
    reply.status = ReplyStatus::kResult;
    reply.result = *std::move(result);
  } else {
    reply.status = ReplyStatus::kUnknown;
    const raft::RaftNode* node = replica_->node();
    reply.leader_hint = node == nullptr ? 0 : node->core().leader();
  }
  env_.network->Send(client, kKvService, EncodeReply(reply));
}

}  // namespace crema::kv
