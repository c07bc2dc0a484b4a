// Which malloc serves this process, for INFO's Memory section and the startup log line.
//
// crema_server links tcmalloc (Debian's libtcmalloc-minimal from gperftools): under glibc's
// malloc a pipelined SET spent about a third of its CPU in malloc and free (largebin requests of
// ~1 KiB batch vectors trigger malloc_consolidate), see docs/server.md. jemalloc measured the same
// but cannot run under libfaketime, which the real-process chaos harness preloads (jemalloc's
// initialisation reads the clock, libfaketime's allocates: "recursive calls to clock_gettime()").
// Sanitizer builds keep the sanitizer's allocator (no tcmalloc linked). Contract: the functions
// return "libc" / nullopt whenever tcmalloc is not linked.
#ifndef CREMA_TRANSPORT_SERVER_ALLOCATOR_H_
#define CREMA_TRANSPORT_SERVER_ALLOCATOR_H_

#include <optional>
#include <string>

namespace crema::server {

// "tcmalloc-2.10" or "libc".
std::string AllocatorName();

// Bytes the application holds allocated (tcmalloc's generic.current_allocated_bytes), when
// tcmalloc is linked.
std::optional<size_t> AllocatedBytes();

}  // namespace crema::server

#endif  // CREMA_TRANSPORT_SERVER_ALLOCATOR_H_
