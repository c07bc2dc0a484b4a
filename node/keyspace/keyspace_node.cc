#include "node/keyspace/keyspace_node.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "node/eventual/core/record.h"
#include "node/keyspace/views.h"

namespace crema::keyspace {

std::string StoredKey(const KeyspaceSpec& spec, std::string_view key) {
  const char index = static_cast<char>(spec.index);
  std::string out;
  if (spec.mode == Mode::kEventual) {
    out.push_back(index);
  } else if (spec.index != 0) {
    out = "\xffks";
    out.push_back(index);
    out.push_back(':');
  }
  out.append(key.data(), key.size());
  return out;
}

std::optional<absl::Duration> EffectiveTtl(const KeyspaceSpec& spec, const Expiration& e, absl::Time now) {
  std::optional<absl::Duration> ttl;
  switch (e.kind) {
    case Expiration::Kind::kDefault: ttl = spec.default_ttl; break;
    case Expiration::Kind::kNever: break;
    case Expiration::Kind::kAfter: ttl = e.ttl; break;
    case Expiration::Kind::kAt: ttl = e.at - now; break;
    case Expiration::Kind::kKeep: ttl = spec.default_ttl; break;
  }
  if (spec.max_ttl && (!ttl || *ttl > *spec.max_ttl)) ttl = spec.max_ttl;
  return ttl;
}

KeyspaceNode::KeyspaceNode(CacheApi* strong, eventual::EventualNode* eventual, const Clock* clock,
                           std::vector<KeyspaceSpec> specs, absl::Duration usage_refresh)
    : strong_(strong), eventual_(eventual), clock_(clock), specs_(std::move(specs)),
      usage_refresh_(usage_refresh) {
  several_strong_ = std::count_if(specs_.begin(), specs_.end(),
                                  [](const KeyspaceSpec& s) { return s.mode == Mode::kStrong; }) > 1;
}

absl::StatusOr<KeyspaceHandle> KeyspaceNode::Open(uint32_t index, const RequestLevels& levels) {
  for (const KeyspaceSpec& spec : specs_) {
    if (spec.index == index) return OpenSpec(spec, levels);
  }
  return absl::NotFoundError(absl::StrCat("no keyspace ", index));
}

absl::StatusOr<KeyspaceHandle> KeyspaceNode::OpenByName(std::string_view name, const RequestLevels& levels) {
  for (const KeyspaceSpec& spec : specs_) {
    if (spec.name == name) return OpenSpec(spec, levels);
  }
  return absl::NotFoundError(absl::StrCat("no keyspace '", std::string(name), "'"));
}

absl::StatusOr<KeyspaceHandle> KeyspaceNode::OpenSpec(const KeyspaceSpec& spec, const RequestLevels& levels) {
  KeyspaceHandle h;
  h.spec = &spec;
  if (spec.mode == Mode::kStrong) {
    if (spec.index == 0 && !several_strong_ && !spec.default_ttl && !spec.max_ttl) {
      h.api = strong_;  // the plain cache: no view needed
      return h;
    }
    h.owned = MakeStrongView(&spec, strong_, clock_, several_strong_);
  } else {
    if (eventual_ == nullptr) return absl::UnavailableError("the eventual-mode node is not running");
    const uint32_t index = spec.index;
    h.owned = MakeEventualView(&spec, strong_, eventual_, clock_, levels,
                               [this, index] { return UsageBytes(index); });
  }
  h.api = h.owned.get();
  return h;
}

uint64_t KeyspaceNode::UsageBytes(uint32_t index) {
  if (eventual_ == nullptr) return 0;
  const absl::Time now = clock_->MonotonicNow();
  if (now - usage_counted_ >= usage_refresh_) {
    usage_counted_ = now;
    usage_.clear();
    const absl::Time wall = clock_->Now();
    eventual_->store().ForEach([&](const std::string& key, const eventual::Record& record) {
      if (key.empty() || !eventual::IsLive(record, wall)) return;
      usage_[static_cast<unsigned char>(key[0])] += key.size() - 1 + record.value.size();
    });
  }
  auto it = usage_.find(index);
  return it == usage_.end() ? 0 : it->second;
}

}  // namespace crema::keyspace
