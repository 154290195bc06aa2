// Resume data: what a torrent needs to continue after a restart without
// re-checking everything, saved as a bencoded file (the seed's "Resume
// API"), and the rules for trusting it again.
//
//   // Saving, e.g. every few minutes and on exit:
//   ASSIGN_OR_RETURN(bt::storage::ResumeData rd,
//                    bt::storage::CaptureResumeData(torrent, *storage, have,
//                                                   now_unix_seconds));
//   rd.peers = known_peers;
//   rd.partial = partial_pieces;
//   RETURN_IF_ERROR(bt::storage::SaveResumeData(*storage->backend(),
//                                               "/state/album.resume", rd));
//   // Restoring:
//   bt::storage::ResumeState st = bt::storage::RestoreResumeData(
//       torrent, *storage, bytes_of_the_file);
//   bt::storage::CheckOptions check;
//   check.pieces = &st.recheck;
//   ASSIGN_OR_RETURN(auto r, bt::storage::CheckPieces(torrent, *storage, check));
//   st.have.Or(r.have);
//
// File format (one bencoded dictionary):
//   format   "btkit resume"              the format tag
//   version  1                           refused if newer than we know
//   checksum SHA-1 of the raw `data` value (detects damage and tampering;
//            the version is outside it, as the seed suggests)
//   data     { info-hash (20 bytes), info-hash2 (32 bytes, v2 torrents),
//              timestamp (seconds), save-path (the directory holding
//              the files, optional), pieces (count), have (BEP 3 bitfield),
//              files [ {size, mtime (ns, 0 if missing), priority} ... ],
//              part {size, mtime} (the part file, if any),
//              peers (compact IPv4), peers6 (compact IPv6): at most
//                    kMaxResumePeers in all,
//              partial [ {index, piece size, blocks, block size,
//                         last block size, bitfield, endgame, priority,
//                         slow} ... ] }
//
// Trust rules (RestoreResumeData): resume data is never trusted blindly and
// never makes a piece "had" that the data does not support. A file that
// cannot be parsed, has a wrong checksum, a newer version, another format
// tag or another torrent's info-hash is discarded as a whole: every piece
// goes to re-check. Otherwise a file whose size or mtime changed since the
// save (or that is missing) invalidates the pieces it overlaps, and the part
// file likewise invalidates the pieces kept in it; those pieces go to
// re-check and their partial block maps are dropped. All other pieces of
// the have-bitfield are trusted. Peers are a soft part: a file listing more
// than ResumeLimits::max_peers keeps the first ones and loses nothing else.
#ifndef STORAGE_RESUME_DATA_H_
#define STORAGE_RESUME_DATA_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "base/endpoint.h"
#include "base/hash.h"
#include "metainfo/torrent_info.h"
#include "storage/bitfield.h"
#include "storage/file_backend.h"
#include "storage/piece_storage.h"

