// A RunModel as Chrome/Perfetto trace-event JSON ("JSON Array/Object Format" of the Trace Event
// Format; opens in ui.perfetto.dev and chrome://tracing): one process per node ("node 1",
// "client 101"); threads "state" (down, paused, Raft roles as complete events), "ops" (client
// operations, complete events named by what they did, with their result), "net" (one tiny slice
// per send and per delivery, joined by flow arrows with the message id), and instants for clock
// steps, disk faults, phases and violations. Timestamps are microseconds of virtual time.
//
// Thread safety: pure function.
#ifndef CREMA_TOOLS_TRACE_VIEWER_CHROME_TRACE_H_
#define CREMA_TOOLS_TRACE_VIEWER_CHROME_TRACE_H_

#include <string>

#include "tools/trace_viewer/run_model.h"

namespace crema::trace_viewer {

std::string ChromeTraceJson(const RunModel& model);

}  // namespace crema::trace_viewer

#endif  // CREMA_TOOLS_TRACE_VIEWER_CHROME_TRACE_H_
