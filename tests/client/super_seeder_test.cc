#include "client/super_seeder.h"

#include <algorithm>
#include <set>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace bt::client {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::testing::SizeIs;
using ::testing::UnorderedElementsAreArray;

SuperSeeder::Options Opts(int per_peer = 2) {
  SuperSeeder::Options o;
  o.pieces_per_peer = per_peer;
  o.seed = 7;
  return o;
}

TEST(SuperSeederTest, ANewPeerIsShownAFewDistinctPieces) {
  SuperSeeder s(10, Opts(2));
  std::vector<uint32_t> a = s.AddPeer(1);
  ASSERT_THAT(a, SizeIs(2));
  EXPECT_NE(a[0], a[1]);
  EXPECT_THAT(s.outstanding(1), UnorderedElementsAreArray(a));
  // Adding it again changes nothing.
  EXPECT_THAT(s.AddPeer(1), IsEmpty());
}

TEST(SuperSeederTest, PeersAreShownDifferentPiecesWhileUnsentOnesRemain) {
  SuperSeeder s(8, Opts(2));
  std::set<uint32_t> shown;
  for (uint64_t peer = 1; peer <= 4; ++peer) {
    for (uint32_t p : s.AddPeer(peer)) EXPECT_TRUE(shown.insert(p).second) << p;
  }
  EXPECT_THAT(shown, SizeIs(8));
  // Every piece is out: a fifth peer still gets pieces (the least shown).
  EXPECT_THAT(s.AddPeer(5), SizeIs(2));
}

TEST(SuperSeederTest, NoNewPieceUntilThePeerAnnouncesOne) {
  SuperSeeder s(10, Opts(1));
  std::vector<uint32_t> first = s.AddPeer(1);
  ASSERT_THAT(first, SizeIs(1));
  // Announcing a piece it was not shown does not free its slot.
  const uint32_t other = (first[0] + 1) % 10;
  EXPECT_THAT(s.OnHave(1, other), IsEmpty());
  EXPECT_EQ(s.availability(other), 1u);
  std::vector<uint32_t> next = s.OnHave(1, first[0]);
  ASSERT_THAT(next, SizeIs(1));
  EXPECT_NE(next[0], first[0]);
  EXPECT_NE(next[0], other);
  // A repeated HAVE is not counted twice.
  EXPECT_THAT(s.OnHave(1, first[0]), IsEmpty());
  EXPECT_EQ(s.availability(first[0]), 1u);
}

TEST(SuperSeederTest, PiecesThePeerHasAreNeverShownAndRarestComeFirst) {
  SuperSeeder s(4, Opts(1));
  s.AddPeer(1, /*reveal=*/false);  // counts, never shown anything
  storage::Bitfield common(4);
  common.Set(0), common.Set(1), common.Set(2);
  EXPECT_THAT(s.OnHaveSet(1, common), IsEmpty());
  s.AddPeer(2);
  storage::Bitfield mine(4);
  mine.Set(3);
  // Piece 3 is its own; of 0..2 (each held by one peer) one is shown.
  s.OnHaveSet(2, mine);
  std::vector<uint32_t> outstanding = s.outstanding(2);
  ASSERT_THAT(outstanding, SizeIs(1));
  EXPECT_NE(outstanding[0], 3u);
  // A peer that lacks only piece 0 is shown piece 0 even if it is out.
  s.AddPeer(3);
  storage::Bitfield almost(4, true);
  almost.Clear(outstanding[0]);
  s.OnHaveSet(3, almost);
  EXPECT_THAT(s.outstanding(3), ElementsAre(outstanding[0]));
}

TEST(SuperSeederTest, ASeedIsShownNothing) {
  SuperSeeder s(4, Opts(2));
  s.AddPeer(1);
  EXPECT_THAT(s.OnHaveSet(1, storage::Bitfield(4, true)), IsEmpty());
  EXPECT_THAT(s.outstanding(1), IsEmpty());
}

