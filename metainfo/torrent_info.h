// TorrentInfo: a parsed, validated .torrent file (BEP 3 v1, BEP 52 v2, or a
// hybrid of both), or a bare info dictionary received from peers (BEP 9).
//
//   ASSIGN_OR_RETURN(bt::metainfo::TorrentInfo t,
//                    bt::metainfo::TorrentInfo::Parse(file_bytes));
//   printf("%s: %d pieces of %d bytes\n", t.name().c_str(), t.num_pieces(),
//          t.piece_length());
//   for (const bt::metainfo::FileEntry& f : t.files())
//     if (!f.pad()) printf("  %s %d\n", f.PathString().c_str(), f.size);
//   bt::Sha1Hash wire = t.WireInfoHash();   // what handshakes carry
//
// Parsing is strict: every required key must be present with the right type,
// lengths must agree (pieces vs total size, piece layers vs file sizes,
// hybrid v1 and v2 file lists), and limits bound file count, path depth,
// piece count and metadata size. Unsafe file names are repaired (see
// ParseOptions::strict_paths and warnings()), never used as given. Each
// failure is an absl::Status naming the key and, where known, the byte
// offset: kInvalidArgument for malformed input, kResourceExhausted for a
// limit hit.
//
// Unsorted dictionary keys are accepted (DecodeOptions::allow_unsorted_keys):
// some creators in the field wrote them, libtorrent and Transmission load
// such files, and the info-hashes are taken over the raw `info` bytes
// exactly as they appear, so accepting them never changes a torrent's
// identity. Duplicate keys remain an error.
//
// A TorrentInfo owns all its data (no views into the input) and is cheap to
// move; copying copies everything.
#ifndef METAINFO_TORRENT_INFO_H_
#define METAINFO_TORRENT_INFO_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "base/bytes.h"
#include "base/hash.h"
#include "metainfo/file_layout.h"
#include "metainfo/path_sanitizer.h"

namespace bt::metainfo {

// ParseOptions are the limits applied to untrusted metainfo.
struct ParseOptions {
  // Largest .torrent (or info dictionary) accepted, in bytes.
  size_t max_metadata_size = size_t{64} << 20;
  // Most files (pad files included) a torrent may list.
  size_t max_files = size_t{1} << 20;
  // Most pieces a torrent may have.
  uint32_t max_pieces = uint32_t{1} << 22;
  // Most trackers / web seeds / DHT nodes / similar entries kept per list.
  size_t max_list_entries = 10000;
  // Limits on file paths (depth, component and total length).
  PathLimits path_limits;
  // strict_paths refuses a torrent with an unsafe file name or a path
  // listed twice (kInvalidArgument), as btkit did before it learnt to
  // repair them. By default such names are sanitised the way libtorrent
  // does (see path_sanitizer.h), duplicates are renamed ("a.bin" ->
  // "a.1.bin") and each repair becomes a ParseWarning.
  bool strict_paths = false;
  // Most warnings kept; the last one then says how many more there were.
  size_t max_warnings = 1000;
};

// ParseWarning is a repair made while parsing: where (a key or a file's
// path as the torrent gives it) and what was done.
struct ParseWarning {
  std::string where;
  std::string what;
  // ToString is "where: what".
  std::string ToString() const { return where + ": " + what; }
  friend bool operator==(const ParseWarning&, const ParseWarning&) = default;
};

// TorrentVersion says which hash formats a torrent carries.
enum class TorrentVersion { kV1, kV2, kHybrid };

// TorrentVersionName is "v1", "v2" or "hybrid".
const char* TorrentVersionName(TorrentVersion version);

// DhtNode is a BEP 5 "nodes" entry of a torrent: a host name or address and
// a port. Parsing checks the port is 1..65535 and the host is 1 to
// kMaxDhtNodeHost bytes without control characters or spaces.
inline constexpr size_t kMaxDhtNodeHost = 253;  // a DNS name's limit
struct DhtNode {
  std::string host;
  int port = 0;
  friend bool operator==(const DhtNode&, const DhtNode&) = default;
};

class TorrentInfo {
 public:
  TorrentInfo() = default;

