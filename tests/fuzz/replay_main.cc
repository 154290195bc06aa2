// Replays fuzz inputs through LLVMFuzzerTestOneInput when a fuzz target is
// built without libFuzzer: every file named on the command line (directories
// are walked) is fed once. Exits non-zero if there was nothing to replay or
// an input could not be read.
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <string>

#include "absl/status/statusor.h"
#include "base/file_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace {

// Corpus inputs are small; anything larger is a mistake, not an input.
constexpr size_t kMaxInput = size_t{64} << 20;

// Replay feeds the file at `path` once; false if it cannot be read.
bool Replay(const std::filesystem::path& path) {
  absl::StatusOr<std::string> bytes = bt::ReadFileToString(path, kMaxInput);
  if (!bytes.ok()) {
    std::fprintf(stderr, "%s\n", bytes.status().ToString().c_str());
    return false;
  }
  LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t*>(bytes->data()),
                         bytes->size());
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  int replayed = 0;
  bool ok = true;
  auto replay = [&](const std::filesystem::path& p) {
    if (Replay(p)) {
      ++replayed;
    } else {
      ok = false;
    }
  };
  for (int i = 1; i < argc; ++i) {
    std::filesystem::path p(argv[i]);
    if (std::filesystem::is_directory(p)) {
      for (const auto& e : std::filesystem::recursive_directory_iterator(p)) {
        if (e.is_regular_file()) replay(e.path());
      }
    } else {
      replay(p);
    }
  }
  std::printf("replayed %d inputs\n", replayed);
  return ok && replayed > 0 ? 0 : 1;
}
