#include "storage/piece_storage.h"

#include <algorithm>
#include <cstring>
#include <utility>

#include "absl/strings/str_format.h"
#include "base/status_macros.h"

namespace bt::storage {

namespace {

constexpr int64_t kMoveChunk = int64_t{1} << 20;
constexpr int64_t kMoveBlock = 16384;

bool AllZero(ByteSpan b) {
  for (uint8_t c : b) {
    if (c) return false;
  }
  return true;
}

// MergeSlices appends `more` to `*slices`, joining a slice that continues
// the previous one in the same file.
void MergeSlices(std::vector<metainfo::FileSlice>* slices,
                 const std::vector<metainfo::FileSlice>& more) {
  for (const metainfo::FileSlice& s : more) {
    if (!slices->empty()) {
      metainfo::FileSlice& last = slices->back();
      if (last.file_index == s.file_index &&
          last.offset + last.length == s.offset) {
        last.length += s.length;
        continue;
      }
    }
    slices->push_back(s);
  }
}

// TotalSize is the bytes `blocks` hold together.
int64_t TotalSize(absl::Span<const MutableByteSpan> blocks) {
  int64_t total = 0;
  for (MutableByteSpan b : blocks) total += static_cast<int64_t>(b.size());
  return total;
}

}  // namespace

absl::StatusOr<std::unique_ptr<PieceStorage>> PieceStorage::Create(
    const metainfo::TorrentInfo& torrent, std::string save_path,
    FileBackend* backend, StorageOptions options) {
  const metainfo::FileLayout& layout = torrent.layout();
  std::vector<int> priorities = std::move(options.file_priorities);
  if (priorities.empty()) {
    priorities.assign(layout.num_files(), kFilePriorityNormal);
  }
  if (priorities.size() != layout.num_files()) {
    return absl::InvalidArgumentError(
        absl::StrFormat("%d file priorities given for %d files",
                        priorities.size(), layout.num_files()));
  }
  for (size_t i = 0; i < priorities.size(); ++i) {
    if (priorities[i] < 0) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "file %d: negative priority %d", i, priorities[i]));
    }
  }
  std::unique_ptr<PieceStorage> s(new PieceStorage());
  s->layout_ = layout;
  std::string part_name = options.part_file_name.empty()
                              ? "." + torrent.WireInfoHash().ToHex() + ".parts"
                              : options.part_file_name;
  s->SetPaths(std::move(save_path), part_name);
  s->backend_ = backend;
  s->priorities_ = std::move(priorities);
  for (size_t i = 0; i < layout.num_files(); ++i) {
    if (s->priorities_[i] == 0 && s->HasBytes(i)) ++s->skipped_files_;
  }
  s->present_.assign(layout.num_files(), 0);
  s->on_event_ = std::move(options.on_event);
  PieceStorage* self = s.get();
  backend->SetOpenObserver(
      [self](const std::string& path, bool opened, OpenMode mode) {
        std::optional<size_t> file = self->FileIndexOfPath(path);
        if (!file) return;
        StorageEvent e;
        e.type = opened ? StorageEventType::kFileOpen
                        : StorageEventType::kFileClose;
        e.file_index = *file;
        e.path = path;
        e.mode = mode;
        self->Emit(std::move(e));
      });
  return s;
}

PieceStorage::~PieceStorage() {
  backend_->CloseAll();
  backend_->SetOpenObserver(nullptr);
}

std::string PieceStorage::FilePath(size_t file) const {
  return file < paths_.size() ? paths_[file] : part_path_;
}

void PieceStorage::Emit(StorageEvent e) {
  if (!on_event_) return;
  absl::MutexLock l(&event_mu_);
  on_event_(e);
}

void PieceStorage::EmitIo(StorageEventType type, const Location& loc,
                          int64_t length) {
  if (!on_event_) return;
  StorageEvent e;
  e.type = type;
  e.file_index = loc.event_index;
  e.path = *loc.path;
  e.length = length;
  Emit(std::move(e));
}

absl::Status PieceStorage::error() const {
  absl::MutexLock l(&mu_);
  return error_;
}