  // Parse parses a complete .torrent file (the outer dictionary with `info`
  // and, for v2, `piece layers`). Bytes after the outer dictionary are
  // ignored (with a warning), as libtorrent does; the info-hashes are taken
  // over the raw `info` bytes either way. For v2 and hybrid torrents each
  // piece layer given must hash to its file's pieces root; layers may be
  // missing (FilesMissingPieceLayers) and be added later (AddPieceLayers).
  static absl::StatusOr<TorrentInfo> Parse(std::string_view torrent_file,
                                           const ParseOptions& options = {});

  // ParseInfoDict parses a bare info dictionary (metadata from BEP 9). No
  // trackers or piece layers are known afterwards; AddPieceLayers may
  // supply the layers later. Stays strict about trailing bytes: metadata
  // from peers is checked against the info-hash as a whole, so extra bytes
  // would make it a different torrent.
  static absl::StatusOr<TorrentInfo> ParseInfoDict(
      std::string_view info_bytes, const ParseOptions& options = {});

  // --- identity ---
  TorrentVersion version() const { return version_; }
  bool has_v1() const { return version_ != TorrentVersion::kV2; }
  bool has_v2() const { return version_ != TorrentVersion::kV1; }
  // info_hash_v1 is the SHA-1 of the raw info bytes; set if has_v1().
  const std::optional<Sha1Hash>& info_hash_v1() const { return ih_v1_; }
  // info_hash_v2 is the SHA-256 of the raw info bytes; set if has_v2().
  const std::optional<Sha256Hash>& info_hash_v2() const { return ih_v2_; }
  // WireInfoHash is the 20-byte info-hash used in handshakes, trackers and
  // the DHT: the v1 hash, or for v2-only torrents the v2 hash truncated to
  // its first 20 bytes.
  Sha1Hash WireInfoHash() const;
  // TruncatedV2Hash is the first 20 bytes of info_hash_v2 (requires
  // has_v2()).
  Sha1Hash TruncatedV2Hash() const;
  // info_bytes are the exact bytes of the info dictionary (for BEP 9).
  const std::string& info_bytes() const { return info_bytes_; }

  // --- content ---
  // name is the torrent's suggested name (`name.utf-8` preferred).
  const std::string& name() const { return name_; }
  // multi_file is true if files live in a directory named name().
  bool multi_file() const { return multi_file_; }
  int64_t piece_length() const { return layout_.piece_length(); }
  uint32_t num_pieces() const { return layout_.num_pieces(); }
  // total_size is the size of the piece space (pad files included);
  // content_size excludes pad files.
  int64_t total_size() const { return layout_.total_size(); }
  int64_t content_size() const { return layout_.content_size(); }
  const FileLayout& layout() const { return layout_; }
  const std::vector<FileEntry>& files() const { return layout_.files(); }
  // num_real_files counts files that are not pads.
  size_t num_real_files() const;

  // piece_hash is the v1 SHA-1 of piece `i`. Requires has_v1() and
  // i < num_pieces().
  Sha1Hash piece_hash(uint32_t i) const;
  // v1_pieces is the raw concatenation of all v1 piece hashes.
  std::string_view v1_pieces() const {
    return std::string_view(info_bytes_).substr(pieces_offset_, pieces_size_);
  }

