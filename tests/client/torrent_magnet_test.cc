// Torrent on a SimClient, started from a magnet link: connections that
// outlive the metadata fetch, resume data found once the metadata arrives,
// peers that unchoke us before it, and peers that lie about the metadata.
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "client/torrent.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "metainfo/magnet.h"
#include "protocol/message.h"
#include "protocol/ut_metadata.h"
#include "tests/client/testing/remote_peer.h"
#include "tests/client/testing/sim_client.h"

namespace bt::client::testing {
namespace {

// MagnetParams: the magnet link of `t`, saved under "/dl", dialling `peers`.
TorrentParams MagnetParams(const TestTorrent& t,
                           std::vector<Endpoint> peers = {}) {
  TorrentParams p;
  p.magnet = t.Magnet();
  p.save_path = "/dl";
  p.peers = std::move(peers);
  return p;
}

// OutgoingTo finds the transport our client dialled to `to`.
SimPeer* OutgoingTo(SimClient& sim, const Endpoint& to) {
  for (SimPeer* p : sim.outgoing()) {
    if (p->remote() == to) return p;
  }
  return nullptr;
}

// FeedMetadata has `peer` answer our metadata requests honestly until the
// torrent has its metadata (or nothing more is asked).
void FeedMetadata(RemotePeer& peer, const TestTorrent& t, Torrent& torrent) {
  for (int i = 0; i < 100 && !torrent.has_metadata() && !peer.closed(); ++i) {
    if (peer.ServeMetadata(peer.Read(), t.info->info_bytes()) == 0) break;
  }
}

// --- defect 1: a connection still handshaking when the metadata arrives
// ---------

class LateHandshakeTest : public ::testing::TestWithParam<bool> {};

TEST_P(LateHandshakeTest, HavePastTheEndClosesTheConnectionCleanly) {
  const bool transport_connected = GetParam();
  SimClient sim;
  const TestTorrent t = MakeSingleFile(8 * 32 * 1024);
  const Endpoint giver = Addr(10, 0, 0, 1), late = Addr(10, 0, 0, 2);
  absl::StatusOr<Torrent*> added =
      sim.AddTorrent(MagnetParams(t, {giver, late}));
  ASSERT_TRUE(added.ok()) << added.status();
  Torrent& torrent = **added;
  ASSERT_FALSE(torrent.has_metadata());
  ASSERT_NE(OutgoingTo(sim, giver), nullptr);
  ASSERT_NE(OutgoingTo(sim, late), nullptr);

  // The late peer's connect completes (our handshake goes out) or not yet.
  RemotePeer slow(sim, OutgoingTo(sim, late), torrent.info_hash(), PeerIdOf(2));
  if (transport_connected) {
    slow.transport()->CompleteConnect();
    sim.RunPending();
    ASSERT_EQ(slow.Read().size(), 1u);  // our handshake only
  }

  // Another peer supplies the metadata.
  RemotePeer giver_peer(sim, OutgoingTo(sim, giver), torrent.info_hash());
  giver_peer.extensions.metadata_size = t.info->info_bytes().size();
  giver_peer.Accept();
  FeedMetadata(giver_peer, t, torrent);
  ASSERT_TRUE(torrent.has_metadata());
  ASSERT_EQ(torrent.info().num_pieces(), 8u);

  // Now the late peer completes its handshake and claims a piece past the
  // end.
  if (!transport_connected) {
    slow.transport()->CompleteConnect();
    sim.RunPending();
  }
  slow.SendHandshake();
  slow.SendExtensionHandshake();
  slow.Read();
  ASSERT_FALSE(slow.closed());
  slow.Send(protocol::Have{8 + 1000});
  EXPECT_TRUE(slow.closed());
  // Nothing else suffered.
  EXPECT_FALSE(giver_peer.closed());
  EXPECT_EQ(torrent.state(), TorrentState::kDownloading);
  sim.Advance(absl::Seconds(2));
  EXPECT_EQ(torrent.peers().size(), 1u);
}

TEST_P(LateHandshakeTest, HaveOfTheFirstPieceOutsideClosesToo) {
  const bool transport_connected = GetParam();
  SimClient sim;
  const TestTorrent t = MakeSingleFile(8 * 32 * 1024);
  const Endpoint giver = Addr(10, 0, 0, 1), late = Addr(10, 0, 0, 2);
  Torrent& torrent = **sim.AddTorrent(MagnetParams(t, {giver, late}));
  RemotePeer slow(sim, OutgoingTo(sim, late), torrent.info_hash(), PeerIdOf(2));
  if (transport_connected) {
    slow.transport()->CompleteConnect();
    sim.RunPending();
  }
  RemotePeer giver_peer(sim, OutgoingTo(sim, giver), torrent.info_hash());
  giver_peer.extensions.metadata_size = t.info->info_bytes().size();
  giver_peer.Accept();
  FeedMetadata(giver_peer, t, torrent);
  ASSERT_TRUE(torrent.has_metadata());
  if (!transport_connected) slow.transport()->CompleteConnect();
  // Handshake and the have in one delivery.
  protocol::Handshake hs;
  hs.reserved = slow.reserved;
  hs.info_hash = torrent.info_hash();
  hs.peer_id = PeerIdOf(2);
  std::string bytes;
  protocol::AppendHandshake(hs, &bytes);
  protocol::AppendHave(8, &bytes);
  slow.SendBytes(bytes);
  EXPECT_TRUE(slow.closed());
  EXPECT_FALSE(giver_peer.closed());
}

INSTANTIATE_TEST_SUITE_P(ConnectingOrHandshaking, LateHandshakeTest,
                         ::testing::Bool());

// --- defect 2: resume data found once the metadata arrives
// ----------------------

// ResumedMagnet: a first run downloads pieces 0-3 of 8 (and saves resume
// data on Stop); a second client on the same disk starts the magnet link
// with that resume file.
class ResumedMagnetTest : public ::testing::Test {
 protected:
  static constexpr char kResume[] = "/state/t.resume";

