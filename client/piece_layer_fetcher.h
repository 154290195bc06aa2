// PieceLayerFetcher: fetches the piece layers that a v2 torrent's bare info
// dictionary (from a magnet link) lacks, through BEP 52 hash requests
// spread over the peers. Each answer is proved up to its file's pieces root
// before it is kept, so a peer can waste a request but never plant a hash.
// Sans-I/O: time is passed in.
//
//   bt::client::PieceLayerFetcher fetch(info);   // info without layers
//   if (auto r = fetch.NextRequest(peer, now)) SendHashRequest(*r);
//   switch (fetch.OnHashes(peer, hashes_message)) { ... }
//   if (fetch.done()) RETURN_IF_ERROR(info.AddPieceLayers(fetch.PieceLayers()));
#ifndef CLIENT_PIECE_LAYER_FETCHER_H_
#define CLIENT_PIECE_LAYER_FETCHER_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "base/hash.h"
#include "metainfo/torrent_info.h"
#include "protocol/message.h"

namespace bt::client {

class PieceLayerFetcher {
 public:
  // A request unanswered this long may go to another peer.
  static constexpr absl::Duration kRequestTimeout = absl::Seconds(10);

  // Plans the requests for every file of `info` spanning more than one
  // piece whose layer `info` lacks (none for a torrent of small files:
  // done() at once).
  explicit PieceLayerFetcher(const metainfo::TorrentInfo& info);

  // NextRequest picks a range to ask `peer` for: one nobody is waiting on
  // (or whose request timed out) and that `peer` has not refused.
  std::optional<protocol::HashRange> NextRequest(uint64_t peer,
                                                 absl::Time now);

  enum class Result {
    kStored,    // proved and kept; more ranges needed
    kIgnored,   // not a range we asked this peer for, or already had
    kBad,       // the hashes do not prove out: the peer lied or erred
    kComplete,  // the last range arrived: done()
  };
  Result OnHashes(uint64_t peer, const protocol::Hashes& m);
  // OnReject: `peer` will not serve `range`; someone else may.
  void OnReject(uint64_t peer, const protocol::HashRange& range);
  // OnPeerGone frees the ranges asked of `peer`.
  void OnPeerGone(uint64_t peer);

  bool done() const { return received_ == ranges_.size(); }
  size_t ranges_total() const { return ranges_.size(); }
  size_t ranges_received() const { return received_; }
  // PieceLayers is the bencoded `piece layers` dictionary for
  // TorrentInfo::AddPieceLayers (requires done()).
  std::string PieceLayers() const;

 private:
  struct Range {
    protocol::HashRange range;
    uint32_t file_pieces = 0;  // pieces of the file: the layer's real size
    std::vector<Sha256Hash> hashes;  // set once received
    bool received = false;
    bool asked = false;
    uint64_t asked_peer = 0;
    absl::Time asked_at = absl::InfinitePast();
    std::vector<uint64_t> refused_by;
  };
  Range* Find(uint64_t peer, const protocol::HashRange& range);

  std::vector<Range> ranges_;
  size_t received_ = 0;
};

}  // namespace bt::client

#endif  // CLIENT_PIECE_LAYER_FETCHER_H_
