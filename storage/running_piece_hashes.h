// RunningPieceHashes: the SHA-1 of each piece's written prefix, advanced as
// blocks land in order, so a downloaded piece's hash is nearly done when its
// last block is written instead of read back and hashed whole. A block that
// does not continue its piece's prefix (out of order, or rewritten) leaves a
// gap; the verifier then hashes the rest from disk. Thread-safe.
//
// Blocks given with a keeper may be held unhashed for a while, so that two
// pieces' blocks are hashed side by side (Sha1Hasher::UpdateBoth: nearly
// twice as fast as one after the other). Blocks from one peer arrive one
// piece after the other, so a piece's blocks wait for the next piece's:
// Take (verifying a piece) may wait a little for them.
//
//   bt::storage::RunningPieceHashes running;
//   running.Add(piece, begin, block, keeper);    // after each block write
//   bt::storage::RunningPieceHashes::Prefix p =
//       running.Take(piece, absl::Milliseconds(2));
//   // p.hasher holds bytes [0, p.length); hash [p.length, size) from disk
//
// At most `max_pieces` pieces are tracked at once (each about 100 bytes);
// a piece started past that is simply not tracked and is read back whole.
// At most `max_held_bytes` are held unhashed; past that the oldest held
// blocks are hashed alone. Only one piece holds blocks at a time (two that
// do are hashed side by side at once); a stalled piece holds what it has
// until another piece's blocks come, Take, Forget or HashHeld.
#ifndef STORAGE_RUNNING_PIECE_HASHES_H_
#define STORAGE_RUNNING_PIECE_HASHES_H_

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/time/time.h"
#include "base/bytes.h"
#include "base/sha.h"

namespace bt::storage {

class RunningPieceHashes {
 public:
  static constexpr size_t kDefaultMaxPieces = 4096;
  static constexpr size_t kDefaultMaxHeldBytes = 4 << 20;
  explicit RunningPieceHashes(size_t max_pieces = kDefaultMaxPieces,
                              size_t max_held_bytes = kDefaultMaxHeldBytes)
      : max_pieces_(max_pieces), max_held_bytes_(max_held_bytes) {}

  // Add records that `data` now lies at byte `begin` of `piece`. A block at
  // the end of the prefix extends it; one at offset 0 starts the piece
  // over; one anywhere else inside the prefix (a rewrite) drops the piece.
  // With a `keeper` (which keeps `data` alive while it is held) the block
  // may be held; without one it is hashed before Add returns.
  void Add(uint32_t piece, int64_t begin, ByteSpan data,
           std::shared_ptr<const void> keeper = nullptr);

  // Prefix is a piece's running hash over its first `length` bytes.
  struct Prefix {
    Sha1Hasher hasher;
    int64_t length = 0;
  };
  // Take hands over `piece`'s prefix and forgets it; length 0 when none.
  // Blocks of it still held are hashed first, beside another piece's
  // held blocks where there are any; when there are none, it waits up to
  // `wait` for some (Add on another thread), then hashes the rest alone.
  Prefix Take(uint32_t piece, absl::Duration wait = absl::ZeroDuration());
  // Forget drops `piece` (its data on disk is no longer what was hashed).
  void Forget(uint32_t piece);
  // HashHeld hashes every held block now (alone where it must), releasing
  // their keepers: for a download that has paused.
  void HashHeld();
  size_t pieces() const;
  size_t held_bytes() const;

 private:
  struct Held {
    ByteSpan data;
    std::shared_ptr<const void> keeper;
  };
  struct Tracked {
    Prefix prefix;    // the part hashed
    int64_t end = 0;  // where the next block must begin: prefix + held
    std::deque<Held> held;
  };
  using Map = absl::flat_hash_map<uint32_t, Tracked>;

  // Hold queues `data` on `t` (a piece listed in holding_ once it holds).
  void Hold(uint32_t piece, Tracked& t, ByteSpan data,
            std::shared_ptr<const void> keeper);
  // HashSideBySide hashes the first held bytes of two holding pieces
  // together, as many as both have.
  void HashSideBySide(Tracked& a, Tracked& b);
  // HashFront hashes `t`'s oldest held block alone.
  void HashFront(Tracked& t);
  // PairHolders hashes side by side while two pieces hold blocks, then
  // alone while over max_held_bytes_.
  void PairHolders();
  // Drain hashes all of `piece`'s held blocks: beside other holders', or
  // alone once `deadline` has passed. Waits on wake_ (unlocking `lock`).
  void Drain(uint32_t piece, absl::Time deadline,
             std::unique_lock<std::mutex>& lock);
  void Erase(Map::iterator it);
  // ForgetEmptyHolders drops entries of holding_ that hold nothing any more.
  void ForgetEmptyHolders();

  const size_t max_pieces_;
  const size_t max_held_bytes_;
  mutable std::mutex mu_;
  std::condition_variable wake_;  // an Add happened
  Map pieces_;
  std::vector<uint32_t> holding_;  // pieces with held blocks, oldest first
  size_t held_bytes_ = 0;
};

}  // namespace bt::storage

#endif  // STORAGE_RUNNING_PIECE_HASHES_H_
