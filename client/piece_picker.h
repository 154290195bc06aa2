// PiecePicker decides which blocks to request from which peer: pieces we
// want most first (file priorities), finishing partial pieces before
// starting new ones, rarest first among the rest (ties broken by a fixed
// random order so peers spread out), or, in sequential mode (streaming),
// in piece order with rarest first only inside a small window at the first
// missing piece; in endgame the last blocks are requested again from other
// peers. It keeps no sockets and no clock: the
// peer sessions report haves, requests, arrivals and hash results.
//
//   bt::client::PiecePicker picker(layout, have);
//   picker.AddPeerBitfield(peer_have);
//   std::vector<bt::client::BlockRef> want;
//   picker.Pick(peer_have, /*max_blocks=*/16, peer_id, &want);
//   ... send requests; on arrival:
//   if (picker.OnBlockReceived(block)) { hash the piece, then
//     picker.OnPieceVerified(piece) or picker.OnPieceFailed(piece); }
#ifndef CLIENT_PIECE_PICKER_H_
#define CLIENT_PIECE_PICKER_H_

#include <cstdint>
#include <vector>

#include "absl/container/btree_map.h"

#include "client/session/block_ref.h"
#include "storage/bitfield.h"

namespace bt::client {

class PiecePicker {
 public:
  // PiecePicker covers `num_pieces` pieces of `piece_length` bytes (the last
  // one `total_size`'s remainder). `have` marks pieces already verified.
  PiecePicker(int64_t piece_length, int64_t total_size,
              const storage::Bitfield& have);

  uint32_t num_pieces() const { return static_cast<uint32_t>(pieces_.size()); }
  uint32_t BlocksInPiece(uint32_t piece) const;
  // BlockLength is the byte length of a block (the last block of the last
  // piece may be short).
  uint32_t BlockLength(BlockRef b) const;
  int64_t PieceSize(uint32_t piece) const;

  // --- what we want ---
  // SetPiecePriority sets a piece's priority: 0 = do not download, higher
  // numbers first. All pieces start at priority 1.
  void SetPiecePriority(uint32_t piece, int priority);
  int PiecePriority(uint32_t piece) const { return pieces_[piece].priority; }
  const storage::Bitfield& have() const { return have_; }
  // Wanted is the number of pieces with priority > 0 not yet verified
  // (kept up to date: O(1)).
  uint32_t Wanted() const { return wanted_; }
  // SetSequential turns sequential mode on or off. In it, among pieces of
  // the same priority, the first `window` wanted pieces not yet had (by
  // index) are started first, rarest first among themselves, then the
  // rest in index order; partial pieces are finished lowest index first.
  void SetSequential(bool on, uint32_t window = kDefaultSequentialWindow);
  bool sequential() const { return sequential_; }
  static constexpr uint32_t kDefaultSequentialWindow = 4;
  // IsInteresting: does a peer with this have-set have a piece we want?
  bool IsInteresting(const storage::Bitfield& peer_have) const;

  // --- swarm availability ---
  void AddPeerBitfield(const storage::Bitfield& peer_have);
  void RemovePeerBitfield(const storage::Bitfield& peer_have);
  void AddPeerHave(uint32_t piece);
  void AddSeed() { ++seeds_; }
  void RemoveSeed() { --seeds_; }
  uint32_t Availability(uint32_t piece) const {
    return pieces_[piece].availability + seeds_;
  }

