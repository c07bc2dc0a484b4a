// The run viewer's page: one self-contained HTML file (inline CSS, inline JavaScript, the run's
// model as inline JSON; nothing is fetched from the network) that draws a RunModel as a zoomable,
// filterable space-time diagram (viewer.js, viewer.css).
//
// Thread safety: pure function.
#ifndef CREMA_TOOLS_TRACE_VIEWER_HTML_PAGE_H_
#define CREMA_TOOLS_TRACE_VIEWER_HTML_PAGE_H_

#include <string>

#include "tools/trace_viewer/run_model.h"

namespace crema::trace_viewer {

std::string RenderHtml(const RunModel& model);

}  // namespace crema::trace_viewer

#endif  // CREMA_TOOLS_TRACE_VIEWER_HTML_PAGE_H_
