#include "client/piece_verifier.h"

#include <optional>
#include <string>
#include <vector>

#include "base/sha.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace bt::client {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::testing::UnorderedElementsAre;

Endpoint Ip(uint8_t last) { return Endpoint::V4({10, 0, 0, last}, 0); }

Sha1Hash HashOf(const std::string& s) { return Sha1(AsBytes(s)); }

// Hashes of a 4-block piece whose blocks are "g0".."g3" when good; block b
// is "bad<b>" when listed in `bad`.
std::vector<Sha1Hash> Blocks(std::vector<int> bad = {}) {
  std::vector<Sha1Hash> out;
  for (int b = 0; b < 4; ++b) {
    const bool is_bad = std::find(bad.begin(), bad.end(), b) != bad.end();
    out.push_back(HashOf((is_bad ? "bad" : "g") + std::to_string(b)));
  }
  return out;
}

constexpr uint32_t kPiece = 7;
constexpr uint32_t kBlocks = 4;

TEST(PieceVerifierTest, OneSenderOfAFailedPieceIsConvicted) {
  PieceVerifier v;
  for (uint32_t b = 0; b < kBlocks; ++b) v.OnBlock(kPiece, b, kBlocks, Ip(1));
  EXPECT_FALSE(v.WantsBlockHashes(kPiece));
  EXPECT_THAT(v.OnVerified(kPiece, false, Blocks({2})), ElementsAre(Ip(1)));
  // Nothing is kept about the piece afterwards.
  EXPECT_EQ(v.pieces_tracked(), 0u);
  EXPECT_FALSE(v.WantsBlockHashes(kPiece));
}

TEST(PieceVerifierTest, OneSenderOfAPassedPieceIsNotConvicted) {
  PieceVerifier v;
  for (uint32_t b = 0; b < kBlocks; ++b) v.OnBlock(kPiece, b, kBlocks, Ip(1));
  EXPECT_THAT(v.OnVerified(kPiece, true, {}), IsEmpty());
  EXPECT_EQ(v.pieces_tracked(), 0u);
}

TEST(PieceVerifierTest, SeveralSendersWaitForTheGoodCopy) {
  PieceVerifier v;
  // Peers 1 and 2 send two blocks each, peers 3 and 4 one each; the blocks
  // of peers 2 and 4 are bad.
  v.OnBlock(kPiece, 0, kBlocks, Ip(1));
  v.OnBlock(kPiece, 1, kBlocks, Ip(4));
  v.OnBlock(kPiece, 2, kBlocks, Ip(2));
  v.OnBlock(kPiece, 3, kBlocks, Ip(3));
  v.OnBlock(kPiece, 0, kBlocks, Ip(1));  // (a second report of block 0)
  EXPECT_THAT(v.OnVerified(kPiece, false, Blocks({1, 2})), IsEmpty());
  EXPECT_TRUE(v.WantsBlockHashes(kPiece));
  EXPECT_EQ(v.pieces_tracked(), 1u);
  // The good copy arrives from peers 5 and 6: exactly the senders whose
  // blocks differ are convicted.
  v.OnBlock(kPiece, 0, kBlocks, Ip(5));
  v.OnBlock(kPiece, 1, kBlocks, Ip(5));
  v.OnBlock(kPiece, 2, kBlocks, Ip(6));
  v.OnBlock(kPiece, 3, kBlocks, Ip(6));
  EXPECT_THAT(v.OnVerified(kPiece, true, Blocks()),
              UnorderedElementsAre(Ip(2), Ip(4)));
  EXPECT_FALSE(v.WantsBlockHashes(kPiece));
  EXPECT_EQ(v.pieces_tracked(), 0u);
}

TEST(PieceVerifierTest, ARepeatedFailureWaitsToo) {
  PieceVerifier v;
  for (int round = 0; round < 2; ++round) {
    v.OnBlock(kPiece, 0, kBlocks, Ip(1));
    v.OnBlock(kPiece, 1, kBlocks, Ip(2));
    v.OnBlock(kPiece, 2, kBlocks, Ip(1));
    v.OnBlock(kPiece, 3, kBlocks, Ip(2));
    EXPECT_THAT(v.OnVerified(kPiece, false, Blocks({3})), IsEmpty()) << round;
    EXPECT_TRUE(v.WantsBlockHashes(kPiece));
  }
  for (uint32_t b = 0; b < kBlocks; ++b) v.OnBlock(kPiece, b, kBlocks, Ip(3));
  EXPECT_THAT(v.OnVerified(kPiece, true, Blocks()), ElementsAre(Ip(2)));
}

