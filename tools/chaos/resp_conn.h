// RespConn: one blocking RESP connection with a deadline on every call, for the chaos harness's
// clients (one thread each). Tells apart "the request never left" (connect failed: nothing can
// have happened) from "sent, but no reply" (the operation may or may not have taken effect).
//
//   RespConn c("10.250.7.1", 6379);
//   CallResult r = c.Call({"SET", "k", "v"}, absl::Seconds(3));
//   if (r.sent && !r.reply) ... indeterminate ...
//
// After any failure the connection is closed; the next Call reconnects.
// Thread safety: one thread at a time.
#ifndef CREMA_TOOLS_CHAOS_RESP_CONN_H_
#define CREMA_TOOLS_CHAOS_RESP_CONN_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "transport/resp/reply_parser.h"

namespace crema::chaos_tool {

struct CallResult {
  bool sent = false;                     // bytes of the request may have reached the server
  std::optional<resp::RespValue> reply;  // set iff a whole reply arrived
  std::string error;                     // why there is no reply
};

class RespConn {
 public:
  RespConn(std::string host, int port) : host_(std::move(host)), port_(port) {}
  ~RespConn() { Close(); }
  RespConn(const RespConn&) = delete;
  RespConn& operator=(const RespConn&) = delete;

  // Commands run on (re)connect before the first call, e.g. {"CREMA.CONSISTENCY", "local"}.
  void SetPrelude(std::vector<std::vector<std::string>> prelude) { prelude_ = std::move(prelude); }
  CallResult Call(const std::vector<std::string>& args, absl::Duration timeout);
  void Close();

 private:
  bool Connect(absl::Time deadline, std::string* error);
  bool SendAll(const std::string& bytes, absl::Time deadline, std::string* error);
  std::optional<resp::RespValue> ReadReply(absl::Time deadline, std::string* error);

  std::string host_;
  int port_;
  int fd_ = -1;
  resp::ReplyParser parser_;
  std::vector<std::vector<std::string>> prelude_;
};

std::string EncodeCommand(const std::vector<std::string>& args);

}  // namespace crema::chaos_tool

#endif  // CREMA_TOOLS_CHAOS_RESP_CONN_H_
