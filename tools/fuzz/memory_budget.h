// MemoryBudget: fails a fuzz input that makes the code under test hold more heap than a bound
// proportional to the input's size.
//
// Sanitizers do not flag the resource bugs a peer can trigger with a few bytes: a header that
// declares a huge size and gets a buffer of that size allocated (and zeroed) before anything is
// checked. libFuzzer's -malloc_limit_mb catches single allocations over a fixed size; this catches
// the general class, "memory out of proportion to the bytes received", per input: while a budget
// is alive on a thread, every allocation on that thread is counted (live bytes, allocations minus
// frees) and going over `fixed_bytes + per_input_byte * input_bytes` prints what happened and
// aborts, which libFuzzer records as a crash with its input.
//
// Example (a fuzz target):
//   extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
//     crema::fuzz::MemoryBudget budget(size, /*per_input_byte=*/64, /*fixed_bytes=*/1 << 20);
//     (void)Decode(std::string_view(reinterpret_cast<const char*>(data), size));
//     return 0;
//   }
//
// Works in builds with AddressSanitizer (it uses the sanitizer allocator's hooks); in other
// builds (the gcc corpus replay) it does nothing. Budgets do not nest. Thread safety: the count
// is per thread; a budget must be destroyed on the thread that created it.
#ifndef CREMA_TOOLS_FUZZ_MEMORY_BUDGET_H_
#define CREMA_TOOLS_FUZZ_MEMORY_BUDGET_H_

#include <cstddef>

namespace crema::fuzz {

class MemoryBudget {
 public:
  MemoryBudget(size_t input_bytes, size_t per_input_byte, size_t fixed_bytes);
  ~MemoryBudget();
  MemoryBudget(const MemoryBudget&) = delete;
  MemoryBudget& operator=(const MemoryBudget&) = delete;

  // True when allocations are being counted (an AddressSanitizer build).
  static bool Enforced();
  // Highest live byte count seen so far under this budget (0 when not enforced).
  size_t peak_bytes() const;
};

}  // namespace crema::fuzz

#endif  // CREMA_TOOLS_FUZZ_MEMORY_BUDGET_H_
