// Whole-file helpers every layer and tool shares: read a file into a string
// under a size limit, and replace a file atomically (state files, resume
// data, torrents written by tools).
//
//   ASSIGN_OR_RETURN(std::string bytes,
//                    bt::ReadFileToString("/state/album.resume", 64 << 20));
//   RETURN_IF_ERROR(bt::WriteFileAtomically("/state/album.resume", bytes));
//
// Errors carry the operation and the path in their message, with the codes
// storage::FileBackend uses too:
//   kNotFound          the file (or a directory on its path) does not exist
//   kResourceExhausted a size limit hit, or no space left on the device
//   kPermissionDenied  access refused (EACCES, EPERM, EROFS)
//   kUnavailable       any other I/O error
#ifndef BASE_FILE_UTIL_H_
#define BASE_FILE_UTIL_H_

#include <cstddef>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace bt {

// ErrnoToStatus turns the errno `err` of a failed file operation into a
// status with the code listed above and the message "<what>: <strerror>";
// `what` names the operation and the path ("open /dl/a.bin").
absl::Status ErrnoToStatus(int err, std::string_view what);

// ReadFileToString returns the contents of the file at `path`. Errors:
// kNotFound if it does not exist, kResourceExhausted if it holds more than
// `max_size` bytes (nothing beyond the limit is kept in memory),
// kPermissionDenied or kUnavailable if it cannot be opened or read (a
// directory, an I/O error).
absl::StatusOr<std::string> ReadFileToString(const std::string& path,
                                             size_t max_size);

// WriteFileAtomically makes `path` hold `data` such that a crash at any
// moment leaves either the old file or the new one complete: it writes
// "<path>.tmp" in the same directory (created with permission bits `mode`
// before the umask), flushes it to stable storage, renames it over `path`
// and flushes the directory. On failure the temporary file is removed and
// the old file is untouched (unless only the final directory flush
// failed: then the new file is in place but its name may not be durable).
// The directory must exist (kNotFound otherwise). Writers of one path must
// not run concurrently (they would share the temporary file).
absl::Status WriteFileAtomically(const std::string& path, std::string_view data,
                                 int mode = 0644);

// MakeDirectories creates `dir` and any missing parents (nothing if it
// exists). Errors: kPermissionDenied naming the directory and the
// system's reason.
absl::Status MakeDirectories(const std::string& dir);

}  // namespace bt

#endif  // BASE_FILE_UTIL_H_
