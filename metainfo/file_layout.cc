#include "metainfo/file_layout.h"

#include <algorithm>

#include "absl/strings/str_format.h"
#include "metainfo/path_sanitizer.h"

namespace bt::metainfo {

std::string FileEntry::PathString() const { return JoinPath(path); }

std::string FileEntry::AttributeString() const {
  std::string s;
  if (attributes & kAttrPad) s += 'p';
  if (attributes & kAttrExecutable) s += 'x';
  if (attributes & kAttrHidden) s += 'h';
  if (attributes & kAttrSymlink) s += 'l';
  return s;
}

absl::StatusOr<FileLayout> FileLayout::Create(std::vector<FileEntry> files,
                                              int64_t piece_length,
                                              uint32_t max_pieces) {
  if (piece_length <= 0 || piece_length > kMaxPieceLength) {
    return absl::InvalidArgumentError(
        absl::StrFormat("piece length %d is out of range [1, %d]", piece_length,
                        kMaxPieceLength));
  }
  constexpr int64_t kMaxTotal = int64_t{1} << 62;
  FileLayout layout;
  layout.piece_length_ = piece_length;
  int64_t offset = 0;
  for (size_t i = 0; i < files.size(); ++i) {
    FileEntry& f = files[i];
    if (f.size < 0 || f.size > kMaxTotal - offset) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "file %d: length %d is negative or makes the total size overflow", i,
          f.size));
    }
    f.offset = offset;
    offset += f.size;
    if (!f.pad()) layout.content_size_ += f.size;
  }
  layout.total_size_ = offset;
  int64_t pieces = (offset + piece_length - 1) / piece_length;
  if (pieces > max_pieces) {
    return absl::ResourceExhaustedError(absl::StrFormat(
        "%d pieces exceed the limit of %d", pieces, max_pieces));
  }
  layout.num_pieces_ = static_cast<uint32_t>(pieces);
  layout.files_ = std::move(files);
  return layout;
}

FileEntry FileLayout::PadFile(int64_t size) {
  FileEntry pad;
  pad.path = {".pad", absl::StrFormat("%d", size)};
  pad.size = size;
  pad.attributes = kAttrPad;
  return pad;
}

std::vector<FileEntry> FileLayout::AlignFiles(std::vector<FileEntry> files,
                                              int64_t piece_length) {
  std::vector<FileEntry> out;
  out.reserve(files.size() * 2);
  size_t last_real = files.size();
  for (size_t i = 0; i < files.size(); ++i) {
    if (!files[i].pad()) last_real = i;
  }
  for (size_t i = 0; i < files.size(); ++i) {
    if (files[i].pad()) continue;
    int64_t size = files[i].size;
    out.push_back(std::move(files[i]));
    if (i != last_real && size % piece_length != 0) {
      out.push_back(PadFile(piece_length - size % piece_length));
    }
  }
  return out;
}

int64_t FileLayout::PieceSize(uint32_t piece) const {
  if (piece >= num_pieces_) return 0;
  int64_t start = int64_t{piece} * piece_length_;
  return std::min(piece_length_, total_size_ - start);
}

std::optional<size_t> FileLayout::FileAtOffset(int64_t offset) const {
  if (offset < 0 || offset >= total_size_) return std::nullopt;
  // First file whose end is past `offset`; empty files never qualify.
  auto it = std::upper_bound(
      files_.begin(), files_.end(), offset,
      [](int64_t off, const FileEntry& f) { return off < f.offset + f.size; });
  if (it == files_.end()) return std::nullopt;
  return static_cast<size_t>(it - files_.begin());
}

absl::StatusOr<std::vector<FileSlice>> FileLayout::MapBlock(
    uint32_t piece, int64_t offset, int64_t length) const {
  int64_t piece_size = PieceSize(piece);
  if (piece >= num_pieces_ || offset < 0 || length < 0 || offset > piece_size ||
      length > piece_size - offset) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "block (piece %d, offset %d, length %d) is outside the torrent "
        "(%d pieces, piece %d has %d bytes)",
        piece, offset, length, num_pieces_, piece, piece_size));
  }
  std::vector<FileSlice> out;
  if (length == 0) return out;
  int64_t pos = int64_t{piece} * piece_length_ + offset;
  int64_t end = pos + length;
  std::optional<size_t> first = FileAtOffset(pos);
  for (size_t i = *first; i < files_.size() && pos < end; ++i) {
    const FileEntry& f = files_[i];
    if (f.size == 0) continue;
    int64_t take = std::min(end, f.offset + f.size) - pos;
    out.push_back(FileSlice{i, pos - f.offset, take});
    pos += take;
  }
  return out;
}

IndexRange FileLayout::FilesInPiece(uint32_t piece) const {
  if (piece >= num_pieces_) return {};
  int64_t start = int64_t{piece} * piece_length_;
  int64_t end = start + PieceSize(piece);
  size_t first = *FileAtOffset(start);
  size_t last = *FileAtOffset(end - 1);
  return IndexRange{first, last + 1};
}

IndexRange FileLayout::PiecesOfFile(size_t file) const {
  if (file >= files_.size() || files_[file].size == 0) return {};
  const FileEntry& f = files_[file];
  return IndexRange{
      static_cast<size_t>(f.offset / piece_length_),
      static_cast<size_t>((f.offset + f.size - 1) / piece_length_ + 1)};
}

bool FileLayout::FilesAligned() const {
  for (const FileEntry& f : files_) {
    if (!f.pad() && f.size > 0 && f.offset % piece_length_ != 0) return false;
  }
  return true;
}

}  // namespace bt::metainfo
