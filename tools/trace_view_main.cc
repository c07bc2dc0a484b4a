// The run viewer: renders a simulation trace as one self-contained HTML page (a zoomable,
// filterable space-time diagram) and, optionally, as Chrome/Perfetto trace-event JSON.
//
//   bazel run //tools:sim -- --scenario=raft-kv --seed=7 --trace_out=/tmp/run.jsonl
//   bazel run //tools:trace_view -- --trace=/tmp/run.jsonl --out=/tmp/run.html
//       [--chrome_out=/tmp/run.trace.json]   (one command)
//
// Relative paths are taken from the directory `bazel run` was started in. Exit: 0 written, 2 bad
// usage or unreadable trace.
#include <fstream>
#include <iostream>
#include <string>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/str_cat.h"
#include "tools/trace_viewer/chrome_trace.h"
#include "tools/trace_viewer/html_page.h"
#include "tools/trace_viewer/run_model.h"

ABSL_FLAG(std::string, trace, "", "a trace written by //tools:sim --trace_out");
ABSL_FLAG(std::string, out, "run.html", "the HTML page to write");
ABSL_FLAG(std::string, chrome_out, "", "also write Chrome/Perfetto trace-event JSON here");

namespace {

std::string UserPath(const std::string& path) {
  if (path.empty() || path[0] == '/') return path;
  const char* dir = std::getenv("BUILD_WORKING_DIRECTORY");
  return dir ? absl::StrCat(dir, "/", path) : path;
}

bool Write(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::out | std::ios::trunc);
  out << text;
  return static_cast<bool>(out);
}

}  // namespace

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage("Renders a simulation trace as an HTML space-time diagram.");
  absl::ParseCommandLine(argc, argv);
  if (absl::GetFlag(FLAGS_trace).empty()) {
    std::cerr << "need --trace=FILE (from //tools:sim --trace_out)\n";
    return 2;
  }
  absl::StatusOr<std::vector<crema::sim::TraceEvent>> events =
      crema::trace_viewer::ReadTraceFile(UserPath(absl::GetFlag(FLAGS_trace)));
  if (!events.ok()) {
    std::cerr << events.status().message() << "\n";
    return 2;
  }
  const crema::trace_viewer::RunModel model = crema::trace_viewer::BuildModel(*events);
  const std::string out = UserPath(absl::GetFlag(FLAGS_out));
  if (!Write(out, crema::trace_viewer::RenderHtml(model))) {
    std::cerr << "cannot write " << out << "\n";
    return 2;
  }
  std::cout << "trace_view: " << model.events << " events, " << model.lanes.size() << " lanes, "
            << model.arrows.size() << " messages, " << model.ops.size() << " operations -> " << out
            << "\n";
  if (!absl::GetFlag(FLAGS_chrome_out).empty()) {
    const std::string chrome = UserPath(absl::GetFlag(FLAGS_chrome_out));
    if (!Write(chrome, crema::trace_viewer::ChromeTraceJson(model))) {
      std::cerr << "cannot write " << chrome << "\n";
      return 2;
    }
    std::cout << "trace_view: Chrome/Perfetto trace events -> " << chrome << "\n";
  }
  return 0;
}