size_t PieceStorage::error_file() const {
  absl::MutexLock l(&mu_);
  return error_file_;
}

void PieceStorage::ClearError() {
  {
    absl::MutexLock l(&mu_);
    if (deleted_) return;  // DeleteFiles is for good
    error_ = absl::OkStatus();
  }
  // Files may have been removed or replaced while in the error state: let
  // the next write create them afresh.
  present_.assign(present_.size(), 0);
  backend_->CloseAll();
}

absl::Status PieceStorage::EnterError(size_t file, absl::Status status) {
  {
    absl::MutexLock l(&mu_);
    if (error_.ok()) {
      error_ = status;
      error_file_ = file;
    }
  }
  StorageEvent e;
  e.type = StorageEventType::kFileError;
  e.file_index = file;
  e.path = FilePath(file);
  e.message = std::string(status.message());
  Emit(std::move(e));
  return status;
}

int PieceStorage::file_priority(size_t file) const {
  return file < priorities_.size() ? priorities_[file] : 0;
}

int PieceStorage::PiecePriority(uint32_t piece) const {
  metainfo::IndexRange r = layout_.FilesInPiece(piece);
  int priority = 0;
  for (size_t i = r.begin; i < r.end; ++i) {
    const metainfo::FileEntry& f = layout_.file(i);
    if (!f.pad() && f.size > 0) priority = std::max(priority, priorities_[i]);
  }
  return priority;
}

bool PieceStorage::PieceUsesPartFile(uint32_t piece) const {
  metainfo::IndexRange r = layout_.FilesInPiece(piece);
  for (size_t i = r.begin; i < r.end; ++i) {
    const metainfo::FileEntry& f = layout_.file(i);
    if (!f.pad() && f.size > 0 && priorities_[i] == 0) return true;
  }
  return false;
}

absl::StatusOr<PieceStorage::Location> PieceStorage::Locate(
    const metainfo::FileSlice& s) {
  size_t i = s.file_index;
  if (priorities_[i] == 0 && !backend_->Stat(paths_[i]).ok()) {
    return Location{&part_path_, layout_.file(i).offset + s.offset,
                    kPartFileIndex};
  }
  return Location{&paths_[i], s.offset, i};
}

absl::Status PieceStorage::CheckNoError() const {
  absl::MutexLock l(&mu_);
  if (error_.ok()) return error_;
  return absl::FailedPreconditionError(absl::StrFormat(
      "storage is in an error state (%s); call ClearError once the cause is "
      "fixed",
      error_.ToString()));
}

absl::Status PieceStorage::WriteBlock(uint32_t piece, int64_t offset,
                                      ByteSpan data) {
  RETURN_IF_ERROR(CheckNoError());
  ASSIGN_OR_RETURN(
      std::vector<metainfo::FileSlice> slices,
      layout_.MapBlock(piece, offset, static_cast<int64_t>(data.size())));
  size_t pos = 0;
  for (const metainfo::FileSlice& s : slices) {
    const ByteSpan part = data.subspan(pos, s.length);
    pos += s.length;
    RETURN_IF_ERROR(WriteSlice(s, absl::MakeConstSpan(&part, 1)));
  }
  return absl::OkStatus();
}

absl::Status PieceStorage::WriteSlice(const metainfo::FileSlice& s,
                                      absl::Span<const ByteSpan> parts) {
  if (layout_.file(s.file_index).pad()) return absl::OkStatus();
  ASSIGN_OR_RETURN(Location loc, Locate(s));
  const bool create =
      loc.event_index == kPartFileIndex || !present_[s.file_index];
  absl::Status st = backend_->WriteGather(*loc.path, loc.offset, parts, create);
  if (!st.ok()) return EnterError(loc.event_index, st);
  if (loc.event_index != kPartFileIndex) present_[s.file_index] = 1;
  EmitIo(StorageEventType::kFileWrite, loc, s.length);
  return absl::OkStatus();
}

