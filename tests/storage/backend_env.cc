#include "tests/storage/backend_env.h"

#include "storage/posix_file_backend.h"
#include "tests/testing/files.h"

namespace bt::storage::testing {

BackendEnv::BackendEnv(bool real) : real_(real) {
  if (real) {
    dir_ = std::make_unique<TempDir>();
    // Tests remove files underneath and expect the very next use to notice.
    backend_ = std::make_unique<PosixFileBackend>(
        PosixFileBackendOptions{.name_check_interval = absl::ZeroDuration()});
    root_ = dir_->path();
  } else {
    mem_ = new MemoryFileBackend();
    backend_.reset(mem_);
    root_ = "/dl";
  }
}

std::optional<std::string> BackendEnv::Contents(const std::string& path) {
  if (!real_) return mem_->Contents(path);
  if (!FileExists(path)) return std::nullopt;
  return ::bt::testing::ReadFileOrDie(path);
}

void BackendEnv::Put(const std::string& path, const std::string& data) {
  if (real_) {
    WriteFileOrDie(path, data);
  } else {
    mem_->SetContents(path, data);
  }
}

}  // namespace bt::storage::testing
