// Test-only: a storage backend for tests that run on both (in memory, or
// real files in a temporary directory), and a way to look at its files.
//
//   bt::storage::testing::BackendEnv env(/*real=*/GetParam());
//   auto s = bt::storage::PieceStorage::Create(info, env.root(),
//                                              env.backend());
//   EXPECT_EQ(env.Contents(env.root() + "/t/a.bin"), "...");
#ifndef TESTS_STORAGE_BACKEND_ENV_H_
#define TESTS_STORAGE_BACKEND_ENV_H_

#include <memory>
#include <optional>
#include <string>

#include "storage/file_backend.h"
#include "storage/memory_file_backend.h"
#include "tests/storage/storage_test_util.h"

namespace bt::storage::testing {

class BackendEnv {
 public:
  // BackendEnv makes a PosixFileBackend rooted in a fresh TempDir if
  // `real`, else a MemoryFileBackend rooted at "/dl".
  explicit BackendEnv(bool real);
  bool real() const { return real_; }
  FileBackend* backend() { return backend_.get(); }
  // mem is the in-memory backend, null for real files.
  MemoryFileBackend* mem() { return mem_; }
  const std::string& root() const { return root_; }
  // Contents is the file's bytes, or nullopt if it does not exist.
  std::optional<std::string> Contents(const std::string& path);
  // Put creates (or replaces) a file holding `data`.
  void Put(const std::string& path, const std::string& data);

 private:
  bool real_;
  std::unique_ptr<TempDir> dir_;
  std::unique_ptr<FileBackend> backend_;
  MemoryFileBackend* mem_ = nullptr;
  std::string root_;
};

}  // namespace bt::storage::testing

#endif  // TESTS_STORAGE_BACKEND_ENV_H_
