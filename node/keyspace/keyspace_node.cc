#include "node/keyspace/keyspace_node.h"

#include <algorithm>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "node/eventual/core/record.h"
#include "node/keyspace/views.h"

namespace crema::keyspace {

namespace {

constexpr unsigned char kGenerationBit = 0x80;

void AppendVarint(std::string& out, uint64_t v) {
  while (v >= 0x80) {
    out.push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
}

// <index> for generation 0, else <0x80 | index><generation varint>.
void AppendKeyspaceId(std::string& out, uint32_t index, uint64_t generation) {
  if (generation == 0) {
    out.push_back(static_cast<char>(index));
    return;
  }
  out.push_back(static_cast<char>(kGenerationBit | index));
  AppendVarint(out, generation);
}

}  // namespace

std::string StoredKey(const KeyspaceSpec& spec, uint64_t generation, std::string_view key) {
  std::string out;
  if (spec.mode == Mode::kEventual) {
    AppendKeyspaceId(out, spec.index, generation);
  } else if (spec.index != 0 || generation != 0) {
    out = StrongKeyspacePrefix(spec.index, generation);
  }
  out.append(key.data(), key.size());
  return out;
}

std::optional<StoredKeyspace> EventualKeyspaceOf(std::string_view stored) {
  if (stored.empty()) return std::nullopt;
  const auto first = static_cast<unsigned char>(stored[0]);
  if ((first & kGenerationBit) == 0) return StoredKeyspace{first, 0, 1};
  uint64_t generation = 0;
  // At most 10 varint bytes (64 bits).
  for (size_t i = 1, shift = 0; i < stored.size() && i <= 10; ++i, shift += 7) {
    const auto byte = static_cast<unsigned char>(stored[i]);
    generation |= uint64_t{byte & 0x7fu} << shift;
    if ((byte & 0x80) == 0) return StoredKeyspace{first & 0x7fu, generation, i + 1};
  }
  return std::nullopt;
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
    : strong_(strong), eventual_(eventual), clock_(clock), usage_refresh_(usage_refresh),
      flag_specs_(specs) {
  std::vector<Keyspace> keyspaces;
  for (KeyspaceSpec& spec : specs) keyspaces.push_back(Keyspace{std::move(spec), 0});
  table_ = MakeTable(std::move(keyspaces));
  if (eventual_ != nullptr) eventual_->SetDeadKeys(this);
}

KeyspaceNode::~KeyspaceNode() {
  if (eventual_ != nullptr) eventual_->SetDeadKeys(nullptr);
}

bool KeyspaceNode::IsDead(std::string_view key) {
  (void)Current();  // no wait below: table_ stays this one
  if (!follows_map_) return false;
  const Table& table = *table_;
  const std::optional<StoredKeyspace> ks = EventualKeyspaceOf(key);
  if (!ks) return false;  // not a keyspace's key: not ours to judge
  if (ks->generation != 0 && ks->generation >= table.next_generation) return false;  // unknown yet
  for (const Keyspace& k : table.keyspaces) {
    if (k.spec.index == ks->index && k.generation == ks->generation) {
      return k.spec.mode != Mode::kEventual;
    }
  }
  return true;
}

std::shared_ptr<KeyspaceNode::Table> KeyspaceNode::MakeTable(std::vector<Keyspace> keyspaces) const {
  auto table = std::make_shared<Table>();
  std::sort(keyspaces.begin(), keyspaces.end(),
            [](const Keyspace& a, const Keyspace& b) { return a.spec.index < b.spec.index; });
  table->keyspaces = std::move(keyspaces);
  // Strong views do not depend on the request: one per keyspace and table, shared by requests.
  for (const Keyspace& k : table->keyspaces) {
    table->strong.push_back(k.spec.mode == Mode::kStrong ? MakeStrongView(k, strong_, clock_) : nullptr);
  }
  return table;
}

std::shared_ptr<const KeyspaceNode::Table> KeyspaceNode::Current() {
  const uint64_t version = strong_->KeyspacesVersion();
  if (version != table_version_) {
    table_version_ = version;
    if (std::optional<KeyspaceTable> map = strong_->Keyspaces()) {
      if (!follows_map_ && on_flag_mismatch_) {
        std::string flags, bootstrap;
        for (const KeyspaceSpec& s : flag_specs_) absl::StrAppend(&flags, flags.empty() ? "" : ",", s.ToString());
        for (const Keyspace& k : map->live) {
          if (k.generation == 0) absl::StrAppend(&bootstrap, bootstrap.empty() ? "" : ",", k.spec.ToString());
        }
        if (flags != bootstrap) {
          on_flag_mismatch_(absl::StrCat("--keyspaces=", flags, " but the cluster map was bootstrapped with ",
                                         bootstrap, " (the map rules)"));
        }
      }
      std::shared_ptr<Table> table = MakeTable(std::move(map->live));
      table->next_generation = map->next_generation;
      table_ = std::move(table);
      follows_map_ = true;
    }
  }
  return table_;
}

std::optional<size_t> KeyspaceNode::FindIndex(const Table& table, uint32_t index) {
  for (size_t i = 0; i < table.keyspaces.size(); ++i) {
    if (table.keyspaces[i].spec.index == index) return i;
  }
  return std::nullopt;
}

std::optional<size_t> KeyspaceNode::FindName(const Table& table, std::string_view name) {
  for (size_t i = 0; i < table.keyspaces.size(); ++i) {
    if (table.keyspaces[i].spec.name == name) return i;
  }
  return std::nullopt;
}

std::vector<Keyspace> KeyspaceNode::List() { return Current()->keyspaces; }

absl::StatusOr<KeyspaceHandle> KeyspaceNode::TryOpen(uint32_t index, const RequestLevels& levels) {
  const std::shared_ptr<const Table> table = Current();
  if (std::optional<size_t> i = FindIndex(*table, index)) return OpenAt(table, *i, levels);
  return absl::NotFoundError(absl::StrCat("no keyspace ", index));
}

absl::StatusOr<KeyspaceHandle> KeyspaceNode::Open(uint32_t index, const RequestLevels& levels) {
  absl::StatusOr<KeyspaceHandle> h = TryOpen(index, levels);
  if (!absl::IsNotFound(h.status()) || !follows_map_) return h;
  // Not in this node's map: created a moment ago through another node? One catch-up decides.
  if (absl::Status s = strong_->CatchUpMap(kCatchUpTimeout); !s.ok()) return s;
  return TryOpen(index, levels);
}

absl::StatusOr<KeyspaceHandle> KeyspaceNode::OpenByName(std::string_view name, const RequestLevels& levels) {
  for (int attempt = 0; attempt < 2; ++attempt) {
    if (attempt == 1) {
      if (!follows_map_) break;
      if (absl::Status s = strong_->CatchUpMap(kCatchUpTimeout); !s.ok()) return s;
    }
    const std::shared_ptr<const Table> table = Current();
    if (std::optional<size_t> i = FindName(*table, name)) return OpenAt(table, *i, levels);
  }
  return absl::NotFoundError(absl::StrCat("no keyspace '", std::string(name), "'"));
}

absl::StatusOr<Keyspace> KeyspaceNode::Create(std::string_view text, absl::Duration timeout) {
  absl::StatusOr<KeyspaceSpec> spec = ParseKeyspaceSpec(text);
  if (!spec.ok()) return spec.status();
  if (spec->mode == Mode::kEventual && eventual_ == nullptr) {
    return absl::FailedPreconditionError(
        "mode: this server runs without the eventual-mode node (declare an eventual keyspace in "
        "--keyspaces to start it)");
  }
  return strong_->CreateKeyspace(spec->ToString(), WriteOptions{.timeout = timeout});
}

absl::Status KeyspaceNode::Drop(std::string_view index_or_name, absl::Duration timeout) {
  uint32_t index = 0;
  const bool by_index = absl::SimpleAtoi(absl::string_view(index_or_name.data(), index_or_name.size()), &index);
  if (by_index && index >= kMaxKeyspaces) {
    return absl::InvalidArgumentError(absl::StrCat("index: must be 0..", kMaxKeyspaces - 1));
  }
  // Resolved against this node's map after a catch-up, so a keyspace just created elsewhere is
  // found; the command names the generation, so it never drops a later keyspace of that index.
  if (absl::Status s = strong_->CatchUpMap(kCatchUpTimeout); !s.ok()) return s;
  const std::shared_ptr<const Table> table = Current();
  const std::optional<size_t> i = by_index ? FindIndex(*table, index) : FindName(*table, index_or_name);
  if (!i) {
    return absl::NotFoundError(absl::StrCat("no keyspace ", by_index ? "" : "'",
                                            std::string(index_or_name.substr(0, kMaxKeyspaceNameBytes)),
                                            by_index ? "" : "'"));
  }
  const Keyspace& k = table->keyspaces[*i];
  return strong_->DropKeyspace(k.spec.index, k.generation, WriteOptions{.timeout = timeout});
}

absl::StatusOr<KeyspaceHandle> KeyspaceNode::OpenAt(const std::shared_ptr<const Table>& table, size_t i,
                                                    const RequestLevels& levels) {
  const Keyspace& k = table->keyspaces[i];
  KeyspaceHandle h;
  h.spec = &k.spec;
  h.generation = k.generation;
  h.keep = table;
  if (k.spec.mode == Mode::kStrong) {
    h.owned = table->strong[i];
  } else {
    if (eventual_ == nullptr) return absl::UnavailableError("the eventual-mode node is not running");
    const uint32_t index = k.spec.index;
    const uint64_t generation = k.generation;
    h.owned = MakeEventualView(k, strong_, eventual_, clock_, levels,
                               [this, index, generation] { return UsageBytes(index, generation); });
  }
  h.api = h.owned.get();
  return h;
}

uint64_t KeyspaceNode::UsageBytes(uint32_t index, uint64_t generation) {
  if (eventual_ == nullptr) return 0;
  const absl::Time now = clock_->MonotonicNow();
  if (now - usage_counted_ >= usage_refresh_) {
    usage_counted_ = now;
    usage_.clear();
    const absl::Time wall = clock_->Now();
    eventual_->store().ForEach([&](const std::string& key, const eventual::Record& record) {
      if (!eventual::IsLive(record, wall)) return;
      if (std::optional<StoredKeyspace> ks = EventualKeyspaceOf(key)) {
        usage_[{ks->index, ks->generation}] += key.size() - ks->prefix_bytes + record.value.size();
      }
    });
  }
  auto it = usage_.find({index, generation});
  return it == usage_.end() ? 0 : it->second;
}

}  // namespace crema::keyspace
