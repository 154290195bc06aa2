#include "client/choker.h"

#include <map>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace bt::client {
namespace {

using ::testing::Contains;
using ::testing::Not;
using ::testing::UnorderedElementsAre;

const absl::Time kStart = absl::FromUnixSeconds(1'000'000);

ChokerPeer Peer(uint64_t id, double down, double up = 0, bool interested = true,
                absl::Time connected = kStart - absl::Hours(1)) {
  ChokerPeer p;
  p.id = id;
  p.interested = interested;
  p.download_rate = down;
  p.upload_rate = up;
  p.connected_at = connected;
  return p;
}

TEST(ChokerTest, LeechingRewardsTheBestUploadersToUs) {
  Choker choker(Choker::Options(), /*seed=*/1);
  std::vector<ChokerPeer> peers = {Peer(1, 10), Peer(2, 500), Peer(3, 300),
                                   Peer(4, 400), Peer(5, 1)};
  std::vector<uint64_t> unchoked = choker.Rechoke(peers, false, kStart);
  ASSERT_EQ(unchoked.size(), 4u);
  // Three regular slots to the three best, one optimistic among the rest.
  EXPECT_EQ(std::vector<uint64_t>(unchoked.begin(), unchoked.begin() + 3),
            (std::vector<uint64_t>{2, 4, 3}));
  EXPECT_TRUE(unchoked[3] == 1 || unchoked[3] == 5);
  EXPECT_EQ(choker.optimistic(), unchoked[3]);
}

TEST(ChokerTest, SeedingWithoutTurnsRanksByOurUploadRate) {
  Choker::Options options;
  options.seed_turn_bytes = 0;
  Choker choker(options, 1);
  std::vector<ChokerPeer> peers = {Peer(1, 0, 100), Peer(2, 0, 5),
                                   Peer(3, 0, 900), Peer(4, 0, 50)};
  std::vector<uint64_t> unchoked = choker.Rechoke(peers, true, kStart);
  EXPECT_EQ(std::vector<uint64_t>(unchoked.begin(), unchoked.begin() + 3),
            (std::vector<uint64_t>{3, 1, 4}));
}

// Seeding peers 1..n, connected in that order, none sent anything yet.
std::vector<ChokerPeer> Downloaders(uint64_t n) {
  std::vector<ChokerPeer> peers;
  for (uint64_t id = 1; id <= n; ++id) {
    peers.push_back(Peer(id, 0, 0, true, kStart - absl::Minutes(10 - id)));
  }
  return peers;
}

Choker TurnChoker(int slots, int64_t turn_bytes) {
  Choker::Options options;
  options.upload_slots = slots;
  options.seed_turn_bytes = turn_bytes;
  return Choker(options, 1);
}

TEST(ChokerTest, SeedingSlotsPassToTheLongestWaitingWhenATurnEnds) {
  Choker choker = TurnChoker(2, 100);
  std::vector<ChokerPeer> peers = Downloaders(4);
  // Nobody has had a turn: the longest connected go first.
  EXPECT_THAT(choker.Rechoke(peers, true, kStart), UnorderedElementsAre(1u, 2u));
  EXPECT_EQ(choker.optimistic(), 0u);  // no optimistic slot when seeding

  peers[0].uploaded = 99;
  peers[1].uploaded = 60;
  EXPECT_FALSE(choker.TurnOver(1, 99));
  // Mid-turn, a rechoke changes nothing.
  EXPECT_THAT(choker.Rechoke(peers, true, kStart + absl::Seconds(1)),
              UnorderedElementsAre(1u, 2u));
  peers[0].uploaded = 100;
  EXPECT_TRUE(choker.TurnOver(1, 100));
  EXPECT_FALSE(choker.TurnOver(3, 1000));  // not on a turn
  // Peer 1's turn is over: peer 3, waiting longest, takes it; 2 keeps its.
  EXPECT_THAT(choker.Rechoke(peers, true, kStart + absl::Seconds(2)),
              UnorderedElementsAre(2u, 3u));
  EXPECT_FALSE(choker.TurnOver(1, 100));
  peers[1].uploaded = 160;
  // Then 2 yields to 4, who never had a turn, before 1 gets another.
  EXPECT_THAT(choker.Rechoke(peers, true, kStart + absl::Seconds(3)),
              UnorderedElementsAre(3u, 4u));
  peers[2].uploaded = 100;
  EXPECT_THAT(choker.Rechoke(peers, true, kStart + absl::Seconds(4)),
              UnorderedElementsAre(4u, 1u));
}

TEST(ChokerTest, SeedingTurnsShareTheUploadEvenly) {
  // 20 downloaders, 4 slots, each slot sends 10 bytes a step; the owner
  // rechokes whenever a turn is over, as Torrent does.
  Choker choker = TurnChoker(4, 100);
  std::vector<ChokerPeer> peers = Downloaders(20);
  absl::Time now = kStart;
  std::vector<uint64_t> unchoked = choker.Rechoke(peers, true, now);
  for (int step = 0; step < 2000; ++step) {
    now += absl::Milliseconds(10);
    bool over = false;
    for (uint64_t id : unchoked) {
      peers[id - 1].uploaded += 10;
      over |= choker.TurnOver(id, peers[id - 1].uploaded);
    }
    ASSERT_EQ(unchoked.size(), 4u);
    if (over) unchoked = choker.Rechoke(peers, true, now);
  }
  // 80,000 bytes in all: 4,000 each, give or take one turn.
  for (const ChokerPeer& p : peers) {
    EXPECT_GE(p.uploaded, 3900) << p.id;
    EXPECT_LE(p.uploaded, 4100) << p.id;
  }
}

TEST(ChokerTest, ASlotGivenBetweenRechokesStartsATurn) {
  Choker choker = TurnChoker(2, 100);
  std::vector<ChokerPeer> peers = Downloaders(3);
  peers[1].interested = peers[2].interested = false;
  EXPECT_THAT(choker.Rechoke(peers, true, kStart), UnorderedElementsAre(1u));
  // 2 becomes interested and its owner gives it the free slot at once.
  peers[1].interested = true;
  peers[1].uploaded = 40;
  choker.StartTurn(2, 40);
  EXPECT_FALSE(choker.TurnOver(2, 139));
  EXPECT_TRUE(choker.TurnOver(2, 140));
  peers[1].uploaded = 140;
  peers[2].interested = true;
  EXPECT_THAT(choker.Rechoke(peers, true, kStart + absl::Seconds(1)),
              UnorderedElementsAre(1u, 3u));
}

TEST(ChokerTest, SeedingHolderKeepsItsSlotWhileNobodyWaits) {
  Choker choker = TurnChoker(2, 100);
  std::vector<ChokerPeer> peers = Downloaders(3);
  peers[2].interested = false;
  choker.Rechoke(peers, true, kStart);
  peers[0].uploaded = 150;
  ASSERT_TRUE(choker.TurnOver(1, 150));
  // Nobody else wants a slot: 1 keeps it, on a new turn from 150 bytes.
  EXPECT_THAT(choker.Rechoke(peers, true, kStart + absl::Seconds(1)),
              UnorderedElementsAre(1u, 2u));
  EXPECT_FALSE(choker.TurnOver(1, 249));
  EXPECT_TRUE(choker.TurnOver(1, 250));
  // Once 3 wants one, 1 (over its turn) yields to it.
  peers[2].interested = true;
  peers[0].uploaded = 250;
  EXPECT_THAT(choker.Rechoke(peers, true, kStart + absl::Seconds(2)),
              UnorderedElementsAre(2u, 3u));
}

TEST(ChokerTest, SeedingSlotsOfPeersThatLeaveOrLoseInterestAreFreed) {
  Choker choker = TurnChoker(2, 100);
  std::vector<ChokerPeer> peers = Downloaders(4);
  choker.Rechoke(peers, true, kStart);  // 1 and 2
  peers[0].interested = false;          // 1 has all it wants
  peers.erase(peers.begin() + 1);       // 2 disconnects
  EXPECT_THAT(choker.Rechoke(peers, true, kStart + absl::Seconds(1)),
              UnorderedElementsAre(3u, 4u));
  EXPECT_FALSE(choker.TurnOver(2, 1000));
  // 1 wants more again; its turn ended before 3 and 4 used up theirs, so
  // it is first in line.
  peers[0].interested = true;
  peers[1].uploaded = peers[2].uploaded = 100;
  EXPECT_THAT(choker.Rechoke(peers, true, kStart + absl::Seconds(2)),
              UnorderedElementsAre(1u, 3u));
}

TEST(ChokerTest, UninterestedAndSnubbedPeersGetNoRegularSlot) {
  Choker choker(Choker::Options(), 1);
  std::vector<ChokerPeer> peers = {Peer(1, 900, 0, /*interested=*/false),
                                   Peer(2, 10)};
  peers.push_back(Peer(3, 800));
  peers.back().snubbed = true;
  std::vector<uint64_t> unchoked = choker.Rechoke(peers, false, kStart);
  EXPECT_THAT(unchoked, Not(Contains(1u)));
  // Peer 2 gets a regular slot; the snubbed peer can only be optimistic.
  EXPECT_THAT(unchoked, UnorderedElementsAre(2u, 3u));
  EXPECT_EQ(choker.optimistic(), 3u);
}

TEST(ChokerTest, OptimisticSlotRotatesOnlyAfterItsInterval) {
  Choker choker(Choker::Options(), 7);
  std::vector<ChokerPeer> peers;
  for (uint64_t id = 1; id <= 20; ++id) peers.push_back(Peer(id, 100 - id));
  choker.Rechoke(peers, false, kStart);
  uint64_t first = choker.optimistic();
  ASSERT_NE(first, 0u);
  choker.Rechoke(peers, false, kStart + absl::Seconds(10));
  EXPECT_EQ(choker.optimistic(), first);
  choker.Rechoke(peers, false, kStart + absl::Seconds(20));
  EXPECT_EQ(choker.optimistic(), first);
  // After 30 s it is drawn again; over many rotations it moves.
  std::map<uint64_t, int> holders;
  for (int k = 1; k <= 30; ++k) {
    choker.Rechoke(peers, false, kStart + absl::Seconds(30 * k));
    ++holders[choker.optimistic()];
  }
  EXPECT_GT(holders.size(), 5u);
  EXPECT_FALSE(holders.contains(1));  // regular slots never hold it
}

TEST(ChokerTest, NewPeersAreFavouredForTheOptimisticSlot) {
  std::vector<ChokerPeer> peers;
  for (uint64_t id = 1; id <= 3; ++id) peers.push_back(Peer(id, 1000));
  peers.push_back(Peer(10, 0));                                 // old
  peers.push_back(Peer(11, 0, 0, true, kStart - absl::Seconds(5)));  // new
  int new_wins = 0;
  for (uint64_t seed = 1; seed <= 400; ++seed) {
    Choker choker(Choker::Options(), seed);
    choker.Rechoke(peers, false, kStart);
    new_wins += choker.optimistic() == 11;
  }
  // Weight 3 against 1: about 300 of 400.
  EXPECT_GT(new_wins, 250);
  EXPECT_LT(new_wins, 350);
}

TEST(ChokerTest, RechokeSchedule) {
  Choker choker;
  EXPECT_TRUE(choker.Due(kStart));
  choker.Rechoke({}, false, kStart);
  EXPECT_FALSE(choker.Due(kStart + absl::Seconds(9)));
  EXPECT_TRUE(choker.Due(kStart + absl::Seconds(10)));
}

}  // namespace
}  // namespace bt::client
