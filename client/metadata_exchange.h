// MetadataExchange: how a torrent started from a magnet link gets what it
// lacks from its peers — the info dictionary (BEP 9, MetadataFetcher) and,
// for a v2-only link, the piece layers (BEP 52, PieceLayerFetcher); or how
// a v2-only .torrent file that lacks some piece layers gets them
// (ForPieceLayers: only the missing layers are asked for). It
// decides what to ask each peer session and turns the answers into a
// complete TorrentInfo, and names the peers proven to have lied.
//
//   bt::client::MetadataExchange exchange(link.info_hash_v1, link.info_hash_v2);
//   exchange.OnSizeOffered(peer_id, size);
//   exchange.RequestFrom(session, peer_id, now);
//   MetadataExchange::Result r = exchange.OnPiece(peer_id, piece_event);
//   for (uint64_t liar : r.liars) Ban(liar);
//   if (r.info) Adopt(*std::move(r.info));
#ifndef CLIENT_METADATA_EXCHANGE_H_
#define CLIENT_METADATA_EXCHANGE_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "base/hash.h"
#include "client/metadata_fetcher.h"
#include "client/piece_layer_fetcher.h"
#include "client/session/peer_session.h"
#include "client/session/session_events.h"
#include "metainfo/torrent_info.h"

namespace bt::client {

class MetadataExchange {
 public:
  // Requests kept in flight per peer, of each kind.
  static constexpr int kRequestsPerPeer = 2;

  MetadataExchange(std::optional<Sha1Hash> v1, std::optional<Sha256Hash> v2);

  // ForPieceLayers starts from a known info dictionary whose v2 piece
  // layers are (partly) missing: no metadata is asked for, only the
  // missing layers; `info` comes back complete in a Result.
  static std::unique_ptr<MetadataExchange> ForPieceLayers(
      metainfo::TorrentInfo info);

  struct Result {
    // The complete metadata (with piece layers), once everything arrived.
    std::optional<metainfo::TorrentInfo> info;
    // Peers proven to have sent bad data.
    std::vector<uint64_t> liars;
    // The metadata verified but cannot be used (it does not parse).
    absl::Status error;
  };

  void OnSizeOffered(uint64_t peer, uint64_t size);
  Result OnPiece(uint64_t peer, const MetadataPieceArrived& m);
  void OnPieceRejected(uint64_t peer, uint32_t piece);
  Result OnHashes(uint64_t peer, const HashesArrived& m);
  void OnHashesRejected(uint64_t peer, const protocol::HashRange& range);
  void OnPeerGone(uint64_t peer);
  // RequestFrom asks `session` (peer `peer`) for what it can supply now.
  void RequestFrom(PeerSession& session, uint64_t peer, absl::Time now);

  // Progress: (received, total) metadata pieces, and piece-layer ranges
  // ((0, 0) when not being fetched).
  std::pair<uint32_t, uint32_t> metadata_progress() const;
  std::pair<uint32_t, uint32_t> piece_layer_progress() const;

 private:
  // AdoptMetadata parses the verified info dictionary; a v2-only one
  // without piece layers starts the layer fetch instead.
  Result AdoptMetadata();

  MetadataFetcher metadata_;
  // The info dictionary came with the torrent: metadata_ stays unused.
  bool info_known_ = false;
  // A v2-only link's info dictionary while its piece layers are fetched.
  std::optional<metainfo::TorrentInfo> layerless_;
  std::unique_ptr<PieceLayerFetcher> layers_;
};

}  // namespace bt::client

#endif  // CLIENT_METADATA_EXCHANGE_H_
