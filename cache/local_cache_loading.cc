// LocalCache's single-flight loading: GetWith and LoadCompletion.
#include <cassert>
#include <cstdlib>
#include <utility>

#include "absl/strings/str_cat.h"
#include "cache/local_cache.h"

namespace crema::cache {
namespace {

// This Abseil build's string_view is its own type; its string hash takes that one.
absl::string_view AbslView(std::string_view s) { return absl::string_view(s.data(), s.size()); }

}  // namespace

LoadCompletion::LoadCompletion(std::shared_ptr<internal::PendingLoad> load)
    : load_(std::move(load)) {}

LoadCompletion::LoadCompletion(LoadCompletion&& other) noexcept : load_(std::move(other.load_)) {}

LoadCompletion::~LoadCompletion() {
  if (load_ != nullptr && !load_->completed) {
    Complete(absl::CancelledError("loader dropped its completion without completing it"));
  }
}

void LoadCompletion::Complete(absl::StatusOr<std::string> result) {
  if (load_ == nullptr || load_->completed) {
    // Completing twice (or after moving away) is a programmer error.
    std::abort();
  }
  load_->completed = true;
  std::shared_ptr<internal::PendingLoad> load = std::move(load_);
  if (load->cache != nullptr) load->cache->FinishLoad(*load, std::move(result));
}

void LocalCache::SupersedeLoad(std::string_view key) {
  if (loads_.empty()) return;
  auto it = loads_.find(AbslView(key));
  if (it != loads_.end()) it->second->superseded = true;
}

void LocalCache::GetWith(std::string_view key, Loader loader, LoadDone done) {
  if (const ValuePtr value = GetIfPresent(key)) {
    done(absl::StatusOr<std::string>(std::string(*value)));
    return;
  }
  auto it = loads_.find(AbslView(key));
  if (it != loads_.end()) {
    internal::PendingLoad& load = *it->second;
    if (static_cast<int64_t>(load.waiters.size()) >= kMaxWaitersPerLoad) {
      done(absl::ResourceExhaustedError(
          absl::StrCat("more than ", kMaxWaitersPerLoad, " callers wait for one key's load")));
      return;
    }
    load.waiters.push_back(std::move(done));
    return;
  }
  if (static_cast<int64_t>(loads_.size()) >= kMaxInflightLoads) {
    done(absl::ResourceExhaustedError(
        absl::StrCat("more than ", kMaxInflightLoads, " keys are loading")));
    return;
  }
  auto load = std::make_shared<internal::PendingLoad>();
  load->cache = this;
  load->key.assign(key.data(), key.size());
  load->start_ns = NowNs();
  load->waiters.push_back(std::move(done));
  loads_.emplace(load->key, load);
  // `load` stays alive through the call even if the loader completes synchronously.
  loader(load->key, LoadCompletion(load));
}

void LocalCache::FinishLoad(internal::PendingLoad& load, absl::StatusOr<std::string> result) {
  AssertNotInListener();
  auto it = loads_.find(AbslView(load.key));
  assert(it != loads_.end() && it->second.get() == &load);
  const std::shared_ptr<internal::PendingLoad> keep_alive = std::move(it->second);
  loads_.erase(it);

  stats_.total_load_time += absl::Nanoseconds(NowNs() - load.start_ns);
  if (result.ok()) {
    ++stats_.load_successes;
    if (!load.superseded) PutInternal(load.key, *result, std::nullopt);
  } else {
    ++stats_.load_failures;
  }
  // The cache is consistent again: waiters may call into it (even to load this key again).
  std::vector<LoadDone> waiters = std::move(load.waiters);
  for (LoadDone& done : waiters) done(result);
}

}  // namespace crema::cache
