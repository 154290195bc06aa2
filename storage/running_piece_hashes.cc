#include "storage/running_piece_hashes.h"

#include <utility>

namespace bt::storage {

void RunningPieceHashes::Add(uint32_t piece, int64_t begin, ByteSpan data) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = pieces_.find(piece);
  if (begin == 0) {
    if (it == pieces_.end()) {
      if (pieces_.size() >= max_pieces_) return;
      it = pieces_.try_emplace(piece).first;
    } else {
      it->second = Prefix();
    }
  } else if (it == pieces_.end()) {
    return;
  } else if (begin != it->second.length) {
    // A gap stays a gap (the verifier reads from there); bytes rewritten
    // inside the prefix make its hash wrong.
    if (begin < it->second.length) pieces_.erase(it);
    return;
  }
  it->second.hasher.Update(data);
  it->second.length += static_cast<int64_t>(data.size());
}

RunningPieceHashes::Prefix RunningPieceHashes::Take(uint32_t piece) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = pieces_.find(piece);
  if (it == pieces_.end()) return Prefix();
  Prefix p = std::move(it->second);
  pieces_.erase(it);
  return p;
}

void RunningPieceHashes::Forget(uint32_t piece) {
  std::lock_guard<std::mutex> lock(mu_);
  pieces_.erase(piece);
}

size_t RunningPieceHashes::pieces() const {
  std::lock_guard<std::mutex> lock(mu_);
  return pieces_.size();
}

}  // namespace bt::storage