  // --- requests ---
  // Pick appends up to `max_blocks` blocks for `peer` to request from a peer
  // holding `peer_have`, and records them as requested by `peer`. Outside
  // endgame a block is given to one peer only; in endgame (every missing
  // block is already requested) a block may go to a second peer, never
  // twice to the same one.
  void Pick(const storage::Bitfield& peer_have, int max_blocks, uint64_t peer,
            std::vector<BlockRef>* out);
  // PickWholePieces is Pick restricted to pieces nobody has started, in
  // the same order, so that `peer` supplies every block of each (up to
  // `max_blocks`): a web seed, whose pieces are then one range each and
  // whose blame is never shared. Appends nothing when no such piece is
  // left.
  void PickWholePieces(const storage::Bitfield& peer_have, int max_blocks,
                       uint64_t peer, std::vector<BlockRef>* out);
  // OnRequestDropped returns a block requested by `peer` to the pool (the
  // peer choked us, rejected it, timed out or left).
  void OnRequestDropped(BlockRef block, uint64_t peer);
  // OnPeerGone drops every request of `peer`.
  void OnPeerGone(uint64_t peer);
  // AwaitsBlock: `block` belongs to a piece being downloaded and has not
  // arrived yet. Anything else (a block of a piece we have, or of a piece
  // nobody asked for, or a second copy) must not be written.
  bool AwaitsBlock(BlockRef block) const;
  // OnBlockReceived records a block as received; returns true when this
  // completes its piece (the piece should then be hashed). A block that was
  // not requested or is already received returns false and changes nothing.
  // `cancel_for` lists the other peers that had requested the same block
  // (endgame), to whom a cancel should go.
  bool OnBlockReceived(BlockRef block, uint64_t from,
                       std::vector<uint64_t>* cancel_for = nullptr);
  // BeginWrite / EndWrite split OnBlockReceived around an asynchronous
  // disk write: BeginWrite takes an awaited block from `from` (false if it
  // is not awaited: drop it) and fills `cancel_for` as OnBlockReceived
  // does; until EndWrite the block is neither requested again nor counted
  // as received (resume data). EndWrite(ok) makes it received and returns
  // true when that completes its piece; EndWrite(!ok) frees it again.
  bool BeginWrite(BlockRef block, uint64_t from,
                  std::vector<uint64_t>* cancel_for = nullptr);
  bool EndWrite(BlockRef block, bool ok);
  // WritePending: some block of `piece` is between BeginWrite and EndWrite.
  bool WritePending(uint32_t piece) const;
  // OnPieceVerified marks a complete piece as had.
  void OnPieceVerified(uint32_t piece);
  // OnPieceFailed forgets every block of a piece that failed its hash.
  void OnPieceFailed(uint32_t piece);
  // InEndgame: every missing wanted block has been requested.
  bool InEndgame() const;
  // PartialPieces lists pieces with some block requested or received.
  std::vector<uint32_t> PartialPieces() const;
  // ReceivedBlocks reports which blocks of a partial piece are received.
  std::vector<bool> ReceivedBlocks(uint32_t piece) const;
  // MarkBlockReceived restores a block received before a restart (resume
  // data); returns true when that completes the piece.
  bool MarkBlockReceived(BlockRef block);

 private:
  struct Piece {
    uint32_t availability = 0;
    int priority = 1;
    uint32_t order = 0;  // fixed random tie-breaker
  };
  enum class BlockState : uint8_t { kFree, kRequested, kWriting, kReceived };
  struct Partial {
    std::vector<BlockState> blocks;
    std::vector<std::vector<uint64_t>> requesters;  // per block
    uint32_t received = 0;
    uint32_t requested = 0;  // blocks in kRequested
    uint32_t writing = 0;    // blocks in kWriting
  };

  bool Wants(uint32_t piece) const {
    return !have_.Get(piece) && pieces_[piece].priority > 0;
  }
  Partial& StartPartial(uint32_t piece);
  // PickFresh starts new pieces for `peer` within `budget`: highest
  // priority, then rarest, then the random order (sequential mode: see
  // SetSequential).
  void PickFresh(const storage::Bitfield& peer_have, int* budget, uint64_t peer,
                 std::vector<BlockRef>* out);
  // PickFrom takes free (or, in endgame, duplicate-able) blocks of one
  // partial piece.
  void PickFrom(uint32_t piece, Partial& p, bool endgame, int* budget,
                uint64_t peer, std::vector<BlockRef>* out);

  // FreshBefore is PickFresh's ordering: true when `a` goes before `b`.
  // `window_end` is one past the last piece of the sequential window.
  bool FreshBefore(uint32_t a, uint32_t b, uint32_t window_end) const;
  // SequentialWindowEnd is one past the last of the first
  // `sequential_window_` wanted pieces not yet had.
  uint32_t SequentialWindowEnd() const;

  int64_t piece_length_;
  int64_t total_size_;
  std::vector<Piece> pieces_;
  storage::Bitfield have_;
  uint32_t seeds_ = 0;
  uint32_t wanted_ = 0;
  bool sequential_ = false;
  uint32_t sequential_window_ = kDefaultSequentialWindow;
  absl::btree_map<uint32_t, Partial> partial_;
};

}  // namespace bt::client

#endif  // CLIENT_PIECE_PICKER_H_
