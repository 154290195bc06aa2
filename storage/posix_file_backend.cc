#include "storage/posix_file_backend.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <mutex>
#include <utility>
#include <vector>

#include "absl/container/inlined_vector.h"
#include "absl/strings/str_format.h"
#include "base/file_util.h"
#include "base/status_macros.h"

namespace bt::storage {

namespace {

absl::Status ErrnoStatus(int err, std::string_view op, const std::string& path,
                         int64_t offset = -1) {
  return ErrnoToStatus(
      err, offset >= 0 ? absl::StrFormat("%s %s at offset %d", op, path, offset)
                       : absl::StrFormat("%s %s", op, path));
}

std::string ParentDir(const std::string& path) {
  size_t slash = path.find_last_of('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

// MakeParentDirs creates the directories leading to `path`.
absl::Status MakeParentDirs(const std::string& path) {
  std::string dir = ParentDir(path);
  for (size_t i = 1; i <= dir.size(); ++i) {
    if (i != dir.size() && dir[i] != '/') continue;
    std::string prefix = dir.substr(0, i);
    if (mkdir(prefix.c_str(), 0755) != 0 && errno != EEXIST) {
      return ErrnoStatus(errno, "mkdir", prefix);
    }
  }
  return absl::OkStatus();
}

int OpenRetry(const std::string& path, int flags, int mode) {
  int fd;
  do {
    fd = open(path.c_str(), flags | O_CLOEXEC, mode);
  } while (fd < 0 && errno == EINTR);
  return fd;
}

absl::Status WriteAll(int fd, const std::string& path, int64_t offset,
                      ByteSpan data) {
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = pwrite(fd, data.data() + done, data.size() - done,
                       offset + static_cast<int64_t>(done));
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoStatus(errno, "write", path, offset + done);
    }
    if (n == 0) return ErrnoStatus(ENOSPC, "write", path, offset + done);
    done += static_cast<size_t>(n);
  }
  return absl::OkStatus();
}

// CopyFile copies `from` (open as `in`) to the new file `to` (created
// exclusively), keeping holes as holes, the permission bits and the mtime,
// and flushes it and its directory to stable storage. On failure `to` is
// removed.
absl::Status CopyFile(int in, const std::string& from, const std::string& to) {
  struct stat st;
  if (fstat(in, &st) != 0) return ErrnoStatus(errno, "stat", from);
  int out = OpenRetry(to, O_WRONLY | O_CREAT | O_EXCL, st.st_mode & 07777);
  if (out < 0) {
    if (errno == EEXIST) {
      return absl::AlreadyExistsError(
          absl::StrFormat("copy %s to %s: the destination exists", from, to));
    }
    return ErrnoStatus(errno, "create", to);
  }
  auto fail = [&](absl::Status s) {
    close(out);
    unlink(to.c_str());
    return s;
  };
  if (ftruncate(out, st.st_size) != 0) {
    return fail(ErrnoStatus(errno, "truncate", to, st.st_size));
  }
  std::vector<uint8_t> buf(size_t{1} << 20);
  for (int64_t at = 0; at < st.st_size;) {
    ssize_t n = pread(in, buf.data(), buf.size(), at);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return fail(ErrnoStatus(errno, "read", from, at));
    if (n == 0) break;  // the source shrank: the rest stays a hole
    ByteSpan chunk(buf.data(), static_cast<size_t>(n));
    // Blocks of zeros stay holes (the file was sized above).
    const bool zeros = std::all_of(chunk.begin(), chunk.end(),
                                   [](uint8_t b) { return b == 0; });
    if (!zeros) {
      absl::Status w = WriteAll(out, to, at, chunk);
      if (!w.ok()) return fail(w);
    }
    at += n;
  }
  struct timespec times[2] = {st.st_atim, st.st_mtim};
  if (futimens(out, times) != 0) return fail(ErrnoStatus(errno, "utimes", to));
  if (fsync(out) != 0) return fail(ErrnoStatus(errno, "fsync", to));
  if (close(out) != 0) {
    unlink(to.c_str());
    return ErrnoStatus(errno, "close", to);
  }
  int dir = OpenRetry(ParentDir(to), O_RDONLY | O_DIRECTORY, 0);
  if (dir >= 0) {
    fsync(dir);
    close(dir);
  }
  return absl::OkStatus();
}

// SIGBUS guard for mapped reads: while a thread visits a mapping, a fault
// inside it (the file was truncated underneath) jumps back to Visit.
thread_local sigjmp_buf* tl_bus_jump = nullptr;
thread_local const uint8_t* tl_map_begin = nullptr;
thread_local const uint8_t* tl_map_end = nullptr;
struct sigaction g_previous_bus;

void OnSigbus(int sig, siginfo_t* info, void* context) {
  const uint8_t* at = static_cast<const uint8_t*>(info->si_addr);
  if (tl_bus_jump != nullptr && at >= tl_map_begin && at < tl_map_end) {
    siglongjmp(*tl_bus_jump, 1);
  }
  // Not ours: hand over to the previous disposition and let the faulting
  // access run again under it.
  sigaction(SIGBUS, &g_previous_bus, nullptr);
  if (g_previous_bus.sa_flags & SA_SIGINFO) {
    if (g_previous_bus.sa_sigaction) g_previous_bus.sa_sigaction(sig, info, context);
  } else if (g_previous_bus.sa_handler != SIG_DFL &&
             g_previous_bus.sa_handler != SIG_IGN) {
    g_previous_bus.sa_handler(sig);
  }
}

void InstallSigbusGuard() {
  static std::once_flag once;
  std::call_once(once, [] {
    struct sigaction sa {};
    sa.sa_sigaction = OnSigbus;
    sa.sa_flags = SA_SIGINFO | SA_NODEFER;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGBUS, &sa, &g_previous_bus);
  });
}

}  // namespace

