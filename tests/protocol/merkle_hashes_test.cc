#include "protocol/merkle_hashes.h"

#include <algorithm>
#include <string>
#include <vector>

#include "base/sha.h"
#include "bencode/encoder.h"
#include "gtest/gtest.h"
#include "metainfo/merkle.h"
#include "metainfo/torrent_info.h"
#include "tests/metainfo/test_torrents.h"

namespace bt::protocol {
namespace {

using metainfo::TorrentInfo;
using metainfo::testing::MakeTorrent;
using metainfo::testing::Pattern;
using metainfo::testing::Version;

constexpr int64_t kPiece = 16384;

// Files of 4 pieces (a short last one), 600 pieces (two requests of 512),
// and one piece (no layer).
TorrentInfo Torrent() {
  std::string bytes = bencode::Encode(MakeTorrent(
      "t",
      {{{"a"}, Pattern(3 * kPiece + 100, 1), ""},
       {{"b"}, Pattern(600 * kPiece, 2), ""},
       {{"c"}, Pattern(5000, 3), ""}},
      kPiece, Version::kV2));
  absl::StatusOr<TorrentInfo> t = TorrentInfo::Parse(bytes);
  EXPECT_TRUE(t.ok()) << t.status();
  return *t;
}

// FileNamed returns the layout index of the file whose last path element
// is `name` (the layout also lists alignment padding).
size_t FileNamed(const TorrentInfo& t, const std::string& name) {
  for (size_t i = 0; i < t.files().size(); ++i) {
    if (t.files()[i].path.back() == name) return i;
  }
  ADD_FAILURE() << "no file " << name;
  return 0;
}

std::string Concat(const std::vector<Sha256Hash>& hashes) {
  std::string out;
  for (const Sha256Hash& h : hashes) {
    out.append(reinterpret_cast<const char*>(h.data()), h.kSize);
  }
  return out;
}

TEST(MerkleHashesTest, PlansOneRequestPerRunOfAtMost512Hashes) {
  TorrentInfo t = Torrent();
  std::vector<HashRange> r = PieceLayerRequests(t);
  ASSERT_EQ(r.size(), 3u);
  // File a: 4 pieces, a tree 2 levels high, the whole layer in one go.
  EXPECT_EQ(r[0], (HashRange{*t.files()[FileNamed(t, "a")].pieces_root, 0, 0, 4, 1}));
  // File b: 600 pieces padded to 1024, 10 levels; two halves of 512.
  EXPECT_EQ(r[1], (HashRange{*t.files()[FileNamed(t, "b")].pieces_root, 0, 0, 512, 9}));
  EXPECT_EQ(r[2], (HashRange{*t.files()[FileNamed(t, "b")].pieces_root, 0, 512, 512, 9}));
}

TEST(MerkleHashesTest, AnswersProveOutAndRebuildTheLayers) {
  TorrentInfo t = Torrent();
  for (const HashRange& r : PieceLayerRequests(t)) {
    std::optional<size_t> file = FileWithPiecesRoot(t, r.pieces_root);
    ASSERT_TRUE(file.has_value());
    absl::StatusOr<PieceLayerTree> tree = PieceLayerTree::ForFile(t, *file);
    ASSERT_TRUE(tree.ok()) << tree.status();
    EXPECT_EQ(tree->root(), r.pieces_root);
    absl::StatusOr<std::string> payload = tree->Answer(r);
    ASSERT_TRUE(payload.ok()) << payload.status();
    absl::StatusOr<std::vector<Sha256Hash>> got =
        VerifyHashes(Hashes{r, *payload});
    ASSERT_TRUE(got.ok()) << got.status();
    ASSERT_EQ(got->size(), r.length);
    absl::Span<const Sha256Hash> layer = t.piece_layer(*file);
    for (uint32_t i = 0; i < r.length; ++i) {
      const Sha256Hash want = r.index + i < layer.size()
                                  ? layer[r.index + i]
                                  : metainfo::MerklePadHash(0);
      EXPECT_EQ((*got)[i], want) << "hash " << r.index + i;
    }
  }
}

TEST(MerkleHashesTest, LargerPiecesNameTheirLayerAndPadWithZeroSubtrees) {
  constexpr int64_t kBig = 4 * kPiece;  // 2 levels above the blocks
  absl::StatusOr<TorrentInfo> t = TorrentInfo::Parse(bencode::Encode(
      MakeTorrent("t", {{{"d"}, Pattern(5 * kBig + 1, 4), ""}}, kBig,
                  Version::kV2)));
  ASSERT_TRUE(t.ok()) << t.status();
  std::vector<HashRange> r = PieceLayerRequests(*t);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].base_layer, 2u);
  EXPECT_EQ(r[0].length, 8u);  // 6 pieces padded to 8
  absl::StatusOr<PieceLayerTree> tree =
      PieceLayerTree::ForFile(*t, FileNamed(*t, "d"));
  ASSERT_TRUE(tree.ok()) << tree.status();
  absl::StatusOr<std::vector<Sha256Hash>> got =
      VerifyHashes(Hashes{r[0], *tree->Answer(r[0])});
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ((*got)[6], metainfo::MerklePadHash(2));
  EXPECT_EQ((*got)[7], metainfo::MerklePadHash(2));
}

