#include "client/super_seeder.h"

#include <algorithm>
#include <utility>

#include "base/random.h"

namespace bt::client {

SuperSeeder::SuperSeeder(uint32_t num_pieces, const Options& options)
    : options_(options),
      num_pieces_(num_pieces),
      rng_(options.seed ? options.seed : RandomU64()),
      availability_(num_pieces, 0),
      assigned_(num_pieces, 0) {}

std::vector<uint32_t> SuperSeeder::AddPeer(uint64_t id, bool reveal) {
  auto [it, added] = peers_.try_emplace(id);
  if (!added) return {};
  it->second.have = storage::Bitfield(num_pieces_);
  it->second.reveal = reveal;
  return Refill(it->second);
}

std::vector<uint32_t> SuperSeeder::OnHaveSet(uint64_t id,
                                             const storage::Bitfield& have) {
  auto it = peers_.find(id);
  if (it == peers_.end() || have.size() != num_pieces_) return {};
  Peer& peer = it->second;
  for (uint32_t piece = 0; piece < num_pieces_; ++piece) {
    if (have.Get(piece)) Learn(peer, piece);
  }
  Settle(peer);
  return Refill(peer);
}

std::vector<uint32_t> SuperSeeder::OnHave(uint64_t id, uint32_t piece) {
  auto it = peers_.find(id);
  if (it == peers_.end() || piece >= num_pieces_) return {};
  Peer& peer = it->second;
  if (!Learn(peer, piece)) return {};
  Settle(peer);
  return Refill(peer);
}

void SuperSeeder::RemovePeer(uint64_t id) {
  auto it = peers_.find(id);
  if (it == peers_.end()) return;
  const Peer& peer = it->second;
  for (uint32_t piece = 0; piece < num_pieces_; ++piece) {
    if (peer.have.Get(piece)) --availability_[piece];
  }
  if (!peer.choked) {
    for (uint32_t piece : peer.outstanding) --assigned_[piece];
  }
  peers_.erase(it);
}

void SuperSeeder::SetChoked(uint64_t id, bool choked) {
  auto it = peers_.find(id);
  if (it == peers_.end() || it->second.choked == choked) return;
  Peer& peer = it->second;
  peer.choked = choked;
  for (uint32_t piece : peer.outstanding) {
    choked ? --assigned_[piece] : ++assigned_[piece];
  }
}

std::vector<uint32_t> SuperSeeder::outstanding(uint64_t id) const {
  auto it = peers_.find(id);
  return it == peers_.end() ? std::vector<uint32_t>{} : it->second.outstanding;
}

bool SuperSeeder::Learn(Peer& peer, uint32_t piece) {
  if (peer.have.Get(piece)) return false;
  peer.have.Set(piece);
  ++availability_[piece];
  return true;
}

void SuperSeeder::Settle(Peer& peer) {
  auto settled = [&](uint32_t piece) {
    if (!peer.have.Get(piece)) return false;
    if (!peer.choked) --assigned_[piece];
    return true;
  };
  peer.outstanding.erase(
      std::remove_if(peer.outstanding.begin(), peer.outstanding.end(), settled),
      peer.outstanding.end());
}

std::vector<uint32_t> SuperSeeder::Refill(Peer& peer) {
  std::vector<uint32_t> reveal;
  if (!peer.reveal) return reveal;
  while (static_cast<int>(peer.outstanding.size()) < options_.pieces_per_peer) {
    const int64_t piece = Pick(peer);
    if (piece < 0) break;
    peer.outstanding.push_back(static_cast<uint32_t>(piece));
    if (!peer.choked) ++assigned_[piece];
    reveal.push_back(static_cast<uint32_t>(piece));
  }
  return reveal;
}

int64_t SuperSeeder::Pick(const Peer& peer) {
  if (num_pieces_ == 0) return -1;
  // The piece outstanding to the fewest peers, then the rarest; the scan
  // starts at a random piece so ties fall randomly, and stops at a piece
  // no peer has or was shown.
  const uint32_t start =
      std::uniform_int_distribution<uint32_t>(0, num_pieces_ - 1)(rng_);
  int64_t best = -1;
  std::pair<uint32_t, uint32_t> best_key;
  for (uint32_t i = 0; i < num_pieces_; ++i) {
    const uint32_t piece = (start + i) % num_pieces_;
    if (peer.have.Get(piece) ||
        std::find(peer.outstanding.begin(), peer.outstanding.end(), piece) !=
            peer.outstanding.end()) {
      continue;
    }
    const std::pair<uint32_t, uint32_t> key{assigned_[piece],
                                            availability_[piece]};
    if (best < 0 || key < best_key) {
      best = piece;
      best_key = key;
      if (key == std::pair<uint32_t, uint32_t>{0, 0}) break;
    }
  }
  return best;
}

}  // namespace bt::client