struct PosixFileBackend::Handle {
  Handle(PosixFileBackend* owner, std::string path, int fd, bool writable)
      : owner(owner), path(std::move(path)), fd(fd), writable(writable) {}
  ~Handle() {
    close(fd);
    owner->NotifyOpen(path, false,
                      writable ? OpenMode::kWrite : OpenMode::kRead);
  }
  PosixFileBackend* owner;
  std::string path;
  int fd;
  bool writable;
  absl::Time name_checked_at = absl::Now();  // guarded by owner->mu_
};

PosixFileBackend::PosixFileBackend(PosixFileBackendOptions options)
    : options_(options) {}

PosixFileBackend::~PosixFileBackend() { CloseAll(); }

void PosixFileBackend::SetOpenObserver(OpenObserver observer) {
  absl::MutexLock l(&observer_mu_);
  observer_ = observer ? std::make_shared<OpenObserver>(std::move(observer))
                       : nullptr;
}

void PosixFileBackend::NotifyOpen(const std::string& path, bool opened,
                                  OpenMode mode) {
  absl::MutexLock l(&observer_mu_);
  if (observer_) (*observer_)(path, opened, mode);
}

size_t PosixFileBackend::open_files() const {
  absl::MutexLock l(&mu_);
  return cache_.size();
}

void PosixFileBackend::EvictLocked(const std::string& path) {
  auto it = cache_.find(path);
  if (it == cache_.end()) return;
  lru_.erase(it->second.lru);
  cache_.erase(it);  // closes once the last user lets go
}

absl::StatusOr<std::shared_ptr<PosixFileBackend::Handle>>
PosixFileBackend::FindLocked(const std::string& path, bool write, bool create,
                             std::vector<std::shared_ptr<Handle>>& dropped) {
  auto it = cache_.find(path);
  if (it == cache_.end()) return nullptr;
  std::shared_ptr<Handle> h = it->second.handle;
  bool unlinked = false;
  const absl::Time now = absl::Now();
  if (now - h->name_checked_at >= options_.name_check_interval) {
    struct stat st;
    unlinked = fstat(h->fd, &st) != 0 || st.st_nlink == 0;
    h->name_checked_at = now;
  }
  if (unlinked || (write && !h->writable)) {
    dropped.push_back(h);
    EvictLocked(path);
    if (unlinked && write && !create) {
      return absl::DataLossError(
          absl::StrFormat("write %s: the file was removed while open", path));
    }
    return nullptr;
  }
  lru_.splice(lru_.begin(), lru_, it->second.lru);
  return h;
}

