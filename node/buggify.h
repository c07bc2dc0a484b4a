// Buggify: in-code fault points, switched on per simulation run (after FoundationDB's BUGGIFY).
//
// Node code marks places where a rare but legal behaviour can be forced, to shake out bugs that
// ordinary schedules seldom reach:
//   if (env.buggify->Fire("raft.delay_append")) co_sleep_a_bit();
// In production a Buggify is disabled and `Fire` is always false. In a simulation run with fault
// points enabled, each site is switched on for the whole run with probability 1/4 — decided from
// the run's seed and the site's name, so the same seed gives the same set of active sites — and
// an active site fires with probability 1/20 each time it is reached (a draw from this node's own
// stream). Sites must only ever choose among behaviours that are legal for the real system.
//
// Thread safety: none; one Buggify per node.
#ifndef CREMA_NODE_BUGGIFY_H_
#define CREMA_NODE_BUGGIFY_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/container/btree_map.h"
#include "node/random.h"

namespace crema {

class Buggify {
 public:
  static constexpr uint64_t kSiteActiveOneIn = 4;
  static constexpr uint64_t kFireOneIn = 20;

  // A disabled Buggify: `Fire` is always false (production).
  Buggify() : enabled_(false), run_seed_(0), random_(0) {}
  // Enabled for a simulation run: `run_seed` picks active sites; `random` draws the firings.
  Buggify(uint64_t run_seed, Random random) : enabled_(true), run_seed_(run_seed), random_(random) {}

  bool enabled() const { return enabled_; }

  // True when this fault point should inject its fault now.
  bool Fire(std::string_view site);

  // Sites reached so far in this run and whether each is active (for reports).
  const absl::btree_map<std::string, bool, std::less<>>& sites() const { return sites_; }
  // How often each site has fired so far (only sites that fired at least once).
  const absl::btree_map<std::string, uint64_t, std::less<>>& fired() const { return fired_; }

 private:
  bool enabled_;
  uint64_t run_seed_;
  Random random_;
  absl::btree_map<std::string, bool, std::less<>> sites_;
  absl::btree_map<std::string, uint64_t, std::less<>> fired_;
};

}  // namespace crema

#endif  // CREMA_NODE_BUGGIFY_H_
