// Client operations in the run's trace, in the one format the run viewer (//tools:trace_view)
// draws as spans: a simulated client records
//   TraceOpInvoke(*env.tracer, id, "put k3=c101.7 -> n2");   // trace kind "app.op.invoke"
//   ... the call ...
//   TraceOpReturn(*env.tracer, id, "ok");                     // trace kind "app.op.return"
// `id` is unique per client node (a request id or a call counter); the description and the
// result are free text (keep them short: details are cut at TraceLog::kMaxDetailBytes). An
// operation without a return record is drawn open-ended (indeterminate).
// Detail format: "id=<id> <description>" and "id=<id> <result>".
//
// Thread safety: as the Tracer's.
#ifndef CREMA_SIM_OP_TRACE_H_
#define CREMA_SIM_OP_TRACE_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/strings/str_cat.h"
#include "node/tracer.h"

namespace crema::sim {

inline void TraceOpInvoke(Tracer& tracer, uint64_t id, std::string_view description) {
  tracer.Record("op.invoke", absl::StrCat("id=", id, " ", std::string(description)));
}

inline void TraceOpReturn(Tracer& tracer, uint64_t id, std::string_view result) {
  tracer.Record("op.return", absl::StrCat("id=", id, " ", std::string(result)));
}

}  // namespace crema::sim

#endif  // CREMA_SIM_OP_TRACE_H_
