// KvClient: a client of the replicated KV store with one session, one call at a time, retries
// and exactly-once semantics.
//
//   KvClient client(env, /*servers=*/{1, 2, 3}, /*session=*/env.self, {});
//   KvClient::Outcome put = client.Call(PutCall("k", "v"));     // in a fiber
//   if (put.kind == KvClient::Outcome::kDone) ... put.result ...
//
// Each `Call` takes the next sequence number of the session and sends the command to a server;
// on a timeout, a kBusy or a kUnknown reply it tries again — the *same* command with the same
// seq, so the state machine applies it at most once — at the leader hint or another server,
// until `call_timeout` has passed. Each attempt that times out doubles the next attempt's
// timeout (from attempt_timeout, up to call_timeout), so clients of a slow log do not fill it
// with copies of their commands. Outcomes:
//   kDone          a server answered with the command's result (it took effect exactly once,
//                  between the call and its return);
//   kIndeterminate no answer in time: it may or may not take effect (now or later);
//   kError         definitely no effect (the store refused the session).
//
// Session ids must be unique per client lifetime (a restarted client needs a new one): the
// sequence numbers start again at 1.
//
// Thread safety: none; one fiber calls at a time.
#ifndef CREMA_CONSENSUS_KV_KV_CLIENT_H_
#define CREMA_CONSENSUS_KV_KV_CLIENT_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "consensus/kv/command.h"
#include "consensus/kv/protocol.h"
#include "node/env.h"
#include "node/sync.h"

namespace crema::kv {

struct KvClientOptions {
  absl::Duration attempt_timeout = absl::Milliseconds(1500);
  absl::Duration call_timeout = absl::Seconds(5);
  absl::Duration retry_backoff_min = absl::Milliseconds(10);
  absl::Duration retry_backoff_max = absl::Milliseconds(60);
};

// A call: the command without session and seq (the client fills them in).
struct Call {
  CommandKind kind = CommandKind::kGet;
  std::string key;
  std::string value;
  std::optional<std::string> expected;
};
Call PutCall(std::string key, std::string value);
Call GetCall(std::string key);
Call DeleteCall(std::string key);
Call CasCall(std::string key, std::optional<std::string> expected, std::string value);

class KvClient {
 public:
  static constexpr size_t kMaxQueuedReplies = 64;

  struct Outcome {
    enum Kind : uint8_t { kDone, kIndeterminate, kError } kind = kIndeterminate;
    Result result;      // kDone only
    int attempts = 0;
  };

  // REQUIRES: !servers.empty(), session != 0. Installs the reply handler on kKvService.
  KvClient(Env env, std::vector<NodeId> servers, uint64_t session, KvClientOptions options);
  KvClient(const KvClient&) = delete;
  KvClient& operator=(const KvClient&) = delete;

  // Fiber-only. See the file comment. Returns kIndeterminate if the fiber is cancelled.
  Outcome Call(const kv::Call& call);

  uint64_t session() const { return session_; }

 private:
  // Waits for the reply to `request_id` until `deadline`; nullopt on timeout.
  std::optional<Reply> AwaitReply(uint64_t request_id, absl::Time deadline, bool* cancelled);
  NodeId PickServer(NodeId avoid);

  Env env_;
  std::vector<NodeId> servers_;
  uint64_t session_;
  KvClientOptions options_;
  Channel<std::string> replies_;
  uint64_t next_seq_ = 1;
  uint64_t next_request_id_ = 1;
  NodeId preferred_ = kNoNode;
};

}  // namespace crema::kv

#endif  // CREMA_CONSENSUS_KV_KV_CLIENT_H_