  void SetUp() override {
    TorrentParams p = t_.Params();
    p.resume_path = kResume;
    absl::StatusOr<Torrent*> first = first_run_.AddTorrent(p);
    ASSERT_TRUE(first.ok()) << first.status();
    RemotePeer half =
        RemotePeer::ConnectIn(first_run_, **first, Addr(10, 9, 9, 9));
    half.Send(protocol::Bitfield{std::string(1, '\xf0')});
    half.Send(protocol::Unchoke{});
    half.ServeUntilQuiet(t_);
    ASSERT_EQ((*first)->pieces_have(), 4u);
    ASSERT_TRUE((*first)->Stop().ok());
    ASSERT_TRUE(first_run_.disk_backend().Exists(kResume));
  }

  ClientOptions SharedDisk() {
    ClientOptions o = SimClient::DefaultOptions();
    o.file_backend = &first_run_.disk_backend();
    return o;
  }

  const TestTorrent t_ = MakeSingleFile(8 * 32 * 1024);
  SimClient first_run_;
};

TEST_F(ResumedMagnetTest, LoadsTheResumeDataAndAppliesWhatPeersSaidBefore) {
  SimClient sim(SharedDisk());
  int hash_events = 0;
  sim.on_event = [&](const Event& e) {
    hash_events += e.type == EventType::kPieceHashPass ||
                   e.type == EventType::kPieceHashFail;
  };
  TorrentParams p = MagnetParams(t_);
  p.resume_path = kResume;
  absl::StatusOr<Torrent*> added = sim.AddTorrent(p);
  ASSERT_TRUE(added.ok()) << added.status();
  Torrent& torrent = **added;

  // Before the metadata: a seed (that unchokes us at once) and a peer with
  // only the pieces we have on disk tell what they have.
  RemotePeer seed =
      RemotePeer::ConnectIn(sim, torrent, Addr(10, 0, 0, 1), true, PeerIdOf(1));
  seed.extensions.metadata_size = t_.info->info_bytes().size();
  seed.SendExtensionHandshake();
  seed.Send(protocol::HaveAll{});
  seed.Send(protocol::Unchoke{});
  RemotePeer half =
      RemotePeer::ConnectIn(sim, torrent, Addr(10, 0, 0, 2), true, PeerIdOf(2));
  half.Send(protocol::Bitfield{std::string(1, '\xf0')});
  half.Read();
  ASSERT_FALSE(torrent.has_metadata());

  FeedMetadata(seed, t_, torrent);
  ASSERT_TRUE(torrent.has_metadata());
  // The resume data was trusted: no piece was checked, none is fetched
  // again.
  EXPECT_EQ(torrent.pieces_have(), 4u);
  EXPECT_EQ(hash_events, 0);
  EXPECT_FALSE(seed.closed());
  EXPECT_FALSE(half.closed());
  // Interest follows what each peer has that we lack.
  std::vector<SentMessage> to_half = half.Read();
  EXPECT_EQ(Count<protocol::Interested>(to_half), 0);
  EXPECT_EQ(Count<protocol::Request>(to_half), 0);
  std::vector<PeerInfo> peers = torrent.peers();
  ASSERT_EQ(peers.size(), 2u);
  for (const PeerInfo& info : peers) {
    EXPECT_EQ(info.am_interested, info.address == Addr(10, 0, 0, 1))
        << info.address.ToString();
    EXPECT_EQ(info.pieces, info.address == Addr(10, 0, 0, 1) ? 8u : 4u);
  }

  // The download then completes from the seed, asking only for what is
  // missing.
  seed.ServeUntilQuiet(t_);
  EXPECT_TRUE(torrent.complete());
  for (const SentMessage& m : seed.all_read()) {
    if (const auto* r = m.As<protocol::Request>()) {
      EXPECT_GE(r->piece, 4u) << "asked again for piece " << r->piece;
    }
  }
  EXPECT_EQ(Count<protocol::Interested>(seed.all_read()), 1);
  EXPECT_EQ(first_run_.disk_backend().Contents("/dl/single.bin"), t_.content);
}

// --- a peer that unchoked us before the metadata arrived
// -----------------------

// A seed may unchoke us while the metadata is still being fetched: once it
// is adopted, that seed is asked for blocks at once, not at the next tick.
TEST(MagnetUnchokedEarlyTest, BlocksAreRequestedAsSoonAsTheMetadataArrives) {
  SimClient sim;
  const TestTorrent t = MakeSingleFile(8 * 32 * 1024);
  Torrent& torrent = **sim.AddTorrent(MagnetParams(t));
  RemotePeer seed = RemotePeer::ConnectIn(sim, torrent, Addr(10, 0, 0, 1));
  seed.extensions.metadata_size = t.info->info_bytes().size();
  seed.SendExtensionHandshake();
  seed.Send(protocol::HaveAll{});
  seed.Send(protocol::Unchoke{});
  FeedMetadata(seed, t, torrent);
  ASSERT_TRUE(torrent.has_metadata());

  // No time has passed (no tick ran): the requests are out already.
  const std::vector<SentMessage> sent = seed.Read();
  EXPECT_EQ(Count<protocol::Interested>(sent), 1);
  EXPECT_GT(Count<protocol::Request>(sent), 0);
  seed.Serve(sent, t);
  seed.ServeUntilQuiet(t);
  EXPECT_TRUE(torrent.complete());
}

// --- BEP 53: select-only
// --------------------------------------------------------

// A magnet link's `so=` selection skips the other files once the metadata
// is known: only the selected file's pieces are requested and written.
TEST(MagnetSelectOnlyTest, FilesOutsideTheSelectionAreSkipped) {
  SimClient sim;
  constexpr int64_t kPiece = 32 * 1024;
  const TestTorrent t = MakeTestTorrent({
      metainfo::testing::MemFile{
          {"a.bin"}, metainfo::testing::Pattern(2 * kPiece, 1), ""},
      metainfo::testing::MemFile{
          {"b.bin"}, metainfo::testing::Pattern(2 * kPiece, 2), ""},
      metainfo::testing::MemFile{
          {"c.bin"}, metainfo::testing::Pattern(2 * kPiece, 3), ""},
  });
  absl::StatusOr<metainfo::MagnetLink> link = metainfo::ParseMagnet(t.Magnet());
  ASSERT_TRUE(link.ok()) << link.status();
  link->select_only = {{1, 1}};
  TorrentParams params = MagnetParams(t);
  params.magnet = metainfo::BuildMagnet(*link);
  ASSERT_NE(params.magnet.find("so=1"), std::string::npos) << params.magnet;

  Torrent& torrent = **sim.AddTorrent(params);
  RemotePeer seed = RemotePeer::ConnectIn(sim, torrent, Addr(10, 0, 0, 1));
  seed.extensions.metadata_size = t.info->info_bytes().size();
  seed.SendExtensionHandshake();
  seed.Send(protocol::HaveAll{});
  seed.Send(protocol::Unchoke{});
  FeedMetadata(seed, t, torrent);
  ASSERT_TRUE(torrent.has_metadata());
  EXPECT_EQ(torrent.file_priority(0), 0);
  EXPECT_GT(torrent.file_priority(1), 0);
  EXPECT_EQ(torrent.file_priority(2), 0);
  seed.ServeUntilQuiet(t);

  EXPECT_TRUE(torrent.complete());
  EXPECT_EQ(torrent.bytes_wanted(), 2 * kPiece);
  for (const SentMessage& m : seed.all_read()) {
    if (const auto* r = m.As<protocol::Request>()) {
      EXPECT_TRUE(r->piece == 2 || r->piece == 3) << r->piece;
    }
  }
  EXPECT_EQ(sim.disk_backend().Contents("/dl/t/b.bin"),
            metainfo::testing::Pattern(2 * kPiece, 2));
  EXPECT_FALSE(sim.disk_backend().Exists("/dl/t/a.bin"));
  EXPECT_FALSE(sim.disk_backend().Exists("/dl/t/c.bin"));
}

// --- defect 6: metadata poisoning
// ----------------------------------------------

// A liar offering a wrong metadata_size first, another sending bad pieces of
// the right size, and an honest peer.
TEST(MetadataPoisoningTest,
     TheTorrentGetsTheRightMetadataAndTheHonestPeerStays) {
  SimClient sim;
  // Three metadata pieces (the synthetic hashes need no data).
  TestTorrent t;
  t.info = session_testing::MakeSyntheticInfo(2500);
  const std::string& info = t.info->info_bytes();
  ASSERT_GT(info.size(), 2u * protocol::kMetadataPieceSize);
  TorrentParams p = MagnetParams(t);
  Torrent& torrent = **sim.AddTorrent(p);
  bool honest_banned = false;

  const Endpoint liar_addr = Addr(10, 0, 0, 1), bad_addr = Addr(10, 0, 0, 2),
                 honest_addr = Addr(10, 0, 0, 3);
  const uint64_t wrong_size = info.size() + 5000;
  const std::string wrong_info(wrong_size, 'x');
  std::string garbage = info;
  for (char& c : garbage) c ^= 0x5a;

  RemotePeer liar =
      RemotePeer::ConnectIn(sim, torrent, liar_addr, false, PeerIdOf(1));
  liar.extensions.metadata_size = wrong_size;
  liar.SendExtensionHandshake();
  // The liar supplies its made-up metadata of its made-up size.
  for (int i = 0; i < 10 && !liar.closed(); ++i) {
    if (liar.ServeMetadata(liar.Read(), wrong_info) == 0) break;
  }
  RemotePeer bad =
      RemotePeer::ConnectIn(sim, torrent, bad_addr, false, PeerIdOf(2));
  bad.extensions.metadata_size = info.size();
  bad.SendExtensionHandshake();
  RemotePeer honest =
      RemotePeer::ConnectIn(sim, torrent, honest_addr, false, PeerIdOf(3));
  honest.extensions.metadata_size = info.size();
  honest.SendExtensionHandshake();

  for (int round = 0; round < 60 && !torrent.has_metadata(); ++round) {
    if (!liar.closed()) liar.ServeMetadata(liar.Read(), wrong_info);
    if (!bad.closed()) bad.ServeMetadata(bad.Read(), garbage);
    if (!honest.closed()) honest.ServeMetadata(honest.Read(), info);
    honest_banned |= torrent.Banned(honest_addr);
    sim.Advance(absl::Seconds(1));
  }
  EXPECT_FALSE(honest_banned);
  EXPECT_FALSE(torrent.Banned(honest_addr));
  EXPECT_FALSE(honest.closed());
  ASSERT_TRUE(torrent.has_metadata());
  EXPECT_EQ(torrent.info().info_bytes(), info);
  // Each liar was caught alone.
  EXPECT_TRUE(torrent.Banned(liar_addr));
  EXPECT_TRUE(liar.closed());
  EXPECT_TRUE(torrent.Banned(bad_addr));
  EXPECT_TRUE(bad.closed());
}

}  // namespace
}  // namespace bt::client::testing
