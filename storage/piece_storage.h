// PieceStorage: turns blocks of a torrent's piece space into file I/O and
// back, over a FileBackend. It maps (piece, offset, length) through the
// torrent's FileLayout (v1 linear layouts with BEP 47 pad files, v2/hybrid
// layouts with every file aligned to a piece), never writes pad files,
// creates files and directories lazily and sparsely, honours file
// priorities with a part file, reports the seed's file_* events, and turns
// disk errors into an error state instead of crashing.
//
//   bt::storage::PosixFileBackend disk;
//   bt::storage::StorageOptions options;
//   options.on_event = [](const bt::storage::StorageEvent& e) { ... };
//   ASSIGN_OR_RETURN(std::unique_ptr<bt::storage::PieceStorage> storage,
//                    bt::storage::PieceStorage::Create(torrent, "/dl", &disk,
//                                                     std::move(options)));
//   RETURN_IF_ERROR(storage->WriteBlock(piece, 16384, block));
//   RETURN_IF_ERROR(storage->SetFilePriority(3, 0));   // skip file 3
//   if (!storage->error().ok()) { /* fix the disk, then */ storage->ClearError(); }
//
// File priorities (storage/file_priority.h): 0 means "do not download";
// higher values only matter to the piece picker (PiecePriority). A file of
// priority 0 is never created: bytes of it that arrive anyway (a piece
// straddling it and a wanted file) go to the part file, a sparse file named
// ".<info-hash hex>.parts" in the save directory that keeps each such byte at
// its piece-space offset. When the file becomes wanted, its bytes move out of
// the part file into the new file; the part file is deleted once no file has
// priority 0. A file that already exists on disk keeps being used even at
// priority 0 (user data is never moved away).
//
// Disk errors (no space, permission denied, a file removed or truncated
// underneath) put the storage in an error state: error() returns the
// status, a kFileError event names the file and the message, and further
// writes fail with kFailedPrecondition until ClearError() is called (after
// the cause is fixed). Nothing is lost by the error itself: blocks that
// failed are simply not written, and the caller re-requests them.
//
// Threads: ReadBlock, OpenBlockForSending and ReadForCheck may run concurrently with each other
// (the hash checker does); WriteBlock, SetFilePriority and ClearError must
// not run concurrently with anything else. Events are delivered one at a
// time, on the calling thread.
#ifndef STORAGE_PIECE_STORAGE_H_
#define STORAGE_PIECE_STORAGE_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "base/bytes.h"
#include "metainfo/file_layout.h"
#include "metainfo/torrent_info.h"
#include "storage/file_backend.h"
#include "storage/file_priority.h"

namespace bt::storage {

// kPartFileIndex is StorageEvent::file_index for the part file.
inline constexpr size_t kPartFileIndex = static_cast<size_t>(-1);

// StorageEventType names the seed's Net::BitTorrent::Torrent::File events.
enum class StorageEventType {
  kFileOpen,   // file_open: `mode` is how it was opened ('r' or 'w')
  kFileClose,  // file_close
  kFileRead,   // file_read: `length` bytes read
  kFileWrite,  // file_write: `length` bytes written
  kFileError,  // file_error: `message` says what went wrong
};

// StorageEvent is an owned event value (nothing in it dangles after the
// callback returns).
struct StorageEvent {
  StorageEventType type = StorageEventType::kFileOpen;
  // file_index is the file's index in the torrent's layout, or
  // kPartFileIndex for the part file.
  size_t file_index = 0;
  std::string path;
  OpenMode mode = OpenMode::kRead;
  int64_t length = 0;
  std::string message;
};

struct StorageOptions {
  // file_priorities holds one priority per layout file (pad files
  // included, their value ignored); empty means kFilePriorityNormal for
  // every file.
  std::vector<int> file_priorities;
  // on_event receives storage events; may be empty.
  std::function<void(const StorageEvent&)> on_event;
  // part_file_name overrides the part file's name (in the save directory).
  std::string part_file_name;
};

// Extent is a byte range [offset, offset + length) of a read buffer.
struct Extent {
  int64_t offset = 0;
  int64_t length = 0;
  friend bool operator==(const Extent&, const Extent&) = default;
};

class PieceStorage {
 public:
  // Create sets up storage of `torrent` under `save_path` (the directory
  // that receives the torrent's paths). Nothing is touched on disk yet.
  // `backend` must outlive the storage, and is used by it alone for events
  // (it installs the backend's open observer). Error kInvalidArgument if
  // file_priorities has the wrong length or a negative entry.
  static absl::StatusOr<std::unique_ptr<PieceStorage>> Create(
      const metainfo::TorrentInfo& torrent, std::string save_path,
      FileBackend* backend, StorageOptions options = {});
  ~PieceStorage();
  PieceStorage(const PieceStorage&) = delete;
  PieceStorage& operator=(const PieceStorage&) = delete;

