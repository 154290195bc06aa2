#include "client/piece_verifier.h"

#include <algorithm>

namespace bt::client {

void PieceVerifier::OnBlock(uint32_t piece, uint32_t block, uint32_t blocks,
                            std::optional<Endpoint> sender) {
  std::vector<Sender>& s = senders_[piece];
  if (s.size() != blocks) s.assign(blocks, std::nullopt);
  if (block < s.size()) s[block] = std::move(sender);
}

std::vector<Endpoint> PieceVerifier::OnVerified(
    uint32_t piece, bool passed, const std::vector<Sha1Hash>& block_hashes) {
  std::vector<Sender> senders;
  if (auto it = senders_.find(piece); it != senders_.end()) {
    senders = std::move(it->second);
    senders_.erase(it);
  }
  std::vector<Endpoint> culprits;
  if (!passed) {
    // One known sender for every block convicts it; anything else waits
    // for the good copy to compare with.
    const bool one_sender =
        !senders.empty() && senders[0].has_value() &&
        std::all_of(senders.begin(), senders.end(),
                    [&](const Sender& s) { return s == senders[0]; });
    if (one_sender) {
      culprits.push_back(*senders[0]);
      failed_.erase(piece);
      return culprits;
    }
    if (block_hashes.size() == senders.size()) {
      std::vector<FailedBlock>& blocks = failed_[piece];
      blocks.clear();
      for (size_t b = 0; b < senders.size(); ++b) {
        blocks.push_back(FailedBlock{senders[b], block_hashes[b]});
      }
    }
    return culprits;
  }
  auto it = failed_.find(piece);
  if (it == failed_.end()) return culprits;
  if (it->second.size() == block_hashes.size()) {
    for (size_t b = 0; b < block_hashes.size(); ++b) {
      const FailedBlock& f = it->second[b];
      if (f.sender && f.hash != block_hashes[b] &&
          std::find(culprits.begin(), culprits.end(), *f.sender) ==
              culprits.end()) {
        culprits.push_back(*f.sender);
      }
    }
  }
  failed_.erase(it);
  return culprits;
}

void PieceVerifier::Forget(uint32_t piece) {
  senders_.erase(piece);
  failed_.erase(piece);
}

}  // namespace bt::client