absl::Status PieceStorage::WriteBlocks(uint32_t piece, int64_t offset,
                                       absl::Span<const ByteSpan> blocks) {
  RETURN_IF_ERROR(CheckNoError());
  int64_t total = 0;
  for (ByteSpan b : blocks) total += static_cast<int64_t>(b.size());
  ASSIGN_OR_RETURN(std::vector<metainfo::FileSlice> slices,
                   layout_.MapBlock(piece, offset, total));
  if (slices.size() == 1) return WriteSlice(slices[0], blocks);
  // Across files: block by block.
  for (ByteSpan b : blocks) {
    RETURN_IF_ERROR(WriteBlock(piece, offset, b));
    offset += static_cast<int64_t>(b.size());
  }
  return absl::OkStatus();
}

absl::Status PieceStorage::ReadSlices(
    const std::vector<metainfo::FileSlice>& slices, MutableByteSpan out,
    bool report, std::vector<Extent>* unreadable) {
  int64_t pos = 0;
  for (const metainfo::FileSlice& s : slices) {
    MutableByteSpan part = out.subspan(pos, s.length);
    int64_t at = pos;
    pos += s.length;
    if (layout_.file(s.file_index).pad()) {
      std::memset(part.data(), 0, part.size());
      continue;
    }
    absl::StatusOr<Location> loc = Locate(s);
    absl::StatusOr<size_t> n =
        loc.ok() ? backend_->Read(*loc->path, loc->offset, part)
                 : absl::StatusOr<size_t>(loc.status());
    size_t got = n.ok() ? *n : 0;
    if (got > 0) {
      EmitIo(StorageEventType::kFileRead, *loc, static_cast<int64_t>(got));
    }
    if (got == part.size()) continue;
    std::memset(part.data() + got, 0, part.size() - got);
    if (unreadable) unreadable->push_back(Extent{at + static_cast<int64_t>(got),
                                                 s.length - static_cast<int64_t>(got)});
    if (!report) continue;
    size_t index = loc.ok() ? loc->event_index : s.file_index;
    if (!n.ok()) return EnterError(index, n.status());
    return EnterError(
        index, absl::DataLossError(absl::StrFormat(
                   "read %s at offset %d: the file ends after %d of %d bytes "
                   "(truncated?)",
                   FilePath(index), loc->offset, got, part.size())));
  }
  return absl::OkStatus();
}

absl::Status PieceStorage::ReadBlock(uint32_t piece, int64_t offset,
                                     MutableByteSpan out) {
  ASSIGN_OR_RETURN(
      std::vector<metainfo::FileSlice> slices,
      layout_.MapBlock(piece, offset, static_cast<int64_t>(out.size())));
  return ReadSlices(slices, out, /*report=*/true, nullptr);
}

absl::StatusOr<std::optional<metainfo::FileSlice>> PieceStorage::InOneFile(
    uint32_t piece, int64_t offset, int64_t length) const {
  ASSIGN_OR_RETURN(std::vector<metainfo::FileSlice> slices,
                   layout_.MapBlock(piece, offset, length));
  if (slices.size() != 1 || layout_.file(slices[0].file_index).pad()) {
    return std::nullopt;
  }
  return slices[0];
}

absl::Status PieceStorage::ReadBlocks(
    uint32_t piece, int64_t offset, absl::Span<const MutableByteSpan> blocks) {
  const int64_t total = TotalSize(blocks);
  ASSIGN_OR_RETURN(std::optional<metainfo::FileSlice> slice,
                   InOneFile(piece, offset, total));
  if (slice) {
    absl::StatusOr<Location> loc = Locate(*slice);
    absl::StatusOr<size_t> n =
        loc.ok() ? backend_->ReadScatter(*loc->path, loc->offset, blocks)
                 : absl::StatusOr<size_t>(loc.status());
    if (n.ok() && static_cast<int64_t>(*n) == total) {
      EmitIo(StorageEventType::kFileRead, *loc, total);
      return absl::OkStatus();
    }
    // Short or failed: block by block, for ReadBlock's errors.
  }
  for (MutableByteSpan b : blocks) {
    RETURN_IF_ERROR(ReadBlock(piece, offset, b));
    offset += static_cast<int64_t>(b.size());
  }
  return absl::OkStatus();
}

