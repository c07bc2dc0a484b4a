// Strict decimal integer parsing as redis-server's string2ll does it: an optional '-', then
// digits, no leading zeros (except "0" itself), no '+', no spaces, no overflow.
// Thread safety: pure functions.
#ifndef CREMA_TRANSPORT_RESP_STRICT_INT_H_
#define CREMA_TRANSPORT_RESP_STRICT_INT_H_

#include <cstdint>
#include <optional>
#include <string_view>

namespace crema::resp {

inline std::optional<int64_t> ParseStrictInt64(std::string_view s) {
  if (s.empty() || s.size() > 20) return std::nullopt;
  size_t i = 0;
  bool negative = false;
  if (s[0] == '-') {
    negative = true;
    i = 1;
    if (s.size() == 1) return std::nullopt;
  }
  if (s[i] == '0') {
    if (s.size() == i + 1 && !negative) return 0;
    return std::nullopt;  // leading zero or "-0"
  }
  uint64_t v = 0;
  for (; i < s.size(); ++i) {
    if (s[i] < '0' || s[i] > '9') return std::nullopt;
    const uint64_t digit = static_cast<uint64_t>(s[i] - '0');
    if (v > (UINT64_MAX - digit) / 10) return std::nullopt;
    v = v * 10 + digit;
  }
  if (negative) {
    if (v > static_cast<uint64_t>(INT64_MAX) + 1) return std::nullopt;
    return v == static_cast<uint64_t>(INT64_MAX) + 1 ? INT64_MIN : -static_cast<int64_t>(v);
  }
  if (v > static_cast<uint64_t>(INT64_MAX)) return std::nullopt;
  return static_cast<int64_t>(v);
}

}  // namespace crema::resp

#endif  // CREMA_TRANSPORT_RESP_STRICT_INT_H_