namespace bt::storage {

inline constexpr char kResumeFormat[] = "btkit resume";
inline constexpr int64_t kResumeVersion = 1;
// kMaxResumePeers is how many peers resume data keeps: enough to reconnect
// after a restart, small enough that the file stays small.
inline constexpr size_t kMaxResumePeers = 200;

// FileRecord is what resume data remembers about one file.
struct FileRecord {
  int64_t size = 0;
  int64_t mtime_ns = 0;  // 0 if the file did not exist
  int priority = 1;
  friend bool operator==(const FileRecord&, const FileRecord&) = default;
};

// PartialPiece is a piece being downloaded: which blocks were received and
// written to disk (the seed's partial piece keys).
struct PartialPiece {
  uint32_t index = 0;
  int64_t piece_size = 0;
  int64_t block_size = 16384;
  Bitfield blocks;  // one bit per block, set when written
  bool endgame = false;
  int priority = 0;
  bool slow = false;
  int64_t num_blocks() const {
    return block_size > 0 ? (piece_size + block_size - 1) / block_size : 0;
  }
  int64_t last_block_size() const {
    return piece_size - (num_blocks() - 1) * block_size;
  }
  friend bool operator==(const PartialPiece&, const PartialPiece&) = default;
};

struct ResumeData {
  Sha1Hash info_hash;  // the torrent's WireInfoHash
  std::optional<Sha256Hash> info_hash_v2;
  int64_t timestamp = 0;  // seconds since the epoch, as given by the caller
  // save_path is the directory the files were in ("" if not recorded).
  std::string save_path;
  Bitfield have;
  std::vector<FileRecord> files;  // one per layout file, pads included
  std::optional<FileRecord> part_file;
  std::vector<Endpoint> peers;  // newest first; only the first are saved
  std::vector<PartialPiece> partial;
  // Payload bytes moved over the torrent's lifetime (all sessions).
  int64_t total_uploaded = 0;
  int64_t total_downloaded = 0;
  friend bool operator==(const ResumeData&, const ResumeData&) = default;
};

// ResumeLimits bound what a resume file may make us allocate.
struct ResumeLimits {
  size_t max_file_size = size_t{64} << 20;
  // max_peers is how many peers decoding keeps (IPv4 ones first); the
  // rest are skipped, never a reason to refuse the file.
  size_t max_peers = kMaxResumePeers;
  uint32_t max_pieces = uint32_t{1} << 22;
  size_t max_files = size_t{1} << 20;
};

// EncodeResumeData returns the bencoded file. It keeps the first
// kMaxResumePeers of data.peers and drops the rest.
std::string EncodeResumeData(const ResumeData& data);

// DecodeResumeData parses a resume file strictly. Peers beyond
// limits.max_peers are skipped. Errors: kInvalidArgument malformed (what
// and where), kResourceExhausted a limit hit, kDataLoss checksum mismatch,
// kFailedPrecondition another format tag or a newer version.
absl::StatusOr<ResumeData> DecodeResumeData(std::string_view bytes,
                                            const ResumeLimits& limits = {});

// CaptureResumeData records `have`, the storage's save path, file
// priorities and the
// current size and mtime of every file (and of the part file) through the
// storage's backend. Peers (newest first: saving keeps the first
// kMaxResumePeers) and partial pieces are for the caller to add.
// kInvalidArgument if `have` has the wrong size; a stat error other than
// kNotFound is returned.
absl::StatusOr<ResumeData> CaptureResumeData(
    const metainfo::TorrentInfo& torrent, PieceStorage& storage,
    const Bitfield& have, int64_t timestamp);

// SaveResumeData encodes `data` (at most kMaxResumePeers of its peers) and
// replaces `path` atomically; errors are the backend's.
absl::Status SaveResumeData(FileBackend& backend, const std::string& path,
                            const ResumeData& data);

// ResumeState is what restoring yields.
struct ResumeState {
  Bitfield have;     // pieces trusted without a check
  Bitfield recheck;  // pieces to hash-check before use
  // Restored file priorities; empty when the data was discarded.
  std::vector<int> file_priorities;
  std::vector<Endpoint> peers;
  std::vector<PartialPiece> partial;  // only for unaffected pieces
  int64_t timestamp = 0;
  // Lifetime totals, kept whenever the data decodes and names this
  // torrent, even when its pieces are not trusted.
  int64_t total_uploaded = 0;
  int64_t total_downloaded = 0;
  // save_path is the directory recorded in the data ("" if none, or the
  // data was discarded).
  std::string save_path;
  // problem is OK when everything was trusted; otherwise why the data was
  // discarded or which files changed (for the log).
  absl::Status problem;
};

// RestoreResumeData applies the trust rules above to `bytes` (the resume
// file's contents; empty when there is none) for `torrent` stored in
// `storage`. Never fails: unusable data yields everything to re-check.
ResumeState RestoreResumeData(const metainfo::TorrentInfo& torrent,
                              PieceStorage& storage, std::string_view bytes,
                              const ResumeLimits& limits = {});

}  // namespace bt::storage

#endif  // STORAGE_RESUME_DATA_H_
