#include "storage/memory_file_backend.h"

#include <algorithm>
#include <cstring>
#include <vector>

#include "absl/strings/str_format.h"

namespace bt::storage {

void MemoryFileBackend::SetOpenObserver(OpenObserver observer) {
  absl::MutexLock l(&observer_mu_);
  observer_ = std::move(observer);
}

// TouchOpen records that `path` is open in `mode`, telling the observer
// about a first open or an upgrade from read to write.
void MemoryFileBackend::TouchOpen(const std::string& path, OpenMode mode) {
  bool reopened = false, opened = false;
  {
    absl::MutexLock l(&mu_);
    auto it = open_.find(path);
    if (it == open_.end()) {
      open_[path] = mode;
      opened = true;
    } else if (mode == OpenMode::kWrite && it->second == OpenMode::kRead) {
      it->second = OpenMode::kWrite;
      reopened = opened = true;
    }
  }
  if (!opened) return;
  absl::MutexLock l(&observer_mu_);
  if (!observer_) return;
  if (reopened) observer_(path, false, OpenMode::kRead);
  observer_(path, true, mode);
}

int64_t MemoryFileBackend::TotalLocked() const {
  int64_t total = 0;
  for (const auto& [p, f] : files_) total += f.data.size();
  return total;
}

absl::StatusOr<size_t> MemoryFileBackend::Read(const std::string& path,
                                               int64_t offset,
                                               MutableByteSpan out) {
  {
    absl::MutexLock l(&mu_);
    if (!files_.count(path)) {
      return absl::NotFoundError(
          absl::StrFormat("open %s: No such file or directory", path));
    }
  }
  TouchOpen(path, OpenMode::kRead);
  absl::MutexLock l(&mu_);
  auto it = files_.find(path);
  if (it == files_.end()) {
    return absl::NotFoundError(
        absl::StrFormat("read %s: No such file or directory", path));
  }
  if (fail_reads_.count(path)) {
    return absl::UnavailableError(absl::StrFormat(
        "read %s at offset %d: Input/output error", path, offset));
  }
  const std::string& d = it->second.data;
  if (offset < 0 || offset >= static_cast<int64_t>(d.size())) return 0;
  size_t n = std::min(out.size(), d.size() - static_cast<size_t>(offset));
  std::memcpy(out.data(), d.data() + offset, n);
  return n;
}

absl::Status MemoryFileBackend::Write(const std::string& path, int64_t offset,
                                      ByteSpan data, bool create) {
  {
    absl::MutexLock l(&mu_);
    if (deny_.count(path)) {
      return absl::PermissionDeniedError(
          absl::StrFormat("open for writing %s: Permission denied", path));
    }
    if (!files_.count(path) && !create) {
      return absl::DataLossError(absl::StrFormat(
          "write %s: the file was removed (it existed before)", path));
    }
  }
  TouchOpen(path, OpenMode::kWrite);
  absl::MutexLock l(&mu_);
  File& f = files_[path];
  int64_t end = offset + static_cast<int64_t>(data.size());
  int64_t grow = std::max<int64_t>(0, end - static_cast<int64_t>(f.data.size()));
  if (capacity_ && TotalLocked() + grow > *capacity_) {
    return absl::ResourceExhaustedError(absl::StrFormat(
        "write %s at offset %d: No space left on device", path, offset));
  }
  if (grow > 0) f.data.resize(end, '\0');
  if (!data.empty()) std::memcpy(f.data.data() + offset, data.data(), data.size());
  f.mtime = ++clock_;
  return absl::OkStatus();
}

absl::StatusOr<FileStat> MemoryFileBackend::Stat(const std::string& path) {
  absl::MutexLock l(&mu_);
  auto it = files_.find(path);
  if (it == files_.end()) {
    return absl::NotFoundError(
        absl::StrFormat("stat %s: No such file or directory", path));
  }
  return FileStat{static_cast<int64_t>(it->second.data.size()),
                  it->second.mtime};
}

absl::Status MemoryFileBackend::Resize(const std::string& path, int64_t size) {
  {
    absl::MutexLock l(&mu_);
    if (deny_.count(path)) {
      return absl::PermissionDeniedError(
          absl::StrFormat("open for writing %s: Permission denied", path));
    }
  }
  TouchOpen(path, OpenMode::kWrite);
  absl::MutexLock l(&mu_);
  File& f = files_[path];
  int64_t grow = size - static_cast<int64_t>(f.data.size());
  if (capacity_ && grow > 0 && TotalLocked() + grow > *capacity_) {
    return absl::ResourceExhaustedError(
        absl::StrFormat("truncate %s: No space left on device", path));
  }
  f.data.resize(size, '\0');
  f.mtime = ++clock_;
  return absl::OkStatus();
}

void MemoryFileBackend::Forget(const std::string& path) {
  bool was_open = false;
  OpenMode mode = OpenMode::kRead;
  {
    absl::MutexLock l(&mu_);
    auto it = open_.find(path);
    if (it != open_.end()) {
      was_open = true;
      mode = it->second;
      open_.erase(it);
    }
  }
  if (was_open) {
    absl::MutexLock l(&observer_mu_);
    if (observer_) observer_(path, false, mode);
  }
}

absl::Status MemoryFileBackend::Remove(const std::string& path) {
  {
    absl::MutexLock l(&mu_);
    files_.erase(path);
  }
  Forget(path);
  return absl::OkStatus();
}

absl::Status MemoryFileBackend::MoveFile(const std::string& from,
                                         const std::string& to) {
  Forget(from);
  Forget(to);
  absl::MutexLock l(&mu_);
  auto it = files_.find(from);
  if (it == files_.end()) {
    return absl::NotFoundError(
        absl::StrFormat("move %s: No such file or directory", from));
  }
  if (files_.count(to)) {
    return absl::AlreadyExistsError(
        absl::StrFormat("move %s to %s: the destination exists", from, to));
  }
  if (deny_.count(to)) {
    return absl::PermissionDeniedError(
        absl::StrFormat("move %s to %s: Permission denied", from, to));
  }
  if (moves_copy_ && capacity_ &&
      TotalLocked() + static_cast<int64_t>(it->second.data.size()) >
          *capacity_) {
    return absl::ResourceExhaustedError(
        absl::StrFormat("copy %s to %s: No space left on device", from, to));
  }
  files_[to] = std::move(it->second);
  files_.erase(from);
  return absl::OkStatus();
}

void MemoryFileBackend::set_moves_copy(bool copy) {
  absl::MutexLock l(&mu_);
  moves_copy_ = copy;
}

absl::StatusOr<std::string> MemoryFileBackend::ReadWholeFile(
    const std::string& path, size_t max_size) {
  absl::MutexLock l(&mu_);
  auto it = files_.find(path);
  if (it == files_.end()) {
    return absl::NotFoundError(
        absl::StrFormat("open %s: No such file or directory", path));
  }
  if (it->second.data.size() > max_size) {
    return absl::ResourceExhaustedError(absl::StrFormat(
        "read %s: larger than the limit of %d bytes", path, max_size));
  }
  return it->second.data;
}

absl::Status MemoryFileBackend::ReplaceFileAtomically(const std::string& path,
                                                      std::string_view data) {
  absl::MutexLock l(&mu_);
  if (deny_.count(path)) {
    return absl::PermissionDeniedError(
        absl::StrFormat("create %s.tmp: Permission denied", path));
  }
  File& f = files_[path];
  f.data = std::string(data);
  f.mtime = ++clock_;
  return absl::OkStatus();
}

void MemoryFileBackend::CloseAll() {
  std::map<std::string, OpenMode> closed;
  {
    absl::MutexLock l(&mu_);
    closed.swap(open_);
  }
  absl::MutexLock l(&observer_mu_);
  if (!observer_) return;
  for (const auto& [path, mode] : closed) observer_(path, false, mode);
}

void MemoryFileBackend::set_capacity(std::optional<int64_t> bytes) {
  absl::MutexLock l(&mu_);
  capacity_ = bytes;
}

void MemoryFileBackend::DenyWrites(const std::string& path, bool deny) {
  absl::MutexLock l(&mu_);
  if (deny) {
    deny_.insert(path);
  } else {
    deny_.erase(path);
  }
}

void MemoryFileBackend::FailReads(const std::string& path, bool fail) {
  absl::MutexLock l(&mu_);
  if (fail) {
    fail_reads_.insert(path);
  } else {
    fail_reads_.erase(path);
  }
}

std::optional<std::string> MemoryFileBackend::Contents(
    const std::string& path) const {
  absl::MutexLock l(&mu_);
  auto it = files_.find(path);
  if (it == files_.end()) return std::nullopt;
  return it->second.data;
}

void MemoryFileBackend::SetContents(const std::string& path, std::string data) {
  absl::MutexLock l(&mu_);
  File& f = files_[path];
  f.data = std::move(data);
  f.mtime = ++clock_;
}

bool MemoryFileBackend::Exists(const std::string& path) const {
  absl::MutexLock l(&mu_);
  return files_.count(path) > 0;
}

std::set<std::string> MemoryFileBackend::Paths() const {
  absl::MutexLock l(&mu_);
  std::set<std::string> out;
  for (const auto& [p, f] : files_) out.insert(p);
  return out;
}

int64_t MemoryFileBackend::TotalBytes() const {
  absl::MutexLock l(&mu_);
  return TotalLocked();
}

}  // namespace bt::storage
