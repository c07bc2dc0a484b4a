#include "tools/trace_viewer/chrome_trace.h"

#include "absl/strings/str_cat.h"
#include "nlohmann/json.hpp"

namespace crema::trace_viewer {
namespace {

using nlohmann::json;

constexpr int kStateThread = 1, kOpsThread = 2, kNetThread = 3;
constexpr int kGlobalPid = 0;

double Us(int64_t ns) { return static_cast<double>(ns) / 1000.0; }

json Complete(const std::string& name, const char* cat, int pid, int tid, int64_t start,
              int64_t end, json args = json::object()) {
  return {{"name", name}, {"cat", cat},       {"ph", "X"},  {"pid", pid}, {"tid", tid},
          {"ts", Us(start)}, {"dur", Us(end - start)}, {"args", std::move(args)}};
}

json Instant(const std::string& name, const char* cat, int pid, int64_t t, const char* scope) {
  return {{"name", name}, {"cat", cat}, {"ph", "i"}, {"pid", pid}, {"tid", kStateThread},
          {"ts", Us(t)},  {"s", scope}};
}

json Meta(const char* what, int pid, int tid, const std::string& name) {
  return {{"name", what}, {"ph", "M"}, {"pid", pid}, {"tid", tid}, {"args", {{"name", name}}}};
}

}  // namespace

std::string ChromeTraceJson(const RunModel& m) {
  json events = json::array();
  events.push_back(Meta("process_name", kGlobalPid, 0, "run: " + m.title));
  for (const Lane& lane : m.lanes) {
    const int pid = static_cast<int>(lane.node);
    events.push_back(Meta("process_name", pid, 0,
                          absl::StrCat(lane.client ? "client " : "node ", lane.node)));
    events.push_back(Meta("thread_name", pid, kStateThread, "state"));
    events.push_back(Meta("thread_name", pid, kOpsThread, "ops"));
    events.push_back(Meta("thread_name", pid, kNetThread, "net"));
  }
  for (const Interval& i : m.intervals) {
    events.push_back(Complete(i.label.empty() ? i.kind : i.label, i.kind.c_str(),
                              static_cast<int>(i.node), kStateThread, i.start_ns, i.end_ns));
  }
  for (const OpSpan& o : m.ops) {
    const int64_t end = o.end_ns >= 0 ? o.end_ns : m.end_ns;
    events.push_back(Complete(o.what, "op", static_cast<int>(o.node), kOpsThread, o.start_ns, end,
                              {{"id", o.id}, {"result", o.end_ns >= 0 ? o.result : "indeterminate"}}));
  }
  for (const Arrow& a : m.arrows) {
    const std::string name = absl::StrCat("s", a.service, " ", a.from, ">", a.to, " #", a.id);
    // One slice per end (1 us wide) and a flow between them; a duplicate delivery has its own.
    const uint64_t flow = (a.id << 1) ^ static_cast<uint64_t>(a.deliver_ns);
    events.push_back(Complete(name, "send", static_cast<int>(a.from), kNetThread, a.send_ns,
                              a.send_ns + 1000, {{"bytes", a.bytes}}));
    if (a.deliver_ns < 0 || !a.dropped.empty()) continue;
    events.push_back(Complete(name, "deliver", static_cast<int>(a.to), kNetThread, a.deliver_ns,
                              a.deliver_ns + 1000));
    events.push_back({{"name", "msg"}, {"cat", "msg"}, {"ph", "s"}, {"id", flow},
                      {"pid", a.from}, {"tid", kNetThread}, {"ts", Us(a.send_ns)}});
    events.push_back({{"name", "msg"}, {"cat", "msg"}, {"ph", "f"}, {"bp", "e"}, {"id", flow},
                      {"pid", a.to}, {"tid", kNetThread}, {"ts", Us(a.deliver_ns)}});
  }
  for (const Mark& k : m.marks) {
    const bool global = k.node == kNoNode;
    events.push_back(Instant(k.kind + ": " + k.text, k.kind.c_str(),
                             global ? kGlobalPid : static_cast<int>(k.node), k.t_ns,
                             global ? "g" : "p"));
  }
  for (const LinkSpan& p : m.partitions) {
    events.push_back(Complete("partition " + p.text, "partition", kGlobalPid, kStateThread,
                              p.start_ns, p.end_ns));
  }
  for (const LinkSpan& c : m.clogs) {
    if (c.links.empty()) continue;
    events.push_back(Complete(absl::StrCat("clogged ", c.links[0].first, ">", c.links[0].second),
                              "clog", static_cast<int>(c.links[0].first), kStateThread,
                              c.start_ns, c.end_ns));
  }
  const json doc = {{"traceEvents", std::move(events)}, {"displayTimeUnit", "ms"}};
  return doc.dump(-1, ' ', false, json::error_handler_t::replace);
}

}  // namespace crema::trace_viewer
