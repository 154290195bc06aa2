// BEP 52 hash exchange over piece layers: answering `hash request` messages
// from the piece layers a torrent carries, planning the requests that fetch
// the layers a magnet link's bare info dictionary lacks, and checking the
// `hashes` a peer sends against the file's pieces root.
//
//   // Serving: one tree per file, built once and kept.
//   std::optional<size_t> file = bt::protocol::FileWithPiecesRoot(info, root);
//   ASSIGN_OR_RETURN(auto tree, bt::protocol::PieceLayerTree::ForFile(info, *file));
//   absl::StatusOr<std::string> hashes = tree.Answer(request.range);
//   // hashes.ok(): send Hashes{request.range, *hashes}; else HashReject.
//
//   // Fetching: send each request, keep what proves out.
//   for (const bt::protocol::HashRange& r : bt::protocol::PieceLayerRequests(info))
//     Send(bt::protocol::HashRequest{r});
//   ASSIGN_OR_RETURN(std::vector<bt::Sha256Hash> layer_part,
//                    bt::protocol::VerifyHashes(hashes_message));
//
// Ranges of the piece layer are answered from the layer; ranges of the
// 16 KiB block layer within one piece from that piece's block hashes, which
// the caller computes from its data.
#ifndef PROTOCOL_MERKLE_HASHES_H_
#define PROTOCOL_MERKLE_HASHES_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "base/hash.h"
#include "metainfo/torrent_info.h"
#include "protocol/message.h"

namespace bt::protocol {

// kMaxHashRequestLength is the most hashes one request asks for or is
// answered with (BEP 52: SHOULD NOT exceed 512).
inline constexpr uint32_t kMaxHashRequestLength = 512;

// PieceLayerBase is the base_layer value naming the piece layer of a
// torrent with `piece_length` bytes per piece: log2 of the 16 KiB blocks in
// a piece.
uint32_t PieceLayerBase(int64_t piece_length);

// FileWithPiecesRoot returns the index of the first non-pad file whose
// pieces root is `root`.
std::optional<size_t> FileWithPiecesRoot(const metainfo::TorrentInfo& t,
                                         const Sha256Hash& root);

// PieceLayerTree holds every level of a file's merkle tree from the piece
// layer (padded to a power of two) up to the pieces root.
class PieceLayerTree {
 public:
  // ForFile builds the tree of file `file`, which must span more than one
  // piece and have its piece layer known (kFailedPrecondition otherwise).
  static absl::StatusOr<PieceLayerTree> ForFile(const metainfo::TorrentInfo& t,
                                                size_t file);

  const Sha256Hash& root() const { return levels_.back()[0]; }

  // Answer returns the payload of the `hashes` message for request `r`: the
  // `r.length` piece-layer hashes from `r.index`, then one uncle hash for
  // each proof layer the hashes do not imply (BEP 52). kInvalidArgument
  // naming the problem for a request that is malformed, out of range or
  // not for the piece layer.
  absl::StatusOr<std::string> Answer(const HashRange& r) const;

  // PieceLeaves returns the 16 KiB block hashes of piece `piece` of the
  // file (counted from the file's first piece), padded with zero hashes to
  // the blocks of a whole piece; it reads the data, so it is called only
  // for a request that passed every other check.
  using PieceLeaves =
      std::function<absl::StatusOr<std::vector<Sha256Hash>>(uint32_t piece)>;
  // AnswerBlocks answers a request for block hashes (base layer 0) that
  // lies within one piece, as BEP 52 peers send after a piece failed its
  // check: the leaves come from `leaves`, and must hash to the piece's
  // layer entry (kDataLoss otherwise: our copy is bad). Other requests get
  // kInvalidArgument; a tree whose piece layer is the block layer answers
  // with Answer.
  absl::StatusOr<std::string> AnswerBlocks(const HashRange& r,
                                           const PieceLeaves& leaves) const;

 private:
  uint32_t base_ = 0;
  // levels_[0] is the padded piece layer; each next level halves it; the
  // last holds only the root.
  std::vector<std::vector<Sha256Hash>> levels_;
};

// PieceLayerRequests returns the requests that fetch every piece layer of
// `t` (files spanning more than one piece), in file order: per file, runs
// of at most kMaxHashRequestLength hashes aligned to their length, each
// with the proof up to the pieces root. Files with equal content (one
// pieces root) share their requests.
std::vector<HashRange> PieceLayerRequests(const metainfo::TorrentInfo& t);

// VerifyHashes checks a `hashes` message: its hash count fits its range,
// and its base hashes with the uncle hashes hash up to the range's pieces
// root. Returns the base-layer hashes (range.length of them, padding
// included); kInvalidArgument for a malformed range, kDataLoss when the
// hashes do not prove out.
absl::StatusOr<std::vector<Sha256Hash>> VerifyHashes(const Hashes& m);

}  // namespace bt::protocol

#endif  // PROTOCOL_MERKLE_HASHES_H_
