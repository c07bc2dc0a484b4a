// Generates client histories from a simulated single-copy atomic key-value store.
//
// Clients issue operations one at a time (think time, then a call that takes some latency); each
// operation takes effect atomically at a random instant inside its [invoke, return] interval, in
// one global order, against one in-memory map. The recorded history is therefore linearizable by
// construction — the ground truth for testing and benchmarking the checkers.
//
// Faults are modelled as recorded outcomes: an operation may be indeterminate (the client gives up
// after `timeout_ns`; the operation takes effect — at any instant up to 2 * timeout_ns after its
// invocation — or not, with equal odds; the client continues under a new client id, as Jepsen
// does with a crashed process) or an error (never takes effect).
//
// Example:
//   Random random(seed);
//   History h = GenerateAtomicHistory({.clients = 8, .keys = 100, .operations = 10'000}, random);
//
// Deterministic: the same options and seed give the same history. Thread safety: none needed.
#ifndef CREMA_CHAOS_HISTORY_GENERATOR_H_
#define CREMA_CHAOS_HISTORY_GENERATOR_H_

#include <cstdint>

#include "chaos/history.h"
#include "node/random.h"

namespace crema::chaos {

struct AtomicHistoryOptions {
  int clients = 8;         // Concurrent clients. REQUIRES: >= 1.
  int keys = 100;          // Keys "k0".."k<keys-1>". REQUIRES: >= 1.
  int operations = 10'000;  // REQUIRES: >= 0.
  // Relative weights of the operation kinds. REQUIRES: not all zero.
  int put_weight = 30;
  int get_weight = 50;
  int delete_weight = 5;
  int cas_weight = 15;
  // 0: every written value is unique ("v<n>"). Otherwise values are drawn from this many
  // ("v0".."v<domain-1>"): repeated values make the search harder.
  int value_domain = 0;
  // Fault outcomes: one operation in `indeterminate_one_in` is indeterminate, one in
  // `error_one_in` is an error; 0 disables.
  uint64_t indeterminate_one_in = 50;
  uint64_t error_one_in = 100;
  // Timing, in nanoseconds. REQUIRES: 0 <= min_latency_ns <= max_latency_ns; think >= 0.
  int64_t min_latency_ns = 1'000'000;
  int64_t max_latency_ns = 10'000'000;
  int64_t max_think_ns = 1'000'000;
  int64_t timeout_ns = 20'000'000;
};

History GenerateAtomicHistory(const AtomicHistoryOptions& options, Random& random);

}  // namespace crema::chaos

#endif  // CREMA_CHAOS_HISTORY_GENERATOR_H_
