// Fuzz target: simulator trace lines (trace_log.h ParseTraceLine), read back by the trace tools
// and the determinism checker from --trace_out files.
// Oracles: no crash, sanitizer report (including float-to-integer overflow on numeric fields) or
// memory out of proportion to the input (MemoryBudget).
#include <cstdint>
#include <string_view>

#include "sim/trace_log.h"
#include "tools/fuzz/memory_budget.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  crema::fuzz::MemoryBudget budget(size, /*per_input_byte=*/512, /*fixed_bytes=*/1 << 20);
  std::optional<crema::sim::TraceEvent> event =
      crema::sim::ParseTraceLine(std::string_view(reinterpret_cast<const char*>(data), size));
  if (event) (void)crema::sim::DescribeEvent(*event);
  return 0;
}
