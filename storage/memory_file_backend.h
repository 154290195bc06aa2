// MemoryFileBackend: FileBackend over an in-memory map of paths to bytes,
// for tests. It can simulate a full disk and refused access, and lets a
// test remove or truncate files "underneath" the storage.
//
//   bt::storage::MemoryFileBackend mem;
//   mem.set_capacity(1 << 20);            // writes past 1 MiB: kResourceExhausted
//   mem.DenyWrites("/dl/a.bin", true);     // kPermissionDenied
//   mem.FailReads("/dl/a.bin", true);      // reads: kUnavailable (EIO)
//   ASSIGN_OR_RETURN(auto storage,
//                    bt::storage::PieceStorage::Create(torrent, "/dl", &mem));
//
// Files read as written; bytes never written inside a file read as zeros
// (like a sparse file). Modification times come from a counter that
// advances on every change, so they differ after any write. Handles are
// "opened" on first use (the observer sees kRead or kWrite, and a reopen
// when a read handle must become writable) and "closed" by CloseAll or
// Remove. Thread-safe.
#ifndef STORAGE_MEMORY_FILE_BACKEND_H_
#define STORAGE_MEMORY_FILE_BACKEND_H_

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>

#include "absl/synchronization/mutex.h"
#include "storage/file_backend.h"

namespace bt::storage {

class MemoryFileBackend : public FileBackend {
 public:
  MemoryFileBackend() = default;

  void SetOpenObserver(OpenObserver observer) override;
  absl::StatusOr<size_t> Read(const std::string& path, int64_t offset,
                              MutableByteSpan out) override;
  // ReadScatterCached reads as ReadScatter: every byte is in memory.
  absl::StatusOr<size_t> ReadScatterCached(
      const std::string& path, int64_t offset,
      absl::Span<const MutableByteSpan> parts) override {
    return ReadScatter(path, offset, parts);
  }
  absl::Status Write(const std::string& path, int64_t offset, ByteSpan data,
                     bool create) override;
  absl::StatusOr<FileStat> Stat(const std::string& path) override;
  absl::Status Resize(const std::string& path, int64_t size) override;
  absl::Status Remove(const std::string& path) override;
  absl::StatusOr<std::string> ReadWholeFile(const std::string& path,
                                            size_t max_size) override;
  absl::Status ReplaceFileAtomically(const std::string& path,
                                     std::string_view data) override;
  absl::Status MoveFile(const std::string& from,
                        const std::string& to) override;
  absl::Status RemoveEmptyDirectory(const std::string&) override { return {}; }
  absl::Status Sync(const std::string& path) override { return {}; }
  void CloseAll() override;

  // --- test controls ---
  // set_capacity limits the total bytes of all files (nullopt: unlimited);
  // a write or resize that would pass it fails with kResourceExhausted.
  void set_capacity(std::optional<int64_t> bytes);
  // DenyWrites makes writes to `path` fail with kPermissionDenied.
  void DenyWrites(const std::string& path, bool deny);
  // set_moves_copy makes MoveFile behave as across file systems: the copy
  // needs room within the capacity before the source goes.
  void set_moves_copy(bool copy);
  // FailReads makes reads of an existing `path` (Read, not ReadWholeFile)
  // fail with kUnavailable, as a disk's I/O error does.
  void FailReads(const std::string& path, bool fail);
  // Contents returns a file's bytes, or nullopt if it does not exist.
  std::optional<std::string> Contents(const std::string& path) const;
  // SetContents creates or replaces a file (bypassing capacity checks).
  void SetContents(const std::string& path, std::string data);
  // Exists says whether `path` is a file.
  bool Exists(const std::string& path) const;
  // Paths lists every file.
  std::set<std::string> Paths() const;
  // TotalBytes is the sum of all file sizes.
  int64_t TotalBytes() const;

 private:
  struct File {
    std::string data;
    int64_t mtime = 0;
  };
  void TouchOpen(const std::string& path, OpenMode mode);
  // Forget drops `path`'s open handle, telling the observer.
  void Forget(const std::string& path);
  int64_t TotalLocked() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  mutable absl::Mutex mu_;
  std::map<std::string, File> files_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, OpenMode> open_ ABSL_GUARDED_BY(mu_);
  std::set<std::string> deny_ ABSL_GUARDED_BY(mu_);
  std::set<std::string> fail_reads_ ABSL_GUARDED_BY(mu_);
  std::optional<int64_t> capacity_ ABSL_GUARDED_BY(mu_);
  bool moves_copy_ ABSL_GUARDED_BY(mu_) = false;
  int64_t clock_ ABSL_GUARDED_BY(mu_) = 1'000'000'000;
  absl::Mutex observer_mu_;
  OpenObserver observer_;
};

}  // namespace bt::storage

#endif  // STORAGE_MEMORY_FILE_BACKEND_H_
