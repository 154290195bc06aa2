#include "base/file_util.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>

#include "absl/strings/str_format.h"

namespace bt {
namespace {

int OpenRetry(const std::string& path, int flags, int mode = 0) {
  int fd;
  do {
    fd = ::open(path.c_str(), flags | O_CLOEXEC, mode);
  } while (fd < 0 && errno == EINTR);
  return fd;
}

absl::Status WriteAll(int fd, const std::string& path, std::string_view data) {
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoToStatus(
          errno, absl::StrFormat("write %s at offset %d", path, done));
    }
    if (n == 0) {
      return ErrnoToStatus(
          ENOSPC, absl::StrFormat("write %s at offset %d", path, done));
    }
    done += static_cast<size_t>(n);
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status ErrnoToStatus(int err, std::string_view what) {
  std::string msg = absl::StrFormat("%s: %s", what, strerror(err));
  switch (err) {
    case ENOENT:
    case ENOTDIR:
      return absl::NotFoundError(msg);
    case ENOSPC:
    case EDQUOT:
    case EFBIG:
      return absl::ResourceExhaustedError(msg);
    case EACCES:
    case EPERM:
    case EROFS:
      return absl::PermissionDeniedError(msg);
    default:
      return absl::UnavailableError(msg);
  }
}

absl::StatusOr<std::string> ReadFileToString(const std::string& path,
                                             size_t max_size) {
  int fd = OpenRetry(path, O_RDONLY);
  if (fd < 0) return ErrnoToStatus(errno, "open " + path);
  auto too_large = [&] {
    return absl::ResourceExhaustedError(absl::StrFormat(
        "read %s: larger than the limit of %d bytes", path, max_size));
  };
  struct stat st {};
  if (::fstat(fd, &st) != 0 || S_ISDIR(st.st_mode)) {
    const int err = S_ISDIR(st.st_mode) ? EISDIR : errno;
    ::close(fd);
    return ErrnoToStatus(err, "read " + path);
  }
  std::string out;
  if (S_ISREG(st.st_mode) && st.st_size > 0) {
    // The size is a hint (the file may change, /proc files say 0).
    if (static_cast<uint64_t>(st.st_size) > max_size) {
      ::close(fd);
      return too_large();
    }
    out.reserve(static_cast<size_t>(st.st_size));
  }
  absl::Status status;
  char buf[65536];
  while (true) {
    // One byte more than the limit allows tells a file that is too large.
    const size_t left = max_size - out.size();
    const size_t room = left < sizeof buf ? left + 1 : sizeof buf;
    ssize_t n = ::read(fd, buf, room);
    if (n < 0) {
      if (errno == EINTR) continue;
      status = ErrnoToStatus(
          errno, absl::StrFormat("read %s at offset %d", path, out.size()));
      break;
    }
    if (n == 0) break;
    if (out.size() + static_cast<size_t>(n) > max_size) {
      status = too_large();
      break;
    }
    out.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  if (!status.ok()) return status;
  return out;
}

absl::Status WriteFileAtomically(const std::string& path, std::string_view data,
                                 int mode) {
  const std::string tmp = path + ".tmp";
  int fd = OpenRetry(tmp, O_WRONLY | O_CREAT | O_TRUNC, mode);
  if (fd < 0) return ErrnoToStatus(errno, "create " + tmp);
  absl::Status s = WriteAll(fd, tmp, data);
  if (s.ok() && ::fsync(fd) != 0) s = ErrnoToStatus(errno, "fsync " + tmp);
  if (::close(fd) != 0 && s.ok()) s = ErrnoToStatus(errno, "close " + tmp);
  if (s.ok() && ::rename(tmp.c_str(), path.c_str()) != 0) {
    s = ErrnoToStatus(errno, absl::StrFormat("rename %s to %s", tmp, path));
  }
  if (!s.ok()) {
    ::unlink(tmp.c_str());
    return s;
  }
  std::string dir = std::filesystem::path(path).parent_path().string();
  if (dir.empty()) dir = ".";
  int dfd = OpenRetry(dir, O_RDONLY | O_DIRECTORY);
  if (dfd < 0) return ErrnoToStatus(errno, "open directory " + dir);
  if (::fsync(dfd) != 0) s = ErrnoToStatus(errno, "fsync directory " + dir);
  ::close(dfd);
  return s;
}

absl::Status MakeDirectories(const std::string& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) {
    return absl::PermissionDeniedError(
        absl::StrFormat("cannot create %s: %s", dir, ec.message()));
  }
  return absl::OkStatus();
}

}  // namespace bt
