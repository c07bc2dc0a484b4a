// viewer.css and viewer.js, compiled in (the genrule `viewer_assets` in this package's BUILD wraps
// each file in a raw string literal), so the page needs no files at run time.
#ifndef CREMA_TOOLS_TRACE_VIEWER_VIEWER_ASSETS_H_
#define CREMA_TOOLS_TRACE_VIEWER_VIEWER_ASSETS_H_

namespace crema::trace_viewer {

extern const char kViewerCss[];
extern const char kViewerJs[];

}  // namespace crema::trace_viewer

#endif  // CREMA_TOOLS_TRACE_VIEWER_VIEWER_ASSETS_H_
