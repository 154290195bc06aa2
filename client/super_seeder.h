// SuperSeeder decides, for a complete torrent in super-seed mode (BEP 16),
// which pieces each peer is told we have. We masquerade as a peer with
// nothing (have none) and reveal to each peer a piece or two (a HAVE each):
// pieces sent to nobody yet first, else the rarest, and a piece revealed to
// one peer is revealed to another only when nothing better is left. A peer
// is shown a new piece once it announced (HAVE) one we revealed to it; so
// the seed uploads each piece about once and the peers spread it. As in
// libtorrent (strict_super_seeding off, its default), the announcement of
// the peer itself is enough: BEP 16's stricter rule (wait until another
// peer has it too) would let a peer that never announces anything stall a
// peer whose only partner it is. Requests for pieces not revealed to a
// peer are not served (the session enforces that).
//
// Sans-I/O: peers are ids, events go in, pieces to reveal come out.
//
//   bt::client::SuperSeeder seeder(num_pieces);
//   for (uint32_t p : seeder.AddPeer(id)) session.RevealPiece(p);
//   // the peer's bitfield, or a HAVE, arrived:
//   for (uint32_t p : seeder.OnHaveSet(id, peer_have)) session.RevealPiece(p);
//   for (uint32_t p : seeder.OnHave(id, piece)) session.RevealPiece(p);
//   seeder.RemovePeer(id);
//
// Whom we choke matters: see SetChoked.
//
// Bounds: per peer one bitfield of the torrent's size and at most
// pieces_per_peer outstanding reveals; a peer that never announces what it
// got is never shown more than that, and holds up no one else (pieces
// revealed to it are given to others once nothing better is left). Unknown
// peers and pieces out of range are ignored. Not thread-safe.
#ifndef CLIENT_SUPER_SEEDER_H_
#define CLIENT_SUPER_SEEDER_H_

#include <cstdint>
#include <random>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "base/random.h"
#include "storage/bitfield.h"

namespace bt::client {

class SuperSeeder {
 public:
  struct Options {
    // Pieces a peer may have been shown and not yet announced.
    int pieces_per_peer = 2;
    uint64_t seed = 0;  // random tie-breaks (0: a random seed)
  };

  explicit SuperSeeder(uint32_t num_pieces) : SuperSeeder(num_pieces, {}) {}
  SuperSeeder(uint32_t num_pieces, const Options& options);

  // AddPeer: a peer was told we have nothing. `reveal` false for a peer
  // that saw our whole have-set (connected before super-seeding began): it
  // only counts towards availability. Returns the pieces to reveal to it.
  std::vector<uint32_t> AddPeer(uint64_t peer, bool reveal = true);
  // OnHaveSet: the peer's bitfield (or have all / have none) arrived; bits
  // it already had are not counted twice. Returns pieces to reveal to it.
  std::vector<uint32_t> OnHaveSet(uint64_t peer, const storage::Bitfield& have);
  // OnHave: the peer announced `piece`. Returns pieces to reveal to it.
  std::vector<uint32_t> OnHave(uint64_t peer, uint32_t piece);
  // RemovePeer forgets a peer that left.
  void RemovePeer(uint64_t peer);
  // SetChoked: we choke (or unchoke) `peer`. Pieces shown to a choked peer
  // are shown to others as if no one had them: it cannot fetch them from
  // us now, so they would wait on it. A peer starts unchoked.
  void SetChoked(uint64_t peer, bool choked);

  // outstanding lists the pieces revealed to `peer` that it has not
  // announced yet.
  std::vector<uint32_t> outstanding(uint64_t peer) const;
  // availability: how many peers have `piece`.
  uint32_t availability(uint32_t piece) const {
    return piece < availability_.size() ? availability_[piece] : 0;
  }
  size_t peers() const { return peers_.size(); }

 private:
  struct Peer {
    storage::Bitfield have;
    std::vector<uint32_t> outstanding;
    bool reveal = true;
    bool choked = false;
  };

  // Learn records that `peer` has `piece`; false if it was known.
  bool Learn(Peer& peer, uint32_t piece);
  // Settle drops the outstanding pieces `peer` now has.
  void Settle(Peer& peer);
  // Refill reveals pieces until `peer` has pieces_per_peer outstanding or
  // lacks nothing else.
  std::vector<uint32_t> Refill(Peer& peer);
  // Pick returns the piece to reveal next to `peer`, or -1.
  int64_t Pick(const Peer& peer);

  Options options_;
  uint32_t num_pieces_;
  SplitMix64 rng_;
  std::vector<uint32_t> availability_;
  // Unchoked peers each piece is outstanding to.
  std::vector<uint32_t> assigned_;
  absl::flat_hash_map<uint64_t, Peer> peers_;
};

}  // namespace bt::client

#endif  // CLIENT_SUPER_SEEDER_H_
