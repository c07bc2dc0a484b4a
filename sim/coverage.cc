#include "sim/coverage.h"

#include "absl/strings/str_cat.h"

namespace crema::sim {

void Coverage::Add(std::string_view name, uint64_t count) {
  auto it = counters_.find(name);
  if (it == counters_.end()) {
    if (counters_.size() >= kMaxNames) return;
    it = counters_.emplace(std::string(name), 0).first;
  }
  it->second += count;
}

void Coverage::Sometimes(std::string_view name, bool happened) {
  Add(absl::StrCat("sometimes.", std::string(name)), happened ? 1 : 0);
}

void Coverage::Oracle(std::string_view name, uint64_t checks) {
  Add(absl::StrCat("oracle.", std::string(name)), checks);
}

void Coverage::Merge(const Coverage& other) {
  for (const auto& [name, count] : other.counters_) Add(name, count);
}

uint64_t Coverage::Get(std::string_view name) const {
  auto it = counters_.find(name);
  return it == counters_.end() ? 0 : it->second;
}

}  // namespace crema::sim
