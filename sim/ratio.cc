#include "sim/ratio.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace crema::sim {

std::string Ratio::ToString() const { return absl::StrCat(numerator, "/", denominator); }

std::optional<Ratio> ParseRatio(std::string_view text) {
  if (text == "0") return Ratio{0, 1};
  const size_t slash = text.find('/');
  if (slash == std::string_view::npos) return std::nullopt;
  Ratio ratio;
  const std::string numerator(text.substr(0, slash));
  const std::string denominator(text.substr(slash + 1));
  if (!absl::SimpleAtoi(numerator, &ratio.numerator) ||
      !absl::SimpleAtoi(denominator, &ratio.denominator)) {
    return std::nullopt;
  }
  if (ratio.denominator == 0 || ratio.numerator > ratio.denominator) return std::nullopt;
  return ratio;
}

}  // namespace crema::sim
