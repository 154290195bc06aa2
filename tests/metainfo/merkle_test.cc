#include "metainfo/merkle.h"

#include <string>
#include <vector>

#include "base/sha.h"
#include "gtest/gtest.h"
#include "tests/metainfo/test_torrents.h"

namespace bt::metainfo {
namespace {

Sha256Hash H(const Sha256Hash& a, const Sha256Hash& b) {
  return Sha256(AsBytes(a.ToString() + b.ToString()));
}

std::vector<Sha256Hash> Leaves(const std::string& data) {
  std::vector<Sha256Hash> out;
  for (size_t i = 0; i < data.size(); i += kMerkleBlockSize) {
    out.push_back(
        Sha256(AsBytes(std::string_view(data).substr(i, kMerkleBlockSize))));
  }
  return out;
}

TEST(MerkleTest, WidthAndPadHashes) {
  EXPECT_EQ(MerkleTreeWidth(0), 1u);
  EXPECT_EQ(MerkleTreeWidth(1), 1u);
  EXPECT_EQ(MerkleTreeWidth(3), 4u);
  EXPECT_EQ(MerkleTreeWidth(1024), 1024u);
  EXPECT_EQ(MerkleTreeWidth(1025), 2048u);
  Sha256Hash zero;
  EXPECT_EQ(MerklePadHash(0), zero);
  EXPECT_EQ(MerklePadHash(1), Sha256(AsBytes(std::string(64, '\0'))));
  EXPECT_EQ(MerklePadHash(2), H(MerklePadHash(1), MerklePadHash(1)));
}

TEST(MerkleTest, SmallTreesByHand) {
  Sha256Hash a = Sha256(AsBytes("a")), b = Sha256(AsBytes("b")),
             c = Sha256(AsBytes("c"));
  Sha256Hash zero;
  std::vector<Sha256Hash> one = {a}, two = {a, b}, three = {a, b, c};
  EXPECT_EQ(FileMerkleRoot(one), a);
  EXPECT_EQ(FileMerkleRoot(two), H(a, b));
  EXPECT_EQ(FileMerkleRoot(three), H(H(a, b), H(c, zero)));
  EXPECT_EQ(MerkleRoot(one, 4), H(H(a, zero), H(zero, zero)));
  EXPECT_EQ(FileMerkleRoot({}), zero);
}

// A file's root computed from all leaves equals the root computed from its
// piece layer, for sizes around block and piece boundaries.
TEST(MerkleTest, PieceLayerAgreesWithFullTree) {
  const int64_t piece = 4 * kMerkleBlockSize;
  for (size_t size : {piece + 1, 2 * piece, 2 * piece + 5, 5 * piece - 1,
                      9 * piece, 17 * piece + kMerkleBlockSize}) {
    std::string data = testing::Pattern(size, size);
    std::vector<Sha256Hash> leaves = Leaves(data);
    std::vector<Sha256Hash> layer = PieceLayerFromLeaves(leaves, 4);
    EXPECT_EQ(layer.size(), (size + piece - 1) / piece);
    EXPECT_EQ(RootFromPieceLayer(layer, 4), FileMerkleRoot(leaves)) << size;
    // Each layer entry is the piece's own root.
    for (size_t k = 0; k < layer.size(); ++k) {
      auto piece_leaves = absl::MakeConstSpan(leaves).subspan(k * 4, 4);
      EXPECT_EQ(PieceRootFromLeaves(piece_leaves, 4, false), layer[k]);
    }
  }
}

TEST(MerkleTest, SinglePieceFileUsesItsOwnTreeWidth) {
  std::string data = testing::Pattern(3 * kMerkleBlockSize, 1);
  std::vector<Sha256Hash> leaves = Leaves(data);
  // Width 4 (not the 16 blocks of a 256 KiB piece).
  EXPECT_EQ(PieceRootFromLeaves(leaves, 16, true), MerkleRoot(leaves, 4));
  EXPECT_NE(PieceRootFromLeaves(leaves, 16, true), MerkleRoot(leaves, 16));
}

}  // namespace
}  // namespace bt::metainfo