TEST(PieceVerifierTest, OnlyTheDifferingSenderIsConvicted) {
  PieceVerifier v;
  v.OnBlock(kPiece, 0, kBlocks, Ip(1));
  v.OnBlock(kPiece, 1, kBlocks, Ip(2));
  v.OnBlock(kPiece, 2, kBlocks, Ip(2));
  v.OnBlock(kPiece, 3, kBlocks, Ip(1));
  EXPECT_THAT(v.OnVerified(kPiece, false, Blocks({1, 2})), IsEmpty());
  for (uint32_t b = 0; b < kBlocks; ++b) v.OnBlock(kPiece, b, kBlocks, Ip(9));
  EXPECT_THAT(v.OnVerified(kPiece, true, Blocks()), ElementsAre(Ip(2)));
}

TEST(PieceVerifierTest, BlocksOfUnknownOriginNeverConvictTheKnownSenderAlone) {
  PieceVerifier v;
  // Blocks 0 and 1 came from resume data; peer 1 sent the rest.
  v.OnBlock(kPiece, 0, kBlocks, std::nullopt);
  v.OnBlock(kPiece, 1, kBlocks, std::nullopt);
  v.OnBlock(kPiece, 2, kBlocks, Ip(1));
  v.OnBlock(kPiece, 3, kBlocks, Ip(1));
  EXPECT_THAT(v.OnVerified(kPiece, false, Blocks({0})), IsEmpty());
  // The good copy shows the bad block was the resumed one: peer 1 is
  // innocent.
  for (uint32_t b = 0; b < kBlocks; ++b) v.OnBlock(kPiece, b, kBlocks, Ip(2));
  EXPECT_THAT(v.OnVerified(kPiece, true, Blocks()), IsEmpty());
}

TEST(PieceVerifierTest, BlocksNeverReportedCountAsUnknown) {
  PieceVerifier v;
  // Only blocks 2 and 3 were reported (0 and 1 predate this verifier).
  v.OnBlock(kPiece, 2, kBlocks, Ip(1));
  v.OnBlock(kPiece, 3, kBlocks, Ip(1));
  EXPECT_THAT(v.OnVerified(kPiece, false, Blocks({1})), IsEmpty());
}

TEST(PieceVerifierTest, AllUnknownConvictsNobody) {
  PieceVerifier v;
  EXPECT_THAT(v.OnVerified(kPiece, false, Blocks({0})), IsEmpty());
  EXPECT_THAT(v.OnVerified(kPiece, true, Blocks()), IsEmpty());
}

TEST(PieceVerifierTest, ForgetDropsWhatWasKnown) {
  PieceVerifier v;
  v.OnBlock(kPiece, 0, kBlocks, Ip(1));
  v.OnBlock(kPiece, 1, kBlocks, Ip(2));
  v.OnBlock(kPiece, 2, kBlocks, Ip(2));
  v.OnBlock(kPiece, 3, kBlocks, Ip(2));
  EXPECT_THAT(v.OnVerified(kPiece, false, Blocks({1})), IsEmpty());
  ASSERT_TRUE(v.WantsBlockHashes(kPiece));
  v.OnBlock(kPiece, 0, kBlocks, Ip(3));
  v.Forget(kPiece);
  EXPECT_FALSE(v.WantsBlockHashes(kPiece));
  EXPECT_EQ(v.pieces_tracked(), 0u);
  // With nothing known, neither the good copy nor a failure convicts.
  EXPECT_THAT(v.OnVerified(kPiece, true, Blocks()), IsEmpty());
  EXPECT_THAT(v.OnVerified(kPiece, false, Blocks({0})), IsEmpty());
}

TEST(PieceVerifierTest, PiecesAreIndependent) {
  PieceVerifier v;
  for (uint32_t b = 0; b < kBlocks; ++b) {
    v.OnBlock(1, b, kBlocks, Ip(1));
    v.OnBlock(2, b, kBlocks, Ip(2));
  }
  EXPECT_EQ(v.pieces_tracked(), 2u);
  EXPECT_THAT(v.OnVerified(2, false, Blocks({0})), ElementsAre(Ip(2)));
  EXPECT_THAT(v.OnVerified(1, true, {}), IsEmpty());
}

}  // namespace
}  // namespace bt::client
