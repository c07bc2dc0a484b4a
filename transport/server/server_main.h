// RunServer: crema_server's whole life, shared by the production binary and the test binary
// that serves a test double. Thin by design: flags -> config, logs, the node runtime, the node,
// the RESP and HTTP front ends, signals.
//
// Exit codes: 0 after a graceful stop (SIGTERM/SIGINT), 1 when the server cannot start (port
// taken, unusable data directory, node start failed), 2 for bad flags (with a clear message).
//
// SIGTERM / SIGINT: stop accepting clients, close client connections, then ServedNode::Shutdown
// (hand leaderships away, flush) within --shutdown_timeout, then unwind and exit 0.
#ifndef CREMA_TRANSPORT_SERVER_SERVER_MAIN_H_
#define CREMA_TRANSPORT_SERVER_SERVER_MAIN_H_

#include "transport/server/served_node.h"

namespace crema::server {

inline constexpr int kExitOk = 0;
inline constexpr int kExitCannotStart = 1;
inline constexpr int kExitBadFlags = 2;

int RunServer(int argc, char** argv, const char* program, NodeStarter starter);

}  // namespace crema::server

#endif  // CREMA_TRANSPORT_SERVER_SERVER_MAIN_H_