bool PieceStorage::ReadBlocksCached(uint32_t piece, int64_t offset,
                                    absl::Span<const MutableByteSpan> blocks) {
  const int64_t total = TotalSize(blocks);
  absl::StatusOr<std::optional<metainfo::FileSlice>> slice =
      InOneFile(piece, offset, total);
  // Not one Locate would look for on disk either: a skipped file's bytes
  // may be in the part file.
  if (!slice.ok() || !*slice || priorities_[(*slice)->file_index] == 0) {
    return false;
  }
  const size_t file = (*slice)->file_index;
  const Location loc{&paths_[file], (*slice)->offset, file};
  absl::StatusOr<size_t> n =
      backend_->ReadScatterCached(*loc.path, loc.offset, blocks);
  if (!n.ok() || static_cast<int64_t>(*n) != total) return false;
  EmitIo(StorageEventType::kFileRead, loc, total);
  return true;
}

absl::StatusOr<PieceStorage::BlockInFile> PieceStorage::OpenBlockForSending(
    uint32_t piece, int64_t offset, int64_t length,
    const std::shared_ptr<const SendableFile>& open) {
  ASSIGN_OR_RETURN(std::optional<metainfo::FileSlice> slice,
                   InOneFile(piece, offset, length));
  if (!slice) {
    return absl::UnimplementedError("the block is not all in one file");
  }
  ASSIGN_OR_RETURN(Location loc, Locate(*slice));
  BlockInFile out;
  if (open && open->path() == *loc.path) {
    out.file = open;
  } else {
    ASSIGN_OR_RETURN(out.file, backend_->OpenForSending(*loc.path));
  }
  out.offset = loc.offset;
  out.file->Prefetch(out.offset, length);
  return out;
}

absl::StatusOr<std::vector<metainfo::FileSlice>> PieceStorage::RangeSlices(
    uint32_t piece, int64_t offset, int64_t length) const {
  std::vector<metainfo::FileSlice> slices;
  int64_t left = length;
  int64_t total = length;
  while (left > 0) {
    int64_t size = layout_.PieceSize(piece);
    int64_t take = std::min(left, size - offset);
    if (take <= 0) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "read of %d bytes at piece %d passes the end of the torrent", total,
          piece));
    }
    ASSIGN_OR_RETURN(std::vector<metainfo::FileSlice> more,
                     layout_.MapBlock(piece, offset, take));
    MergeSlices(&slices, more);
    left -= take;
    ++piece;
    offset = 0;
  }
  return slices;
}

absl::StatusOr<std::vector<Extent>> PieceStorage::ReadForCheck(
    uint32_t piece, int64_t offset, MutableByteSpan out) {
  ASSIGN_OR_RETURN(
      std::vector<metainfo::FileSlice> slices,
      RangeSlices(piece, offset, static_cast<int64_t>(out.size())));
  std::vector<Extent> unreadable;
  RETURN_IF_ERROR(ReadSlices(slices, out, /*report=*/false, &unreadable));
  return unreadable;
}

absl::Status PieceStorage::VisitForCheck(uint32_t piece, int64_t offset,
                                         int64_t length,
                                         const CheckVisitor& visit,
                                         const std::vector<bool>* absent) {
  static const std::vector<uint8_t>* const zeros =
      new std::vector<uint8_t>(kMoveChunk, 0);
  ASSIGN_OR_RETURN(std::vector<metainfo::FileSlice> slices,
                   RangeSlices(piece, offset, length));
  int64_t pos = 0;
  for (const metainfo::FileSlice& s : slices) {
    int64_t end = pos + s.length;
    if (layout_.file(s.file_index).pad()) {
      while (pos < end) {
        int64_t n = std::min<int64_t>(end - pos, zeros->size());
        visit(pos, ByteSpan(zeros->data(), n), true);
        pos += n;
      }
      continue;
    }
    if (absent != nullptr && (*absent)[s.file_index]) {
      visit(pos, ByteSpan(nullptr, static_cast<size_t>(s.length)), false);
      pos = end;
      continue;
    }
    absl::StatusOr<Location> loc = Locate(s);
    absl::StatusOr<int64_t> n =
        loc.ok() ? backend_->Visit(*loc->path, loc->offset, s.length,
                                   [&](ByteSpan data) {
                                     visit(pos, data, true);
                                     pos += static_cast<int64_t>(data.size());
                                   })
                 : absl::StatusOr<int64_t>(loc.status());
    if (n.ok() && *n > 0) EmitIo(StorageEventType::kFileRead, *loc, *n);
    if (pos < end) {
      // Report the unreadable rest as one extent of its length.
      visit(pos, ByteSpan(nullptr, static_cast<size_t>(end - pos)), false);
      pos = end;
    }
  }
  return absl::OkStatus();
}

