// Debian's Abseil (20220623) is built with its own absl::string_view, distinct from
// std::string_view; these convert between the two without copying.
#ifndef CREMA_TRANSPORT_RESP_ABSL_VIEW_H_
#define CREMA_TRANSPORT_RESP_ABSL_VIEW_H_

#include <string_view>

#include "absl/strings/string_view.h"

namespace crema {

inline absl::string_view Av(std::string_view s) { return absl::string_view(s.data(), s.size()); }
inline std::string_view Sv(absl::string_view s) { return std::string_view(s.data(), s.size()); }

}  // namespace crema

#endif  // CREMA_TRANSPORT_RESP_ABSL_VIEW_H_
