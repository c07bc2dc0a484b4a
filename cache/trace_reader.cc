#include "cache/trace_reader.h"

#include <zlib.h>

#include <cstdio>
#include <cstdlib>
#include <string_view>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "cache/trace_format.h"

namespace crema::cache {
namespace {

// Longest line accepted; longer lines are an error rather than silently split.
constexpr int kMaxLineBytes = 4096;

std::string ShellQuote(const std::string& s) {
  return absl::StrCat("'", absl::StrReplaceAll(s, {{"'", "'\\''"}}), "'");
}

// Calls `next(buffer)` until it returns false, parsing each line.
template <typename NextLine>
absl::Status ParseLines(const std::string& path, TraceFormat format, NextLine next,
                        std::vector<uint64_t>& keys) {
  char line[kMaxLineBytes];
  int64_t line_number = 0;
  while (next(line)) {
    ++line_number;
    std::string_view text(line);
    if (!text.empty() && text.back() != '\n' && text.size() == sizeof(line) - 1) {
      return absl::InvalidArgumentError(
          absl::StrCat(path, ":", line_number, ": line longer than ", kMaxLineBytes, " bytes"));
    }
    absl::Status status =
        ParseTraceLine(format, text, [&](uint64_t key) { keys.push_back(key); });
    if (!status.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat(path, ":", line_number, ": ", status.message()));
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::vector<uint64_t>> ReadTraceFile(const std::string& path) {
  const absl::StatusOr<TraceFormat> format = TraceFormatFromPath(path);
  if (!format.ok()) return format.status();
  std::vector<uint64_t> keys;
  absl::Status status;
  if (absl::EndsWith(path, ".gz")) {
    gzFile file = gzopen(path.c_str(), "rb");
    if (file == nullptr) return absl::NotFoundError(absl::StrCat("cannot open ", path));
    status = ParseLines(
        path, *format,
        [&](char* line) { return gzgets(file, line, kMaxLineBytes) != nullptr; }, keys);
    gzclose(file);
  } else {
    const std::string command = absl::EndsWith(path, ".zst")
                                    ? absl::StrCat("zstd -dc -- ", ShellQuote(path))
                                    : absl::StrCat("cat -- ", ShellQuote(path));
    std::FILE* pipe = ::popen(command.c_str(), "r");
    if (pipe == nullptr) return absl::InternalError(absl::StrCat("cannot run: ", command));
    status = ParseLines(
        path, *format,
        [&](char* line) { return std::fgets(line, kMaxLineBytes, pipe) != nullptr; }, keys);
    const int exit_code = ::pclose(pipe);
    if (status.ok() && exit_code != 0) {
      status = absl::DataLossError(absl::StrCat("reading ", path, " failed (exit ", exit_code,
                                                ")"));
    }
  }
  if (!status.ok()) return status;
  if (keys.empty()) return absl::InvalidArgumentError(absl::StrCat(path, " holds no requests"));
  return keys;
}

}  // namespace crema::cache
