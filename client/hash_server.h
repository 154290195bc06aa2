// HashServer: answers peers' BEP 52 hash requests for a v2 torrent whose
// piece layers we have. Piece-layer ranges come from a merkle tree per file,
// built on the first request for that file. Block-layer ranges (asked after
// a piece failed a peer's check) need the piece's data: it is read and
// hashed on the disk pool, the leaves are kept in a small cache, and such
// reads are rate-limited per torrent, so hash requests cannot make the disk
// or the CPU work without bound; requests for a piece being read wait
// for that read.
//
//   bt::client::HashServer server(info);
//   server.Answer(range, have, disk, now,
//                 [&](absl::StatusOr<std::string> hashes) {
//                   hashes.ok() ? session.SendHashes(range, *hashes)
//                               : session.SendHashReject(range);
//                 });
#ifndef CLIENT_HASH_SERVER_H_
#define CLIENT_HASH_SERVER_H_

#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "base/hash.h"
#include "base/token_bucket.h"
#include "client/torrent_disk.h"
#include "metainfo/torrent_info.h"
#include "protocol/merkle_hashes.h"
#include "storage/bitfield.h"

namespace bt::client {

class HashServer {
 public:
  struct Options {
    // Pieces whose block hashes are cached.
    size_t cached_pieces = 16;
    // Piece reads for block hashes per second, and the burst allowed.
    double reads_per_second = 8;
    double read_burst = 16;
  };
  using Reply = std::function<void(absl::StatusOr<std::string>)>;

  explicit HashServer(std::shared_ptr<const metainfo::TorrentInfo> info)
      : HashServer(std::move(info), Options()) {}
  HashServer(std::shared_ptr<const metainfo::TorrentInfo> info,
             Options options);

  // Answer computes the payload of the hashes message for `r` and passes
  // it (or why not: kNotFound for a root or piece we lack,
  // kResourceExhausted when over the read rate, kInvalidArgument for a
  // malformed range) to `reply`, now or once a piece has been read through
  // `disk`. Block hashes are served only when `may_read` (a peer we
  // upload to).
  void Answer(const protocol::HashRange& r, const storage::Bitfield& have,
              bool may_read, TorrentDisk& disk, absl::Time now, Reply reply);

  uint64_t piece_reads() const { return piece_reads_; }

 private:
  const protocol::PieceLayerTree* TreeFor(size_t file);
  const std::vector<Sha256Hash>* Cached(uint32_t piece) const;
  void Cache(uint32_t piece, std::vector<Sha256Hash> leaves);

  std::shared_ptr<const metainfo::TorrentInfo> info_;
  Options options_;
  absl::flat_hash_map<size_t, protocol::PieceLayerTree> trees_;
  std::deque<std::pair<uint32_t, std::vector<Sha256Hash>>> cache_;
  // Pieces being read for block hashes, and the answers waiting for each
  // (requests for a piece being read wait for that read).
  using Waiter =
      std::function<void(const absl::StatusOr<std::vector<Sha256Hash>>&)>;
  absl::flat_hash_map<uint32_t, std::vector<Waiter>> reading_;
  TokenBucket reads_;
  uint64_t piece_reads_ = 0;
};

}  // namespace bt::client

#endif  // CLIENT_HASH_SERVER_H_