  // WriteBlock stores `data` at `offset` inside `piece`. Pad bytes are
  // skipped. Errors: kInvalidArgument for a block outside the piece;
  // kFailedPrecondition while in the error state; a disk error (see
  // file_backend.h codes), which also enters the error state.
  absl::Status WriteBlock(uint32_t piece, int64_t offset, ByteSpan data);
  // WriteBlocks stores `blocks` one after another from `offset` inside
  // `piece`, as WriteBlock would; where they lie in one file, in one
  // FileBackend::WriteGather.
  absl::Status WriteBlocks(uint32_t piece, int64_t offset,
                           absl::Span<const ByteSpan> blocks);

  // ReadBlock fills `out` with the bytes at `offset` inside `piece`; pad
  // bytes read as zeros. A missing or too short file is an error
  // (kNotFound / kDataLoss "truncated") that enters the error state, like
  // any other disk error: call it only for data the caller has.
  absl::Status ReadBlock(uint32_t piece, int64_t offset, MutableByteSpan out);
  // ReadBlocks fills `blocks` one after another from `offset` inside
  // `piece`, as ReadBlock would each; where they lie in one file, in one
  // FileBackend::ReadScatter.
  absl::Status ReadBlocks(uint32_t piece, int64_t offset,
                          absl::Span<const MutableByteSpan> blocks);
  // ReadBlocksCached is ReadBlocks for a thread that must not block: it
  // fills `blocks` only when they lie in one open file and are all in
  // memory (FileBackend::ReadScatterCached), and says whether it did. It
  // never enters the error state; on false, read them with ReadBlocks.
  // May run concurrently with ReadBlock.
  bool ReadBlocksCached(uint32_t piece, int64_t offset,
                        absl::Span<const MutableByteSpan> blocks);

  // BlockInFile is where a block lies when all of it is in one file.
  struct BlockInFile {
    std::shared_ptr<const SendableFile> file;
    int64_t offset = 0;  // in the file
  };
  // OpenBlockForSending finds the file holding `length` bytes at `offset`
  // in `piece`, opens it for sending (reusing `open` if it is that file)
  // and brings the bytes into the page cache. kUnimplemented when the
  // block is not all in one file (pad bytes, or two files) or the backend
  // has no descriptors: read it with ReadBlock instead. May run
  // concurrently with ReadBlock.
  absl::StatusOr<BlockInFile> OpenBlockForSending(
      uint32_t piece, int64_t offset, int64_t length,
      const std::shared_ptr<const SendableFile>& open);

  // ReadForCheck fills `out` with out.size() bytes of the piece space from
  // (`piece`, `offset`), which may run on across following pieces. Bytes
  // that cannot be read (missing or short files, read errors) are zeroed
  // and returned as extents of `out`; this never enters the error state.
  // kInvalidArgument if the range is outside the torrent.
  absl::StatusOr<std::vector<Extent>> ReadForCheck(uint32_t piece,
                                                   int64_t offset,
                                                   MutableByteSpan out);

