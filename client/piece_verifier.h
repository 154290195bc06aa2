// PieceVerifier: who sent each block of the pieces being downloaded, and who
// is to blame when a piece fails its hash check. A piece that one peer sent
// entirely convicts that peer at once. A piece with several senders, or
// with blocks of unknown origin (restored from resume data), convicts
// nobody: the hash of each block is kept, and when the piece later passes,
// the senders whose blocks differ from the good data are the culprits. A
// failure to read the piece back (a local disk error) is never blamed on a
// peer. Senders are IP addresses (port 0), the unit of bans. Sans-I/O.
//
//   bt::client::PieceVerifier v;
//   v.OnBlock(piece, block, blocks_in_piece, sender_ip);
//   ... hash the piece (block hashes too if v.WantsBlockHashes(piece)) ...
//   for (const Endpoint& bad : v.OnVerified(piece, passed, block_hashes))
//     Ban(bad);
#ifndef CLIENT_PIECE_VERIFIER_H_
#define CLIENT_PIECE_VERIFIER_H_

#include <cstdint>
#include <optional>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "base/endpoint.h"
#include "base/hash.h"

namespace bt::client {

class PieceVerifier {
 public:
  // OnBlock records that `sender` (nullopt: unknown, e.g. resume data)
  // supplied block `block` of `piece`, which has `blocks` blocks.
  void OnBlock(uint32_t piece, uint32_t block, uint32_t blocks,
               std::optional<Endpoint> sender);
  // WantsBlockHashes: the hash job for `piece` should also report the
  // SHA-1 of each block, even if the piece passes (it failed before).
  bool WantsBlockHashes(uint32_t piece) const {
    return failed_.contains(piece);
  }
  // OnVerified takes the verdict on a complete piece and returns the IP
  // addresses proven to have sent bad data. `block_hashes` holds one hash
  // per block when the job computed them (always for a failed piece, and
  // when WantsBlockHashes), else is empty.
  std::vector<Endpoint> OnVerified(uint32_t piece, bool passed,
                                   const std::vector<Sha1Hash>& block_hashes);
  // Forget drops what is known of `piece` (its data could not be read, or
  // it was written by us before and is being checked again).
  void Forget(uint32_t piece);
  size_t pieces_tracked() const { return senders_.size() + failed_.size(); }

 private:
  using Sender = std::optional<Endpoint>;
  struct FailedBlock {
    Sender sender;
    Sha1Hash hash;
  };
  absl::flat_hash_map<uint32_t, std::vector<Sender>> senders_;
  absl::flat_hash_map<uint32_t, std::vector<FailedBlock>> failed_;
};

}  // namespace bt::client

#endif  // CLIENT_PIECE_VERIFIER_H_
