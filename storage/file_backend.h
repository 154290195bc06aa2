// FileBackend: the small file I/O interface storage runs on. PieceStorage,
// the hash checker and resume data do all their file access through it, so
// tests can run on MemoryFileBackend and production on PosixFileBackend.
//
//   bt::storage::PosixFileBackend disk;            // or MemoryFileBackend
//   RETURN_IF_ERROR(disk.Write("/dl/a.bin", 16384, block));  // creates a.bin
//   std::vector<uint8_t> buf(16384);
//   ASSIGN_OR_RETURN(size_t n, disk.Read("/dl/a.bin", 16384, absl::MakeSpan(buf)));
//
// Paths are plain strings handed over as they are (callers build them from
// sanitised torrent paths). Error codes are the same for every backend:
//   kNotFound          the file (or a directory on its path) does not exist
//   kResourceExhausted no space left on the device (ENOSPC, EDQUOT, EFBIG)
//   kPermissionDenied  access refused (EACCES, EPERM, EROFS)
//   kDataLoss          a file that had to exist was removed underneath
//   kUnavailable       any other I/O error
// and the message names the operation, the path and the offset.
#ifndef STORAGE_FILE_BACKEND_H_
#define STORAGE_FILE_BACKEND_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "base/bytes.h"

namespace bt::storage {

// FileStat is what storage needs to know about a file on disk.
struct FileStat {
  int64_t size = 0;
  // mtime_ns is the modification time in nanoseconds since the epoch (as
  // the backend's file system keeps it).
  int64_t mtime_ns = 0;
  // device and inode identify the file where the backend knows (0 else):
  // two paths naming one file have the same non-zero pair.
  uint64_t device = 0;
  uint64_t inode = 0;
};

// OpenMode is how a backend opened a file: kRead ('r') or kWrite ('w', read
// and write).
enum class OpenMode { kRead, kWrite };

// SendableFile is a file descriptor of its own (closed when the object
// goes), for sending a file's bytes to a socket without copying them
// through memory (sendfile(2)), on any thread.
class SendableFile {
 public:
  SendableFile(int fd, std::string path) : fd_(fd), path_(std::move(path)) {}
  ~SendableFile();
  SendableFile(const SendableFile&) = delete;
  SendableFile& operator=(const SendableFile&) = delete;
  int fd() const { return fd_; }
  const std::string& path() const { return path_; }
  // Prefetch brings [offset, offset + length) into the page cache, waiting
  // for the disk if it must (call it off the event loop), so that sending
  // the range later does not wait.
  void Prefetch(int64_t offset, int64_t length) const;

 private:
  const int fd_;
  const std::string path_;
};

class FileBackend {
 public:
  // OpenObserver is told each time the backend opens (`opened` true) or
  // closes a file handle. It may be called from any thread that uses the
  // backend, but never concurrently with itself for one backend.
  using OpenObserver =
      std::function<void(const std::string& path, bool opened, OpenMode mode)>;

  virtual ~FileBackend() = default;

  // SetOpenObserver installs the observer (empty to remove). Not
  // thread-safe: call before using the backend from several threads.
  virtual void SetOpenObserver(OpenObserver observer) = 0;

  // Read reads up to out.size() bytes at `offset` and returns how many it
  // read; fewer only when the file ends first. kNotFound if the file does
  // not exist. Thread-safe.
  virtual absl::StatusOr<size_t> Read(const std::string& path, int64_t offset,
                                      MutableByteSpan out) = 0;
  // ReadScatter fills `parts` one after another from `offset`, as Read
  // would their concatenation, and returns how many bytes it read
  // (PosixFileBackend: in one preadv). The default reads them one by one.
  virtual absl::StatusOr<size_t> ReadScatter(
      const std::string& path, int64_t offset,
      absl::Span<const MutableByteSpan> parts);
  // ReadScatterCached is ReadScatter for a thread that must not block (an
  // event loop): it reads only bytes already in memory (PosixFileBackend:
  // in the page cache, with RWF_NOWAIT) of a file already open, never
  // opening one or waiting for the device, and returns how many it read,
  // from none to all. Read what it did not with ReadScatter elsewhere.
  // kUnimplemented (the default) where the backend cannot tell what is in
  // memory.
  virtual absl::StatusOr<size_t> ReadScatterCached(
      const std::string& path, int64_t offset,
      absl::Span<const MutableByteSpan> parts);

