#include "node/buggify.h"

#include "xxhash.h"

namespace crema {

bool Buggify::Fire(std::string_view site) {
  if (!enabled_) return false;
  auto it = sites_.find(site);
  if (it == sites_.end()) {
    // Whether a site is active depends only on the run's seed and the site's name.
    const uint64_t h = MixSeed(run_seed_ ^ XXH3_64bits(site.data(), site.size()));
    it = sites_.emplace(std::string(site), h % kSiteActiveOneIn == 0).first;
  }
  if (!it->second || !random_.OneIn(kFireOneIn)) return false;
  auto count = fired_.find(site);
  if (count == fired_.end()) count = fired_.emplace(std::string(site), 0).first;
  ++count->second;
  return true;
}

}  // namespace crema
