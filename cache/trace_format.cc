#include "cache/trace_format.h"

#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "absl/strings/strip.h"

namespace crema::cache {
namespace {

absl::string_view AbslView(std::string_view s) { return absl::string_view(s.data(), s.size()); }

}  // namespace

absl::StatusOr<TraceFormat> TraceFormatFromPath(std::string_view path) {
  const absl::string_view p = AbslView(path);
  if (absl::EndsWith(p, ".lis") || absl::EndsWith(p, ".lis.zst")) return TraceFormat::kArcLis;
  if (absl::EndsWith(p, ".trace") || absl::EndsWith(p, ".trace.gz")) return TraceFormat::kLirs;
  return absl::InvalidArgumentError(absl::StrCat(
      "cannot tell the trace format of '", p, "' (want .lis[.zst] or .trace[.gz])"));
}

absl::Status ParseTraceLine(TraceFormat format, std::string_view line,
                            absl::FunctionRef<void(uint64_t key)> emit) {
  const absl::string_view text = absl::StripAsciiWhitespace(AbslView(line));
  if (text.empty()) return absl::OkStatus();
  if (format == TraceFormat::kLirs) {
    if (text == "*") return absl::OkStatus();
    uint64_t key = 0;
    if (!absl::SimpleAtoi(text, &key)) {
      return absl::InvalidArgumentError(absl::StrCat("LIRS trace line is not a key: '", text, "'"));
    }
    emit(key);
    return absl::OkStatus();
  }
  const std::vector<absl::string_view> fields =
      absl::StrSplit(text, ' ', absl::SkipWhitespace());
  uint64_t start = 0;
  int64_t blocks = 0;
  if (fields.size() < 2 || !absl::SimpleAtoi(fields[0], &start) ||
      !absl::SimpleAtoi(fields[1], &blocks)) {
    return absl::InvalidArgumentError(
        absl::StrCat("ARC trace line is not 'start nblocks ...': '", text, "'"));
  }
  if (blocks < 0 || blocks > kMaxBlocksPerTraceLine) {
    return absl::InvalidArgumentError(absl::StrCat("ARC trace line has ", blocks,
                                                   " blocks (allowed 0..",
                                                   kMaxBlocksPerTraceLine, ")"));
  }
  for (int64_t i = 0; i < blocks; ++i) emit(start + static_cast<uint64_t>(i));
  return absl::OkStatus();
}

}  // namespace crema::cache
