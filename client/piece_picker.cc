#include "client/piece_picker.h"

#include <algorithm>
#include <numeric>
#include <random>

#include "base/random.h"

namespace bt::client {

PiecePicker::PiecePicker(int64_t piece_length, int64_t total_size,
                         const storage::Bitfield& have)
    : piece_length_(piece_length),
      total_size_(total_size),
      pieces_(have.size()),
      have_(have) {
  // A fixed random order breaks availability ties, so peers that see the
  // same swarm still start on different pieces.
  std::vector<uint32_t> order(pieces_.size());
  std::iota(order.begin(), order.end(), 0u);
  std::mt19937_64 rng(RandomU64());
  std::shuffle(order.begin(), order.end(), rng);
  for (size_t i = 0; i < pieces_.size(); ++i) pieces_[i].order = order[i];
  for (uint32_t i = 0; i < num_pieces(); ++i) wanted_ += Wants(i);
}

int64_t PiecePicker::PieceSize(uint32_t piece) const {
  if (piece + 1 < num_pieces()) return piece_length_;
  return total_size_ - piece_length_ * static_cast<int64_t>(piece);
}

uint32_t PiecePicker::BlocksInPiece(uint32_t piece) const {
  return static_cast<uint32_t>((PieceSize(piece) + kBlockSize - 1) / kBlockSize);
}

uint32_t PiecePicker::BlockLength(BlockRef b) const {
  return BlockLengthIn(b, PieceSize(b.piece));
}

void PiecePicker::SetPiecePriority(uint32_t piece, int priority) {
  const bool before = Wants(piece);
  pieces_[piece].priority = std::max(priority, 0);
  wanted_ += Wants(piece);
  wanted_ -= before;
}

void PiecePicker::SetSequential(bool on, uint32_t window) {
  sequential_ = on;
  sequential_window_ = std::max<uint32_t>(window, 1);
}

bool PiecePicker::IsInteresting(const storage::Bitfield& peer_have) const {
  for (uint32_t i = 0; i < num_pieces(); ++i) {
    if (peer_have.Get(i) && Wants(i)) return true;
  }
  return false;
}

void PiecePicker::AddPeerBitfield(const storage::Bitfield& peer_have) {
  for (uint32_t i = 0; i < num_pieces(); ++i) {
    pieces_[i].availability += peer_have.Get(i);
  }
}

void PiecePicker::RemovePeerBitfield(const storage::Bitfield& peer_have) {
  for (uint32_t i = 0; i < num_pieces(); ++i) {
    if (peer_have.Get(i) && pieces_[i].availability > 0) {
      --pieces_[i].availability;
    }
  }
}

void PiecePicker::AddPeerHave(uint32_t piece) { ++pieces_[piece].availability; }

PiecePicker::Partial& PiecePicker::StartPartial(uint32_t piece) {
  auto [it, inserted] = partial_.try_emplace(piece);
  if (inserted) {
    uint32_t blocks = BlocksInPiece(piece);
    it->second.blocks.assign(blocks, BlockState::kFree);
    it->second.requesters.resize(blocks);
  }
  return it->second;
}

void PiecePicker::PickFrom(uint32_t piece, Partial& p, bool endgame,
                           int* budget, uint64_t peer,
                           std::vector<BlockRef>* out) {
  for (uint32_t b = 0; b < p.blocks.size() && *budget > 0; ++b) {
    std::vector<uint64_t>& who = p.requesters[b];
    if (p.blocks[b] == BlockState::kFree) {
      p.blocks[b] = BlockState::kRequested;
      ++p.requested;
    } else if (!(endgame && p.blocks[b] == BlockState::kRequested &&
                 std::find(who.begin(), who.end(), peer) == who.end())) {
      continue;
    }
    who.push_back(peer);
    out->push_back(BlockRef{piece, b});
    --*budget;
  }
}

void PiecePicker::Pick(const storage::Bitfield& peer_have, int max_blocks,
                       uint64_t peer, std::vector<BlockRef>* out) {
  int budget = max_blocks;
  if (budget <= 0) return;

  // 1. Finish partial pieces first: higher priority, then most advanced
  // (sequential: lowest index).
  std::vector<uint32_t> partial;
  for (const auto& [piece, p] : partial_) {
    if (Wants(piece) && peer_have.Get(piece) &&
        p.received + p.requested + p.writing < p.blocks.size()) {
      partial.push_back(piece);
    }
  }
  std::sort(partial.begin(), partial.end(), [&](uint32_t a, uint32_t b) {
    const Partial &pa = partial_.at(a), &pb = partial_.at(b);
    if (pieces_[a].priority != pieces_[b].priority) {
      return pieces_[a].priority > pieces_[b].priority;
    }
    if (sequential_) return a < b;
    return pa.received + pa.requested + pa.writing >
           pb.received + pb.requested + pb.writing;
  });
  for (uint32_t piece : partial) {
    if (budget == 0) return;
    PickFrom(piece, partial_.at(piece), false, &budget, peer, out);
  }

  // 2. New pieces: highest priority, then rarest, then the random order.
  PickFresh(peer_have, &budget, peer, out);

  // 3. Endgame: every missing block is requested; ask this peer too.
  if (budget > 0 && InEndgame()) {
    for (auto& [piece, p] : partial_) {
      if (budget == 0) break;
      if (Wants(piece) && peer_have.Get(piece)) {
        PickFrom(piece, p, true, &budget, peer, out);
      }
    }
  }
}

void PiecePicker::PickWholePieces(const storage::Bitfield& peer_have,
                                  int max_blocks, uint64_t peer,
                                  std::vector<BlockRef>* out) {
  int budget = max_blocks;
  if (budget > 0) PickFresh(peer_have, &budget, peer, out);
}

void PiecePicker::PickFresh(const storage::Bitfield& peer_have, int* budget,
                            uint64_t peer, std::vector<BlockRef>* out) {
  const int& left = *budget;
  if (left <= 0) return;
  std::vector<uint32_t> fresh;
  for (uint32_t i = 0; i < num_pieces(); ++i) {
    if (Wants(i) && peer_have.Get(i) && !partial_.contains(i)) {
      fresh.push_back(i);
    }
  }
  const uint32_t window_end = sequential_ ? SequentialWindowEnd() : 0;
  auto better = [&](uint32_t a, uint32_t b) {
    return FreshBefore(a, b, window_end);
  };
  // Enough pieces to spend the budget even if each holds one block.
  size_t need = std::min<size_t>(fresh.size(), static_cast<size_t>(left));
  std::partial_sort(fresh.begin(), fresh.begin() + need, fresh.end(), better);
  for (size_t k = 0; k < need && left > 0; ++k) {
    PickFrom(fresh[k], StartPartial(fresh[k]), false, budget, peer, out);
  }
}

bool PiecePicker::FreshBefore(uint32_t a, uint32_t b,
                              uint32_t window_end) const {
  const Piece &pa = pieces_[a], &pb = pieces_[b];
  if (pa.priority != pb.priority) return pa.priority > pb.priority;
  if (sequential_) {
    const bool a_in = a < window_end, b_in = b < window_end;
    if (a_in != b_in) return a_in;
    if (!a_in) return a < b;
  }
  if (pa.availability != pb.availability) {
    return pa.availability < pb.availability;
  }
  return pa.order < pb.order;
}

uint32_t PiecePicker::SequentialWindowEnd() const {
  uint32_t left = sequential_window_;
  for (uint32_t i = 0; i < num_pieces(); ++i) {
    if (Wants(i) && --left == 0) return i + 1;
  }
  return num_pieces();
}

void PiecePicker::OnRequestDropped(BlockRef block, uint64_t peer) {
  auto it = partial_.find(block.piece);
  if (it == partial_.end() || block.block >= it->second.blocks.size()) return;
  Partial& p = it->second;
  std::vector<uint64_t>& who = p.requesters[block.block];
  auto w = std::find(who.begin(), who.end(), peer);
  if (w == who.end()) return;
  who.erase(w);
  if (who.empty() && p.blocks[block.block] == BlockState::kRequested) {
    p.blocks[block.block] = BlockState::kFree;
    --p.requested;
  }
  if (p.received == 0 && p.requested == 0 && p.writing == 0) {
    partial_.erase(it);
  }
}

void PiecePicker::OnPeerGone(uint64_t peer) {
  std::vector<BlockRef> dropped;
  for (const auto& [piece, p] : partial_) {
    for (uint32_t b = 0; b < p.requesters.size(); ++b) {
      const auto& who = p.requesters[b];
      if (std::find(who.begin(), who.end(), peer) != who.end()) {
        dropped.push_back(BlockRef{piece, b});
      }
    }
  }
  for (BlockRef b : dropped) OnRequestDropped(b, peer);
}

bool PiecePicker::AwaitsBlock(BlockRef block) const {
  auto it = partial_.find(block.piece);
  if (it == partial_.end() || block.block >= it->second.blocks.size()) {
    return false;
  }
  const BlockState s = it->second.blocks[block.block];
  return s == BlockState::kFree || s == BlockState::kRequested;
}

bool PiecePicker::OnBlockReceived(BlockRef block, uint64_t from,
                                  std::vector<uint64_t>* cancel_for) {
  return BeginWrite(block, from, cancel_for) && EndWrite(block, true);
}

bool PiecePicker::BeginWrite(BlockRef block, uint64_t from,
                             std::vector<uint64_t>* cancel_for) {
  if (!AwaitsBlock(block)) return false;
  Partial& p = partial_.at(block.piece);
  if (p.blocks[block.block] == BlockState::kRequested) --p.requested;
  p.blocks[block.block] = BlockState::kWriting;
  ++p.writing;
  std::vector<uint64_t>& who = p.requesters[block.block];
  if (cancel_for) {
    for (uint64_t peer : who) {
      if (peer != from) cancel_for->push_back(peer);
    }
  }
  who.clear();
  return true;
}

bool PiecePicker::EndWrite(BlockRef block, bool ok) {
  auto it = partial_.find(block.piece);
  if (it == partial_.end() || block.block >= it->second.blocks.size() ||
      it->second.blocks[block.block] != BlockState::kWriting) {
    return false;
  }
  Partial& p = it->second;
  --p.writing;
  if (!ok) {
    p.blocks[block.block] = BlockState::kFree;
    if (p.received == 0 && p.requested == 0 && p.writing == 0) partial_.erase(it);
    return false;
  }
  p.blocks[block.block] = BlockState::kReceived;
  ++p.received;
  return p.received == p.blocks.size();
}

bool PiecePicker::WritePending(uint32_t piece) const {
  auto it = partial_.find(piece);
  return it != partial_.end() && it->second.writing > 0;
}

bool PiecePicker::MarkBlockReceived(BlockRef block) {
  if (block.piece >= num_pieces() || have_.Get(block.piece) ||
      block.block >= BlocksInPiece(block.piece)) {
    return false;
  }
  Partial& p = StartPartial(block.piece);
  if (p.blocks[block.block] == BlockState::kReceived) return false;
  p.blocks[block.block] = BlockState::kReceived;
  ++p.received;
  return p.received == p.blocks.size();
}

void PiecePicker::OnPieceVerified(uint32_t piece) {
  if (Wants(piece)) --wanted_;
  have_.Set(piece);
  partial_.erase(piece);
}

void PiecePicker::OnPieceFailed(uint32_t piece) { partial_.erase(piece); }

bool PiecePicker::InEndgame() const {
  bool missing = false;
  for (uint32_t i = 0; i < num_pieces(); ++i) {
    if (!Wants(i)) continue;
    missing = true;
    auto it = partial_.find(i);
    if (it == partial_.end()) return false;
    const Partial& p = it->second;
    if (p.received + p.requested + p.writing < p.blocks.size()) return false;
  }
  return missing;
}

std::vector<uint32_t> PiecePicker::PartialPieces() const {
  std::vector<uint32_t> out;
  for (const auto& [piece, p] : partial_) out.push_back(piece);
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<bool> PiecePicker::ReceivedBlocks(uint32_t piece) const {
  auto it = partial_.find(piece);
  if (it == partial_.end()) return {};
  std::vector<bool> out;
  for (BlockState s : it->second.blocks) out.push_back(s == BlockState::kReceived);
  return out;
}

}  // namespace bt::client