  // VisitForCheck walks `length` bytes of the piece space from (`piece`,
  // `offset`), possibly across following pieces, calling
  // visit(position, bytes, readable) in order, where `position` counts from
  // the start of the walk. Bytes come as views without copies where the
  // backend allows (valid only during the call); pad bytes as zeros; bytes
  // that cannot be read (missing or short files, read errors) as
  // readable=false with a view of their length whose data must not be
  // touched. Files marked in `absent` (from AbsentFiles) are reported
  // unreadable without a try to open them. Never enters the error state.
  // kInvalidArgument if the range is outside the torrent.
  using CheckVisitor = std::function<void(int64_t, ByteSpan, bool)>;
  absl::Status VisitForCheck(uint32_t piece, int64_t offset, int64_t length,
                             const CheckVisitor& visit,
                             const std::vector<bool>* absent = nullptr);

  // AbsentFiles says, per file, that where its bytes are kept (the file,
  // or the part file for a skipped file not on disk) does not exist now,
  // so a check has nothing there to read: one look per file instead of a
  // failed open per read. Pads and empty files are never absent.
  std::vector<bool> AbsentFiles();

  // CreateEmptyFiles creates the torrent's wanted empty files (they hold
  // no piece, so no write ever creates them); call once the download is
  // complete. Symlinks and pad files are left alone. A disk error enters
  // the error state.
  absl::Status CreateEmptyFiles();

  // SetFilePriority changes a file's priority. Going from 0 to wanted moves
  // the file's bytes out of the part file (an error there enters the error
  // state and leaves the priority at 0, so the call can be retried).
  // kInvalidArgument for a bad index or a negative priority.
  absl::Status SetFilePriority(size_t file, int priority);
  int file_priority(size_t file) const;
  const std::vector<int>& file_priorities() const { return priorities_; }

  // PiecePriority is the highest priority of the non-pad, non-empty files
  // `piece` overlaps (0 if none).
  int PiecePriority(uint32_t piece) const;
  // PieceWanted is true if `piece` overlaps a non-pad file of priority > 0.
  bool PieceWanted(uint32_t piece) const { return PiecePriority(piece) > 0; }
  // PieceUsesPartFile is true if some byte of `piece` belongs to a file of
  // priority 0.
  bool PieceUsesPartFile(uint32_t piece) const;

  // error is OK, or the disk error that put the storage in the error state;
  // error_file is the file it concerns (kPartFileIndex for the part file).
  absl::Status error() const;
  size_t error_file() const;
  // ClearError leaves the error state and closes every cached handle so
  // the next access starts afresh; files removed meanwhile may be created
  // again by later writes (the caller re-checks the pieces of the file that
  // failed, since its data may be gone).
  void ClearError();

  // MoveStorage moves the torrent's files that exist, and the part file,
  // from save_path() to `new_save_path` (FileBackend::MoveFile: a rename,
  // or a copy then a removal across file systems), then uses the new place
  // and removes the directories of the torrent's paths left empty in the
  // old one. A file already at the destination with the same content is
  // kept (the source copy is removed); with other content the move is
  // refused with kAlreadyExists naming it, before anything moves, as is a
  // file at the path of one the torrent has not created yet. Any
  // other failure (kPermissionDenied, kResourceExhausted, ...) moves back
  // what was moved, leaving the files and the storage in the old place;
  // the message names the path. Nothing is written outside the
  // destination. Must not run concurrently with anything else.
  absl::Status MoveStorage(std::string new_save_path);

  // Relocate uses `save_path` from now on without touching any file:
  // files already there (moved by someone else) are used as they are.
  // Must not run concurrently with anything else.
  void Relocate(std::string save_path);

  // DeleteFiles removes the torrent's files (pad files and symlinks are
  // never created, so never removed) and its part file, then every
  // directory of the torrent's paths under save_path() left empty (not the
  // save path itself). Nothing else is touched. Afterwards the storage is
  // in the error state for good (kFailedPrecondition "deleted"; ClearError
  // keeps it), so a write still queued cannot create a file again. Returns the first error, after
  // trying everything. Must not run concurrently with anything else.
  absl::Status DeleteFiles();

