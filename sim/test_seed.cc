#include "sim/test_seed.h"

#include <cstdio>
#include <cstdlib>
#include <random>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace crema::sim {
namespace {

bool SeedFromEnv(uint64_t* seed) {
  const char* text = std::getenv("CREMA_SEED");
  if (text == nullptr || *text == '\0') return false;
  if (!absl::SimpleAtoi(text, seed)) {
    std::fprintf(stderr, "CREMA_SEED=%s is not a decimal 64-bit integer\n", text);
    std::abort();
  }
  return true;
}

uint64_t FreshSeed() {
  std::random_device device;
  return (static_cast<uint64_t>(device()) << 32) ^ device();
}

}  // namespace

uint64_t TestSeed() {
  uint64_t seed = 0;
  const bool pinned = SeedFromEnv(&seed);
  if (!pinned) seed = FreshSeed();
  std::fprintf(stderr, "CREMA_SEED=%llu (%s)\n", static_cast<unsigned long long>(seed),
               pinned ? "from environment" : "fresh");
  std::fflush(stderr);
  return seed;
}

std::vector<uint64_t> TestSeeds(int count) {
  uint64_t seed = 0;
  if (SeedFromEnv(&seed)) {
    std::fprintf(stderr, "CREMA_SEED=%llu (from environment; one seed)\n",
                 static_cast<unsigned long long>(seed));
    return {seed};
  }
  const char* override_count = std::getenv("CREMA_SEEDS");
  int n = count;
  if (override_count != nullptr && !absl::SimpleAtoi(override_count, &n)) n = count;
  std::vector<uint64_t> seeds;
  seeds.reserve(n);
  for (int i = 0; i < n; ++i) seeds.push_back(FreshSeed());
  std::fprintf(stderr, "running %d fresh seeds, first CREMA_SEED=%llu\n", n,
               static_cast<unsigned long long>(seeds.empty() ? 0 : seeds[0]));
  // All of them, up front: if one hangs until the test times out, the log still names it.
  std::string all;
  for (size_t i = 0; i < seeds.size() && i < 200; ++i) absl::StrAppend(&all, " ", seeds[i]);
  std::fprintf(stderr, "seeds:%s%s\n", all.c_str(), seeds.size() > 200 ? " ..." : "");
  std::fflush(stderr);
  return seeds;
}

std::string ReproCommand(uint64_t seed) {
  const char* target = std::getenv("TEST_TARGET");
  return absl::StrCat("bazel test ", target != nullptr ? target : "<this test target>",
                      " --test_env=CREMA_SEED=", seed);
}

}  // namespace crema::sim
