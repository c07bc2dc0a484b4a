#include "transport/server/allocator.h"

#include <cstdint>

// jemalloc's control interface, declared weak: it resolves to null when jemalloc is not linked
// (sanitizer builds, embedders' own binaries), so this file needs no jemalloc header.
extern "C" int mallctl(const char* name, void* oldp, size_t* oldlenp, void* newp, size_t newlen)
    __attribute__((weak));

namespace crema::server {

std::string AllocatorName() {
  if (mallctl == nullptr) return "libc";
  const char* version = nullptr;
  size_t len = sizeof(version);
  if (mallctl("version", &version, &len, nullptr, 0) != 0 || version == nullptr) return "jemalloc";
  return std::string("jemalloc-") + version;
}

std::optional<size_t> AllocatedBytes() {
  if (mallctl == nullptr) return std::nullopt;
  uint64_t epoch = 1;  // statistics are snapshots: advance the epoch to refresh them
  size_t epoch_len = sizeof(epoch);
  if (mallctl("epoch", &epoch, &epoch_len, &epoch, epoch_len) != 0) return std::nullopt;
  size_t allocated = 0;
  size_t len = sizeof(allocated);
  if (mallctl("stats.allocated", &allocated, &len, nullptr, 0) != 0) return std::nullopt;
  return allocated;
}

}  // namespace crema::server
