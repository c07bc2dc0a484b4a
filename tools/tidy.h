// Tidy: a source checker that keeps node logic away from the machine (after TigerBeetle's tidy).
//
// Code under consensus/, cache/, node/ and chaos/ must reach time, the network, files, threads and
// randomness only through the environment (node/env.h). `CheckTree` scans those folders under a
// root and reports every direct use of the system clock, sleeps, threads, sockets, file APIs and
// unseeded random sources. Comments and string literals are ignored. Test and benchmark sources
// (`*_test.cc`, `*_benchmark.cc`, anything under a `testing/` folder) are exempt, and so are sim/
// and transport/, which implement the environment.
#ifndef CREMA_TOOLS_TIDY_H_
#define CREMA_TOOLS_TIDY_H_

#include <string>
#include <string_view>
#include <vector>

namespace crema::tidy {

struct Violation {
  std::string path;  // relative to the scanned root
  int line = 0;      // 1-based
  std::string rule;  // which banned API, e.g. "wall clock"
  std::string text;  // the offending source line, trimmed
};

// The folders whose code must go through the environment.
inline const std::vector<std::string>& CheckedFolders() {
  static const std::vector<std::string> folders = {"consensus", "cache", "node", "chaos"};
  return folders;
}

// Blanks out comments and string/char literals, keeping line structure (for matching).
std::string StripCommentsAndStrings(std::string_view source);

// Violations in one file's source text. `path` is used only for reporting.
std::vector<Violation> CheckSource(std::string_view path, std::string_view source);

// Whether a path (relative to the root) is exempt: tests, benchmarks, testing/ helpers.
bool IsExempt(std::string_view relative_path);

// Scans every .h/.cc file under root/<folder> for each checked folder.
std::vector<Violation> CheckTree(const std::string& root);

}  // namespace crema::tidy

#endif  // CREMA_TOOLS_TIDY_H_