  // Visit calls `consume` with the bytes of the file from `offset`, up to
  // `length` of them, in order and in one or more views, copying as little
  // as the backend can (PosixFileBackend maps the file); it returns how many
  // bytes were visited (fewer only when the file ends first). Views are
  // valid only during the call. If the file shrinks while being visited the
  // call may stop inside `consume` and return kDataLoss, so `consume` must
  // not hold resources that need releasing (hashing into a caller-owned
  // state is fine). kNotFound if the file does not exist. Thread-safe.
  // The default reads through Read into a buffer.
  virtual absl::StatusOr<int64_t> Visit(
      const std::string& path, int64_t offset, int64_t length,
      const std::function<void(ByteSpan)>& consume);

  // Write writes all of `data` at `offset`. With `create` the file and its
  // parent directories are created when missing (sparse: nothing is
  // allocated for the bytes before `offset`); without it a missing file is
  // kDataLoss ("removed underneath"). A cached handle to a file that was
  // unlinked meanwhile is noticed and no longer written to (by
  // PosixFileBackend within its name_check_interval). Thread-safe.
  virtual absl::Status Write(const std::string& path, int64_t offset,
                             ByteSpan data, bool create) = 0;
  // WriteGather writes `parts` one after another from `offset`, as Write
  // would their concatenation (PosixFileBackend: in one pwritev, so a run
  // of blocks costs one system call). The default writes them one by one.
  virtual absl::Status WriteGather(const std::string& path, int64_t offset,
                                   absl::Span<const ByteSpan> parts,
                                   bool create);

  // Stat returns the size and mtime of a file; kNotFound if missing.
  virtual absl::StatusOr<FileStat> Stat(const std::string& path) = 0;

  // Resize sets a file's size, creating it (and its directories) if needed.
  virtual absl::Status Resize(const std::string& path, int64_t size) = 0;

  // Remove deletes a file; OK if it did not exist.
  virtual absl::Status Remove(const std::string& path) = 0;

  // ReadWholeFile returns the contents of a file of at most `max_size`
  // bytes (kResourceExhausted if larger, kNotFound if missing).
  virtual absl::StatusOr<std::string> ReadWholeFile(const std::string& path,
                                                    size_t max_size) = 0;

  // ReplaceFileAtomically makes `path` hold `data` such that a crash at any
  // moment leaves either the old file or the new one complete: write a
  // temporary file next to it, flush it to stable storage, rename it over
  // `path`, flush the directory.
  virtual absl::Status ReplaceFileAtomically(const std::string& path,
                                             std::string_view data) = 0;

  // MoveFile moves the file `from` to `to`, creating `to`'s parent
  // directories: a rename on one file system, else (rename(2) fails with
  // EXDEV) a copy flushed to stable storage, with the source's mtime and
  // permission bits, before `from` is removed, so a crash at any moment
  // leaves at least one complete copy. Never replaces a file:
  // kAlreadyExists if `to` exists. kNotFound if `from` is missing. On
  // failure `from` is intact and no partial `to` is left behind. Cached
  // handles of both paths are closed first.
  virtual absl::Status MoveFile(const std::string& from,
                                const std::string& to) = 0;

  // RemoveEmptyDirectory removes the directory `path` if it is empty; OK
  // (and nothing done) if it is missing, not empty or not a directory.
  // Backends without directories do nothing.
  virtual absl::Status RemoveEmptyDirectory(const std::string& path) = 0;

  // Sync flushes a file's data to stable storage (no-op if not open).
  virtual absl::Status Sync(const std::string& path) = 0;

  // OpenForSending returns a descriptor of its own for the existing file
  // `path`. kUnimplemented for a backend without descriptors (the
  // default: read the bytes instead). Thread-safe.
  virtual absl::StatusOr<std::shared_ptr<const SendableFile>> OpenForSending(
      const std::string& path);

  // CloseAll closes every cached handle (before files are moved, or after a
  // disk error so the next access starts afresh).
  virtual void CloseAll() = 0;
};

}  // namespace bt::storage

#endif  // STORAGE_FILE_BACKEND_H_
