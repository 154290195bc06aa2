// Hash checking of existing data: v1 SHA-1 per piece, v2 SHA-256 merkle
// roots per piece against the files' piece layers (BEP 52), both for hybrid
// torrents. Runs on several threads with large sequential reads, can be
// cancelled, reports progress and a pass/fail per piece (the seed's
// piece_hash_pass / piece_hash_fail events).
//
//   bt::storage::CheckOptions options;
//   options.on_piece = [](uint32_t piece, bool ok) { ... };
//   ASSIGN_OR_RETURN(bt::storage::CheckResult r,
//                    bt::storage::CheckDirectory(torrent, "/dl", options));
//   printf("%zu of %u pieces pass\n", r.have.Count(), torrent.num_pieces());
//
// Usable without a client: CheckDirectory takes the torrent and the save
// directory and returns the have-bitfield. CheckPieces works over an
// existing PieceStorage (honouring its file priorities and part file).
// A piece whose bytes cannot all be read (a file missing or too short)
// fails without being hashed. Pad bytes are hashed as the zeros they are.
#ifndef STORAGE_HASH_CHECKER_H_
#define STORAGE_HASH_CHECKER_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "base/bytes.h"
#include "metainfo/torrent_info.h"
#include "storage/bitfield.h"
#include "storage/piece_storage.h"

namespace bt::storage {

// CheckProgress is reported after each read.
struct CheckProgress {
  uint32_t pieces_done = 0;
  uint32_t pieces_total = 0;  // pieces selected for checking
  int64_t bytes_done = 0;
  int64_t bytes_total = 0;
};

struct CheckOptions {
  // Hashing threads; 0 uses the hardware concurrency.
  int threads = 0;
  // Bytes per read, rounded up to a multiple of 16 KiB. Pieces smaller
  // than this are read several at a time; larger ones in several reads.
  int64_t read_size = int64_t{1} << 20;
  // pieces, if set (size num_pieces), limits the check to these pieces.
  const Bitfield* pieces = nullptr;
  // wanted_only skips pieces that overlap no wanted file (priority > 0).
  bool wanted_only = true;
  // cancel, if set, stops the check soon after it becomes true.
  const std::atomic<bool>* cancel = nullptr;
  // on_piece(piece, passed) is piece_hash_pass / piece_hash_fail; called
  // from the checking threads one call at a time.
  std::function<void(uint32_t, bool)> on_piece;
  // on_progress is called from the checking threads one call at a time.
  std::function<void(const CheckProgress&)> on_progress;
};

struct CheckResult {
  Bitfield have;     // pieces that passed
  Bitfield checked;  // pieces that were checked (passed or failed)
  uint32_t passed = 0;
  uint32_t failed = 0;
  bool cancelled = false;
  int64_t bytes_read = 0;
};

// CheckPieces hash-checks the selected pieces of `storage`. Errors:
// kInvalidArgument if options.pieces has the wrong size or the torrent is
// v2 without piece layers. A cancelled check returns OK with `cancelled`
// set and only the pieces finished so far marked.
absl::StatusOr<CheckResult> CheckPieces(const metainfo::TorrentInfo& torrent,
                                        PieceStorage& storage,
                                        const CheckOptions& options);

// CheckDirectory checks the torrent's data under `save_path` on the local
// file system. `file_priorities` as in StorageOptions (empty: all wanted).
absl::StatusOr<CheckResult> CheckDirectory(
    const metainfo::TorrentInfo& torrent, const std::string& save_path,
    const CheckOptions& options, std::vector<int> file_priorities = {});

// PieceMatches verifies one whole piece held in memory (v1 and/or v2, as
// the torrent carries); false also when `data` has the wrong size.
bool PieceMatches(const metainfo::TorrentInfo& torrent, uint32_t piece,
                  ByteSpan data);

}  // namespace bt::storage

#endif  // STORAGE_HASH_CHECKER_H_
