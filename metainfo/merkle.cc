#include "metainfo/merkle.h"

#include <bit>

#include "base/sha.h"

namespace bt::metainfo {

size_t MerkleTreeWidth(size_t leaves) {
  return leaves <= 1 ? 1 : std::bit_ceil(leaves);
}

Sha256Hash MerkleHashPair(const Sha256Hash& left, const Sha256Hash& right) {
  Sha256Hasher h;
  h.Update(left.span());
  h.Update(right.span());
  return h.Final();
}

Sha256Hash MerklePadHash(int levels) {
  Sha256Hash h;
  for (int i = 0; i < levels; ++i) h = MerkleHashPair(h, h);
  return h;
}

Sha256Hash MerkleRoot(absl::Span<const Sha256Hash> leaves, size_t width,
                      const Sha256Hash& pad) {
  if (leaves.empty()) {
    Sha256Hash p = pad;
    for (size_t w = width; w > 1; w /= 2) p = MerkleHashPair(p, p);
    return p;
  }
  std::vector<Sha256Hash> level(leaves.begin(), leaves.end());
  Sha256Hash level_pad = pad;
  while (width > 1) {
    std::vector<Sha256Hash> next((level.size() + 1) / 2);
    for (size_t i = 0; i < next.size(); ++i) {
      const Sha256Hash& right =
          2 * i + 1 < level.size() ? level[2 * i + 1] : level_pad;
      next[i] = MerkleHashPair(level[2 * i], right);
    }
    level.swap(next);
    level_pad = MerkleHashPair(level_pad, level_pad);
    width /= 2;
  }
  return level[0];
}

Sha256Hash FileMerkleRoot(absl::Span<const Sha256Hash> leaves) {
  if (leaves.empty()) return Sha256Hash();
  return MerkleRoot(leaves, MerkleTreeWidth(leaves.size()));
}

std::vector<Sha256Hash> PieceLayerFromLeaves(
    absl::Span<const Sha256Hash> leaves, size_t blocks_per_piece) {
  std::vector<Sha256Hash> layer;
  layer.reserve((leaves.size() + blocks_per_piece - 1) / blocks_per_piece);
  for (size_t i = 0; i < leaves.size(); i += blocks_per_piece) {
    layer.push_back(
        MerkleRoot(leaves.subspan(i, blocks_per_piece), blocks_per_piece));
  }
  return layer;
}

Sha256Hash RootFromPieceLayer(absl::Span<const Sha256Hash> layer,
                              size_t blocks_per_piece) {
  int levels = std::countr_zero(blocks_per_piece);
  return MerkleRoot(layer, MerkleTreeWidth(layer.size()),
                    MerklePadHash(levels));
}

Sha256Hash PieceRootFromLeaves(absl::Span<const Sha256Hash> leaves,
                               size_t blocks_per_piece,
                               bool single_piece_file) {
  if (single_piece_file) return FileMerkleRoot(leaves);
  return MerkleRoot(leaves, blocks_per_piece);
}

Sha256Hash PieceRootFromData(ByteSpan data, int64_t piece_length,
                             bool single_piece_file) {
  std::vector<Sha256Hash> leaves;
  leaves.reserve((data.size() + kMerkleBlockSize - 1) / kMerkleBlockSize);
  for (size_t off = 0; off < data.size(); off += kMerkleBlockSize) {
    leaves.push_back(Sha256(data.subspan(off, kMerkleBlockSize)));
  }
  return PieceRootFromLeaves(
      leaves, static_cast<size_t>(piece_length / kMerkleBlockSize),
      single_piece_file);
}

}  // namespace bt::metainfo
