// Seeds for simulation and randomised tests.
//
// Every randomised test calls `TestSeed()` once, before it starts: it reads `CREMA_SEED` from the
// environment (decimal), or else picks a fresh random seed, and prints it to stderr (so a test
// killed by a timeout still leaves its seed). On failure a test prints `ReproCommand(seed)`, the
// exact command that replays it, e.g.
//   bazel test //sim:sim_test --test_env=CREMA_SEED=123
// `TestSeeds(n)` gives n seeds for a sweep: CREMA_SEED pins the first; the rest derive from it.
//
// This lives in sim/ because it may touch the machine (std::random_device) when no seed is given.
#ifndef CREMA_SIM_TEST_SEED_H_
#define CREMA_SIM_TEST_SEED_H_

#include <cstdint>
#include <string>
#include <vector>

namespace crema::sim {

// The seed from CREMA_SEED, or a fresh random one; printed before returning.
uint64_t TestSeed();

// `count` seeds: with CREMA_SEED set, exactly that one seed (count ignored) so a failure replays
// alone; otherwise `count` fresh seeds. CREMA_SEEDS=N overrides count (for bigger local sweeps).
std::vector<uint64_t> TestSeeds(int count);

// The command that reproduces this test with `seed` (uses Bazel's TEST_TARGET when present).
std::string ReproCommand(uint64_t seed);

}  // namespace crema::sim

#endif  // CREMA_SIM_TEST_SEED_H_
