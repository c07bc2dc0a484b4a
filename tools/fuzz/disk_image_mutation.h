// MutateDiskImage: damages the files under a prefix of a SimDisk the way a fuzz input says, for
// structure-aware targets that recover state from a directory image (the WAL, DurableMap).
//
// Each mutation picks a file and one of: flip one bit (kind 0), overwrite up to 16 bytes with
// input bytes, zero a range of up to 1 KiB, truncate, append up to 64 input bytes, delete the
// file. Every mutation is synced, so a later Crash() cannot undo it.
//
// Returns the number of mutations applied (at most `max_mutations`, fewer if the prefix holds no
// file) and sets `*only_bit_flips` when every one of them was a bit flip — the case in which a
// checksummed format must notice every change. Aborts (a harness bug) if the disk refuses a file
// it listed.
//
// Thread safety: none (the fuzz target's own disk).
#ifndef CREMA_TOOLS_FUZZ_DISK_IMAGE_MUTATION_H_
#define CREMA_TOOLS_FUZZ_DISK_IMAGE_MUTATION_H_

#include <string_view>

#include "sim/sim_disk.h"
#include "tools/fuzz/fuzz_input.h"

namespace crema::fuzz {

int MutateDiskImage(FuzzInput& in, sim::SimDisk& disk, std::string_view prefix, int max_mutations,
                    bool* only_bit_flips);

}  // namespace crema::fuzz

#endif  // CREMA_TOOLS_FUZZ_DISK_IMAGE_MUTATION_H_
