// RunningPieceHashes: the SHA-1 of each piece's written prefix, advanced as
// blocks land in order, so a downloaded piece's hash is nearly done when its
// last block is written instead of read back and hashed whole. A block that
// does not continue its piece's prefix (out of order, or rewritten) leaves a
// gap; the verifier then hashes the rest from disk. Thread-safe.
//
//   bt::storage::RunningPieceHashes running;
//   running.Add(piece, begin, block);             // after each block write
//   bt::storage::RunningPieceHashes::Prefix p = running.Take(piece);
//   // p.hasher holds bytes [0, p.length); hash [p.length, size) from disk
//
// At most `max_pieces` pieces are tracked at once (each about 100 bytes);
// a piece started past that is simply not tracked and is read back whole.
#ifndef STORAGE_RUNNING_PIECE_HASHES_H_
#define STORAGE_RUNNING_PIECE_HASHES_H_

#include <cstddef>
#include <cstdint>
#include <mutex>

#include "absl/container/flat_hash_map.h"
#include "base/bytes.h"
#include "base/sha.h"

namespace bt::storage {

class RunningPieceHashes {
 public:
  static constexpr size_t kDefaultMaxPieces = 4096;
  explicit RunningPieceHashes(size_t max_pieces = kDefaultMaxPieces)
      : max_pieces_(max_pieces) {}

  // Add records that `data` now lies at byte `begin` of `piece`. A block at
  // the end of the prefix extends it; one at offset 0 starts the piece
  // over; one anywhere else inside the prefix (a rewrite) drops the piece.
  void Add(uint32_t piece, int64_t begin, ByteSpan data);

  // Prefix is a piece's running hash over its first `length` bytes.
  struct Prefix {
    Sha1Hasher hasher;
    int64_t length = 0;
  };
  // Take hands over `piece`'s prefix and forgets it; length 0 when none.
  Prefix Take(uint32_t piece);
  // Forget drops `piece` (its data on disk is no longer what was hashed).
  void Forget(uint32_t piece);
  size_t pieces() const;

 private:
  const size_t max_pieces_;
  mutable std::mutex mu_;
  absl::flat_hash_map<uint32_t, Prefix> pieces_;
};

}  // namespace bt::storage

#endif  // STORAGE_RUNNING_PIECE_HASHES_H_
