// Fuzz target: JSON-lines client histories (history_json.h), the input of //tools:lincheck.
// Input: a selector byte, then text. Mode 0 parses one line, mode 1 a whole JSON-lines text.
// Oracles: no crash or sanitizer report; memory proportional to the input (MemoryBudget); a parsed
// operation is valid (ValidateOperation) and survives OperationToJson; a parsed history is valid
// (ValidateHistory) and survives HistoryToJsonLines.
#include <cstdio>
#include <cstdlib>
#include <string>

#include "chaos/history.h"
#include "chaos/history_json.h"
#include "tools/fuzz/fuzz_input.h"
#include "tools/fuzz/memory_budget.h"

namespace {
[[noreturn]] void Fail(const char* what) {
  std::fprintf(stderr, "history_json_fuzzer: %s\n", what);
  std::abort();
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace crema::chaos;
  crema::fuzz::MemoryBudget budget(size, /*per_input_byte=*/128, /*fixed_bytes=*/1 << 20);
  crema::fuzz::FuzzInput in(data, size);
  const bool whole_text = in.U8() % 2 == 1;
  const std::string_view text = in.Rest();
  if (!whole_text) {
    absl::StatusOr<Operation> op = OperationFromJson(text);
    if (!op.ok()) return 0;
    if (!ValidateOperation(*op).ok()) Fail("parsed an invalid operation");
    absl::StatusOr<Operation> again = OperationFromJson(OperationToJson(*op));
    if (!again.ok() || !(*again == *op)) Fail("an operation does not survive re-encoding");
    return 0;
  }
  absl::StatusOr<History> history = HistoryFromJsonLines(text);
  if (!history.ok()) return 0;
  if (!ValidateHistory(*history).ok()) Fail("parsed an invalid history");
  absl::StatusOr<History> again = HistoryFromJsonLines(HistoryToJsonLines(*history));
  if (!again.ok() || *again != *history) Fail("a history does not survive re-encoding");
  return 0;
}
