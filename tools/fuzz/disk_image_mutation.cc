#include "tools/fuzz/disk_image_mutation.h"

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

namespace crema::fuzz {
namespace {

[[noreturn]] void Fail(const char* what) {
  std::fprintf(stderr, "MutateDiskImage: %s\n", what);
  std::abort();
}

}  // namespace

int MutateDiskImage(FuzzInput& in, sim::SimDisk& disk, std::string_view prefix, int max_mutations,
                    bool* only_bit_flips) {
  *only_bit_flips = true;
  const int wanted = static_cast<int>(in.InRange(0, max_mutations));
  int applied = 0;
  for (int m = 0; m < wanted; ++m) {
    absl::StatusOr<std::vector<std::string>> names = disk.List(prefix);
    if (!names.ok() || names->empty()) break;
    const std::string& name = (*names)[in.InRange(0, names->size() - 1)];
    absl::StatusOr<std::unique_ptr<File>> file = disk.Open(name, OpenMode::kOpenExisting);
    if (!file.ok()) Fail("cannot open a listed file");
    const uint64_t size = (*file)->Size();
    const uint64_t at = size == 0 ? 0 : in.InRange(0, size - 1);
    absl::Status s;
    const uint8_t kind = in.U8() % 6;
    if (kind != 0) *only_bit_flips = false;
    switch (kind) {
      case 0: {
        if (size == 0) continue;
        absl::StatusOr<std::string> byte = (*file)->Read(at, 1);
        if (!byte.ok() || byte->size() != 1) Fail("cannot read a byte back");
        (*byte)[0] = static_cast<char>((*byte)[0] ^ (1 << in.InRange(0, 7)));
        s = (*file)->Write(at, *byte);
        break;
      }
      case 1: s = (*file)->Write(at, in.Bytes(16)); break;
      case 2: s = (*file)->Write(at, std::string(in.InRange(1, 1024), '\0')); break;
      case 3: s = (*file)->Truncate(at); break;
      case 4: s = (*file)->Write(size, in.Bytes(64)); break;
      default:
        file->reset();
        s = disk.Delete(name);
        break;
    }
    if (s.ok() && *file != nullptr) s = (*file)->Sync();
    if (!s.ok()) Fail("a mutation failed");
    ++applied;
  }
  return applied;
}

}  // namespace crema::fuzz