  // FilePath is where layout file `file` lives; PartFilePath the part file.
  std::string FilePath(size_t file) const;
  const std::string& PartFilePath() const { return part_path_; }
  const std::string& save_path() const { return save_path_; }
  const metainfo::FileLayout& layout() const { return layout_; }
  FileBackend* backend() const { return backend_; }

 private:
  PieceStorage() = default;
  // Location is where the bytes of one slice live.
  struct Location {
    const std::string* path;
    int64_t offset;
    size_t event_index;
  };
  // SetPaths places every file (and the part file, named `part_name`)
  // under `save_path`.
  void SetPaths(std::string save_path, const std::string& part_name);
  // RemoveEmptyDirs removes the directories of the torrent's paths under
  // `save_path` that are empty, deepest first.
  void RemoveEmptyDirs(const std::string& save_path);
  absl::StatusOr<Location> Locate(const metainfo::FileSlice& s);
  absl::Status EnterError(size_t file, absl::Status status);
  absl::Status CheckNoError() const;
  void Emit(StorageEvent e);
  // EmitIo reports `length` bytes read or written where `loc` is.
  void EmitIo(StorageEventType type, const Location& loc, int64_t length);
  absl::Status MoveOutOfPartFile(size_t file);
  // HasBytes is true for a file that holds piece bytes (not a pad, not
  // empty): only those go to the part file when skipped.
  bool HasBytes(size_t file) const {
    const metainfo::FileEntry& f = layout_.file(file);
    return !f.pad() && f.size > 0;
  }
  // FileIndexOfPath is the index of the file at `path` (kPartFileIndex for
  // the part file), or nullopt for a path not this storage's.
  std::optional<size_t> FileIndexOfPath(const std::string& path) const;
  absl::StatusOr<std::vector<metainfo::FileSlice>> RangeSlices(
      uint32_t piece, int64_t offset, int64_t length) const;
  // InOneFile maps `length` bytes at `offset` of `piece`: their slice when
  // they all lie in one file that is not a pad, else nullopt (those are
  // read piecewise, or not sent from a file).
  absl::StatusOr<std::optional<metainfo::FileSlice>> InOneFile(
      uint32_t piece, int64_t offset, int64_t length) const;
  absl::Status ReadSlices(const std::vector<metainfo::FileSlice>& slices,
                          MutableByteSpan out, bool report,
                          std::vector<Extent>* unreadable);
  // WriteSlice writes `parts`, together s.length bytes, where `s` lies
  // (nothing for a pad file).
  absl::Status WriteSlice(const metainfo::FileSlice& s,
                          absl::Span<const ByteSpan> parts);

  metainfo::FileLayout layout_;
  std::string save_path_;
  std::vector<std::string> paths_;
  std::string part_path_;
  std::string part_name_;
  FileBackend* backend_ = nullptr;
  std::vector<int> priorities_;
  size_t skipped_files_ = 0;      // files with HasBytes and priority 0
  std::vector<uint8_t> present_;  // file known to exist (written by us)
  // The files that are not pads, as indices into paths_ sorted by path:
  // FileIndexOfPath's binary search (4 bytes a file, where a hash map of
  // path copies took over 500 bytes for a one-file torrent).
  std::vector<uint32_t> files_by_path_;
  std::function<void(const StorageEvent&)> on_event_;

  mutable absl::Mutex mu_;
  absl::Status error_ ABSL_GUARDED_BY(mu_);
  size_t error_file_ ABSL_GUARDED_BY(mu_) = 0;
  bool deleted_ ABSL_GUARDED_BY(mu_) = false;  // DeleteFiles ran
  absl::Mutex event_mu_;
};

}  // namespace bt::storage

#endif  // STORAGE_PIECE_STORAGE_H_
