#include "client/piece_picker.h"

#include <set>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace bt::client {
namespace {

using storage::Bitfield;

constexpr int64_t kPiece = 4 * kBlockSize;  // four blocks per piece

Bitfield AllOf(size_t n) { return Bitfield(n, true); }

Bitfield Only(size_t n, std::initializer_list<size_t> set) {
  Bitfield b(n);
  for (size_t i : set) b.Set(i);
  return b;
}

TEST(PiecePickerTest, Geometry) {
  // 10 pieces; the last one holds 1.5 blocks.
  int64_t total = 9 * kPiece + kBlockSize + kBlockSize / 2;
  PiecePicker picker(kPiece, total, Bitfield(10));
  EXPECT_EQ(picker.BlocksInPiece(0), 4u);
  EXPECT_EQ(picker.BlocksInPiece(9), 2u);
  EXPECT_EQ(picker.BlockLength({9, 1}), kBlockSize / 2);
  EXPECT_EQ(picker.BlockLength({3, 3}), kBlockSize);
  EXPECT_EQ(picker.Wanted(), 10u);
}

TEST(PiecePickerTest, AwaitsOnlyMissingBlocksOfPiecesInProgress) {
  PiecePicker picker(kPiece, 2 * kPiece, Bitfield(2));
  picker.AddPeerBitfield(AllOf(2));
  EXPECT_FALSE(picker.AwaitsBlock({0, 0}));  // nobody asked for it
  std::vector<BlockRef> got;
  picker.Pick(Only(2, {0}), 4, 1, &got);
  ASSERT_EQ(got.size(), 4u);
  EXPECT_TRUE(picker.AwaitsBlock({0, 2}));
  EXPECT_FALSE(picker.AwaitsBlock({0, 4}));  // past the piece
  for (const BlockRef& b : got) {
    EXPECT_TRUE(picker.AwaitsBlock(b));
    picker.OnBlockReceived(b, 1);
    EXPECT_FALSE(picker.AwaitsBlock(b)) << "a second copy of block " << b.block;
  }
  picker.OnPieceVerified(0);
  EXPECT_FALSE(picker.AwaitsBlock({0, 0}));  // a piece we have
  EXPECT_FALSE(picker.AwaitsBlock({1, 0}));
}

TEST(PiecePickerTest, RarestFirst) {
  PiecePicker picker(kPiece, 8 * kPiece, Bitfield(8));
  picker.AddPeerBitfield(AllOf(8));
  picker.AddPeerBitfield(AllOf(8));
  picker.AddPeerBitfield(Only(8, {0, 1, 3, 4, 5, 6, 7}));  // not piece 2
  picker.AddPeerBitfield(Only(8, {5}));
  picker.RemovePeerBitfield(Only(8, {5}));
  EXPECT_EQ(picker.Availability(2), 2u);
  EXPECT_EQ(picker.Availability(5), 3u);
  std::vector<BlockRef> got;
  picker.Pick(AllOf(8), 4, /*peer=*/1, &got);
  ASSERT_EQ(got.size(), 4u);
  for (const BlockRef& b : got) EXPECT_EQ(b.piece, 2u);
}

TEST(PiecePickerTest, WholePiecesLeaveStartedOnesToOthers) {
  PiecePicker picker(kPiece, 3 * kPiece, Bitfield(3));
  picker.AddPeerBitfield(AllOf(3));
  std::vector<BlockRef> peer, web;
  picker.Pick(AllOf(3), 2, /*peer=*/1, &peer);  // half of one piece
  ASSERT_EQ(peer.size(), 2u);
  picker.PickWholePieces(AllOf(3), 4, /*peer=*/2, &web);
  ASSERT_EQ(web.size(), 4u);
  for (const BlockRef& b : web) EXPECT_NE(b.piece, peer[0].piece);
  for (uint32_t i = 0; i < 4; ++i) EXPECT_EQ(web[i].block, i);
  web.clear();
  picker.PickWholePieces(AllOf(3), 4, 2, &web);
  ASSERT_EQ(web.size(), 4u);
  web.clear();
  // Only the started piece is left: none for PickWholePieces, Pick helps.
  picker.PickWholePieces(AllOf(3), 4, 2, &web);
  EXPECT_TRUE(web.empty());
  picker.Pick(AllOf(3), 2, 2, &web);
  ASSERT_EQ(web.size(), 2u);
  EXPECT_EQ(web[0].piece, peer[0].piece);
  EXPECT_EQ(web[1].piece, peer[0].piece);
}

TEST(PiecePickerTest, FinishesPartialPiecesFirstAndSplitsBetweenPeers) {
  PiecePicker picker(kPiece, 8 * kPiece, Bitfield(8));
  picker.AddPeerBitfield(AllOf(8));
  std::vector<BlockRef> a, b;
  picker.Pick(AllOf(8), 2, 1, &a);
  ASSERT_EQ(a.size(), 2u);
  picker.Pick(AllOf(8), 2, 2, &b);
  ASSERT_EQ(b.size(), 2u);
  // Peer 2 continues the piece peer 1 started, with the other blocks.
  EXPECT_EQ(b[0].piece, a[0].piece);
  std::set<uint32_t> blocks = {a[0].block, a[1].block, b[0].block, b[1].block};
  EXPECT_EQ(blocks.size(), 4u);
}

TEST(PiecePickerTest, OnlyPicksWhatThePeerHasAndWeWant) {
  PiecePicker picker(kPiece, 4 * kPiece, Only(4, {0}));
  picker.SetPiecePriority(1, 0);  // skipped
  std::vector<BlockRef> got;
  picker.Pick(Only(4, {0, 1, 3}), 100, 1, &got);
  ASSERT_EQ(got.size(), 4u);
  for (const BlockRef& b : got) EXPECT_EQ(b.piece, 3u);
  EXPECT_FALSE(picker.IsInteresting(Only(4, {0, 1})));
  EXPECT_TRUE(picker.IsInteresting(Only(4, {2})));
  EXPECT_EQ(picker.Wanted(), 2u);
}

TEST(PiecePickerTest, HigherPriorityFirst) {
  PiecePicker picker(kPiece, 4 * kPiece, Bitfield(4));
  picker.AddPeerBitfield(AllOf(4));
  picker.AddPeerBitfield(Only(4, {3}));  // 3 is common, still wins on priority
  picker.SetPiecePriority(3, 7);
  std::vector<BlockRef> got;
  picker.Pick(AllOf(4), 1, 1, &got);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].piece, 3u);
}

