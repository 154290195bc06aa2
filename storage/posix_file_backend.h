// PosixFileBackend: FileBackend on the local file system, with pread/pwrite
// and a bounded cache of open file descriptors (least recently used closed
// first).
//
//   bt::storage::PosixFileBackend disk({.max_open_files = 64});
//   ASSIGN_OR_RETURN(auto storage,
//                    bt::storage::PieceStorage::Create(torrent, "/dl", &disk));
//
// Files are opened read-only until something must be written, then
// reopened read-write. A cached descriptor is checked to still have a name
// when reused, at most once per name_check_interval (a file deleted
// underneath is then no longer written to: the write fails with kDataLoss,
// or, when creation is allowed, the file is created afresh). Visit can map
// files for zero-copy reads (see PosixFileBackendOptions::map_reads).
// Thread-safe; descriptors stay valid while in use even if the cache evicts
// them meanwhile.
#ifndef STORAGE_POSIX_FILE_BACKEND_H_
#define STORAGE_POSIX_FILE_BACKEND_H_

#include <cstddef>
#include <list>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "storage/file_backend.h"

namespace bt::storage {

struct PosixFileBackendOptions {
  // Most descriptors kept open at once (at least 1).
  size_t max_open_files = 64;
  // Permission bits for files created (before the umask).
  int file_mode = 0644;
  // map_reads makes Visit map files instead of copying them out of the
  // page cache. A file truncated while mapped raises SIGBUS; a process-wide
  // SIGBUS handler, installed on first use, turns that into a kDataLoss
  // error for the visiting thread and passes other SIGBUS on to the
  // previous handler. Off by default: mapping saves the copy only when the
  // page cache holds the file in 2 MiB folios (then it maps a whole folio
  // per fault: 0.01 s of kernel time per 2 GiB against 0.1 s for copying);
  // with smaller folios the page-table work costs as much as copying or up
  // to twice that, and the process-wide signal handler is paid either way.
  bool map_reads = false;
  // How often a reused descriptor is checked to still have a name (a
  // system call). Checking on every use cost a downloader 3% and a seeder
  // 5% of its CPU (one check per 16 KiB block); a file deleted while in
  // use is then noticed within this interval. Zero checks every use.
  absl::Duration name_check_interval = absl::Milliseconds(250);
};

class PosixFileBackend : public FileBackend {
 public:
  explicit PosixFileBackend(PosixFileBackendOptions options = {});
  ~PosixFileBackend() override;
  PosixFileBackend(const PosixFileBackend&) = delete;
  PosixFileBackend& operator=(const PosixFileBackend&) = delete;

  void SetOpenObserver(OpenObserver observer) override;
  absl::StatusOr<size_t> Read(const std::string& path, int64_t offset,
                              MutableByteSpan out) override;
  absl::StatusOr<size_t> ReadScatter(
      const std::string& path, int64_t offset,
      absl::Span<const MutableByteSpan> parts) override;
  absl::StatusOr<size_t> ReadScatterCached(
      const std::string& path, int64_t offset,
      absl::Span<const MutableByteSpan> parts) override;
  absl::StatusOr<int64_t> Visit(
      const std::string& path, int64_t offset, int64_t length,
      const std::function<void(ByteSpan)>& consume) override;
  absl::Status Write(const std::string& path, int64_t offset, ByteSpan data,
                     bool create) override;
  absl::Status WriteGather(const std::string& path, int64_t offset,
                           absl::Span<const ByteSpan> parts,
                           bool create) override;
  absl::StatusOr<FileStat> Stat(const std::string& path) override;
  absl::StatusOr<std::shared_ptr<const SendableFile>> OpenForSending(
      const std::string& path) override;
  absl::Status Resize(const std::string& path, int64_t size) override;
  absl::Status Remove(const std::string& path) override;
  absl::StatusOr<std::string> ReadWholeFile(const std::string& path,
                                            size_t max_size) override;
  absl::Status ReplaceFileAtomically(const std::string& path,
                                     std::string_view data) override;
  absl::Status MoveFile(const std::string& from,
                        const std::string& to) override;
  absl::Status RemoveEmptyDirectory(const std::string& path) override;
  absl::Status Sync(const std::string& path) override;
  void CloseAll() override;

  // open_files is the number of descriptors in the cache now.
  size_t open_files() const;

 private:
  struct Handle;
  struct Entry {
    std::shared_ptr<Handle> handle;
    std::list<std::string>::iterator lru;
  };

  // Acquire returns an open handle for `path`, writable if `write`.
  absl::StatusOr<std::shared_ptr<Handle>> Acquire(const std::string& path,
                                                  bool write, bool create);
  // FindLocked returns the cached handle for `path` when it can serve
  // (writable if `write`), or null; a handle whose file lost its name, or a
  // read-only one wanted for writing, is evicted into `dropped` (close those
  // outside the lock). kDataLoss when a file to write without `create` was
  // removed.
  absl::StatusOr<std::shared_ptr<Handle>> FindLocked(
      const std::string& path, bool write, bool create,
      std::vector<std::shared_ptr<Handle>>& dropped)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void EvictLocked(const std::string& path) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Close drops the cached handle of `path` (it closes once unused).
  void Close(const std::string& path);
  void NotifyOpen(const std::string& path, bool opened, OpenMode mode);

  const PosixFileBackendOptions options_;
  mutable absl::Mutex mu_;
  std::unordered_map<std::string, Entry> cache_ ABSL_GUARDED_BY(mu_);
  std::list<std::string> lru_ ABSL_GUARDED_BY(mu_);  // front = most recent
  absl::Mutex observer_mu_;
  std::shared_ptr<OpenObserver> observer_;
};

}  // namespace bt::storage

#endif  // STORAGE_POSIX_FILE_BACKEND_H_