absl::StatusOr<std::shared_ptr<PosixFileBackend::Handle>>
PosixFileBackend::Acquire(const std::string& path, bool write, bool create) {
  std::vector<std::shared_ptr<Handle>> dropped;  // closed outside the lock
  std::shared_ptr<Handle> result;
  {
    absl::MutexLock l(&mu_);
    absl::StatusOr<std::shared_ptr<Handle>> cached =
        FindLocked(path, write, create, dropped);
    if (!cached.ok() || *cached) return cached;
    int flags = write ? O_RDWR : O_RDONLY;
    if (write && create) flags |= O_CREAT;
    int fd = OpenRetry(path, flags, options_.file_mode);
    if (fd < 0 && errno == ENOENT && write && create) {
      absl::Status s = MakeParentDirs(path);
      if (!s.ok()) return s;
      fd = OpenRetry(path, flags, options_.file_mode);
    }
    if (fd < 0) {
      int err = errno;
      if (err == ENOENT && write && !create) {
        return absl::DataLossError(absl::StrFormat(
            "write %s: the file was removed (it existed before)", path));
      }
      return ErrnoStatus(err, write ? "open for writing" : "open", path);
    }
    result = std::make_shared<Handle>(this, path, fd, write);
    lru_.push_front(path);
    cache_[path] = Entry{result, lru_.begin()};
    while (cache_.size() > std::max<size_t>(1, options_.max_open_files)) {
      std::string victim = lru_.back();
      dropped.push_back(cache_[victim].handle);
      EvictLocked(victim);
    }
  }
  NotifyOpen(path, true, write ? OpenMode::kWrite : OpenMode::kRead);
  return result;
}

absl::StatusOr<size_t> PosixFileBackend::Read(const std::string& path,
                                              int64_t offset,
                                              MutableByteSpan out) {
  return ReadScatter(path, offset, absl::MakeConstSpan(&out, 1));
}

absl::StatusOr<std::shared_ptr<const SendableFile>>
PosixFileBackend::OpenForSending(const std::string& path) {
  auto h = Acquire(path, /*write=*/false, /*create=*/false);
  if (!h.ok()) return h.status();
  // A descriptor of its own: the cached one closes when evicted.
  const int fd = fcntl((*h)->fd, F_DUPFD_CLOEXEC, 0);
  if (fd < 0) return ErrnoStatus(errno, "dup", path, 0);
  return std::make_shared<const SendableFile>(fd, path);
}

absl::StatusOr<int64_t> PosixFileBackend::Visit(
    const std::string& path, int64_t offset, int64_t length,
    const std::function<void(ByteSpan)>& consume) {
  if (!options_.map_reads) return FileBackend::Visit(path, offset, length, consume);
  auto h = Acquire(path, /*write=*/false, /*create=*/false);
  if (!h.ok()) return h.status();
  struct stat st;
  if (fstat((*h)->fd, &st) != 0) return ErrnoStatus(errno, "stat", path);
  int64_t avail = std::max<int64_t>(0, static_cast<int64_t>(st.st_size) - offset);
  length = std::min(length, avail);
  if (length <= 0) return 0;
  static const int64_t kPage = sysconf(_SC_PAGESIZE);
  int64_t start = offset / kPage * kPage;
  size_t map_len = static_cast<size_t>(offset + length - start);
  // MAP_POPULATE maps the cached pages up front instead of one fault per
  // few pages; pages not in the cache are read ahead in the same step.
  void* m = mmap(nullptr, map_len, PROT_READ, MAP_SHARED | MAP_POPULATE,
                 (*h)->fd, start);
  if (m == MAP_FAILED) {
    return FileBackend::Visit(path, offset, length, consume);
  }
  // (No MADV_SEQUENTIAL: on file mappings it makes the kernel drop the
  // pages after use, evicting a warm page cache.)
  const uint8_t* base = static_cast<const uint8_t*>(m);
  InstallSigbusGuard();
  sigjmp_buf jump;
  tl_map_begin = base;
  tl_map_end = base + map_len;
  if (sigsetjmp(jump, 1) != 0) {
    tl_bus_jump = nullptr;
    munmap(m, map_len);
    return absl::DataLossError(absl::StrFormat(
        "read %s at offset %d: the file shrank while being read", path,
        offset));
  }
  tl_bus_jump = &jump;
  consume(ByteSpan(base + (offset - start), static_cast<size_t>(length)));
  tl_bus_jump = nullptr;
  munmap(m, map_len);
  return length;
}

absl::Status PosixFileBackend::Write(const std::string& path, int64_t offset,
                                     ByteSpan data, bool create) {
  return WriteGather(path, offset, absl::MakeConstSpan(&data, 1), create);
}

