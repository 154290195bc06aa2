// The files of a torrent laid out in its piece space, and the mapping between
// pieces and files. This is what storage builds on: it turns a (piece,
// offset, length) request into file extents, and tells which files a piece
// touches and which pieces a file spans.
//
//   const bt::metainfo::FileLayout& layout = torrent.layout();
//   ASSIGN_OR_RETURN(std::vector<bt::metainfo::FileSlice> slices,
//                    layout.MapBlock(piece, 0, layout.PieceSize(piece)));
//   for (const auto& s : slices) {
//     if (layout.file(s.file_index).pad()) continue;  // zeros, never on disk
//     ReadAt(layout.file(s.file_index).path, s.offset, s.length);
//   }
//
// One model covers every torrent version: files sit back to back in the
// piece space, in torrent order. v1 torrents are laid out exactly as listed
// (BEP 3), including any BEP 47 pad files they list. v2 torrents align every
// non-empty file to a piece boundary (BEP 52); the alignment gaps are
// represented as synthetic pad files (path "<name>/.pad/<size>" in
// multi-file torrents, pad() true), as libtorrent does, so v2 and hybrid
// torrents of the same content have the same layout, and pad files always
// read as zeros.
#ifndef METAINFO_FILE_LAYOUT_H_
#define METAINFO_FILE_LAYOUT_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "base/hash.h"

namespace bt::metainfo {

// BEP 47 file attributes, as bits of FileEntry::attributes.
enum FileAttribute : uint8_t {
  kAttrPad = 1,         // 'p': padding, contents are zeros, never stored
  kAttrExecutable = 2,  // 'x'
  kAttrHidden = 4,      // 'h'
  kAttrSymlink = 8,     // 'l': see FileEntry::symlink_target
};

// FileEntry is one file of a torrent.
struct FileEntry {
  // path is the file's location relative to the download directory, one
  // element per component; for multi-file torrents the first component is
  // the torrent's name. Every component has passed ValidatePathComponent.
  std::vector<std::string> path;
  int64_t size = 0;        // bytes; 0 for symlinks
  int64_t offset = 0;      // position of the first byte in the piece space
  uint8_t attributes = 0;  // FileAttribute bits
  // symlink_target is the link target relative to the torrent's root
  // directory (BEP 47 "symlink path"), validated like `path`; empty unless
  // the symlink attribute is set.
  std::vector<std::string> symlink_target;
  // pieces_root is the v2 merkle root of the file (BEP 52); set for
  // non-empty files of v2 and hybrid torrents.
  std::optional<Sha256Hash> pieces_root;
  // sha1 is the optional BEP 47 whole-file SHA-1 hint.
  std::optional<Sha1Hash> sha1;

  bool pad() const { return attributes & kAttrPad; }
  bool executable() const { return attributes & kAttrExecutable; }
  bool hidden() const { return attributes & kAttrHidden; }
  bool symlink() const { return attributes & kAttrSymlink; }
  // PathString joins `path` with '/'.
  std::string PathString() const;
  // AttributeString renders the attributes as BEP 47 letters ("px", "").
  std::string AttributeString() const;
};

// FileSlice is the part of one file that a block of the piece space covers.
struct FileSlice {
  size_t file_index = 0;
  int64_t offset = 0;  // offset inside the file
  int64_t length = 0;
  friend bool operator==(const FileSlice&, const FileSlice&) = default;
};

// IndexRange is the half-open range [begin, end) of file or piece indices.
struct IndexRange {
  size_t begin = 0;
  size_t end = 0;
  bool empty() const { return begin >= end; }
  size_t size() const { return end > begin ? end - begin : 0; }
  friend bool operator==(const IndexRange&, const IndexRange&) = default;
};

// FileLayout is an immutable list of files and a piece length.
class FileLayout {
 public:
  // kMaxPieceLength bounds piece lengths (block offsets travel as 32 bits).
  static constexpr int64_t kMaxPieceLength = int64_t{1} << 30;

  FileLayout() = default;

  // Create lays `files` out back to back in the given order, overwriting
  // their offsets. Errors (kInvalidArgument): piece_length outside
  // [1, kMaxPieceLength], a negative size, a total size above 2^62.
  // kResourceExhausted if the piece count exceeds `max_pieces`.
  static absl::StatusOr<FileLayout> Create(std::vector<FileEntry> files,
                                           int64_t piece_length,
                                           uint32_t max_pieces = UINT32_MAX);

  // AlignFiles returns `files` with a synthetic pad file inserted after
  // every non-empty file that does not end on a piece boundary, except the
  // last (the BEP 52 v2 layout). Existing pad files are dropped first.
  static std::vector<FileEntry> AlignFiles(std::vector<FileEntry> files,
                                           int64_t piece_length);

  // PadFile returns a pad file entry of `size` bytes (path ".pad/<size>").
  static FileEntry PadFile(int64_t size);

  const std::vector<FileEntry>& files() const { return files_; }
  size_t num_files() const { return files_.size(); }
  // file requires i < num_files().
  const FileEntry& file(size_t i) const { return files_[i]; }
  int64_t piece_length() const { return piece_length_; }
  // total_size is the size of the piece space, pad files included.
  int64_t total_size() const { return total_size_; }
  // content_size is the sum of the sizes of files that are not pads.
  int64_t content_size() const { return content_size_; }
  uint32_t num_pieces() const { return num_pieces_; }

  // PieceSize is the size of piece `piece` in the piece space (the last
  // piece may be shorter); 0 if `piece` is out of range.
  int64_t PieceSize(uint32_t piece) const;

  // MapBlock maps `length` bytes at `offset` inside `piece` to file
  // extents, in order. Pad files are included (check file().pad()); empty
  // files are not. Error kInvalidArgument (with the numbers) if the piece is
  // out of range, offset/length are negative, or the block passes the end
  // of the piece.
  absl::StatusOr<std::vector<FileSlice>> MapBlock(uint32_t piece,
                                                  int64_t offset,
                                                  int64_t length) const;

  // FilesInPiece returns the range of files whose bytes overlap `piece`,
  // from the first to the last such file (pads included; empty files lying
  // between them are inside the range too); empty range if out of range.
  IndexRange FilesInPiece(uint32_t piece) const;

  // PiecesOfFile returns the pieces overlapping file `file`'s bytes; empty
  // for empty files or an out-of-range index.
  IndexRange PiecesOfFile(size_t file) const;

  // FileAtOffset returns the index of the non-empty file containing byte
  // `offset` of the piece space; nullopt if out of range.
  std::optional<size_t> FileAtOffset(int64_t offset) const;

  // FilesAligned is true if every non-pad, non-empty file starts on a piece
  // boundary (always true for v2 and hybrid torrents).
  bool FilesAligned() const;

 private:
  std::vector<FileEntry> files_;
  int64_t piece_length_ = 0;
  int64_t total_size_ = 0;
  int64_t content_size_ = 0;
  uint32_t num_pieces_ = 0;
};

}  // namespace bt::metainfo

#endif  // METAINFO_FILE_LAYOUT_H_
