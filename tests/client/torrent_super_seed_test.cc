// Torrent on a SimClient in super-seed mode (BEP 16): peers are told we
// have nothing, are shown a piece or two at a time, get a new piece once
// they announce one, and are served only what they were shown; a swarm
// that passes pieces on completes with each piece uploaded once; a peer
// that never announces holds up no one; turning it off shows everything.
#include <algorithm>
#include <memory>
#include <set>
#include <vector>

#include "client/torrent.h"
#include "gtest/gtest.h"
#include "protocol/message.h"
#include "tests/client/testing/remote_peer.h"
#include "tests/client/testing/sim_client.h"

namespace bt::client::testing {
namespace {

constexpr int64_t kPiece = 32 * 1024;  // two blocks
constexpr uint32_t kPieces = 12;
constexpr uint32_t kBlock = 16 * 1024;

class SuperSeedTest : public ::testing::Test {
 protected:
  void SetUp() override {
    TorrentParams params = t_.Params();
    params.super_seeding = true;
    t_.PutOnDisk(sim_.disk_backend());
    torrent_ = *sim_.AddTorrent(params);
    ASSERT_EQ(torrent_->state(), TorrentState::kSeeding);
    ASSERT_TRUE(torrent_->super_seeding());
  }

  // Peer is a downloader: what it has, and the pieces we showed it.
  struct Peer {
    std::unique_ptr<RemotePeer> remote;
    storage::Bitfield have{kPieces};
    std::vector<uint32_t> shown;
    bool unchoked = false;
  };

  std::unique_ptr<Peer> Connect(uint8_t n) {
    auto p = std::make_unique<Peer>();
    p->remote = std::make_unique<RemotePeer>(RemotePeer::ConnectIn(
        sim_, *torrent_, Addr(10, 0, 0, n), /*extensions=*/true, PeerIdOf(n)));
    p->remote->Send(protocol::HaveNone{});
    p->remote->Send(protocol::Interested{});
    Read(*p);
    return p;
  }

  // Read takes what we sent the peer; returns the blocks among it.
  int Read(Peer& p) {
    const std::vector<SentMessage> messages = p.remote->Read();
    for (const SentMessage& m : messages) {
      if (const auto* h = m.As<protocol::Have>()) p.shown.push_back(h->piece);
      if (m.As<protocol::Unchoke>()) p.unchoked = true;
      EXPECT_EQ(m.As<protocol::Bitfield>(), nullptr);
      EXPECT_EQ(m.As<protocol::HaveAll>(), nullptr);
      EXPECT_EQ(m.As<protocol::AllowedFast>(), nullptr);
    }
    return Count<protocol::Piece>(messages);
  }

  // Fetch requests `piece` from us; returns the blocks that came.
  int Fetch(Peer& p, uint32_t piece) {
    p.remote->Send(protocol::Request{piece, 0, kBlock});
    p.remote->Send(protocol::Request{piece, kBlock, kBlock});
    return Read(p);
  }

  // Unannounced: pieces shown to `p` that it has not got yet.
  static int Unannounced(const Peer& p) {
    return static_cast<int>(
        std::count_if(p.shown.begin(), p.shown.end(),
                      [&](uint32_t piece) { return !p.have.Get(piece); }));
  }

  // RunSwarm: each peer in turn fetches a piece it was shown and has not
  // got, announces it, and every other peer gets it from that peer and
  // announces it too. Returns the blocks we uploaded.
  int RunSwarm(std::vector<Peer*> peers) {
    int blocks = 0;
    for (int round = 0; round < 10 * static_cast<int>(kPieces); ++round) {
      bool fetched = false;
      for (Peer* p : peers) {
        EXPECT_LE(Unannounced(*p), 2);
        auto it = std::find_if(p->shown.begin(), p->shown.end(),
                               [&](uint32_t x) { return !p->have.Get(x); });
        if (it == p->shown.end()) continue;
        const uint32_t piece = *it;
        EXPECT_TRUE(p->unchoked);
        EXPECT_EQ(Fetch(*p, piece), 2);
        blocks += 2;
        fetched = true;
        for (Peer* q : peers) {
          if (q->have.Get(piece)) continue;
          q->have.Set(piece);
          q->remote->Send(protocol::Have{piece});
          Read(*q);
        }
      }
      if (!fetched) break;
    }
    return blocks;
  }