namespace {

// The parts of one preadv or pwritev (Read and Write pass one, on the
// stack).
using IoVectors = absl::InlinedVector<struct iovec, 16>;

// Advance drops the `n` bytes a preadv or pwritev moved from the front of
// `iov` (from `*first` on); a part moved in part resumes where it stopped.
void Advance(IoVectors& iov, size_t* first, size_t n) {
  while (*first < iov.size() && n >= iov[*first].iov_len) {
    n -= iov[*first].iov_len;
    ++*first;
  }
  if (n > 0) {
    iov[*first].iov_base = static_cast<uint8_t*>(iov[*first].iov_base) + n;
    iov[*first].iov_len -= n;
  }
}

template <typename Span>
IoVectors ToIoVectors(absl::Span<const Span> parts) {
  IoVectors iov;
  iov.reserve(parts.size());
  for (const Span& p : parts) {
    if (!p.empty()) iov.push_back({const_cast<uint8_t*>(p.data()), p.size()});
  }
  return iov;
}

int IoCount(const IoVectors& iov, size_t first) {
  return static_cast<int>(std::min<size_t>(iov.size() - first, IOV_MAX));
}

// PreadvAll fills `parts` from `offset` of `fd` until they are full or the
// file ends; with RWF_NOWAIT in `flags`, also until the rest is not in the
// page cache.
absl::StatusOr<size_t> PreadvAll(int fd, const std::string& path,
                                 int64_t offset,
                                 absl::Span<const MutableByteSpan> parts,
                                 int flags) {
  IoVectors iov = ToIoVectors(parts);
  size_t first = 0;
  size_t done = 0;
  while (first < iov.size()) {
    const ssize_t n = preadv2(fd, &iov[first], IoCount(iov, first),
                              offset + static_cast<int64_t>(done), flags);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN && (flags & RWF_NOWAIT)) break;  // not in memory
      if (errno == EOPNOTSUPP && (flags & RWF_NOWAIT)) {
        return absl::UnimplementedError(absl::StrFormat(
            "read %s: the file system cannot read without waiting", path));
      }
      return ErrnoStatus(errno, "read", path, offset + done);
    }
    if (n == 0) break;  // the file ends
    done += static_cast<size_t>(n);
    Advance(iov, &first, static_cast<size_t>(n));
  }
  return done;
}

}  // namespace

absl::StatusOr<size_t> PosixFileBackend::ReadScatter(
    const std::string& path, int64_t offset,
    absl::Span<const MutableByteSpan> parts) {
  auto h = Acquire(path, /*write=*/false, /*create=*/false);
  if (!h.ok()) return h.status();
  return PreadvAll((*h)->fd, path, offset, parts, 0);
}

absl::StatusOr<size_t> PosixFileBackend::ReadScatterCached(
    const std::string& path, int64_t offset,
    absl::Span<const MutableByteSpan> parts) {
  std::vector<std::shared_ptr<Handle>> dropped;  // closed outside the lock
  std::shared_ptr<Handle> h;
  {
    absl::MutexLock l(&mu_);
    absl::StatusOr<std::shared_ptr<Handle>> cached =
        FindLocked(path, /*write=*/false, /*create=*/false, dropped);
    if (!cached.ok()) return cached.status();
    h = *std::move(cached);
  }
  if (!h) return 0;  // not open: opening may wait for the device
  return PreadvAll(h->fd, path, offset, parts, RWF_NOWAIT);
}

absl::Status PosixFileBackend::WriteGather(const std::string& path,
                                           int64_t offset,
                                           absl::Span<const ByteSpan> parts,
                                           bool create) {
  auto h = Acquire(path, /*write=*/true, create);
  if (!h.ok()) return h.status();
  IoVectors iov = ToIoVectors(parts);
  size_t first = 0;
  int64_t at = offset;
  while (first < iov.size()) {
    const ssize_t n = pwritev((*h)->fd, &iov[first], IoCount(iov, first), at);
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoStatus(errno, "write", path, at);
    }
    if (n == 0) return ErrnoStatus(ENOSPC, "write", path, at);
    at += n;
    Advance(iov, &first, static_cast<size_t>(n));
  }
  return absl::OkStatus();
}

absl::StatusOr<FileStat> PosixFileBackend::Stat(const std::string& path) {
  struct stat st;
  if (stat(path.c_str(), &st) != 0) return ErrnoStatus(errno, "stat", path);
  if (!S_ISREG(st.st_mode)) {
    return absl::FailedPreconditionError(
        absl::StrFormat("stat %s: not a regular file", path));
  }
  return FileStat{
      static_cast<int64_t>(st.st_size),
      static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec,
      static_cast<uint64_t>(st.st_dev), static_cast<uint64_t>(st.st_ino)};
}

