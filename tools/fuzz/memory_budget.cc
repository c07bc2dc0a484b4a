#include "tools/fuzz/memory_budget.h"

#include <cstdint>
#include <cstdio>
#include <cstdlib>

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define CREMA_HAVE_ASAN 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__)
#define CREMA_HAVE_ASAN 1
#endif

#ifdef CREMA_HAVE_ASAN
#include <sanitizer/allocator_interface.h>
#include <sanitizer/common_interface_defs.h>
#endif

namespace crema::fuzz {
namespace {

struct Account {
  bool active = false;
  bool reporting = false;  // set while printing, so the report's own allocations are not counted
  int64_t live = 0;        // may dip below 0 when memory from before the budget is freed
  int64_t peak = 0;
  int64_t limit = 0;
  size_t input_bytes = 0;
};
thread_local Account account;

#ifdef CREMA_HAVE_ASAN
void OnMalloc(const volatile void*, size_t size) {
  Account& a = account;
  if (!a.active || a.reporting) return;
  a.live += static_cast<int64_t>(size);
  if (a.live > a.peak) a.peak = a.live;
  if (a.live <= a.limit) return;
  a.reporting = true;
  std::fprintf(stderr,
               "==MemoryBudget== %lld live heap bytes (this allocation: %zu) for a %zu-byte input; "
               "the budget is %lld. Memory out of proportion to the input:\n",
               static_cast<long long>(a.live), size, a.input_bytes,
               static_cast<long long>(a.limit));
  __sanitizer_print_stack_trace();
  std::abort();
}

void OnFree(const volatile void* ptr) {
  Account& a = account;
  if (!a.active || a.reporting || ptr == nullptr) return;
  a.live -= static_cast<int64_t>(__sanitizer_get_allocated_size(ptr));
}

bool InstallHooks() {
  return __sanitizer_install_malloc_and_free_hooks(OnMalloc, OnFree) != 0;
}
#endif

}  // namespace

bool MemoryBudget::Enforced() {
#ifdef CREMA_HAVE_ASAN
  static const bool installed = InstallHooks();
  return installed;
#else
  return false;
#endif
}

MemoryBudget::MemoryBudget(size_t input_bytes, size_t per_input_byte, size_t fixed_bytes) {
  if (!Enforced()) return;
  Account& a = account;
  if (a.active) {
    std::fprintf(stderr, "MemoryBudget: budgets do not nest\n");
    std::abort();
  }
  a = Account{};
  a.limit = static_cast<int64_t>(fixed_bytes + per_input_byte * input_bytes);
  a.input_bytes = input_bytes;
  a.active = true;
}

MemoryBudget::~MemoryBudget() { account.active = false; }

size_t MemoryBudget::peak_bytes() const {
  return account.peak > 0 ? static_cast<size_t>(account.peak) : 0;
}

}  // namespace crema::fuzz