TEST(SuperSeederTest, APeerThatNeverAnnouncesHoldsUpNoOne) {
  SuperSeeder s(6, Opts(1));
  const std::vector<uint32_t> silent = s.AddPeer(1);
  ASSERT_THAT(silent, SizeIs(1));
  // Another peer goes through every piece, the silent peer's one included.
  std::vector<uint32_t> shown = s.AddPeer(2);
  std::set<uint32_t> got;
  while (!shown.empty()) {
    ASSERT_THAT(shown, SizeIs(1));
    got.insert(shown[0]);
    shown = s.OnHave(2, shown[0]);
  }
  EXPECT_THAT(got, SizeIs(6));
  // The silent peer is still shown only its first piece.
  EXPECT_THAT(s.outstanding(1), ElementsAre(silent[0]));
}

TEST(SuperSeederTest, PiecesShownToAChokedPeerAreShownToOthers) {
  SuperSeeder s(2, Opts(1));
  const uint32_t held = s.AddPeer(1).at(0);
  // While peer 1 may fetch it, peer 2 is shown the other piece.
  EXPECT_NE(s.AddPeer(2).at(0), held);
  s.RemovePeer(2);
  s.SetChoked(1, true);
  // Choked, peer 1 cannot fetch it: a newcomer may be shown the same piece
  // (the least shown, and the rarest, are tied).
  std::set<uint32_t> shown;
  for (uint64_t peer = 3; peer < 40 && shown.size() < 2; ++peer) {
    shown.insert(s.AddPeer(peer).at(0));
    s.RemovePeer(peer);
  }
  EXPECT_THAT(shown, SizeIs(2));
  // Unchoked again, its piece counts as taken once more.
  s.SetChoked(1, false);
  for (uint64_t peer = 40; peer < 60; ++peer) {
    EXPECT_NE(s.AddPeer(peer).at(0), held);
    s.RemovePeer(peer);
  }
  EXPECT_THAT(s.outstanding(1), ElementsAre(held));
}

TEST(SuperSeederTest, RemovingAPeerTakesBackItsCounts) {
  SuperSeeder s(2, Opts(1));
  s.AddPeer(1);
  s.OnHaveSet(1, storage::Bitfield(2, true));
  EXPECT_EQ(s.availability(0), 1u);
  s.RemovePeer(1);
  EXPECT_EQ(s.availability(0), 0u);
  EXPECT_EQ(s.peers(), 0u);
  // Unknown peers and pieces out of range are ignored.
  EXPECT_THAT(s.OnHave(9, 0), IsEmpty());
  s.AddPeer(2);
  EXPECT_THAT(s.OnHave(2, 99), IsEmpty());
  s.RemovePeer(9);
}

TEST(SuperSeederTest, SwarmCompletesWithEachPieceSentAboutOnce) {
  // Four peers; whenever a peer is shown a piece it fetches it from us,
  // announces it, and every other peer fetches it from that peer.
  constexpr uint32_t kPieces = 40;
  SuperSeeder s(kPieces, Opts(2));
  std::vector<storage::Bitfield> have(4, storage::Bitfield(kPieces));
  std::vector<std::vector<uint32_t>> queue(4);
  for (uint64_t p = 0; p < 4; ++p) queue[p] = s.AddPeer(p);
  int uploads = 0;
  for (int round = 0; round < 1000; ++round) {
    bool any = false;
    for (uint64_t p = 0; p < 4; ++p) {
      if (queue[p].empty()) continue;
      any = true;
      const uint32_t piece = queue[p].front();
      queue[p].erase(queue[p].begin());
      if (have[p].Get(piece)) continue;
      ++uploads;
      std::vector<std::pair<uint64_t, uint32_t>> spread = {{p, piece}};
      for (uint64_t q = 0; q < 4; ++q) {
        if (q != p && !have[q].Get(piece)) spread.push_back({q, piece});
      }
      for (auto [who, what] : spread) {
        have[who].Set(what);
        for (uint32_t next : s.OnHave(who, what)) queue[who].push_back(next);
      }
    }
    if (!any) break;
  }
  for (uint64_t p = 0; p < 4; ++p) EXPECT_TRUE(have[p].All()) << p;
  EXPECT_EQ(uploads, static_cast<int>(kPieces));
}

}  // namespace
}  // namespace bt::client