absl::Status PosixFileBackend::Resize(const std::string& path, int64_t size) {
  auto h = Acquire(path, /*write=*/true, /*create=*/true);
  if (!h.ok()) return h.status();
  if (ftruncate((*h)->fd, size) != 0) {
    return ErrnoStatus(errno, "truncate", path, size);
  }
  return absl::OkStatus();
}

absl::Status PosixFileBackend::Remove(const std::string& path) {
  Close(path);
  if (unlink(path.c_str()) != 0 && errno != ENOENT) {
    return ErrnoStatus(errno, "remove", path);
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> PosixFileBackend::ReadWholeFile(
    const std::string& path, size_t max_size) {
  return ReadFileToString(path, max_size);
}

absl::Status PosixFileBackend::ReplaceFileAtomically(const std::string& path,
                                                     std::string_view data) {
  Close(path);
  absl::Status s = WriteFileAtomically(path, data, options_.file_mode);
  if (absl::IsNotFound(s)) {
    // The directory is missing: make it, as Write would.
    RETURN_IF_ERROR(MakeParentDirs(path));
    s = WriteFileAtomically(path, data, options_.file_mode);
  }
  return s;
}

void PosixFileBackend::Close(const std::string& path) {
  std::shared_ptr<Handle> keep;  // closed after the lock is released
  absl::MutexLock l(&mu_);
  auto it = cache_.find(path);
  if (it != cache_.end()) keep = it->second.handle;
  EvictLocked(path);
}

absl::Status PosixFileBackend::MoveFile(const std::string& from,
                                        const std::string& to) {
  Close(from);
  Close(to);
  RETURN_IF_ERROR(MakeParentDirs(to));
  if (renameat2(AT_FDCWD, from.c_str(), AT_FDCWD, to.c_str(),
                RENAME_NOREPLACE) == 0) {
    return absl::OkStatus();
  }
  int err = errno;
  if (err == EINVAL || err == ENOSYS) {
    // The file system cannot refuse to replace: check, then rename.
    struct stat st;
    if (lstat(to.c_str(), &st) == 0) {
      err = EEXIST;
    } else if (rename(from.c_str(), to.c_str()) == 0) {
      return absl::OkStatus();
    } else {
      err = errno;
    }
  }
  if (err == EEXIST) {
    return absl::AlreadyExistsError(
        absl::StrFormat("move %s to %s: the destination exists", from, to));
  }
  if (err != EXDEV) {
    return ErrnoToStatus(err, absl::StrFormat("move %s to %s", from, to));
  }
  // Another file system: copy, then remove the source.
  int in = OpenRetry(from, O_RDONLY, 0);
  if (in < 0) return ErrnoStatus(errno, "open", from);
  absl::Status copied = CopyFile(in, from, to);
  close(in);
  RETURN_IF_ERROR(copied);
  if (unlink(from.c_str()) != 0) {
    absl::Status s = ErrnoStatus(errno, "remove", from);
    unlink(to.c_str());  // keep one copy, in the old place
    return s;
  }
  return absl::OkStatus();
}

absl::Status PosixFileBackend::RemoveEmptyDirectory(const std::string& path) {
  if (rmdir(path.c_str()) == 0) return absl::OkStatus();
  switch (errno) {
    case ENOENT:
    case ENOTEMPTY:
    case EEXIST:
    case ENOTDIR:
      return absl::OkStatus();
    default:
      return ErrnoStatus(errno, "remove directory", path);
  }
}

absl::Status PosixFileBackend::Sync(const std::string& path) {
  std::shared_ptr<Handle> h;
  {
    absl::MutexLock l(&mu_);
    auto it = cache_.find(path);
    if (it == cache_.end()) return absl::OkStatus();
    h = it->second.handle;
  }
  if (fsync(h->fd) != 0) return ErrnoStatus(errno, "fsync", path);
  return absl::OkStatus();
}

void PosixFileBackend::CloseAll() {
  std::vector<std::shared_ptr<Handle>> dropped;
  {
    absl::MutexLock l(&mu_);
    for (auto& [path, entry] : cache_) dropped.push_back(entry.handle);
    cache_.clear();
    lru_.clear();
  }
}

}  // namespace bt::storage