  SimClient sim_;
  TestTorrent t_ = MakeSingleFile(kPieces * kPiece, kPiece);
  Torrent* torrent_ = nullptr;
};

TEST_F(SuperSeedTest, NewPeersAreToldNothingAndShownTwoPieces) {
  std::unique_ptr<Peer> a = Connect(1), b = Connect(2);
  EXPECT_EQ(Count<protocol::HaveNone>(a->remote->all_read()), 1);
  EXPECT_EQ(a->shown.size(), 2u);
  EXPECT_EQ(b->shown.size(), 2u);
  std::set<uint32_t> distinct(a->shown.begin(), a->shown.end());
  distinct.insert(b->shown.begin(), b->shown.end());
  EXPECT_EQ(distinct.size(), 4u);
  // A super-seed does not say it only uploads (BEP 21), as libtorrent.
  ASSERT_TRUE(a->remote->ours().has_value());
  EXPECT_NE(a->remote->ours()->upload_only, true);
  EXPECT_FALSE(torrent_->upload_only());
}

TEST_F(SuperSeedTest, OnlyShownPiecesAreServedAndAnnouncingOneShowsAnother) {
  std::unique_ptr<Peer> a = Connect(1);
  ASSERT_TRUE(a->unchoked);
  uint32_t hidden = 0;
  while (std::count(a->shown.begin(), a->shown.end(), hidden)) ++hidden;
  EXPECT_EQ(Fetch(*a, hidden), 0);
  EXPECT_EQ(Count<protocol::Reject>(a->remote->all_read()), 2);

  const uint32_t first = a->shown[0];
  EXPECT_EQ(Fetch(*a, first), 2);
  EXPECT_EQ(a->shown.size(), 2u);  // nothing new until it announces
  a->have.Set(first);
  a->remote->Send(protocol::Have{first});
  Read(*a);
  ASSERT_EQ(a->shown.size(), 3u);
  EXPECT_NE(a->shown[2], first);
  EXPECT_FALSE(a->remote->closed());
}

TEST_F(SuperSeedTest, ASwarmCompletesWithEachPieceUploadedOnce) {
  std::unique_ptr<Peer> a = Connect(1), b = Connect(2), c = Connect(3);
  const int blocks = RunSwarm({a.get(), b.get(), c.get()});
  for (Peer* p : {a.get(), b.get(), c.get()}) {
    EXPECT_TRUE(p->have.All());
    // Complete, it is a seed too: the connection ends.
    EXPECT_TRUE(p->remote->closed());
  }
  EXPECT_EQ(blocks, static_cast<int>(2 * kPieces));
  EXPECT_EQ(torrent_->uploaded(), kPieces * kPiece);
}

TEST_F(SuperSeedTest, APeerThatNeverAnnouncesHoldsUpNoOne) {
  std::unique_ptr<Peer> silent = Connect(1);
  std::unique_ptr<Peer> a = Connect(2), b = Connect(3);
  // The silent peer takes what it was shown, asks for more, and never
  // says it has anything.
  for (uint32_t piece : std::vector<uint32_t>(silent->shown)) {
    EXPECT_EQ(Fetch(*silent, piece), 2);
  }
  for (uint32_t piece = 0; piece < kPieces; ++piece) {
    if (!std::count(silent->shown.begin(), silent->shown.end(), piece)) {
      EXPECT_EQ(Fetch(*silent, piece), 0);
    }
  }
  RunSwarm({a.get(), b.get()});
  EXPECT_TRUE(a->have.All());
  EXPECT_TRUE(b->have.All());
  Read(*silent);
  EXPECT_EQ(silent->shown.size(), 2u);
  EXPECT_EQ(torrent_->uploaded(), (kPieces + 2) * kPiece);
  EXPECT_FALSE(silent->remote->closed());
}

TEST_F(SuperSeedTest, TurningItOffShowsEverything) {
  std::unique_ptr<Peer> a = Connect(1);
  torrent_->SetSuperSeeding(false);
  EXPECT_FALSE(torrent_->super_seeding());
  sim_.RunPending();
  const std::vector<SentMessage> later = a->remote->Read();
  EXPECT_EQ(Count<protocol::HaveAll>(later), 1);
  ASSERT_TRUE(a->remote->ours().has_value());
  EXPECT_EQ(a->remote->ours()->upload_only, true);
  uint32_t hidden = 0;
  while (std::count(a->shown.begin(), a->shown.end(), hidden)) ++hidden;
  a->remote->Send(protocol::Request{hidden, 0, kBlock});
  EXPECT_EQ(Count<protocol::Piece>(a->remote->Read()), 1);
  // A new peer sees the whole have-set.
  RemotePeer b = RemotePeer::ConnectIn(sim_, *torrent_, Addr(10, 0, 0, 2),
                                       /*extensions=*/true, PeerIdOf(2));
  EXPECT_EQ(Count<protocol::HaveAll>(b.Read()), 1);
}

TEST(SuperSeedOffTest, AnIncompleteTorrentDoesNotSuperSeed) {
  SimClient sim;
  const TestTorrent t = MakeSingleFile(4 * kPiece, kPiece);
  TorrentParams params = t.Params();
  params.super_seeding = true;
  Torrent& torrent = **sim.AddTorrent(params);
  EXPECT_FALSE(torrent.super_seeding());
  RemotePeer seed = RemotePeer::ConnectIn(sim, torrent, Addr(10, 0, 0, 1));
  seed.Send(protocol::HaveAll{});
  seed.Send(protocol::Unchoke{});
  seed.ServeUntilQuiet(t);
  ASSERT_TRUE(torrent.complete());
  // Complete now: it super-seeds to peers that come from now on.
  EXPECT_TRUE(torrent.super_seeding());
  RemotePeer b = RemotePeer::ConnectIn(sim, torrent, Addr(10, 0, 0, 2),
                                       /*extensions=*/true, PeerIdOf(2));
  const std::vector<SentMessage> messages = b.Read();
  EXPECT_EQ(Count<protocol::HaveNone>(messages), 1);
  EXPECT_EQ(Count<protocol::Have>(messages), 2);
}

}  // namespace
}  // namespace bt::client::testing
