// MetadataFetcher: downloads a torrent's info dictionary from peers (BEP 9)
// for a magnet link, without letting a lying peer poison it or get honest
// peers blamed. Sans-I/O: the caller sends and receives the ut_metadata
// messages and passes time in.
//
// Rules:
//  - Sizes. Each peer's offered metadata_size is remembered. The fetch
//    targets one size at a time: the one offered by the most peers that are
//    present and not proven liars (a tie keeps the current target, else the
//    smaller size wins). Only peers offering the target size are asked; a
//    peer offering another size is not a liar for that. A change of target
//    starts over with a fresh buffer.
//  - Data. A piece is kept only if `peer` was asked for it in the current
//    round, the message's total_size equals the target size and the length
//    is right (16 KiB, less for the last piece); anything else is ignored.
//  - Rounds. The first round for a size spreads the pieces over all peers
//    offering it. When the assembled bytes fail the hash, the round is
//    dropped; if several peers contributed nobody is blamed, and every later
//    round for that size is single-source: one peer is asked for all pieces
//    (one offering the size, not yet tried alone, preferring those that
//    contributed to the failed multi-source round). A failed round that one
//    peer supplied entirely proves that peer a liar: it is reported in
//    `culprits` (the only case that reports anyone), never asked again and
//    its offer no longer counts. An honest peer never appears in `culprits`.
//  - Stalls. A peer whose request timed out (kRequestTimeout) or who
//    rejected a piece, and a single source once its turn ends, has had its
//    chance: it is asked nothing more until every other chance is used up.
//    A timed-out or rejected piece goes to another peer (in single-source
//    rounds, to the next source, which starts the round afresh). A size
//    whose every remaining peer has had its chance is disproved and the next
//    best size is tried; when no size is left, every present peer that is not
//    a proven liar gets a new chance.
//  - Memory. Per-peer state lives from OnSizeOffered to OnPeerGone; there is
//    at most one buffer, of the target size, allocated when its first piece
//    arrives.
//
//   bt::client::MetadataFetcher fetch(info_hash_v1, std::nullopt);
//   fetch.OnSizeOffered(peer, metadata_size);     // from the ext handshake
//   // For every peer, on each new event and on a timer:
//   while (auto piece = fetch.NextRequest(peer, now)) SendRequest(*piece);
//   std::vector<uint64_t> culprits;
//   switch (fetch.OnData(peer, m.piece, m.total_size, m.data, &culprits)) {
//     case Result::kHashFailed: for (uint64_t p : culprits) Ban(p); break;
//     ...
//   }
//   if (fetch.done()) Use(fetch.metadata());
#ifndef CLIENT_METADATA_FETCHER_H_
#define CLIENT_METADATA_FETCHER_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/time/time.h"
#include "base/hash.h"

namespace bt::client {

class MetadataFetcher {
 public:
  // Largest info dictionary accepted (the biggest real torrents have a few
  // MiB of metadata).
  static constexpr uint64_t kMaxMetadataSize = 16 << 20;
  // A request unanswered this long may go to another peer.
  static constexpr absl::Duration kRequestTimeout = absl::Seconds(10);

  // At least one hash must be given; the v1 hash is checked when present.
  MetadataFetcher(std::optional<Sha1Hash> v1, std::optional<Sha256Hash> v2);

  // OnSizeOffered records the metadata_size `peer` announced (a new offer
  // replaces its previous one and frees the pieces it was asked for). False,
  // and nothing recorded, if the size is 0 or above kMaxMetadataSize, if
  // `peer` is a proven liar, or once done(). True does not mean the size is
  // the target: a peer offering another size is simply not asked.
  bool OnSizeOffered(uint64_t peer, uint64_t size);
  // NextRequest picks a piece to ask `peer` for, or nullopt: if `peer` does
  // not offer the target size, is a proven liar, has had its chance, is not
  // this single-source round's source, or every missing piece is already
  // asked of someone and not timed out. Requests older than kRequestTimeout
  // (relative to `now`) are timed out by this call.
  std::optional<uint32_t> NextRequest(uint64_t peer, absl::Time now);
  // OnReject: `peer` will not send `piece`; it may go to someone else.
  void OnReject(uint64_t peer, uint32_t piece);

  enum class Result {
    kStored,     // kept; more pieces needed
    kIgnored,    // not asked of `peer` this round, wrong total_size or
                 // length, a duplicate, or already done()
    kComplete,   // every piece arrived and the hash matches: done()
    kHashFailed  // every piece arrived but the hash did not match; the
                 // round is dropped (see the rules above)
  };
  // OnData takes a data message: `piece` with `data` from `peer`, whose
  // header said the metadata is `total_size` bytes. On kHashFailed the
  // proven liar, if one peer supplied every piece, is appended to
  // `*culprits` (if given); nothing is appended otherwise. `data` is copied.
  Result OnData(uint64_t peer, uint32_t piece, uint64_t total_size,
                std::string_view data,
                std::vector<uint64_t>* culprits = nullptr);
  // OnPeerGone frees the pieces requested from `peer` and forgets it (its
  // offer no longer counts).
  void OnPeerGone(uint64_t peer);

  bool done() const { return done_; }
  // size_known: a target size is chosen; size() is it (0 if none). Both may
  // change until done().
  bool size_known() const { return target_ > 0; }
  uint64_t size() const { return target_; }
  uint32_t pieces_total() const { return static_cast<uint32_t>(pieces_.size()); }
  uint32_t pieces_received() const { return received_; }
  // metadata is the verified info dictionary (requires done()).
  const std::string& metadata() const { return buffer_; }

 private:
  struct Peer {
    uint64_t size = 0;         // offered metadata_size
    bool liar = false;         // supplied a whole failed round alone
    bool spent = false;        // had its chance (see "Stalls")
    bool contributed = false;  // sent a piece of the failed multi-source round
    std::vector<bool> asked;   // pieces asked of it in the current round
  };
  struct Piece {
    bool received = false;
    bool requested = false;  // asked of `from` and not timed out
    uint64_t from = 0;       // who sent it, or who was asked last
    absl::Time asked = absl::InfinitePast();
  };

  // Eligible: present, not a liar, offering the target, not spent.
  bool Eligible(const Peer& p) const;
  // Release frees the pieces asked of `peer` that have not arrived.
  void Release(uint64_t peer);
  // ExpireRequests times out requests older than kRequestTimeout.
  void ExpireRequests(absl::Time now);
  // EndSource ends the current single-source round without a verdict.
  void EndSource();
  // ChooseSource picks the next single source, if any.
  void ChooseSource();
  // ResetRound drops the pieces of the current round.
  void ResetRound();
  // Retarget re-picks the target size after offers or chances changed.
  void Retarget();
  void SetTarget(uint64_t size);
  bool Verify() const;

  std::optional<Sha1Hash> v1_;
  std::optional<Sha256Hash> v2_;
  std::map<uint64_t, Peer> peers_;
  uint64_t target_ = 0;
  bool single_source_ = false;     // a multi-source round failed
  std::optional<uint64_t> source_;  // single-source round's peer
  std::vector<Piece> pieces_;
  std::string buffer_;
  uint32_t received_ = 0;
  bool done_ = false;
};

}  // namespace bt::client

#endif  // CLIENT_METADATA_FETCHER_H_
