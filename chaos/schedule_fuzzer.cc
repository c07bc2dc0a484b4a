// Fuzz target: schedule files (`//tools:sim --schedule=FILE`, the shrinker's output, the real
// chaos harness's input): sim::ParseSchedule, then the nemesis action list inside it
// (chaos::NemesisFromJson), which the scenarios replay.
// Oracles: no crash, uncaught exception, sanitizer report or memory out of proportion to the
// input (MemoryBudget); a parsed schedule written back (`ToJson`) parses to an equal schedule; a
// parsed action list has only valid node ids and windows, and written back (`NemesisToJson`)
// parses to the same actions.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

#include "chaos/nemesis_json.h"
#include "sim/schedule.h"
#include "tools/fuzz/memory_budget.h"

namespace {

[[noreturn]] void Fail(const char* what) {
  std::fprintf(stderr, "schedule_fuzzer: %s\n", what);
  std::abort();
}

bool SameActions(const crema::chaos::NemesisSchedule& a, const crema::chaos::NemesisSchedule& b) {
  if (a.actions.size() != b.actions.size()) return false;
  for (size_t i = 0; i < a.actions.size(); ++i) {
    if (a.actions[i].ToString() != b.actions[i].ToString()) return false;
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  crema::fuzz::MemoryBudget budget(size, /*per_input_byte=*/1024, /*fixed_bytes=*/1 << 20);
  absl::StatusOr<crema::sim::Schedule> schedule =
      crema::sim::ParseSchedule(std::string_view(reinterpret_cast<const char*>(data), size));
  if (!schedule.ok()) {
    if (!absl::IsInvalidArgument(schedule.status())) Fail("a bad file is not INVALID_ARGUMENT");
    return 0;
  }
  absl::StatusOr<crema::sim::Schedule> again = crema::sim::ParseSchedule(schedule->ToJson());
  if (!again.ok() || !(*again == *schedule)) Fail("a parsed schedule does not survive ToJson");
  auto list = schedule->lists.find("nemesis");
  if (list == schedule->lists.end()) return 0;
  absl::StatusOr<crema::chaos::NemesisSchedule> actions = crema::chaos::NemesisFromJson(list->second);
  if (!actions.ok()) {
    if (!absl::IsInvalidArgument(actions.status())) Fail("a bad action list is not INVALID_ARGUMENT");
    return 0;
  }
  for (const crema::chaos::NemesisAction& a : actions->actions) {
    if (a.at < absl::ZeroDuration()) Fail("an action before time 0");
  }
  absl::StatusOr<crema::chaos::NemesisSchedule> back =
      crema::chaos::NemesisFromJson(crema::chaos::NemesisToJson(*actions));
  if (!back.ok() || !SameActions(*back, *actions)) Fail("parsed actions do not survive NemesisToJson");
  return 0;
}
