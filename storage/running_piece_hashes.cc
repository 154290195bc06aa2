#include "storage/running_piece_hashes.h"

#include <algorithm>
#include <utility>

namespace bt::storage {

void RunningPieceHashes::Add(uint32_t piece, int64_t begin, ByteSpan data,
                             std::shared_ptr<const void> keeper) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = pieces_.find(piece);
    if (begin == 0) {
      if (it != pieces_.end()) {
        Erase(it);
      } else if (pieces_.size() >= max_pieces_) {
        return;
      }
      it = pieces_.try_emplace(piece).first;
    } else if (it == pieces_.end()) {
      return;
    } else if (begin != it->second.end) {
      // A gap stays a gap (the verifier reads from there); bytes rewritten
      // inside the prefix make its hash wrong.
      if (begin < it->second.end) Erase(it);
      return;
    }
    Tracked& t = it->second;
    t.end += static_cast<int64_t>(data.size());
    const bool kept = keeper != nullptr;
    Hold(piece, t, data, std::move(keeper));
    PairHolders();
    if (!kept) {
      // `data` is gone after this call: hash what is left of the piece.
      while (!t.held.empty()) HashFront(t);
      ForgetEmptyHolders();
    }
  }
  wake_.notify_all();
}

RunningPieceHashes::Prefix RunningPieceHashes::Take(uint32_t piece,
                                                    absl::Duration wait) {
  std::unique_lock<std::mutex> lock(mu_);
  Drain(piece, absl::Now() + wait, lock);
  auto it = pieces_.find(piece);
  if (it == pieces_.end()) return Prefix();
  Prefix p = std::move(it->second.prefix);
  Erase(it);
  return p;
}

void RunningPieceHashes::Forget(uint32_t piece) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = pieces_.find(piece);
  if (it != pieces_.end()) Erase(it);
}

void RunningPieceHashes::HashHeld() {
  std::lock_guard<std::mutex> lock(mu_);
  for (uint32_t piece : holding_) {
    Tracked& t = pieces_.at(piece);
    while (!t.held.empty()) HashFront(t);
  }
  holding_.clear();
}

size_t RunningPieceHashes::pieces() const {
  std::lock_guard<std::mutex> lock(mu_);
  return pieces_.size();
}

size_t RunningPieceHashes::held_bytes() const {
  std::lock_guard<std::mutex> lock(mu_);
  return held_bytes_;
}

void RunningPieceHashes::Hold(uint32_t piece, Tracked& t, ByteSpan data,
                              std::shared_ptr<const void> keeper) {
  if (t.held.empty()) holding_.push_back(piece);
  t.held.push_back(Held{data, std::move(keeper)});
  held_bytes_ += data.size();
}

void RunningPieceHashes::HashSideBySide(Tracked& a, Tracked& b) {
  Held& fa = a.held.front();
  Held& fb = b.held.front();
  const size_t n = std::min(fa.data.size(), fb.data.size()) & ~size_t{63};
  if (n == 0) {
    // A short block (a torrent's last): hash it alone.
    HashFront(fa.data.size() < fb.data.size() ? a : b);
    return;
  }
  Sha1Hasher::UpdateBoth(a.prefix.hasher, fa.data.first(n), b.prefix.hasher,
                         fb.data.first(n));
  for (Tracked* t : {&a, &b}) {
    Held& f = t->held.front();
    f.data.remove_prefix(n);
    t->prefix.length += static_cast<int64_t>(n);
    held_bytes_ -= n;
    if (f.data.empty()) t->held.pop_front();
  }
}

void RunningPieceHashes::HashFront(Tracked& t) {
  const ByteSpan data = t.held.front().data;
  t.prefix.hasher.Update(data);
  t.prefix.length += static_cast<int64_t>(data.size());
  held_bytes_ -= data.size();
  t.held.pop_front();
}

void RunningPieceHashes::PairHolders() {
  while (holding_.size() >= 2) {
    HashSideBySide(pieces_.at(holding_[0]), pieces_.at(holding_[1]));
    ForgetEmptyHolders();
  }
  while (held_bytes_ > max_held_bytes_ && !holding_.empty()) {
    HashFront(pieces_.at(holding_.front()));
    ForgetEmptyHolders();
  }
}

void RunningPieceHashes::Drain(uint32_t piece, absl::Time deadline,
                               std::unique_lock<std::mutex>& lock) {
  for (;;) {
    auto it = pieces_.find(piece);
    if (it == pieces_.end() || it->second.held.empty()) return;
    auto other = std::find_if(holding_.begin(), holding_.end(),
                              [&](uint32_t p) { return p != piece; });
    if (other != holding_.end()) {
      HashSideBySide(it->second, pieces_.at(*other));
      ForgetEmptyHolders();
    } else if (absl::Now() < deadline) {
      // An Add on another thread hashes this piece's blocks beside its own
      // (PairHolders) and wakes us.
      wake_.wait_until(lock, absl::ToChronoTime(deadline));
    } else {
      while (!it->second.held.empty()) HashFront(it->second);
      ForgetEmptyHolders();
      return;
    }
  }
}

void RunningPieceHashes::Erase(Map::iterator it) {
  for (const Held& h : it->second.held) held_bytes_ -= h.data.size();
  pieces_.erase(it);
  ForgetEmptyHolders();
}

void RunningPieceHashes::ForgetEmptyHolders() {
  holding_.erase(std::remove_if(holding_.begin(), holding_.end(),
                                [&](uint32_t p) {
                                  auto it = pieces_.find(p);
                                  return it == pieces_.end() ||
                                         it->second.held.empty();
                                }),
                 holding_.end());
}

}  // namespace bt::storage