std::vector<bool> PieceStorage::AbsentFiles() {
  std::vector<bool> absent(layout_.num_files(), false);
  for (size_t i = 0; i < absent.size(); ++i) {
    if (!HasBytes(i)) continue;
    absl::StatusOr<Location> loc = Locate({i, 0, 0});
    absent[i] =
        loc.ok() && absl::IsNotFound(backend_->Stat(*loc->path).status());
  }
  return absent;
}

absl::Status PieceStorage::MoveOutOfPartFile(size_t file) {
  const std::string& real = paths_[file];
  if (backend_->Stat(real).ok()) return absl::OkStatus();
  absl::StatusOr<FileStat> part = backend_->Stat(part_path_);
  if (!part.ok()) return absl::OkStatus();  // nothing was ever kept
  const metainfo::FileEntry& f = layout_.file(file);
  int64_t end = std::min(f.offset + f.size, part->size);
  std::vector<uint8_t> buf(kMoveChunk);
  for (int64_t pos = f.offset; pos < end; pos += kMoveChunk) {
    int64_t len = std::min(kMoveChunk, end - pos);
    MutableByteSpan chunk(buf.data(), static_cast<size_t>(len));
    absl::StatusOr<size_t> n = backend_->Read(part_path_, pos, chunk);
    if (!n.ok()) return EnterError(kPartFileIndex, n.status());
    for (int64_t b = 0; b < static_cast<int64_t>(*n); b += kMoveBlock) {
      int64_t blen = std::min<int64_t>(kMoveBlock, *n - b);
      ByteSpan block(buf.data() + b, blen);
      if (AllZero(block)) continue;  // a hole: the new file reads zeros too
      absl::Status st =
          backend_->Write(real, pos + b - f.offset, block, /*create=*/true);
      if (!st.ok()) {
        backend_->Remove(real).IgnoreError();
        return EnterError(file, st);
      }
    }
  }
  present_[file] = backend_->Stat(real).ok();
  return absl::OkStatus();
}

absl::Status PieceStorage::CreateEmptyFiles() {
  RETURN_IF_ERROR(CheckNoError());
  for (size_t i = 0; i < layout_.num_files(); ++i) {
    const metainfo::FileEntry& f = layout_.file(i);
    if (f.size != 0 || f.pad() || f.symlink() || priorities_[i] == 0) continue;
    if (backend_->Stat(paths_[i]).ok()) continue;
    absl::Status st = backend_->Resize(paths_[i], 0);
    if (!st.ok()) return EnterError(i, st);
  }
  return absl::OkStatus();
}

absl::Status PieceStorage::SetFilePriority(size_t file, int priority) {
  if (file >= priorities_.size() || priority < 0) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "bad file priority change: file %d of %d, priority %d", file,
        priorities_.size(), priority));
  }
  int old = priorities_[file];
  if (old == 0 && priority > 0 && HasBytes(file)) {
    RETURN_IF_ERROR(CheckNoError());
    RETURN_IF_ERROR(MoveOutOfPartFile(file));
  }
  priorities_[file] = priority;
  // A count, not a scan: restoring resume data sets every file's priority.
  if (HasBytes(file) && (old == 0) != (priority == 0)) {
    if (priority == 0) {
      ++skipped_files_;
    } else {
      --skipped_files_;
    }
  }
  if (skipped_files_ == 0 && old == 0) {
    absl::Status st = backend_->Remove(part_path_);
    if (!st.ok()) return EnterError(kPartFileIndex, st);
  }
  return absl::OkStatus();
}

}  // namespace bt::storage
