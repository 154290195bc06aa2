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

TEST(ChokerTest, SeedingRanksByOurUploadRate) {
  Choker choker(Choker::Options(), 1);
  std::vector<ChokerPeer> peers = {Peer(1, 0, 100), Peer(2, 0, 5),
                                   Peer(3, 0, 900), Peer(4, 0, 50)};
  std::vector<uint64_t> unchoked = choker.Rechoke(peers, true, kStart);
  EXPECT_EQ(std::vector<uint64_t>(unchoked.begin(), unchoked.begin() + 3),
            (std::vector<uint64_t>{3, 1, 4}));
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
