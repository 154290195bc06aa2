#include "metainfo/torrent_info.h"

#include <algorithm>

#include "absl/strings/str_format.h"
#include "base/sha.h"
#include "base/status_macros.h"
#include "bencode/decoder.h"
#include "metainfo/merkle.h"
#include "metainfo/torrent_info_parser.h"

namespace bt::metainfo {

using bencode::Node;
using internal::Bad;

namespace {

bencode::DecodeOptions DecodeOptionsFor(const ParseOptions& options,
                                        bool allow_trailing_data = false) {
  bencode::DecodeOptions d;
  d.max_input_size = options.max_metadata_size;
  d.allow_unsorted_keys = true;  // see the header comment
  d.allow_trailing_data = allow_trailing_data;
  return d;
}

absl::Status CheckSize(std::string_view bytes, const ParseOptions& options) {
  if (bytes.size() > options.max_metadata_size) {
    return absl::ResourceExhaustedError(
        absl::StrFormat("metadata of %d bytes exceeds the limit of %d",
                        bytes.size(), options.max_metadata_size));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<TorrentInfo> TorrentInfo::Parse(std::string_view torrent_file,
                                               const ParseOptions& options) {
  RETURN_IF_ERROR(CheckSize(torrent_file, options));
  ASSIGN_OR_RETURN(bencode::Document doc,
                   bencode::Decode(torrent_file, DecodeOptionsFor(
                                                     options,
                                                     /*allow_trailing_data=*/
                                                     true)));
  Node root = doc.root();
  if (!root.is_dict()) {
    return root.TypeError("torrent", bencode::Type::kDict);
  }
  std::optional<Node> info = root.Find("info");
  if (!info) return Bad("torrent", root, "missing 'info'");
  TorrentInfo t;
  TorrentInfoParser parser(options, &t);
  RETURN_IF_ERROR(parser.ParseInfo(*info));
  RETURN_IF_ERROR(parser.ParseOuter(root));
  if (t.has_v2()) {
    if (std::optional<Node> layers = root.Find("piece layers")) {
      RETURN_IF_ERROR(parser.ParsePieceLayers(*layers,
                                              /*allow_missing=*/true));
    }
    // Missing layers are fetched from peers (as for a v2 magnet link) or,
    // in a hybrid torrent, not needed: the v1 hashes check the pieces.
    if (size_t n = t.FilesMissingPieceLayers().size(); n > 0) {
      t.warnings_.push_back(
          {"piece layers",
           absl::StrFormat("missing for %d file(s): %s", n,
                           t.has_v1() ? "pieces are checked with the v1 hashes"
                                      : "to be fetched from peers")});
    }
  }
  if (size_t extra = torrent_file.size() - root.raw().size(); extra > 0) {
    t.warnings_.push_back(
        {"torrent",
         absl::StrFormat("%d bytes after the top-level dictionary ignored",
                         extra)});
  }
  return t;
}

absl::StatusOr<TorrentInfo> TorrentInfo::ParseInfoDict(
    std::string_view info_bytes, const ParseOptions& options) {
  RETURN_IF_ERROR(CheckSize(info_bytes, options));
  ASSIGN_OR_RETURN(bencode::Document doc,
                   bencode::Decode(info_bytes, DecodeOptionsFor(options)));
  TorrentInfo t;
  TorrentInfoParser parser(options, &t);
  RETURN_IF_ERROR(parser.ParseInfo(doc.root()));
  return t;
}

absl::Status TorrentInfo::AddPieceLayers(std::string_view bencoded) {
  if (!has_v2()) {
    return absl::FailedPreconditionError("piece layers: not a v2 torrent");
  }
  ASSIGN_OR_RETURN(bencode::Document doc,
                   bencode::Decode(bencoded, DecodeOptionsFor({})));
  ParseOptions options;
  TorrentInfoParser parser(options, this);
  return parser.ParsePieceLayers(doc.root(), /*allow_missing=*/false);
}

Sha1Hash TorrentInfo::TruncatedV2Hash() const {
  return Sha1Hash::FromBytes(ih_v2_->span());
}

Sha1Hash TorrentInfo::WireInfoHash() const {
  return ih_v1_ ? *ih_v1_ : TruncatedV2Hash();
}

size_t TorrentInfo::num_real_files() const {
  return std::count_if(files().begin(), files().end(),
                       [](const FileEntry& f) { return !f.pad(); });
}

Sha1Hash TorrentInfo::piece_hash(uint32_t i) const {
  return Sha1Hash::FromBytes(AsBytes(v1_pieces().substr(size_t{i} * 20, 20)));
}

std::vector<size_t> TorrentInfo::FilesMissingPieceLayers() const {
  std::vector<size_t> out;
  if (!has_v2()) return out;
  for (size_t i = 0; i < layout_.num_files(); ++i) {
    const FileEntry& f = layout_.file(i);
    if (f.pad() || !f.pieces_root || f.size <= piece_length()) continue;
    if (i >= piece_layers_.size() || piece_layers_[i].empty()) {
      out.push_back(i);
    }
  }
  return out;
}

absl::Span<const Sha256Hash> TorrentInfo::piece_layer(size_t file) const {
  if (file >= piece_layers_.size()) return {};
  return piece_layers_[file];
}

std::optional<TorrentInfo::V2PieceSpan> TorrentInfo::V2PieceSpanOf(
    uint32_t piece) const {
  if (!has_v2() || piece >= num_pieces()) return std::nullopt;
  const int64_t start = int64_t{piece} * piece_length();
  std::optional<size_t> fi = layout_.FileAtOffset(start);
  if (!fi) return std::nullopt;
  const FileEntry& f = layout_.file(*fi);
  if (f.pad()) return std::nullopt;
  V2PieceSpan span;
  span.file_index = *fi;
  span.file_offset = start - f.offset;
  span.length = std::min(piece_length(), f.size - span.file_offset);
  span.single_piece_file = f.size <= piece_length();
  return span;
}

absl::Status TorrentInfo::CheckV2Piece(uint32_t piece, ByteSpan data) const {
  std::optional<V2PieceSpan> span = V2PieceSpanOf(piece);
  if (!span || static_cast<int64_t>(data.size()) != span->length) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "v2 piece %d: no such piece or %d bytes given", piece, data.size()));
  }
  std::optional<Sha256Hash> expected = V2PieceHash(piece);
  if (!expected) {
    return absl::FailedPreconditionError(
        absl::StrFormat("v2 piece %d: its hash is not known yet", piece));
  }
  if (PieceRootFromData(data, piece_length(), span->single_piece_file) !=
      *expected) {
    return absl::DataLossError(
        absl::StrFormat("v2 piece %d: hash mismatch", piece));
  }
  return absl::OkStatus();
}

absl::Status TorrentInfo::CheckV1Piece(uint32_t piece, ByteSpan data) const {
  if (!has_v1() || piece >= num_pieces() ||
      static_cast<int64_t>(data.size()) != layout_.PieceSize(piece)) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "v1 piece %d: no such piece or %d bytes given", piece, data.size()));
  }
  if (Sha1(data) != piece_hash(piece)) {
    return absl::DataLossError(
        absl::StrFormat("v1 piece %d: hash mismatch", piece));
  }
  return absl::OkStatus();
}

std::optional<Sha256Hash> TorrentInfo::V2PieceHash(uint32_t piece) const {
  if (!has_v2() || piece >= num_pieces()) return std::nullopt;
  std::optional<size_t> fi =
      layout_.FileAtOffset(int64_t{piece} * piece_length());
  if (!fi) return std::nullopt;
  const FileEntry& f = layout_.file(*fi);
  if (f.pad() || !f.pieces_root) return std::nullopt;
  if (f.size <= piece_length()) return f.pieces_root;
  const std::vector<Sha256Hash>& layer = piece_layers_[*fi];
  size_t k = piece - static_cast<size_t>(f.offset / piece_length());
  if (k >= layer.size()) return std::nullopt;
  return layer[k];
}

const char* TorrentVersionName(TorrentVersion version) {
  switch (version) {
    case TorrentVersion::kV1:
      return "v1";
    case TorrentVersion::kV2:
      return "v2";
    case TorrentVersion::kHybrid:
      return "hybrid";
  }
  return "?";
}

}  // namespace bt::metainfo
