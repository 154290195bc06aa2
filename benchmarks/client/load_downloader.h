// LoadDownloader: the peer-wire side of one downloader in the many-peers
// load generator (load_generator.cc), without sockets or clocks. It sends a
// plain BEP 3 handshake and "interested", keeps a pipeline of 16 KiB block
// requests while unchoked, hashes each piece as its blocks arrive and
// checks it against the torrent's SHA-1, and records request -> block
// latencies.
//
//   ASSIGN_OR_RETURN(LoadTarget target, LoadTarget::FromTorrent(info));
//   LoadDownloader d(&target, {.peer_id = id, .pipeline = 32});
//   std::string out;
//   d.Start(&out);                                   // send `out`
//   ...
//   RETURN_IF_ERROR(d.OnReceived(bytes_read, Clock::now(), &out));  // send
//   if (d.complete()) ...  // every piece received and checked
//
// The remote peer must be a seed (a bitfield with every piece, or have
// all): the downloader exists to load one seeder. Pieces are requested in
// order starting at `first_piece`, wrapping around, so downloaders with
// different starts spread over the torrent. A choke drops the outstanding
// requests (no Fast extension is offered, BEP 3); their blocks are asked
// for again after the next unchoke, and a block that arrives anyway is
// still used. A piece whose hash does not match counts in hash_failures()
// and is not fetched again.
#ifndef BENCHMARKS_CLIENT_LOAD_DOWNLOADER_H_
#define BENCHMARKS_CLIENT_LOAD_DOWNLOADER_H_

#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "base/hash.h"
#include "base/sha.h"
#include "metainfo/torrent_info.h"
#include "protocol/message.h"
#include "protocol/message_parser.h"

namespace bt::benchmarks {

// LoadTarget is what a downloader needs of a v1 torrent.
struct LoadTarget {
  Sha1Hash info_hash;
  int64_t total_size = 0;
  int64_t piece_length = 0;
  std::vector<Sha1Hash> piece_hashes;

  // FromTorrent takes the v1 info-hash, sizes and piece hashes of `info`.
  // kInvalidArgument for a v2-only torrent (no SHA-1 piece hashes).
  static absl::StatusOr<LoadTarget> FromTorrent(
      const metainfo::TorrentInfo& info);

  uint32_t num_pieces() const { return piece_hashes.size(); }
  // PieceSize is the size of `piece` (the last one may be short).
  int64_t PieceSize(uint32_t piece) const;
};

struct LoadDownloaderOptions {
  PeerId peer_id;
  // Block requests kept outstanding while unchoked.
  int pipeline = 32;
  // The first piece requested; the rest follow in order, wrapping.
  uint32_t first_piece = 0;
};

class LoadDownloader {
 public:
  using Clock = std::chrono::steady_clock;

  // `target` must outlive the downloader.
  LoadDownloader(const LoadTarget* target,
                 const LoadDownloaderOptions& options);
  LoadDownloader(const LoadDownloader&) = delete;
  LoadDownloader& operator=(const LoadDownloader&) = delete;

  // Start appends the handshake and "interested" to `*out`.
  void Start(std::string* out);

  // OnReceived takes the next bytes from the peer, received at `now`, and
  // appends the requests (if any) to send to `*out`. Errors, after which
  // the connection is useless: the parser's (malformed stream), a
  // handshake for another torrent (kFailedPrecondition), a peer that is not
  // a seed (kFailedPrecondition), a block of the wrong size or position
  // (kInvalidArgument). `bytes` need not outlive the call.
  absl::Status OnReceived(std::string_view bytes, Clock::time_point now,
                          std::string* out);

  // complete: every piece has been received and checked (failed or not).
  bool complete() const { return pieces_done_ == target_->num_pieces(); }
  // verified_bytes: the size of the pieces whose hash matched.
  int64_t verified_bytes() const { return verified_bytes_; }
  uint32_t hash_failures() const { return hash_failures_; }
  // duplicate_blocks: blocks received when already held.
  uint32_t duplicate_blocks() const { return duplicate_blocks_; }
  // chokes: how often the peer choked us after an unchoke.
  uint32_t chokes() const { return chokes_; }
  // latencies_us: request -> block time of each requested block received,
  // in microseconds, in arrival order.
  const std::vector<uint32_t>& latencies_us() const { return latencies_us_; }

 private:
  enum BlockState : uint8_t { kNeeded, kRequested, kReceived };
  struct PieceHash {
    Sha1Hasher hasher;
    uint32_t next_block = 0;                // first block not yet hashed
    std::map<uint32_t, std::string> early;  // blocks past next_block
  };

  absl::Status Handle(const protocol::Message& m, Clock::time_point now);
  absl::Status OnPiece(const protocol::Piece& p, Clock::time_point now);
  void HashBlock(uint32_t piece, uint32_t block, std::string_view data);
  void FinishPiece(uint32_t piece, PieceHash& ph);
  void DropOutstanding();
  void FillPipeline(Clock::time_point now, std::string* out);
  uint32_t BlocksIn(uint32_t piece) const;
  uint32_t BlockSize(uint32_t piece, uint32_t block) const;

  const LoadTarget* target_;
  LoadDownloaderOptions options_;
  protocol::MessageParser parser_;
  uint32_t blocks_per_piece_;
  std::vector<BlockState> blocks_;  // piece * blocks_per_piece_ + block
  uint64_t cursor_ = 0;  // position in request order: no kNeeded before it
  bool handshaken_ = false;
  bool peer_is_seed_ = false;
  bool unchoked_ = false;
  // Outstanding requests: (piece << 32 | begin) -> when sent.
  absl::flat_hash_map<uint64_t, Clock::time_point> outstanding_;
  absl::flat_hash_map<uint32_t, PieceHash> hashing_;
  uint32_t pieces_done_ = 0;
  int64_t verified_bytes_ = 0;
  uint32_t hash_failures_ = 0;
  uint32_t duplicate_blocks_ = 0;
  uint32_t chokes_ = 0;
  std::vector<uint32_t> latencies_us_;
};

}  // namespace bt::benchmarks

#endif  // BENCHMARKS_CLIENT_LOAD_DOWNLOADER_H_