// The block hashes of piece `piece` of `data`, padded to `per_piece`.
std::vector<Sha256Hash> Leaves(const std::string& data, int64_t piece_length,
                               uint32_t piece) {
  std::vector<Sha256Hash> out;
  const int64_t end = std::min<int64_t>(data.size(), (piece + 1) * piece_length);
  for (int64_t at = piece * piece_length; at < end; at += kPiece) {
    out.push_back(Sha256(AsBytes(std::string_view(data).substr(
        at, std::min<int64_t>(kPiece, end - at)))));
  }
  out.resize(piece_length / kPiece);
  return out;
}

TEST(MerkleHashesTest, BlockHashesWithinAPieceProveOut) {
  constexpr int64_t kBig = 4 * kPiece;
  const std::string data = Pattern(5 * kBig + 1, 4);  // 6 pieces, 8 wide
  absl::StatusOr<TorrentInfo> t = TorrentInfo::Parse(bencode::Encode(
      MakeTorrent("t", {{{"d"}, data, ""}}, kBig, Version::kV2)));
  ASSERT_TRUE(t.ok()) << t.status();
  absl::StatusOr<PieceLayerTree> tree =
      PieceLayerTree::ForFile(*t, FileNamed(*t, "d"));
  ASSERT_TRUE(tree.ok()) << tree.status();
  std::vector<uint32_t> read;
  auto leaves = [&](uint32_t piece) -> absl::StatusOr<std::vector<Sha256Hash>> {
    read.push_back(piece);
    return Leaves(data, kBig, piece);
  };
  // 32 blocks wide, 5 layers high: a full proof has 4 proof layers.
  const Sha256Hash root = tree->root();
  for (HashRange r : {HashRange{root, 0, 0, 4, 4}, HashRange{root, 0, 20, 4, 4},
                      HashRange{root, 0, 22, 2, 4}, HashRange{root, 0, 8, 2, 4}}) {
    absl::StatusOr<std::string> payload = tree->AnswerBlocks(r, leaves);
    ASSERT_TRUE(payload.ok()) << payload.status();
    absl::StatusOr<std::vector<Sha256Hash>> got =
        VerifyHashes(Hashes{r, *payload});
    ASSERT_TRUE(got.ok()) << "index " << r.index << ": " << got.status();
    std::vector<Sha256Hash> want = Leaves(data, kBig, r.index / 4);
    for (uint32_t i = 0; i < r.length; ++i) {
      EXPECT_EQ((*got)[i], want[r.index % 4 + i]);
    }
  }
  EXPECT_EQ(read, (std::vector<uint32_t>{0, 5, 5, 2}));
  // Requests we do not serve never read data.
  read.clear();
  for (HashRange r : {HashRange{root, 0, 0, 8, 4}, HashRange{root, 1, 0, 2, 3},
                      HashRange{root, 0, 32, 2, 4}, HashRange{root, 0, 0, 4, 5},
                      HashRange{root, 0, 1, 2, 4}}) {
    EXPECT_EQ(tree->AnswerBlocks(r, leaves).status().code(),
              absl::StatusCode::kInvalidArgument)
        << r.base_layer << " " << r.index << " " << r.length;
  }
  EXPECT_TRUE(read.empty());
  // Data that does not match the piece's hash is not vouched for.
  auto bad = [&](uint32_t piece) -> absl::StatusOr<std::vector<Sha256Hash>> {
    std::vector<Sha256Hash> l = Leaves(data, kBig, piece);
    l[1].data()[0] ^= 1;
    return l;
  };
  EXPECT_EQ(tree->AnswerBlocks(HashRange{root, 0, 0, 4, 4}, bad).status().code(),
            absl::StatusCode::kDataLoss);
}

