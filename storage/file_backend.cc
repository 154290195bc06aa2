#include "storage/file_backend.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <vector>

namespace bt::storage {

SendableFile::~SendableFile() { close(fd_); }

void SendableFile::Prefetch(int64_t offset, int64_t length) const {
  // readahead(2) returns once the range is read; a failure only means the
  // later send may wait for the disk.
  (void)readahead(fd_, offset, static_cast<size_t>(length));
}

absl::StatusOr<std::shared_ptr<const SendableFile>> FileBackend::OpenForSending(
    const std::string& path) {
  return absl::UnimplementedError("this file backend has no descriptors to send from");
}

absl::StatusOr<size_t> FileBackend::ReadScatter(
    const std::string& path, int64_t offset,
    absl::Span<const MutableByteSpan> parts) {
  size_t done = 0;
  for (MutableByteSpan part : parts) {
    absl::StatusOr<size_t> n =
        Read(path, offset + static_cast<int64_t>(done), part);
    if (!n.ok()) return n.status();
    done += *n;
    if (*n < part.size()) break;
  }
  return done;
}

absl::StatusOr<size_t> FileBackend::ReadScatterCached(
    const std::string& path, int64_t offset,
    absl::Span<const MutableByteSpan> parts) {
  return absl::UnimplementedError(
      "this file backend cannot tell what is in memory");
}

absl::Status FileBackend::WriteGather(const std::string& path, int64_t offset,
                                      absl::Span<const ByteSpan> parts,
                                      bool create) {
  for (ByteSpan part : parts) {
    if (absl::Status s = Write(path, offset, part, create); !s.ok()) return s;
    offset += static_cast<int64_t>(part.size());
  }
  return absl::OkStatus();
}

absl::StatusOr<int64_t> FileBackend::Visit(
    const std::string& path, int64_t offset, int64_t length,
    const std::function<void(ByteSpan)>& consume) {
  constexpr int64_t kChunk = int64_t{256} << 10;
  std::vector<uint8_t> buf(static_cast<size_t>(std::min(length, kChunk)));
  int64_t done = 0;
  while (done < length) {
    int64_t want = std::min(kChunk, length - done);
    absl::StatusOr<size_t> n =
        Read(path, offset + done, MutableByteSpan(buf.data(), want));
    if (!n.ok()) return n.status();
    if (*n > 0) consume(ByteSpan(buf.data(), *n));
    done += static_cast<int64_t>(*n);
    if (static_cast<int64_t>(*n) < want) break;
  }
  return done;
}

}  // namespace bt::storage
