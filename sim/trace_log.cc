#include "sim/trace_log.h"

#include <cstdint>
#include <cstdio>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "nlohmann/json.hpp"
#include "sim/json_fields.h"
#include "xxhash.h"

namespace crema::sim {

std::string Hex64(uint64_t value) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out(16, '0');
  for (int i = 15; i >= 0; --i, value >>= 4) out[i] = kDigits[value & 0xf];
  return out;
}

TraceLog::TraceLog(bool keep_records, std::ostream* json_out)
    : keep_records_(keep_records), json_out_(json_out) {}

uint64_t TraceLog::DetailDigest(std::string_view detail) {
  return detail.empty() ? 0 : XXH3_64bits(detail.data(), detail.size());
}

void TraceLog::RecordDigest(int64_t time_ns, NodeId node, std::string_view kind, uint64_t digest,
                            absl::FunctionRef<std::string()> detail) {
  // One hash over a fixed-layout header followed by the kind's bytes, chained through the seed.
  constexpr size_t kHeaderBytes = 24;
  constexpr size_t kMaxInlineKind = 64;
  unsigned char buffer[kHeaderBytes + kMaxInlineKind];
  const uint32_t node32 = node, kind_bytes = static_cast<uint32_t>(kind.size());
  std::memcpy(buffer, &time_ns, 8);
  std::memcpy(buffer + 8, &digest, 8);
  std::memcpy(buffer + 16, &node32, 4);
  std::memcpy(buffer + 20, &kind_bytes, 4);
  if (kind.size() <= kMaxInlineKind) {
    std::memcpy(buffer + kHeaderBytes, kind.data(), kind.size());
    hash_ = XXH3_64bits_withSeed(buffer, kHeaderBytes + kind.size(), hash_);
  } else {
    hash_ = XXH3_64bits_withSeed(buffer, kHeaderBytes, hash_);
    hash_ = XXH3_64bits_withSeed(kind.data(), kind.size(), hash_);
  }
  const uint64_t index = count_++;
  if (checkpoint_every_ != 0 && count_ % checkpoint_every_ == 0) {
    *checkpoint_out_ << "checkpoint events=" << count_ << " hash=" << Hex64(hash_) << '\n';
  }
  if (!wants_details()) return;
  std::string text = detail();
  if (text.size() > kMaxDetailBytes) text.resize(kMaxDetailBytes);
  TraceEvent event{index, time_ns, node, std::string(kind), std::move(text), digest};
  if (json_out_ != nullptr) {
    nlohmann::json line = {{"index", event.index}, {"time_ns", event.time_ns},
                           {"node", event.node},   {"kind", event.kind},
                           {"detail", event.detail}, {"digest", Hex64(event.digest)}};
    // Details may hold arbitrary bytes: replace invalid UTF-8 rather than throw.
    *json_out_ << line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << '\n';
  }
  if (keep_records_ && records_.size() < kMaxKeptRecords) records_.push_back(std::move(event));
}

std::string DescribeEvent(const TraceEvent& event) {
  return absl::StrCat("#", event.index, " t=", event.time_ns, "ns node=", event.node,
                      " kind=", event.kind, " detail=\"", event.detail,
                      "\" digest=", Hex64(event.digest));
}

namespace {
bool SameEvent(const TraceEvent& a, const TraceEvent& b) {
  return a.time_ns == b.time_ns && a.node == b.node && a.kind == b.kind && a.digest == b.digest;
}
}  // namespace

std::optional<std::string> FirstDifference(const std::vector<TraceEvent>& a,
                                           const std::vector<TraceEvent>& b) {
  const size_t common = std::min(a.size(), b.size());
  for (size_t i = 0; i < common; ++i) {
    if (SameEvent(a[i], b[i])) continue;
    return absl::StrCat("first difference at event #", i, " (t=", a[i].time_ns,
                        "ns node=", a[i].node, " kind=", a[i].kind, ")\n  run A: ",
                        DescribeEvent(a[i]), "\n  run B: ", DescribeEvent(b[i]));
  }
  if (a.size() == b.size()) return std::nullopt;
  const bool a_longer = a.size() > b.size();
  const TraceEvent& extra = a_longer ? a[common] : b[common];
  return absl::StrCat("runs agree for ", common, " events, then run ", a_longer ? "B" : "A",
                      " ends; the other continues with ", DescribeEvent(extra));
}

namespace {

// 1 to 16 hex digits, nothing else (no sign, no spaces, no trailing bytes).
bool ParseHexDigest(std::string_view text, uint64_t* out) {
  if (text.empty() || text.size() > 16) return false;
  uint64_t v = 0;
  for (char c : text) {
    int digit;
    if (c >= '0' && c <= '9') {
      digit = c - '0';
    } else if (c >= 'a' && c <= 'f') {
      digit = c - 'a' + 10;
    } else if (c >= 'A' && c <= 'F') {
      digit = c - 'A' + 10;
    } else {
      return false;
    }
    v = v << 4 | static_cast<uint64_t>(digit);
  }
  *out = v;
  return true;
}

}  // namespace

std::optional<TraceEvent> ParseTraceLine(std::string_view line) {
  nlohmann::json json = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
  if (json.is_discarded() || !json.is_object()) return std::nullopt;
  TraceEvent event;
  // Integers only, each within its field's type (sim/json_fields.h): a float or an out-of-range
  // number is refused, never converted (trace_log_fuzzer: `{"index":4666...6,...}`).
  const std::optional<uint64_t> index = JsonUint64(json, "index");
  const std::optional<int64_t> time_ns = JsonInt64(json, "time_ns");
  const std::optional<NodeId> node = JsonNodeId(json, "node");
  std::optional<std::string> kind = JsonString(json, "kind");
  std::optional<std::string> detail = JsonString(json, "detail");
  const std::optional<std::string> digest = JsonString(json, "digest");
  if (!index || !time_ns || !node || !kind || !detail || !digest ||
      !ParseHexDigest(*digest, &event.digest)) {
    return std::nullopt;
  }
  event.index = *index;
  event.time_ns = *time_ns;
  event.node = *node;
  event.kind = *std::move(kind);
  event.detail = *std::move(detail);
  return event;
}

}  // namespace crema::sim