TEST(MerkleHashesTest, UnclesFollowTheProofLayersAsked) {
  TorrentInfo t = Torrent();
  absl::StatusOr<PieceLayerTree> tree = PieceLayerTree::ForFile(t, FileNamed(t, "b"));
  ASSERT_TRUE(tree.ok());
  const HashRange root_b = PieceLayerRequests(t)[1];
  // Two hashes from 512 (levels: 0 layer .. 10 root): one proof layer
  // adds the sibling of their parent; log2(2) - 1 = 0 layers are implied.
  HashRange r = root_b;
  r.index = 512;
  r.length = 2;
  r.proof_layers = 1;
  absl::StatusOr<std::string> one = tree->Answer(r);
  ASSERT_TRUE(one.ok()) << one.status();
  EXPECT_EQ(one->size(), 3 * 32u);
  absl::Span<const Sha256Hash> layer = t.piece_layer(FileNamed(t, "b"));
  Sha256Hash sibling = metainfo::MerkleHashPair(layer[514], layer[515]);
  EXPECT_EQ(one->substr(64), Concat({sibling}));
  // The full proof from two hashes needs 9 uncles and proves out.
  r.proof_layers = 9;
  absl::StatusOr<std::string> full = tree->Answer(r);
  ASSERT_TRUE(full.ok());
  EXPECT_EQ(full->size(), (2 + 9) * 32u);
  EXPECT_TRUE(VerifyHashes(Hashes{r, *full}).ok());
  // Short of the root the hashes prove nothing.
  r.proof_layers = 8;
  absl::StatusOr<std::string> partial = tree->Answer(r);
  ASSERT_TRUE(partial.ok());
  EXPECT_EQ(VerifyHashes(Hashes{r, *partial}).status().code(),
            absl::StatusCode::kDataLoss);
}

TEST(MerkleHashesTest, RefusesMalformedAndUnservedRequests) {
  TorrentInfo t = Torrent();
  absl::StatusOr<PieceLayerTree> tree = PieceLayerTree::ForFile(t, FileNamed(t, "b"));
  ASSERT_TRUE(tree.ok());
  const HashRange good = PieceLayerRequests(t)[1];
  struct Case {
    const char* what;
    HashRange r;
  } cases[] = {
      {"block layer", {good.pieces_root, 1, 0, 512, 9}},
      {"length 3", {good.pieces_root, 0, 0, 3, 9}},
      {"length 1", {good.pieces_root, 0, 0, 1, 9}},
      {"length 1024", {good.pieces_root, 0, 0, 1024, 9}},
      {"misaligned", {good.pieces_root, 0, 2, 4, 9}},
      {"past the end", {good.pieces_root, 0, 1024, 2, 9}},
      {"proof above the root", {good.pieces_root, 0, 0, 512, 10}},
  };
  for (const Case& c : cases) {
    absl::StatusOr<std::string> a = tree->Answer(c.r);
    EXPECT_EQ(a.status().code(), absl::StatusCode::kInvalidArgument) << c.what;
  }
  // A file of one piece has no layer to serve.
  EXPECT_EQ(PieceLayerTree::ForFile(t, FileNamed(t, "c")).status().code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST(MerkleHashesTest, TamperedOrMiscountedHashesAreRefused) {
  TorrentInfo t = Torrent();
  const HashRange r = PieceLayerRequests(t)[2];
  absl::StatusOr<std::string> payload = PieceLayerTree::ForFile(t, FileNamed(t, "b"))->Answer(r);
  ASSERT_TRUE(payload.ok());
  for (size_t at : {size_t{0}, size_t{200 * 32 + 5}, payload->size() - 1}) {
    std::string bad = *payload;
    bad[at] ^= 1;
    EXPECT_EQ(VerifyHashes(Hashes{r, bad}).status().code(),
              absl::StatusCode::kDataLoss)
        << "flipped byte " << at;
  }
  EXPECT_EQ(VerifyHashes(Hashes{r, payload->substr(32)}).status().code(),
            absl::StatusCode::kInvalidArgument);
  HashRange other = r;
  other.pieces_root = *t.files()[FileNamed(t, "a")].pieces_root;
  EXPECT_EQ(VerifyHashes(Hashes{other, *payload}).status().code(),
            absl::StatusCode::kDataLoss);
}

}  // namespace
}  // namespace bt::protocol
