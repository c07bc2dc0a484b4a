#include "transport/server/allocator.h"

#include <string>

// tcmalloc's C interface, declared weak: null when tcmalloc is not linked (sanitizer builds,
// embedders' own binaries), so this file needs no gperftools header.
extern "C" const char* tc_version(int* major, int* minor, const char** patch)
    __attribute__((weak));
extern "C" int MallocExtension_GetNumericProperty(const char* property, size_t* value)
    __attribute__((weak));

namespace crema::server {

std::string AllocatorName() {
  if (tc_version == nullptr) return "libc";
  int major = 0, minor = 0;
  const char* patch = nullptr;
  (void)tc_version(&major, &minor, &patch);
  return "tcmalloc-" + std::to_string(major) + "." + std::to_string(minor) +
         (patch != nullptr ? patch : "");
}

std::optional<size_t> AllocatedBytes() {
  if (MallocExtension_GetNumericProperty == nullptr) return std::nullopt;
  size_t bytes = 0;
  if (!MallocExtension_GetNumericProperty("generic.current_allocated_bytes", &bytes)) {
    return std::nullopt;
  }
  return bytes;
}

}  // namespace crema::server
