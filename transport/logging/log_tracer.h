// LogTracer: the production binary's Tracer (node/tracer.h). Node code records its own events
// (Raft role changes, replicas created and destroyed, storage failures, checkpoints) through the
// Env's Tracer; in crema_server they become log lines with the event kind and its detail:
//   ts=... level=warn node=2 event=raft.stopped detail="20 r2 disk full"
// Kinds that mean something went wrong and needs an operator's eye (a stopped or corrupt replica,
// a failed open, a map or identity that could not be written) log at warn; the rest at debug, so
// `--log_level=debug` shows every event and the default level only the failures.
//
// Thread safety: as log.h (Record may be called from any thread once log::Init has run).
#ifndef CREMA_TRANSPORT_LOGGING_LOG_TRACER_H_
#define CREMA_TRANSPORT_LOGGING_LOG_TRACER_H_

#include <string_view>

#include "node/tracer.h"
#include "transport/logging/log.h"

namespace crema::log {

// The level a trace record of `kind` is logged at.
Level TraceLevel(std::string_view kind);

class LogTracer final : public Tracer {
 public:
  void Record(std::string_view kind, std::string_view detail) override;
};

}  // namespace crema::log

#endif  // CREMA_TRANSPORT_LOGGING_LOG_TRACER_H_
