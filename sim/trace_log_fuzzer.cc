// Fuzz target: simulator trace lines (trace_log.h ParseTraceLine), read back by the trace tools
// and the determinism checker from --trace_out files.
// Oracles: no crash, sanitizer report (including float-to-integer overflow on numeric fields) or
// memory out of proportion to the input (MemoryBudget); a parsed event written back as a trace
// line (the writer's field names, its 16-digit hex digest) parses to the same event.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

#include "nlohmann/json.hpp"
#include "sim/trace_log.h"
#include "tools/fuzz/memory_budget.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using crema::sim::TraceEvent;
  crema::fuzz::MemoryBudget budget(size, /*per_input_byte=*/512, /*fixed_bytes=*/1 << 20);
  std::optional<TraceEvent> event =
      crema::sim::ParseTraceLine(std::string_view(reinterpret_cast<const char*>(data), size));
  if (!event) return 0;
  (void)crema::sim::DescribeEvent(*event);
  const nlohmann::json line = {{"index", event->index},  {"time_ns", event->time_ns},
                               {"node", event->node},    {"kind", event->kind},
                               {"detail", event->detail}, {"digest", crema::sim::Hex64(event->digest)}};
  std::optional<TraceEvent> again = crema::sim::ParseTraceLine(
      line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
  if (!again || again->index != event->index || again->time_ns != event->time_ns ||
      again->node != event->node || again->digest != event->digest) {
    std::fprintf(stderr, "trace_log_fuzzer: a parsed event does not survive writing back\n");
    std::abort();
  }
  return 0;
}