// PieceOrder lists the pieces of `blocks` in the order they first appear.
std::vector<uint32_t> PieceOrder(const std::vector<BlockRef>& blocks) {
  std::vector<uint32_t> order;
  for (const BlockRef& b : blocks) {
    if (order.empty() || order.back() != b.piece) order.push_back(b.piece);
  }
  return order;
}

TEST(PiecePickerTest, PriorityLevelsOrderPicksBeforeRarity) {
  PiecePicker picker(kPiece, 6 * kPiece, Bitfield(6));
  picker.AddPeerBitfield(AllOf(6));
  picker.AddPeerBitfield(Only(6, {0, 2, 3, 5}));  // 1 and 4 are rarest
  const int kLevels[] = {7, 1, 4, 0, 1, 7};       // high, low, normal, skip
  for (uint32_t i = 0; i < 6; ++i) picker.SetPiecePriority(i, kLevels[i]);
  std::vector<BlockRef> got;
  picker.Pick(AllOf(6), 100, 1, &got);
  ASSERT_EQ(got.size(), 5u * 4);
  std::vector<uint32_t> order = PieceOrder(got);
  ASSERT_EQ(order.size(), 5u);
  EXPECT_THAT(std::vector<uint32_t>(order.begin(), order.begin() + 2),
              ::testing::UnorderedElementsAre(0u, 5u));
  EXPECT_EQ(order[2], 2u);
  EXPECT_THAT(std::vector<uint32_t>(order.begin() + 3, order.end()),
              ::testing::UnorderedElementsAre(1u, 4u));
}

TEST(PiecePickerTest, PartialPiecesOfHigherLevelFinishFirst) {
  PiecePicker picker(kPiece, 3 * kPiece, Bitfield(3));
  picker.SetPiecePriority(0, 1);
  picker.SetPiecePriority(2, 7);
  for (uint32_t b = 0; b < 3; ++b) picker.MarkBlockReceived({0, b});
  picker.MarkBlockReceived({1, 0});
  picker.MarkBlockReceived({2, 0});
  std::vector<BlockRef> got;
  picker.Pick(AllOf(3), 1, 1, &got);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].piece, 2u);  // high beats the more advanced low piece
}

