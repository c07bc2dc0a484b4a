// Text and structured answers about the server: INFO's sections, CLIENT INFO/LIST lines,
// COMMAND's per-command info, and CREMA.STATUS's cluster view. Run on the loop thread.
#ifndef CREMA_TRANSPORT_RESP_INFO_H_
#define CREMA_TRANSPORT_RESP_INFO_H_

#include <string>
#include <vector>

#include "transport/resp/command_table.h"

namespace crema::resp {

// The Redis version whose command semantics and replies Crema follows (HELLO, INFO).
inline constexpr std::string_view kRedisCompatVersion = "7.0.0";

// "id=3 addr=127.0.0.1:5000 laddr=... name=x age=2 idle=0 db=0 cmd=get resp=2 user=default"
std::string ClientInfoLine(const Session& session, const ServerContext& server);

// [name, arity, [flags], first, last, step, [], [], [], []] as COMMAND INFO answers.
void EncodeCommandInfo(const CommandSpec& spec, Encoder& out);

// INFO's text ("# Server\r\nredis_version:7.0.0\r\n..."); sections empty = default.
// Unknown section names are ignored, as Redis does.
std::string RenderInfo(const std::vector<std::string>& sections, CommandCall& call);

// CREMA.STATUS: a map of the node's ClusterStatus.
void EncodeClusterStatus(const ClusterStatus& status, Encoder& out);

}  // namespace crema::resp

#endif  // CREMA_TRANSPORT_RESP_INFO_H_
