#include "node/keyspace/keyspace_config.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/string_view.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/match.h"

namespace crema::keyspace {
namespace {

absl::Status Bad(absl::string_view spec, absl::string_view why) {
  return absl::InvalidArgumentError(absl::StrCat("keyspace '", spec, "': ", why));
}

bool ValidName(absl::string_view name) {
  if (name.empty() || name.size() > kMaxKeyspaceNameBytes) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return absl::ascii_islower(c) || absl::ascii_isdigit(c) || c == '_' || c == '-';
  });
}

std::optional<uint64_t> ParseBytes(absl::string_view text) {
  static constexpr std::pair<absl::string_view, uint64_t> kUnits[] = {
      {"KiB", uint64_t{1} << 10}, {"MiB", uint64_t{1} << 20}, {"GiB", uint64_t{1} << 30}};
  uint64_t scale = 1;
  for (const auto& [suffix, factor] : kUnits) {
    if (text.size() > suffix.size() && text.substr(text.size() - suffix.size()) == suffix) {
      scale = factor;
      text.remove_suffix(suffix.size());
      break;
    }
  }
  uint64_t n = 0;
  if (!absl::SimpleAtoi(text, &n) || n > (uint64_t{1} << 50) / scale) return std::nullopt;
  return n * scale;
}

std::string BytesText(uint64_t n) {
  if (n != 0 && n % (1ull << 30) == 0) return absl::StrCat(n >> 30, "GiB");
  if (n != 0 && n % (1ull << 20) == 0) return absl::StrCat(n >> 20, "MiB");
  if (n != 0 && n % (1ull << 10) == 0) return absl::StrCat(n >> 10, "KiB");
  return absl::StrCat(n);
}

absl::StatusOr<KeyspaceSpec> ParseOne(absl::string_view text) {
  std::vector<absl::string_view> fields = absl::StrSplit(text, ':');
  if (fields.size() < 3) return Bad(text, "want <index>:<name>:<strong|eventual>[:field=value...]");
  KeyspaceSpec spec;
  if (!absl::SimpleAtoi(fields[0], &spec.index) || spec.index >= kMaxKeyspaces) {
    return Bad(text, absl::StrCat("index must be 0..", kMaxKeyspaces - 1));
  }
  if (!ValidName(fields[1])) return Bad(text, "name must be 1..32 of [a-z0-9_-]");
  spec.name = std::string(fields[1]);
  if (fields[2] == "strong") {
    spec.mode = Mode::kStrong;
  } else if (fields[2] == "eventual") {
    spec.mode = Mode::kEventual;
  } else {
    return Bad(text, "mode must be strong or eventual");
  }
  for (size_t i = 3; i < fields.size(); ++i) {
    std::pair<absl::string_view, absl::string_view> kv = absl::StrSplit(fields[i], absl::MaxSplits('=', 1));
    const absl::string_view key = kv.first, value = kv.second;
    if (key == "ttl" || key == "max_ttl") {
      absl::Duration d;
      if (!absl::ParseDuration(value, &d) || d <= absl::ZeroDuration() || d == absl::InfiniteDuration()) {
        return Bad(text, absl::StrCat(key, " must be a positive duration such as 90s or 30m"));
      }
      (key == "ttl" ? spec.default_ttl : spec.max_ttl) = d;
    } else if (key == "capacity") {
      if (spec.mode != Mode::kEventual) {
        return Bad(text, "strong keyspaces share the cache's capacity (--capacity); capacity= is for eventual ones");
      }
      std::optional<uint64_t> bytes = ParseBytes(value);
      if (!bytes) return Bad(text, "capacity must be a byte count such as 1048576 or 64MiB");
      spec.capacity_bytes = *bytes;
    } else if (key == "read" || key == "write") {
      if (spec.mode != Mode::kEventual) return Bad(text, "read/write levels are for eventual keyspaces");
      std::optional<eventual::Consistency> level =
          eventual::ParseConsistency(std::string_view(value.data(), value.size()));
      if (!level) return Bad(text, absl::StrCat(key, " must be one, quorum, all or a count"));
      (key == "read" ? spec.read : spec.write) = *level;
    } else {
      return Bad(text, absl::StrCat("unknown field '", key, "'"));
    }
  }
  if (spec.default_ttl && spec.max_ttl && *spec.default_ttl > *spec.max_ttl) {
    return Bad(text, "ttl exceeds max_ttl");
  }
  return spec;
}

}  // namespace

const char* ModeName(Mode mode) { return mode == Mode::kStrong ? "strong" : "eventual"; }

std::string KeyspaceSpec::ToString() const {
  std::string out = absl::StrCat(index, ":", name, ":", ModeName(mode));
  if (default_ttl) absl::StrAppend(&out, ":ttl=", absl::FormatDuration(*default_ttl));
  if (max_ttl) absl::StrAppend(&out, ":max_ttl=", absl::FormatDuration(*max_ttl));
  if (capacity_bytes != 0) absl::StrAppend(&out, ":capacity=", BytesText(capacity_bytes));
  if (mode == Mode::kEventual) {
    absl::StrAppend(&out, ":read=", absl::AsciiStrToLower(read.ToString()),
                    ":write=", absl::AsciiStrToLower(write.ToString()));
  }
  return out;
}

absl::StatusOr<std::vector<KeyspaceSpec>> ParseKeyspaces(std::string_view std_text) {
  const absl::string_view text(std_text.data(), std_text.size());
  std::vector<KeyspaceSpec> specs;
  if (!absl::StripAsciiWhitespace(text).empty()) {
    for (absl::string_view one : absl::StrSplit(text, ',')) {
      absl::StatusOr<KeyspaceSpec> spec = ParseOne(absl::StripAsciiWhitespace(one));
      if (!spec.ok()) return spec.status();
      for (const KeyspaceSpec& other : specs) {
        if (other.index == spec->index || other.name == spec->name) {
          return Bad(one, "index and name must be unique");
        }
      }
      specs.push_back(*std::move(spec));
    }
  }
  if (std::none_of(specs.begin(), specs.end(), [](const KeyspaceSpec& s) { return s.index == 0; })) {
    specs.push_back(KeyspaceSpec{});  // the strong default keyspace
  }
  std::sort(specs.begin(), specs.end(), [](const auto& a, const auto& b) { return a.index < b.index; });
  return specs;
}

absl::StatusOr<KeyspaceSpec> ParseKeyspaceSpec(std::string_view std_text) {
  const absl::string_view text(std_text.data(), std_text.size());
  if (text.size() > kMaxKeyspaceSpecBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("keyspace spec: longer than ", kMaxKeyspaceSpecBytes, " bytes"));
  }
  if (absl::StrContains(text, ',')) return Bad(text, "one keyspace only (no ',')");
  return ParseOne(absl::StripAsciiWhitespace(text));
}

std::string StrongKeyspacePrefix(uint32_t index, uint64_t generation) {
  std::string out = "\xffks";
  if (generation == 0) {
    out.push_back(static_cast<char>(index));
  } else {
    out.push_back(static_cast<char>(0x80 | index));
    for (uint64_t v = generation; ; v >>= 7) {
      if (v < 0x80) {
        out.push_back(static_cast<char>(v));
        break;
      }
      out.push_back(static_cast<char>((v & 0x7f) | 0x80));
    }
  }
  out.push_back(':');
  return out;
}

bool AnyEventual(const std::vector<KeyspaceSpec>& specs) {
  return std::any_of(specs.begin(), specs.end(), [](const auto& s) { return s.mode == Mode::kEventual; });
}

}  // namespace crema::keyspace