TEST(PiecePickerTest, SequentialPicksInOrderRarestFirstInsideTheWindow) {
  PiecePicker picker(kPiece, 10 * kPiece, Only(10, {0}));
  picker.SetSequential(true, /*window=*/3);
  picker.AddPeerBitfield(AllOf(10));
  picker.AddPeerBitfield(Only(10, {1, 2, 4, 5, 6, 7, 8}));
  picker.AddPeerBitfield(Only(10, {2, 4, 5, 6, 7, 8}));
  // Window {1, 2, 3}: 3 is rarest, then 1, then 2. Piece 9 is as rare as
  // 3 but outside the window: it comes last.
  std::vector<BlockRef> got;
  picker.Pick(AllOf(10), 100, 1, &got);
  ASSERT_EQ(got.size(), 9u * 4);
  EXPECT_THAT(PieceOrder(got),
              ::testing::ElementsAre(3u, 1u, 2u, 4u, 5u, 6u, 7u, 8u, 9u));

  // Without sequential mode the same swarm starts with the rarest pieces.
  PiecePicker rarest(kPiece, 10 * kPiece, Only(10, {0}));
  rarest.AddPeerBitfield(AllOf(10));
  rarest.AddPeerBitfield(Only(10, {1, 2, 4, 5, 6, 7, 8}));
  got.clear();
  rarest.Pick(AllOf(10), 8, 1, &got);
  EXPECT_THAT(PieceOrder(got), ::testing::UnorderedElementsAre(3u, 9u));
}

TEST(PiecePickerTest, SequentialWindowFollowsTheFirstMissingPiece) {
  PiecePicker picker(kPiece, 6 * kPiece, Bitfield(6));
  picker.SetSequential(true, /*window=*/2);
  picker.SetPiecePriority(2, 0);  // skipped pieces are not in the window
  picker.AddPeerBitfield(AllOf(6));
  picker.AddPeerBitfield(Only(6, {0, 1, 3, 5}));  // 4 is rarest
  picker.OnPieceVerified(0);
  // Window {1, 3} (2 is skipped); 4, the rarest, is outside it.
  std::vector<BlockRef> got;
  picker.Pick(AllOf(6), 8, 1, &got);
  EXPECT_THAT(PieceOrder(got), ::testing::UnorderedElementsAre(1u, 3u));
  picker.OnPieceVerified(1);
  picker.OnPieceVerified(3);
  // Window {4, 5}: 4 is the rarer.
  got.clear();
  picker.Pick(AllOf(6), 1, 1, &got);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].piece, 4u);
}

TEST(PiecePickerTest, SequentialFinishesLowestPartialPieceFirst) {
  PiecePicker picker(kPiece, 6 * kPiece, Bitfield(6));
  picker.SetSequential(true);
  for (uint32_t b = 0; b < 3; ++b) picker.MarkBlockReceived({5, b});
  picker.MarkBlockReceived({2, 0});
  std::vector<BlockRef> got;
  picker.Pick(AllOf(6), 1, 1, &got);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].piece, 2u);
  picker.SetSequential(false);  // rarest-first: the most advanced piece
  got.clear();
  picker.Pick(AllOf(6), 1, 1, &got);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].piece, 5u);
}

TEST(PiecePickerTest, SequentialWholePiecesComeInOrder) {
  PiecePicker picker(kPiece, 4 * kPiece, Bitfield(4));
  picker.SetSequential(true, /*window=*/1);
  picker.AddPeerBitfield(AllOf(4));
  std::vector<BlockRef> web;
  picker.PickWholePieces(AllOf(4), 8, /*peer=*/9, &web);
  ASSERT_EQ(web.size(), 8u);
  for (uint32_t i = 0; i < 8; ++i) {
    EXPECT_EQ(web[i].piece, i / 4);
    EXPECT_EQ(web[i].block, i % 4);
  }
}

TEST(PiecePickerTest, SequentialStillReachesEndgame) {
  PiecePicker picker(kPiece, 2 * kPiece, Bitfield(2));
  picker.SetSequential(true, /*window=*/1);
  std::vector<BlockRef> a;
  picker.Pick(AllOf(2), 8, 1, &a);
  ASSERT_EQ(a.size(), 8u);
  EXPECT_THAT(PieceOrder(a), ::testing::ElementsAre(0u, 1u));
  EXPECT_TRUE(picker.InEndgame());
  std::vector<BlockRef> b;
  picker.Pick(AllOf(2), 8, 2, &b);
  EXPECT_EQ(b.size(), 8u);
  std::vector<uint64_t> cancel;
  picker.OnBlockReceived(b[0], 2, &cancel);
  EXPECT_EQ(cancel, std::vector<uint64_t>{1});
}

