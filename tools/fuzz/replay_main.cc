// The `main` of every fuzz target's `_corpus_test` (fuzz.bzl): runs the target's entry point,
// LLVMFuzzerTestOneInput, over its checked-in corpus with any compiler, so the default test suite
// (gcc, no libFuzzer) replays every seed and every regression input on each submission.
//
// For each file under the directories given as arguments (sorted, recursively), in order:
//   the file itself; every prefix at up to kMaxPrefixesPerFile evenly spaced lengths; and
//   kMutantsPerFile copies with 1-4 random byte edits (seeded: CREMA_SEED, printed first).
// A crash, sanitizer report or MemoryBudget abort fails the test; the variant that did it is
// reproduced by the printed file name and CREMA_SEED. The test also fails if the corpus is
// empty (a wrong path must not pass silently).
#include <dirent.h>
#include <sys/stat.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "node/random.h"
#include "sim/test_seed.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace {

constexpr size_t kMaxPrefixesPerFile = 16;
constexpr int kMutantsPerFile = 24;

void ListFiles(const std::string& path, std::vector<std::string>* out) {
  struct stat st;
  if (stat(path.c_str(), &st) != 0) return;
  if (!S_ISDIR(st.st_mode)) {
    out->push_back(path);
    return;
  }
  DIR* dir = opendir(path.c_str());
  if (dir == nullptr) return;
  while (dirent* e = readdir(dir)) {
    const std::string name = e->d_name;
    if (name == "." || name == "..") continue;
    ListFiles(path + "/" + name, out);
  }
  closedir(dir);
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}


void Run(const std::string& bytes) {
  LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
}

}  // namespace

int main(int argc, char** argv) {
  const uint64_t seed = crema::sim::TestSeed();
  crema::Random random(seed);
  std::vector<std::string> files;
  for (int i = 1; i < argc; ++i) ListFiles(argv[i], &files);
  std::sort(files.begin(), files.end());
  if (files.empty()) {
    std::fprintf(stderr, "no corpus files under the given paths\n");
    return 1;
  }
  size_t runs = 0;
  for (const std::string& path : files) {
    const std::string input = ReadFile(path);
    std::fprintf(stderr, "replaying %s (%zu bytes)\n", path.c_str(), input.size());
    Run(input);
    ++runs;
    const size_t step = std::max<size_t>(1, input.size() / kMaxPrefixesPerFile);
    for (size_t n = 0; n < input.size(); n += step, ++runs) Run(input.substr(0, n));
    for (int m = 0; m < kMutantsPerFile; ++m, ++runs) {
      std::string mutant = input.empty() ? std::string(1, '\0') : input;
      const int edits = 1 + static_cast<int>(random.Uniform(4));
      for (int e = 0; e < edits; ++e) {
        mutant[random.Uniform(mutant.size())] = static_cast<char>(random.Uniform(256));
      }
      Run(mutant);
    }
  }
  std::fprintf(stderr, "%zu inputs from %zu corpus files: no crash\n", runs, files.size());
  return 0;
}
