// Which malloc serves this process, for INFO's Memory section and the startup log line.
//
// crema_server links jemalloc (Debian's libjemalloc, Redis's allocator too): under glibc's malloc
// a pipelined SET spent about a third of its CPU in malloc and free (largebin requests of ~1 KiB
// batch vectors trigger malloc_consolidate), see docs/server.md. Sanitizer builds keep the
// sanitizer's allocator (no jemalloc linked). Contract: AllocatorName() never allocates through
// an allocator it does not name and returns "libc" whenever jemalloc's mallctl is not linked.
#ifndef CREMA_TRANSPORT_SERVER_ALLOCATOR_H_
#define CREMA_TRANSPORT_SERVER_ALLOCATOR_H_

#include <optional>
#include <string>

namespace crema::server {

// "jemalloc-5.3.0-0-g54eaed1d8b56b1aa528be3bdd1877e59c56fa90c" or "libc".
std::string AllocatorName();

// Bytes the application holds allocated (jemalloc's stats.allocated), when jemalloc is linked.
std::optional<size_t> AllocatedBytes();

}  // namespace crema::server

#endif  // CREMA_TRANSPORT_SERVER_ALLOCATOR_H_