TEST(PiecePickerTest, CompletionVerifyAndFailure) {
  PiecePicker picker(kPiece, 2 * kPiece, Bitfield(2));
  std::vector<BlockRef> got;
  picker.Pick(Only(2, {0}), 4, 1, &got);
  ASSERT_EQ(got.size(), 4u);
  for (int i = 0; i < 3; ++i) EXPECT_FALSE(picker.OnBlockReceived(got[i], 1));
  EXPECT_FALSE(picker.OnBlockReceived(got[0], 1));  // duplicate: ignored
  EXPECT_TRUE(picker.OnBlockReceived(got[3], 1));
  // A failed piece is downloaded again from scratch.
  picker.OnPieceFailed(0);
  std::vector<BlockRef> again;
  picker.Pick(Only(2, {0}), 4, 2, &again);
  EXPECT_EQ(again.size(), 4u);
  for (const BlockRef& b : again) picker.OnBlockReceived(b, 2);
  picker.OnPieceVerified(0);
  EXPECT_TRUE(picker.have().Get(0));
  std::vector<BlockRef> none;
  picker.Pick(Only(2, {0}), 4, 2, &none);
  EXPECT_TRUE(none.empty());
}

TEST(PiecePickerTest, DroppedRequestsReturnToThePool) {
  PiecePicker picker(kPiece, kPiece, Bitfield(1));
  std::vector<BlockRef> got;
  picker.Pick(AllOf(1), 4, 1, &got);
  ASSERT_EQ(got.size(), 4u);
  picker.OnRequestDropped(got[1], 1);
  picker.OnPeerGone(1);
  std::vector<BlockRef> again;
  picker.Pick(AllOf(1), 10, 2, &again);
  EXPECT_EQ(again.size(), 4u);
  EXPECT_TRUE(picker.PartialPieces() == std::vector<uint32_t>{0});
}

TEST(PiecePickerTest, EndgameDuplicatesAcrossPeersWithCancels) {
  PiecePicker picker(kPiece, kPiece, Bitfield(1));
  std::vector<BlockRef> a;
  picker.Pick(AllOf(1), 4, 1, &a);
  ASSERT_EQ(a.size(), 4u);
  EXPECT_TRUE(picker.InEndgame());
  // The same peer never gets a block twice.
  std::vector<BlockRef> same;
  picker.Pick(AllOf(1), 4, 1, &same);
  EXPECT_TRUE(same.empty());
  // Another peer gets duplicates.
  std::vector<BlockRef> b;
  picker.Pick(AllOf(1), 4, 2, &b);
  EXPECT_EQ(b.size(), 4u);
  std::vector<uint64_t> cancel;
  picker.OnBlockReceived(b[0], 2, &cancel);
  EXPECT_EQ(cancel, std::vector<uint64_t>{1});
}

TEST(PiecePickerTest, ResumedBlocksAreNotRequestedAgain) {
  PiecePicker picker(kPiece, kPiece, Bitfield(1));
  EXPECT_FALSE(picker.MarkBlockReceived({0, 0}));
  EXPECT_FALSE(picker.MarkBlockReceived({0, 2}));
  std::vector<BlockRef> got;
  picker.Pick(AllOf(1), 10, 1, &got);
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].block, 1u);
  EXPECT_EQ(got[1].block, 3u);
  EXPECT_THAT(picker.ReceivedBlocks(0),
              ::testing::ElementsAre(true, false, true, false));
}

TEST(PiecePickerTest, SpreadsPeersOverDifferentPiecesWhenAllEquallyRare) {
  // With one block per piece and equal availability, two pickers (two
  // clients) rarely start on the same piece thanks to the random order.
  int same = 0;
  for (int trial = 0; trial < 20; ++trial) {
    PiecePicker x(kBlockSize, 64 * kBlockSize, Bitfield(64));
    PiecePicker y(kBlockSize, 64 * kBlockSize, Bitfield(64));
    std::vector<BlockRef> gx, gy;
    x.Pick(AllOf(64), 1, 1, &gx);
    y.Pick(AllOf(64), 1, 1, &gy);
    same += gx[0].piece == gy[0].piece;
  }
  EXPECT_LT(same, 5);
}

}  // namespace
}  // namespace bt::client
