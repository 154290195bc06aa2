// Torrent: blocks on their way to disk, and pieces through verification —
// all disk work and hashing on the disk pool, results back on the loop.
#include "client/peer_connection.h"
#include "client/torrent.h"
#include "client/tracker_announcer.h"

namespace bt::client {

void Torrent::OnBlock(PeerConnection& c, BlockArrived& b) {
  Endpoint sender = c.address();
  sender.set_port(0);
  AcceptBlock(b.block, std::move(b.data), c.id(), sender);
}

void Torrent::AcceptBlock(BlockRef block, BlockBytes data, uint64_t from,
                          const Endpoint& sender) {
  if (state_ != TorrentState::kDownloading || !picker_) return;
  if (block.piece >= info_->num_pieces() ||
      data.size() != picker_->BlockLength(block)) {
    return;
  }
  // Never write over a verified piece, or a block already in place or on
  // its way: a late endgame copy or an unasked-for block is dropped.
  std::vector<uint64_t> cancel_for;
  if (!picker_->BeginWrite(block, from, &cancel_for)) return;
  verifier_.OnBlock(block.piece, block.block, picker_->BlocksInPiece(block.piece),
                    sender);
  for (uint64_t other : cancel_for) {
    if (PeerConnection* p = Connection(other)) {
      p->session().Cancel(block);
      p->SchedulePump();
    }
  }
  const size_t size = data.size();
  disk_->Write(block, std::move(data), [this, block, size](absl::Status s) {
    OnBlockWritten(block, size, std::move(s));
  });
}

void Torrent::OnBlockWritten(BlockRef block, size_t size, absl::Status status) {
  if (!status.ok()) {
    picker_->EndWrite(block, false);
    EnterError(std::move(status));
    return;
  }
  downloaded_ += static_cast<int64_t>(size);
  if (!picker_->EndWrite(block, true)) return;
  // The piece is complete on disk: read it back and check it, off the loop.
  const uint32_t piece = block.piece;
  disk_->Hash(piece, verifier_.WantsBlockHashes(piece),
              [this, piece](TorrentDisk::HashResult r) {
                OnPieceHashed(piece, std::move(r));
              });
}

void Torrent::OnPieceHashed(uint32_t piece, TorrentDisk::HashResult r) {
  if (!r.read.ok()) {
    // Our disk failed us, not the peers: nobody is blamed, and the piece
    // is fetched again once the error is cleared.
    verifier_.Forget(piece);
    picker_->OnPieceFailed(piece);
    EnterError(std::move(r.read));
    return;
  }
  for (const Endpoint& culprit :
       verifier_.OnVerified(piece, r.passed, r.block_hashes)) {
    if (!BlameWebSeed(culprit)) Strike(culprit, PeerSet::kBanWeight);
  }
  Event e;
  e.index = piece;
  if (!r.passed) {
    picker_->OnPieceFailed(piece);
    e.type = EventType::kPieceHashFail;
    if (Wants(e.type)) Emit(e);
    return;
  }
  picker_->OnPieceVerified(piece);
  ++pieces_since_save_;
  e.type = EventType::kPieceHashPass;
  if (Wants(e.type)) Emit(e);
  OnPieceVerified(piece);
}

void Torrent::OnPieceVerified(uint32_t piece) {
  const std::vector<PeerConnection*> open = OpenConnections();
  for (PeerConnection* c : open) {
    c->session().SendHave(piece);
    if (c->session().am_interested()) UpdateInterest(*c);
    c->SchedulePump();
  }
  if (!complete() || state_ != TorrentState::kDownloading) return;
  EnterSeeding();
  if (announcer_) announcer_->SetCompleted();
  if (!params_.resume_path.empty()) {
    if (absl::Status s = SaveResumeData(); !s.ok()) EnterError(s);
  }
  for (PeerConnection* c : open) CloseIfNothingToTrade(*c);
}

}  // namespace bt::client
