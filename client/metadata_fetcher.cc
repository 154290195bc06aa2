#include "client/metadata_fetcher.h"

#include <algorithm>

#include "base/sha.h"
#include "protocol/ut_metadata.h"

namespace bt::client {

MetadataFetcher::MetadataFetcher(std::optional<Sha1Hash> v1,
                                 std::optional<Sha256Hash> v2)
    : v1_(v1), v2_(v2) {}

bool MetadataFetcher::OnSizeOffered(uint64_t peer, uint64_t size) {
  if (done_ || size == 0 || size > kMaxMetadataSize) return false;
  auto it = peers_.find(peer);
  if (it == peers_.end()) {
    it = peers_.emplace(peer, Peer()).first;
  } else {
    if (it->second.liar) return false;
    if (it->second.size == size) return true;
    // A new size: whatever it was asked for under the old one is void.
    Release(peer);
    it->second.asked.clear();
    it->second.contributed = false;
    if (source_ == peer) EndSource();
  }
  it->second.size = size;
  Retarget();
  return true;
}

std::optional<uint32_t> MetadataFetcher::NextRequest(uint64_t peer,
                                                     absl::Time now) {
  if (done_ || target_ == 0) return std::nullopt;
  ExpireRequests(now);
  auto it = peers_.find(peer);
  if (target_ == 0 || it == peers_.end()) return std::nullopt;
  Peer& p = it->second;
  if (single_source_) {
    ChooseSource();
    if (source_ != peer) return std::nullopt;
  } else if (!Eligible(p)) {
    return std::nullopt;
  }
  for (uint32_t i = 0; i < pieces_.size(); ++i) {
    Piece& piece = pieces_[i];
    if (piece.received || piece.requested) continue;
    piece.requested = true;
    piece.from = peer;
    piece.asked = now;
    if (p.asked.size() != pieces_.size()) p.asked.assign(pieces_.size(), false);
    p.asked[i] = true;
    return i;
  }
  return std::nullopt;
}

void MetadataFetcher::OnReject(uint64_t peer, uint32_t piece) {
  if (done_) return;
  auto it = peers_.find(peer);
  if (it == peers_.end()) return;
  Peer& p = it->second;
  if (piece >= p.asked.size() || !p.asked[piece]) return;  // never asked
  p.asked[piece] = false;
  p.spent = true;
  if (source_ == peer) {
    EndSource();
  } else if (Piece& x = pieces_[piece];
             !x.received && x.requested && x.from == peer) {
    x.requested = false;
  }
  Retarget();
}

void MetadataFetcher::OnPeerGone(uint64_t peer) {
  auto it = peers_.find(peer);
  if (it == peers_.end()) return;
  Release(peer);
  peers_.erase(it);
  if (done_) return;
  if (source_ == peer) EndSource();
  Retarget();
}

MetadataFetcher::Result MetadataFetcher::OnData(
    uint64_t peer, uint32_t piece, uint64_t total_size, std::string_view data,
    std::vector<uint64_t>* culprits) {
  if (done_ || target_ == 0 || total_size != target_ ||
      piece >= pieces_.size()) {
    return Result::kIgnored;
  }
  auto it = peers_.find(peer);
  if (it == peers_.end() || piece >= it->second.asked.size() ||
      !it->second.asked[piece] || pieces_[piece].received) {
    return Result::kIgnored;
  }
  const uint64_t offset = uint64_t{piece} * protocol::kMetadataPieceSize;
  const uint64_t expected =
      std::min<uint64_t>(protocol::kMetadataPieceSize, target_ - offset);
  if (data.size() != expected) return Result::kIgnored;
  if (buffer_.size() != target_) buffer_.assign(target_, '\0');
  std::copy(data.begin(), data.end(), buffer_.begin() + offset);
  Piece& x = pieces_[piece];
  x.received = true;
  x.requested = false;
  x.from = peer;
  if (++received_ < pieces_.size()) return Result::kStored;
  if (Verify()) {
    done_ = true;
    peers_.clear();
    source_.reset();
    return Result::kComplete;
  }

  // Hash failure. Only a peer that supplied every piece is proven to lie.
  const uint64_t first = pieces_.front().from;
  const bool sole = std::all_of(pieces_.begin(), pieces_.end(),
                                [&](const Piece& q) { return q.from == first; });
  if (sole) {
    if (culprits) culprits->push_back(first);
    if (auto liar = peers_.find(first); liar != peers_.end()) {
      liar->second.liar = true;
    }
  } else if (!single_source_) {
    for (auto& [id, q] : peers_) q.contributed = false;
    for (const Piece& q : pieces_) {
      if (auto c = peers_.find(q.from); c != peers_.end()) {
        c->second.contributed = true;
      }
    }
  }
  single_source_ = true;
  source_.reset();
  ResetRound();
  Retarget();
  return Result::kHashFailed;
}

bool MetadataFetcher::Eligible(const Peer& p) const {
  return !p.liar && !p.spent && p.size == target_;
}

void MetadataFetcher::Release(uint64_t peer) {
  for (Piece& x : pieces_) {
    if (!x.received && x.requested && x.from == peer) x.requested = false;
  }
}

void MetadataFetcher::ExpireRequests(absl::Time now) {
  bool expired = false;
  bool source_expired = false;
  for (Piece& x : pieces_) {
    if (x.received || !x.requested || now - x.asked < kRequestTimeout) {
      continue;
    }
    x.requested = false;  // it may go to someone else
    expired = true;
    if (auto it = peers_.find(x.from); it != peers_.end()) {
      it->second.spent = true;
    }
    if (source_ == x.from) source_expired = true;
  }
  if (!expired) return;
  if (source_expired) EndSource();
  Retarget();
}

void MetadataFetcher::EndSource() {
  source_.reset();
  ResetRound();
}

void MetadataFetcher::ChooseSource() {
  if (!single_source_ || source_) return;
  const Peer* best = nullptr;
  for (const auto& [id, p] : peers_) {  // lowest id first among equals
    if (!Eligible(p)) continue;
    if (!best || (p.contributed && !best->contributed)) {
      best = &p;
      source_ = id;
    }
  }
  if (source_) peers_[*source_].spent = true;  // its one turn
}

void MetadataFetcher::ResetRound() {
  pieces_.assign(pieces_.size(), Piece());
  received_ = 0;
  for (auto& [id, p] : peers_) p.asked.clear();
}

void MetadataFetcher::Retarget() {
  if (done_) return;
  struct Tally {
    uint32_t peers = 0;
    bool open = false;  // someone offering it has a chance left
  };
  auto pick = [this]() -> uint64_t {
    std::map<uint64_t, Tally> tally;
    for (const auto& [id, p] : peers_) {
      if (p.liar) continue;
      Tally& t = tally[p.size];
      ++t.peers;
      if (!p.spent) t.open = true;
    }
    if (source_) tally[target_].open = true;  // its round is under way
    uint64_t best = 0;
    uint32_t best_peers = 0;
    for (const auto& [size, t] : tally) {  // ascending: smaller wins ties
      if (!t.open) continue;
      if (t.peers > best_peers || (t.peers == best_peers && size == target_)) {
        best = size;
        best_peers = t.peers;
      }
    }
    return best;
  };
  uint64_t best = pick();
  if (best == 0) {
    // Every size is disproved: give every peer still here a new chance.
    bool renewed = false;
    for (auto& [id, p] : peers_) {
      if (!p.liar && p.spent) {
        p.spent = false;
        renewed = true;
      }
    }
    if (renewed) best = pick();
  }
  if (best != target_) SetTarget(best);
}

void MetadataFetcher::SetTarget(uint64_t size) {
  target_ = size;
  single_source_ = false;
  source_.reset();
  pieces_.assign(size == 0 ? 0 : protocol::MetadataPieceCount(size), Piece());
  received_ = 0;
  buffer_ = std::string();  // allocated when the first piece arrives
  for (auto& [id, p] : peers_) {
    p.asked.clear();
    p.contributed = false;
  }
}

bool MetadataFetcher::Verify() const {
  if (v1_) return Sha1(AsBytes(buffer_)) == *v1_;
  return v2_ && Sha256(AsBytes(buffer_)) == *v2_;
}

}  // namespace bt::client
