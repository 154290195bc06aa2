// BEP 52 merkle trees: SHA-256 over 16 KiB blocks, padded to a power of two
// with zero leaves. Torrent creation builds them; parsing checks piece layers
// against pieces roots; storage verifies v2 pieces with them.
//
//   std::vector<bt::Sha256Hash> leaves;            // one per 16 KiB block
//   for (auto block : blocks) leaves.push_back(bt::Sha256(block));
//   size_t per_piece = piece_length / bt::metainfo::kMerkleBlockSize;
//   auto layer = bt::metainfo::PieceLayerFromLeaves(leaves, per_piece);
//   bt::Sha256Hash root = bt::metainfo::FileMerkleRoot(leaves);
//   // root == RootFromPieceLayer(layer, per_piece) when the file spans
//   // more than one piece.
//
// Conventions of BEP 52: a leaf is the SHA-256 of one 16 KiB block (the last
// block of a file may be shorter and is hashed as is); an inner node is the
// SHA-256 of its two children concatenated; leaves past the end of the file
// are 32 zero bytes, so a padding subtree of 2^k leaves hashes to
// MerklePadHash(k). A file of at most one piece has the root of its own
// (power-of-two padded) tree as its piece hash and no piece layer entry.
#ifndef METAINFO_MERKLE_H_
#define METAINFO_MERKLE_H_

#include <cstddef>
#include <cstdint>
#include <vector>

#include "absl/types/span.h"
#include "base/bytes.h"
#include "base/hash.h"

namespace bt::metainfo {

// kMerkleBlockSize is the leaf block size of BEP 52 trees.
inline constexpr int64_t kMerkleBlockSize = 16384;

// MerkleTreeWidth is the number of leaves of the tree over `leaves` leaves:
// the next power of two (1 for 0 or 1).
size_t MerkleTreeWidth(size_t leaves);

// MerklePadHash is the root of a perfect tree of 2^levels zero leaves
// (levels 0 gives the zero hash). Requires levels < 64.
Sha256Hash MerklePadHash(int levels);

// MerkleHashPair is SHA-256(left || right).
Sha256Hash MerkleHashPair(const Sha256Hash& left, const Sha256Hash& right);

// MerkleRoot is the root of a tree of `width` leaves (a power of two, at
// least leaves.size()) holding `leaves` followed by `pad` for the rest.
// `pad` is the value of a padding node at the level of `leaves`; padding
// nodes above are derived by hashing it with itself.
Sha256Hash MerkleRoot(absl::Span<const Sha256Hash> leaves, size_t width,
                      const Sha256Hash& pad = Sha256Hash());

// FileMerkleRoot is a file's "pieces root" from its block leaf hashes
// (tree width MerkleTreeWidth(leaves.size())). All zeros for no leaves.
Sha256Hash FileMerkleRoot(absl::Span<const Sha256Hash> leaves);

// PieceLayerFromLeaves returns one hash per piece of `blocks_per_piece`
// leaves (a power of two): the root of that piece's leaves, the last piece
// padded with zero leaves. This is the file's "piece layers" entry when the
// file has more than one piece.
std::vector<Sha256Hash> PieceLayerFromLeaves(
    absl::Span<const Sha256Hash> leaves, size_t blocks_per_piece);

// RootFromPieceLayer is the pieces root of a file from its piece layer:
// the layer padded to a power of two with MerklePadHash(log2
// blocks_per_piece). Requires blocks_per_piece a power of two.
Sha256Hash RootFromPieceLayer(absl::Span<const Sha256Hash> layer,
                              size_t blocks_per_piece);

// PieceRootFromLeaves is the v2 hash of one piece from its leaves: for a
// file of more than one piece the root of the leaves padded to
// `blocks_per_piece`; for a single-piece file (single_piece_file true) the
// file's own root, FileMerkleRoot(leaves).
Sha256Hash PieceRootFromLeaves(absl::Span<const Sha256Hash> leaves,
                               size_t blocks_per_piece, bool single_piece_file);

// PieceRootFromData hashes a piece's data (at most `piece_length` bytes of
// one file, a power of two >= 16 KiB) into its v2 hash: SHA-256 leaves of
// each 16 KiB block, then PieceRootFromLeaves.
Sha256Hash PieceRootFromData(ByteSpan data, int64_t piece_length,
                             bool single_piece_file);

}  // namespace bt::metainfo

#endif  // METAINFO_MERKLE_H_
