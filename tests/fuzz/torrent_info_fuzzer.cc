// Fuzz target for the .torrent parser: any input is either refused with an
// error or yields a TorrentInfo whose accessors and piece<->file mapping
// queries all stay in bounds and agree with each other, and whose file
// paths are all safe. Both path modes run: what strict parsing accepts, the
// default (sanitising) mode accepts with the same paths.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "metainfo/torrent_info.h"

namespace {

void Check(bool ok) {
  if (!ok) std::abort();
}

void Exercise(const bt::metainfo::TorrentInfo& t) {
  const bt::metainfo::FileLayout& layout = t.layout();
  int64_t covered = 0;
  uint32_t n = std::min<uint32_t>(t.num_pieces(), 4096);
  for (uint32_t p = 0; p < n; ++p) {
    int64_t size = layout.PieceSize(p);
    Check(size > 0 && size <= t.piece_length());
    auto slices = layout.MapBlock(p, 0, size);
    Check(slices.ok());
    int64_t sum = 0;
    for (const auto& s : *slices) {
      Check(s.file_index < layout.num_files());
      Check(s.offset >= 0 &&
            s.offset + s.length <= layout.file(s.file_index).size);
      sum += s.length;
    }
    Check(sum == size);
    covered += sum;
    if (!layout.FilesInPiece(p).empty()) {
      Check(layout.FilesInPiece(p).end <= layout.num_files());
    }
    if (t.has_v1()) (void)t.piece_hash(p);
    (void)t.V2PieceHash(p);
    if (auto span = t.V2PieceSpanOf(p)) {
      const auto& f = layout.file(span->file_index);
      Check(!f.pad() && span->length > 0 && span->file_offset >= 0 &&
            span->file_offset + span->length <= f.size);
    }
  }
  if (n == t.num_pieces()) Check(covered == t.total_size());
  for (size_t f = 0; f < layout.num_files() && f < 4096; ++f) {
    auto r = layout.PiecesOfFile(f);
    Check(r.end <= t.num_pieces());
    Check(layout.file(f).path.size() > 0);
    Check(bt::metainfo::ValidateRelativePath(layout.file(f).path).ok());
  }
  for (size_t f : t.FilesMissingPieceLayers()) {
    Check(f < layout.num_files() && t.piece_layer(f).empty());
  }
  // The info dictionary alone parses to the same identity.
  auto again = bt::metainfo::TorrentInfo::ParseInfoDict(t.info_bytes());
  Check(again.ok());
  Check(again->info_hash_v1() == t.info_hash_v1());
  Check(again->info_hash_v2() == t.info_hash_v2());
  Check(again->num_pieces() == t.num_pieces());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  auto t = bt::metainfo::TorrentInfo::Parse(input);
  if (t.ok()) Exercise(*t);
  bt::metainfo::ParseOptions strict;
  strict.strict_paths = true;
  auto s = bt::metainfo::TorrentInfo::Parse(input, strict);
  if (s.ok()) {
    Check(t.ok() && s->files().size() == t->files().size());
    for (size_t f = 0; f < s->files().size(); ++f) {
      Check(s->files()[f].path == t->files()[f].path);
    }
  }
  auto info = bt::metainfo::TorrentInfo::ParseInfoDict(input);
  if (info.ok()) Exercise(*info);
  return 0;
}