  // --- v2 piece layers ---
  // has_piece_layers is true when the layers of every file are known.
  bool has_piece_layers() const { return has_piece_layers_; }
  // FilesMissingPieceLayers lists the indexes of the files (larger than one
  // piece) whose piece layer is not known yet; empty for a v1 torrent.
  std::vector<size_t> FilesMissingPieceLayers() const;
  // piece_layer returns the piece hashes of file `file` (one per piece of
  // the file) when the file has more than one piece and the layers are
  // known; otherwise empty (for a file of one piece its pieces_root is its
  // piece hash).
  absl::Span<const Sha256Hash> piece_layer(size_t file) const;
  // V2PieceHash returns the expected v2 hash of piece `piece` (see
  // merkle.h PieceRootFromLeaves): the piece layer entry, or the file's
  // pieces root for a single-piece file. nullopt when the torrent has no v2
  // part, the piece holds only padding, or the layer is not known.
  std::optional<Sha256Hash> V2PieceHash(uint32_t piece) const;
  // V2PieceSpan is what the v2 hash of a piece covers: bytes of one file
  // (the rest of the piece, if any, is alignment padding).
  struct V2PieceSpan {
    size_t file_index = 0;
    int64_t file_offset = 0;
    int64_t length = 0;
    // single_piece_file: the file fits in one piece, so its hash is the
    // file's pieces root (see merkle.h PieceRootFromLeaves).
    bool single_piece_file = false;
  };
  // V2PieceSpanOf returns the span of piece `piece`; nullopt without a v2
  // part or for an out-of-range piece.
  std::optional<V2PieceSpan> V2PieceSpanOf(uint32_t piece) const;
  // CheckV2Piece hashes `data` (the span's bytes) and compares with
  // V2PieceHash: kDataLoss on a mismatch, kFailedPrecondition when the
  // expected hash is not known (no layers yet), kInvalidArgument for a
  // wrong data length or piece.
  absl::Status CheckV2Piece(uint32_t piece, ByteSpan data) const;
  // CheckV1Piece compares SHA-1(data) with piece_hash(piece): kDataLoss on
  // a mismatch, kInvalidArgument for a wrong length, piece or a torrent
  // without v1 hashes.
  absl::Status CheckV1Piece(uint32_t piece, ByteSpan data) const;

  // AddPieceLayers validates and adopts a `piece layers` dictionary
  // (bencoded) against the files' pieces roots, for the files whose layer
  // is missing (known layers are kept). kInvalidArgument if any missing
  // layer is absent, has the wrong size or does not hash to its root.
  absl::Status AddPieceLayers(std::string_view piece_layers_bencoded);

  // warnings are the repairs made while parsing (unsafe names sanitised,
  // duplicates renamed), in file order; empty for a clean torrent.
  const std::vector<ParseWarning>& warnings() const { return warnings_; }

  // --- outer keys and hints ---
  // trackers are the tracker tiers (BEP 12 `announce-list`, or `announce`
  // as a single tier when there is no list); empty URLs are dropped.
  const std::vector<std::vector<std::string>>& trackers() const {
    return trackers_;
  }
  // announce is the `announce` key as given ("" if absent).
  const std::string& announce() const { return announce_; }
  const std::vector<std::string>& web_seeds() const { return web_seeds_; }
  const std::vector<std::string>& http_seeds() const { return http_seeds_; }
  const std::vector<DhtNode>& nodes() const { return nodes_; }
  bool is_private() const { return private_; }
  const std::string& comment() const { return comment_; }
  const std::string& created_by() const { return created_by_; }
  // creation_date is seconds since the Unix epoch, if given.
  const std::optional<int64_t>& creation_date() const { return creation_date_; }
  // similar (BEP 38) are info-hashes of torrents sharing files.
  const std::vector<Sha1Hash>& similar() const { return similar_; }
  // collections (BEP 38) are names of collections this torrent belongs to.
  const std::vector<std::string>& collections() const { return collections_; }
  // source is the info dictionary's `source` tag (private trackers), if any.
  const std::string& source() const { return source_; }

 private:
  friend class TorrentInfoParser;

  TorrentVersion version_ = TorrentVersion::kV1;
  std::optional<Sha1Hash> ih_v1_;
  std::optional<Sha256Hash> ih_v2_;
  std::string info_bytes_;
  std::string name_;
  bool multi_file_ = false;
  FileLayout layout_;
  // Where the v1 'pieces' string lies in info_bytes_ (a copy of it cost a
  // client holding 10,000 small torrents 2 MiB).
  size_t pieces_offset_ = 0, pieces_size_ = 0;
  bool has_piece_layers_ = false;
  // Per file index: the file's piece layer (empty when not needed/known).
  std::vector<std::vector<Sha256Hash>> piece_layers_;
  std::vector<std::vector<std::string>> trackers_;
  std::string announce_;
  std::vector<std::string> web_seeds_;
  std::vector<std::string> http_seeds_;
  std::vector<DhtNode> nodes_;
  bool private_ = false;
  std::string comment_;
  std::string created_by_;
  std::optional<int64_t> creation_date_;
  std::vector<Sha1Hash> similar_;
  std::vector<std::string> collections_;
  std::string source_;
  std::vector<ParseWarning> warnings_;
};

}  // namespace bt::metainfo

#endif  // METAINFO_TORRENT_INFO_H_
