// MetadataFetcher: downloads a torrent's info dictionary from peers (BEP 9)
// for a magnet link. Pieces of 16 KiB are spread over the peers that offer
// them; the assembled bytes are used only once their SHA-1 (btih) or
// SHA-256 (btmh) matches the info-hash, otherwise everything is fetched
// again and the peers that supplied it are reported. Sans-I/O: time is
// passed in.
//
//   bt::client::MetadataFetcher fetch(info_hash_v1, std::nullopt);
//   fetch.OnSizeOffered(peer, metadata_size);     // from the ext handshake
//   if (auto piece = fetch.NextRequest(peer, now)) SendRequest(*piece);
//   switch (fetch.OnData(peer, piece, data)) { ... }
//   if (fetch.done()) Use(fetch.metadata());
#ifndef CLIENT_METADATA_FETCHER_H_
#define CLIENT_METADATA_FETCHER_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
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

  // OnSizeOffered records the metadata_size a peer announced. The first
  // plausible size is adopted; false if this one is refused (too large,
  // zero, or different from the adopted size).
  bool OnSizeOffered(uint64_t peer, uint64_t size);
  // NextRequest picks a piece to ask `peer` for: one nobody was asked for,
  // else one whose request timed out. nullopt if none (or size unknown).
  std::optional<uint32_t> NextRequest(uint64_t peer, absl::Time now);
  // OnReject: `peer` will not send `piece`; it may go to someone else.
  void OnReject(uint64_t peer, uint32_t piece);

  enum class Result {
    kStored,     // kept; more pieces needed
    kIgnored,    // unknown piece, wrong size or a duplicate
    kComplete,   // every piece arrived and the hash matches: done()
    kHashFailed  // every piece arrived but the hash did not match; the
                 // pieces are dropped and `culprits` names who sent them
  };
  Result OnData(uint64_t peer, uint32_t piece, std::string_view data,
                std::vector<uint64_t>* culprits = nullptr);
  // OnPeerGone frees the pieces requested from `peer`.
  void OnPeerGone(uint64_t peer);

  bool done() const { return done_; }
  bool size_known() const { return size_ > 0; }
  uint64_t size() const { return size_; }
  uint32_t pieces_total() const { return static_cast<uint32_t>(pieces_.size()); }
  uint32_t pieces_received() const { return received_; }
  // metadata is the verified info dictionary (requires done()).
  const std::string& metadata() const { return buffer_; }

 private:
  struct Piece {
    bool received = false;
    uint64_t from = 0;       // who sent it, or who was asked
    absl::Time asked = absl::InfinitePast();
    bool requested = false;
  };
  bool Verify() const;

  std::optional<Sha1Hash> v1_;
  std::optional<Sha256Hash> v2_;
  uint64_t size_ = 0;
  std::vector<Piece> pieces_;
  std::string buffer_;
  uint32_t received_ = 0;
  bool done_ = false;
};

}  // namespace bt::client

#endif  // CLIENT_METADATA_FETCHER_H_
