// Torrent on a SimClient: a whole download from a scripted seeder (the
// baseline other Torrent tests and the fuzzer build on), empty files, bans
// by IP address, connection limits, the peers kept as candidates and in
// resume data, hash checks of a running torrent, and how often idle
// torrents tick.
#include "client/torrent.h"

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "protocol/message.h"
#include "protocol/ut_pex.h"
#include "storage/resume_data.h"
#include "tests/client/testing/remote_peer.h"
#include "tests/client/testing/sim_client.h"

namespace bt::client::testing {
namespace {

using metainfo::testing::MemFile;
using metainfo::testing::Pattern;

// --- the baseline: a whole download
// -------------------------------------------

TEST(TorrentTest, DownloadsEverythingFromAScriptedSeeder) {
  SimClient sim;
  int passed = 0, failed = 0;
  sim.on_event = [&](const Event& e) {
    passed += e.type == EventType::kPieceHashPass;
    failed += e.type == EventType::kPieceHashFail;
  };
  const TestTorrent t = MakeSingleFile(10 * 32 * 1024 + 5000);
  absl::StatusOr<Torrent*> added = sim.AddTorrent(t.Params());
  ASSERT_TRUE(added.ok()) << added.status();
  Torrent& torrent = **added;
  ASSERT_EQ(torrent.state(), TorrentState::kDownloading);
  passed = failed = 0;  // the initial check found nothing on disk

  RemotePeer seed = RemotePeer::ConnectIn(sim, torrent, Addr(10, 0, 0, 1));
  seed.Send(protocol::HaveAll{});
  EXPECT_EQ(Count<protocol::Interested>(seed.Read()), 1);
  seed.Send(protocol::Unchoke{});
  const int served = seed.ServeUntilQuiet(t);

  EXPECT_TRUE(torrent.complete());
  EXPECT_EQ(torrent.state(), TorrentState::kSeeding);
  EXPECT_EQ(torrent.pieces_have(), t.info->num_pieces());
  EXPECT_EQ(served, 10 * 2 + 1);  // every block once (the last piece: 1)
  EXPECT_EQ(passed, static_cast<int>(t.info->num_pieces()));
  EXPECT_EQ(failed, 0);
  EXPECT_EQ(torrent.downloaded(), static_cast<int64_t>(t.content.size()));
  EXPECT_EQ(sim.disk_backend().Contents("/dl/single.bin"), t.content);
  EXPECT_EQ(sim.disk().queued_bytes(), 0u);
  // Both sides are seeds now: the connection is closed.
  EXPECT_TRUE(seed.closed());
}

// BEP 11 flags say how the sender reached each peer: one it reached over
// uTP, or whose flags are unknown, is dialled over uTP first; one it
// reached over TCP is dialled over TCP first.
TEST(TorrentTest, PexUtpFlagsDecideWhichTransportIsTriedFirst) {
  SimClient sim;
  const TestTorrent t = MakeSingleFile(4 * 32 * 1024);
  Torrent& torrent = **sim.AddTorrent(t.Params());
  RemotePeer peer = RemotePeer::ConnectIn(sim, torrent, Addr(10, 0, 0, 1));
  peer.Read();  // our handshakes, with our ut_pex id
  ASSERT_TRUE(peer.ours().has_value());
  const Endpoint over_utp = Addr(10, 0, 0, 2), over_tcp = Addr(10, 0, 0, 3),
                 seed_tcp = Addr(10, 0, 0, 4), unknown = Addr(10, 0, 0, 5);
  protocol::PexMessage pex;
  pex.added = {over_utp, over_tcp, seed_tcp};
  pex.added_flags = {protocol::kPexUtp, 0, protocol::kPexSeed};
  std::string payload;
  protocol::AppendPexMessage(pex, &payload);
  peer.Send(protocol::Extended{peer.ours()->IdOf("ut_pex"), payload});
  torrent.AddPeer(unknown);

  std::map<Endpoint, bool> utp_first;
  for (SimPeer* p : sim.outgoing()) utp_first[p->remote()] = p->utp_first();
  EXPECT_THAT(utp_first, ::testing::UnorderedElementsAre(
                             ::testing::Pair(over_utp, true),
                             ::testing::Pair(over_tcp, false),
                             ::testing::Pair(seed_tcp, false),
                             ::testing::Pair(unknown, true)));
}

// Corrupt is `t` with every byte of its content flipped (what a liar
// serves).
TestTorrent Corrupt(const TestTorrent& t) {
  TestTorrent bad = t;
  for (char& c : bad.content) c ^= 0x33;
  return bad;
}

// --- defect 7: bans by IP address, and the per-torrent connection limit
// -------

TEST(TorrentBanTest, ABannedAddressIsRefusedAtTheHandshakeWhateverItsPortOrId) {
  SimClient sim;
  int connects_from_liar = 0;
  sim.on_event = [&](const Event& e) {
    if (e.type == EventType::kPeerConnect &&
        e.peer.address.ToString().rfind("10.0.0.5:", 0) == 0) {
      ++connects_from_liar;
    }
  };
  const TestTorrent t = MakeSingleFile(4 * 32 * 1024);
  Torrent& torrent = **sim.AddTorrent(t.Params());
  RemotePeer liar = RemotePeer::ConnectIn(
      sim, torrent, Addr(10, 0, 0, 5, 40000), true, PeerIdOf(5));
  liar.Send(protocol::HaveAll{});
  liar.Send(protocol::Unchoke{});
  liar.ServeUntilQuiet(Corrupt(t));
  EXPECT_TRUE(torrent.Banned(Addr(10, 0, 0, 5, 1)));
  EXPECT_TRUE(liar.closed());
  EXPECT_EQ(torrent.pieces_have(), 0u);
  EXPECT_EQ(connects_from_liar, 1);

  // Back from another port with another peer id: refused once it names
  // the torrent.
  RemotePeer again = RemotePeer::ConnectIn(
      sim, torrent, Addr(10, 0, 0, 5, 40001), true, PeerIdOf(55));
  EXPECT_TRUE(again.closed());
  EXPECT_EQ(connects_from_liar, 1);
  sim.RunPending();
  EXPECT_TRUE(torrent.peers().empty());
  // Nor is it dialled.
  const size_t dialled = sim.outgoing().size();
  torrent.AddPeer(Addr(10, 0, 0, 5, 6000));
  EXPECT_EQ(sim.outgoing().size(), dialled);

  // Another address is welcome.
  RemotePeer honest = RemotePeer::ConnectIn(
      sim, torrent, Addr(10, 0, 0, 6, 40000), true, PeerIdOf(6));
  EXPECT_FALSE(honest.closed());
  honest.Send(protocol::HaveAll{});
  honest.Send(protocol::Unchoke{});
  honest.ServeUntilQuiet(t);
  EXPECT_TRUE(torrent.complete());
  EXPECT_FALSE(torrent.Banned(Addr(10, 0, 0, 6, 40000)));
}

TEST(TorrentBanTest, IncomingConnectionsAreBoundedPerTorrent) {
  ClientOptions o = SimClient::DefaultOptions();
  o.max_connections_per_torrent = 3;
  SimClient sim(o);
  const TestTorrent t = MakeSingleFile(4 * 32 * 1024);
  Torrent& torrent = **sim.AddTorrent(t.Params());
  std::vector<RemotePeer> peers;
  for (uint8_t i = 1; i <= 5; ++i) {
    peers.push_back(RemotePeer::ConnectIn(sim, torrent, Addr(10, 0, 1, i), true,
                                          PeerIdOf(i)));
  }
  sim.RunPending();
  int open = 0;
  for (const RemotePeer& p : peers) open += !p.closed();
  EXPECT_EQ(open, 3);
  EXPECT_EQ(torrent.peers().size(), 3u);
  EXPECT_LE(torrent.connection_count(), 3u);
  // A slot freed is a slot for the next one.
  for (RemotePeer& p : peers) {
    if (!p.closed()) {
      p.transport()->DeliverEof();
      sim.RunPending();
      break;
    }
  }
  RemotePeer late =
      RemotePeer::ConnectIn(sim, torrent, Addr(10, 0, 1, 9), true, PeerIdOf(9));
  EXPECT_FALSE(late.closed());
  EXPECT_EQ(torrent.peers().size(), 3u);
}

// --- defect 9: candidates and the peers saved in resume data
// ------------------

TEST(TorrentPeersTest, ManyTrackerPeersAreBoundedAndResumeKeepsAFew) {
  constexpr char kResume[] = "/state/t.resume";
  const TestTorrent t = MakeSingleFile(4 * 32 * 1024);
  SimClient first;
  first.disk_backend().SetContents("/dl/single.bin", t.content);
  TorrentParams p = t.Params();
  p.resume_path = kResume;
  Torrent& torrent = **first.AddTorrent(p);
  ASSERT_EQ(torrent.state(), TorrentState::kSeeding);
  for (int i = 0; i < 10000; ++i) {
    torrent.AddPeer(Endpoint::V4(
        {11, static_cast<uint8_t>(i >> 8), static_cast<uint8_t>(i), 1}, 6881));
  }
  EXPECT_LE(torrent.known_peers(), Torrent::kMaxCandidates);
  EXPECT_GE(torrent.known_peers(), Torrent::kMaxCandidates / 2);
  ASSERT_TRUE(torrent.SaveResumeData().ok());
  std::optional<std::string> bytes = first.disk_backend().Contents(kResume);
  ASSERT_TRUE(bytes.has_value());
  absl::StatusOr<storage::ResumeData> rd = storage::DecodeResumeData(*bytes);
  ASSERT_TRUE(rd.ok()) << rd.status();
  EXPECT_LE(rd->peers.size(), 200u);
  EXPECT_GT(rd->peers.size(), 0u);

  // Reloaded: trusted without a check, its peers known again.
  ClientOptions o = SimClient::DefaultOptions();
  o.file_backend = &first.disk_backend();
  SimClient second(o);
  int hash_events = 0;
  second.on_event = [&](const Event& e) {
    hash_events += e.type == EventType::kPieceHashPass ||
                   e.type == EventType::kPieceHashFail;
  };
  Torrent& again = **second.AddTorrent(p);
  EXPECT_EQ(hash_events, 0);
  EXPECT_EQ(again.state(), TorrentState::kSeeding);
  EXPECT_EQ(again.pieces_have(), t.info->num_pieces());
  EXPECT_EQ(again.known_peers(), rd->peers.size());
}

// An unchanged torrent does not rewrite its resume file (a daemon stopping
// thousands of idle torrents would sync every one); a change, or a file
// gone, does.
TEST(TorrentResumeTest, ResumeDataIsRewrittenOnlyWhenItChanges) {
  constexpr char kResume[] = "/state/t.resume";
  constexpr char kMarker[] = "not rewritten";
  const TestTorrent t = MakeSingleFile(4 * 32 * 1024);
  SimClient first;
  first.disk_backend().SetContents("/dl/single.bin", t.content);
  TorrentParams p = t.Params();
  p.resume_path = kResume;
  Torrent& torrent = **first.AddTorrent(p);
  ASSERT_TRUE(torrent.SaveResumeData().ok());
  first.disk_backend().SetContents(kResume, kMarker);
  ASSERT_TRUE(torrent.SaveResumeData().ok());
  EXPECT_EQ(first.disk_backend().Contents(kResume), kMarker);

  torrent.AddPeer(Endpoint::V4({11, 0, 0, 1}, 6881));
  ASSERT_TRUE(torrent.SaveResumeData().ok());
  absl::StatusOr<storage::ResumeData> rd =
      storage::DecodeResumeData(*first.disk_backend().Contents(kResume));
  ASSERT_TRUE(rd.ok()) << rd.status();
  EXPECT_EQ(rd->peers.size(), 1u);

  ASSERT_TRUE(first.disk_backend().Remove(kResume).ok());
  ASSERT_TRUE(torrent.SaveResumeData().ok());
  EXPECT_TRUE(first.disk_backend().Contents(kResume).has_value());
  // Another path is always written.
  ASSERT_TRUE(torrent.SaveResumeData("/state/copy.resume").ok());
  EXPECT_TRUE(first.disk_backend().Contents("/state/copy.resume").has_value());

  // Loaded by a second client and saved unchanged: left as it is.
  ClientOptions o = SimClient::DefaultOptions();
  o.file_backend = &first.disk_backend();
  SimClient second(o);
  Torrent& again = **second.AddTorrent(p);
  first.disk_backend().SetContents(kResume, kMarker);
  ASSERT_TRUE(again.SaveResumeData().ok());
  EXPECT_EQ(first.disk_backend().Contents(kResume), kMarker);
}

// --- defect 12: empty files
// ---------------------------------------------------

TEST(TorrentFilesTest, EmptyFilesAreCreatedOnCompletionUnlessSkipped) {
  SimClient sim;
  const TestTorrent t = MakeTestTorrent({
      MemFile{{"a.bin"}, Pattern(40000, 1), ""},
      MemFile{{"empty_top"}, "", ""},
      MemFile{{"sub", "empty_inner"}, "", ""},
      MemFile{{"sub", "b.bin"}, Pattern(30000, 2), ""},
      MemFile{{"skipped_empty"}, "", ""},
  });
  ASSERT_EQ(t.info->files().size(), 5u);
  ASSERT_EQ(t.info->files()[4].size, 0);
  Torrent& torrent = **sim.AddTorrent(t.Params());
  ASSERT_TRUE(torrent.SetFilePriority(4, 0).ok());
  RemotePeer seed = RemotePeer::ConnectIn(sim, torrent, Addr(10, 0, 0, 1));
  seed.Send(protocol::HaveAll{});
  seed.Send(protocol::Unchoke{});
  seed.ServeUntilQuiet(t);
  ASSERT_TRUE(torrent.complete());
  EXPECT_EQ(torrent.state(), TorrentState::kSeeding);
  const storage::MemoryFileBackend& disk = sim.disk_backend();
  EXPECT_EQ(disk.Contents("/dl/t/a.bin"), Pattern(40000, 1));
  EXPECT_EQ(disk.Contents("/dl/t/sub/b.bin"), Pattern(30000, 2));
  EXPECT_EQ(disk.Contents("/dl/t/empty_top"), "");
  EXPECT_EQ(disk.Contents("/dl/t/sub/empty_inner"), "");
  EXPECT_FALSE(disk.Exists("/dl/t/skipped_empty"));
}

TEST(TorrentFilesTest, ATorrentCompleteAtStartCreatesItsEmptyFiles) {
  SimClient sim;
  const TestTorrent t = MakeTestTorrent({
      MemFile{{"a.bin"}, Pattern(100, 1), ""},
      MemFile{{"e1"}, "", ""},
  });
  sim.disk_backend().SetContents("/dl/t/a.bin", Pattern(100, 1));
  Torrent& torrent = **sim.AddTorrent(t.Params());
  EXPECT_EQ(torrent.state(), TorrentState::kSeeding);
  EXPECT_EQ(sim.disk_backend().Contents("/dl/t/e1"), "");
}

// --- hash checks of a running torrent, and what resume data says of them
// ----

// Pieces wholly and rightly on disk, as `t`'s content, per piece.
std::vector<bool> IntactPieces(SimClient& sim, const TestTorrent& t,
                               const std::string& path) {
  const std::string disk = sim.disk_backend().Contents(path).value_or("");
  const size_t length = static_cast<size_t>(t.info->piece_length());
  std::vector<bool> out(t.info->num_pieces());
  for (size_t i = 0; i < out.size(); ++i) {
    out[i] =
        disk.size() > i * length &&
        disk.substr(i * length, length) == t.content.substr(i * length, length);
  }
  return out;
}

// FirstRequest is the first request among `messages`, or null.
const protocol::Request* FirstRequest(
    const std::vector<SentMessage>& messages) {
  for (const SentMessage& m : messages) {
    if (const auto* r = m.As<protocol::Request>()) return r;
  }
  return nullptr;
}

// A check vouches for what is on disk now; a block still on its way there
// lands afterwards, so its piece must not be trusted (else a bad block is
// written over a piece we announce and serve).
TEST(TorrentCheckTest, APieceWithABlockOnItsWayToDiskIsNotTrustedByACheck) {
  SimClient sim;
  const TestTorrent t = MakeSingleFile(4 * 32 * 1024);
  Torrent& torrent = **sim.AddTorrent(t.Params());
  RemotePeer seed = RemotePeer::ConnectIn(sim, torrent, Addr(10, 0, 0, 1));
  seed.Send(protocol::HaveAll{});
  seed.Send(protocol::Unchoke{});
  const std::vector<SentMessage> asked = seed.Read();
  const protocol::Request* first = FirstRequest(asked);
  ASSERT_NE(first, nullptr);
  const uint32_t piece = first->piece;

  // The content gets on disk another way (a copy put in place) while a bad
  // copy of one requested block arrives: its write is queued, not run.
  sim.disk_backend().SetContents("/dl/single.bin", t.content);
  std::string bytes;
  protocol::AppendMessage(
      protocol::Piece{piece, first->begin,
                      Corrupt(t).Block(piece, first->begin, first->length)},
      &bytes);
  seed.transport()->Deliver(bytes);
  ASSERT_TRUE(torrent.HashCheck().ok());
  EXPECT_FALSE(torrent.have().Get(piece));
  EXPECT_EQ(torrent.pieces_have(), t.info->num_pieces() - 1);
  EXPECT_EQ(torrent.state(), TorrentState::kDownloading);

  // The write lands; every piece the torrent has is still intact on disk.
  sim.RunPending();
  const std::vector<bool> intact = IntactPieces(sim, t, "/dl/single.bin");
  for (uint32_t i = 0; i < t.info->num_pieces(); ++i) {
    if (torrent.have().Get(i)) EXPECT_TRUE(intact[i]) << "piece " << i;
  }
  EXPECT_FALSE(intact[piece]);
  // The spoilt piece is fetched again.
  sim.Advance(absl::Seconds(1));
  seed.ServeUntilQuiet(t);
  EXPECT_TRUE(torrent.complete());
  EXPECT_EQ(sim.disk_backend().Contents("/dl/single.bin"), t.content);
}

// A hash check is not a resume: a paused torrent stays paused and an
// errored one keeps its error, each until Start.
TEST(TorrentCheckTest, ACheckLeavesAPausedOrErroredTorrentAsItWas) {
  SimClient sim;
  const TestTorrent t = MakeSingleFile(4 * 32 * 1024);
  Torrent& torrent = **sim.AddTorrent(t.Params());
  RemotePeer peer = RemotePeer::ConnectIn(sim, torrent, Addr(10, 0, 0, 1));
  peer.Send(protocol::HaveNone{});
  peer.Send(protocol::Unchoke{});
  peer.Read();

  // Paused: a piece the peer gets later is not asked for.
  ASSERT_TRUE(torrent.Pause().ok());
  ASSERT_TRUE(torrent.HashCheck().ok());
  EXPECT_EQ(torrent.state(), TorrentState::kPaused);
  peer.Send(protocol::Have{0});
  sim.Advance(absl::Seconds(2));
  std::vector<SentMessage> sent = peer.Read();
  EXPECT_EQ(Count<protocol::Interested>(sent), 0);
  EXPECT_EQ(Count<protocol::Request>(sent), 0);

  // Errored (a write failed): still so after a check.
  ASSERT_TRUE(torrent.Start().ok());
  sim.RunPending();
  sim.disk_backend().DenyWrites("/dl/single.bin", true);
  ASSERT_GT(peer.Serve(peer.Read(), t), 0);
  ASSERT_EQ(torrent.state(), TorrentState::kError);
  ASSERT_TRUE(torrent.HashCheck().ok());
  EXPECT_EQ(torrent.state(), TorrentState::kError);
  EXPECT_FALSE(torrent.error().ok());
  peer.Send(protocol::Have{1});
  sim.Advance(absl::Seconds(2));
  sent = peer.Read();
  EXPECT_EQ(Count<protocol::Interested>(sent), 0);
  EXPECT_EQ(Count<protocol::Request>(sent), 0);

  // Start resumes the download once the disk takes writes again.
  sim.disk_backend().DenyWrites("/dl/single.bin", false);
  ASSERT_TRUE(torrent.Start().ok());
  EXPECT_EQ(torrent.state(), TorrentState::kDownloading);
  sim.RunPending();
  peer.Send(protocol::Have{2});
  peer.Send(protocol::Have{3});
  peer.ServeUntilQuiet(t);
  EXPECT_TRUE(torrent.complete());
}

// Resume data saved after a piece's last block reached the disk but before
// its check ran lists it as partial with every block received; loaded, the
// piece is checked, or nothing would ever fetch or verify it again.
TEST(TorrentCheckTest, APieceSavedWhileItsCheckWasPendingIsCheckedOnLoad) {
  constexpr char kResume[] = "/state/t.resume";
  const TestTorrent t = MakeSingleFile(4 * 32 * 1024);
  TorrentParams p = t.Params();
  p.resume_path = kResume;
  SimClient first;
  int first_checks = 0;
  first.on_event = [&](const Event& e) {
    first_checks += e.type == EventType::kPieceHashPass ||
                    e.type == EventType::kPieceHashFail;
  };
  Torrent& torrent = **first.AddTorrent(p);
  first_checks = 0;
  RemotePeer seed = RemotePeer::ConnectIn(first, torrent, Addr(10, 0, 0, 1));
  seed.Send(protocol::HaveAll{});
  seed.Send(protocol::Unchoke{});
  // The blocks of the first piece asked for arrive; the disk work runs one
  // job at a time until that piece is whole on disk.
  const std::vector<SentMessage> asked = seed.Read();
  ASSERT_NE(FirstRequest(asked), nullptr);
  const uint32_t piece = FirstRequest(asked)->piece;
  std::vector<SentMessage> of_piece;
  for (const SentMessage& m : asked) {
    const auto* r = m.As<protocol::Request>();
    if (r && r->piece == piece) of_piece.push_back(m);
  }
  ASSERT_EQ(of_piece.size(), 2u);  // two blocks a piece
  std::string bytes;
  for (const SentMessage& m : of_piece) {
    const auto* r = m.As<protocol::Request>();
    protocol::AppendMessage(
        protocol::Piece{r->piece, r->begin,
                        t.Block(r->piece, r->begin, r->length)},
        &bytes);
  }
  seed.transport()->Deliver(bytes);
  while (!IntactPieces(first, t, "/dl/single.bin")[piece] &&
         first.RunPending(1) > 0) {
  }
  ASSERT_TRUE(IntactPieces(first, t, "/dl/single.bin")[piece]);
  ASSERT_EQ(first_checks, 0);  // its check is still queued
  ASSERT_TRUE(torrent.SaveResumeData().ok());
  absl::StatusOr<storage::ResumeData> rd =
      storage::DecodeResumeData(*first.disk_backend().Contents(kResume));
  ASSERT_TRUE(rd.ok()) << rd.status();
  ASSERT_FALSE(rd->have.Get(piece));
  ASSERT_EQ(rd->partial.size(), 1u);
  EXPECT_EQ(rd->partial[0].index, piece);
  EXPECT_EQ(rd->partial[0].blocks.Count(), 2u);
  // The lifetime totals travel with it.
  EXPECT_EQ(rd->total_downloaded, torrent.total_downloaded());
  EXPECT_GT(rd->total_downloaded, 0);

  // Loaded by a second client: the piece is checked, not fetched again.
  ClientOptions o = SimClient::DefaultOptions();
  o.file_backend = &first.disk_backend();
  SimClient second(o);
  std::vector<uint32_t> passed;
  second.on_event = [&](const Event& e) {
    if (e.type == EventType::kPieceHashPass) passed.push_back(e.index);
  };
  Torrent& again = **second.AddTorrent(p);
  EXPECT_THAT(passed, ::testing::ElementsAre(piece));
  EXPECT_TRUE(again.have().Get(piece));
  RemotePeer seed2 = RemotePeer::ConnectIn(second, again, Addr(10, 0, 0, 2));
  seed2.Send(protocol::HaveAll{});
  seed2.Send(protocol::Unchoke{});
  seed2.ServeUntilQuiet(t);
  EXPECT_TRUE(again.complete());
  for (const SentMessage& m : seed2.all_read()) {
    if (const auto* r = m.As<protocol::Request>()) EXPECT_NE(r->piece, piece);
  }
  EXPECT_EQ(again.total_downloaded(),
            rd->total_downloaded + again.downloaded());
  EXPECT_EQ(first.disk_backend().Contents("/dl/single.bin"), t.content);
}

// --- ticks: what a client holding many idle torrents spends on them
// ----------------------------------------------------------------------

TEST(TorrentTickTest, IdleTorrentsTickOnceAMinuteAndStoppedOnesNotAtAll) {
  SimClient sim;
  const TestTorrent t = MakeSingleFile(4 * 32 * 1024);
  t.PutOnDisk(sim.disk_backend());
  Torrent& torrent = **sim.AddTorrent(t.Params());
  ASSERT_EQ(torrent.state(), TorrentState::kSeeding);
  sim.Advance(absl::Seconds(1));

  // Seeding with no peer connected: once a minute.
  EXPECT_FALSE(torrent.WantsTick(sim.Now() + absl::Seconds(59)));
  EXPECT_TRUE(torrent.WantsTick(sim.Now() + Torrent::kIdleTickInterval));
  // A connected peer: every second.
  RemotePeer peer = RemotePeer::ConnectIn(sim, torrent, Addr(10, 0, 0, 1));
  ASSERT_EQ(torrent.connection_count(), 1u);
  EXPECT_TRUE(torrent.WantsTick(sim.Now() + absl::Seconds(1)));

  // Stopped, its connections closed and its rates shown as zero: never.
  ASSERT_TRUE(torrent.Stop().ok());
  sim.Advance(absl::Seconds(1));
  ASSERT_EQ(torrent.connection_count(), 0u);
  EXPECT_EQ(torrent.upload_rate(), 0);
  EXPECT_FALSE(torrent.WantsTick(sim.Now() + absl::Hours(24)));

  // Started again: at once (its first DHT announce), then once a minute.
  ASSERT_TRUE(torrent.Start().ok());
  EXPECT_TRUE(torrent.WantsTick(sim.Now()));
  torrent.Tick(sim.Now());
  EXPECT_FALSE(torrent.WantsTick(sim.Now() + absl::Seconds(59)));
}

// A seed of a 4-piece torrent with one upload slot and two peers that have
// nothing: `a` asks first and gets the slot, `b` asks next and waits.
class OneSlotSeedTest : public ::testing::Test {
 protected:
  static constexpr uint32_t kBlock = 16 * 1024;

  void Start(int64_t seed_turn_bytes) {
    ClientOptions options = SimClient::DefaultOptions();
    options.upload_slots = 1;
    options.seed_turn_bytes = seed_turn_bytes;
    sim_.emplace(options);
    const TestTorrent t = MakeSingleFile(4 * 32 * 1024);
    t.PutOnDisk(sim_->disk_backend());
    Torrent& torrent = **sim_->AddTorrent(t.Params());
    ASSERT_EQ(torrent.state(), TorrentState::kSeeding);
    a_.emplace(RemotePeer::ConnectIn(*sim_, torrent, Addr(10, 0, 0, 1),
                                     /*extensions=*/true, PeerIdOf(1)));
    b_.emplace(RemotePeer::ConnectIn(*sim_, torrent, Addr(10, 0, 0, 2),
                                     /*extensions=*/true, PeerIdOf(2)));
    for (RemotePeer* p : {&*a_, &*b_}) {
      p->Send(protocol::HaveNone{});
      p->Read();
    }
    a_->Send(protocol::Interested{});
    EXPECT_EQ(Count<protocol::Unchoke>(a_->Read()), 1);  // the free slot
    b_->Send(protocol::Interested{});
    EXPECT_EQ(Count<protocol::Unchoke>(b_->Read()), 0);  // none left
  }

  std::optional<SimClient> sim_;
  std::optional<RemotePeer> a_, b_;
};

// A slot an unchoked peer gives up goes to a waiting peer as soon as the
// event is handled, not at the next tick: a seeder whose peers finish in a
// fraction of a second would otherwise leave slots idle most of the time.
TEST_F(OneSlotSeedTest, AFreedUploadSlotIsGivenAtOnceWithoutATick) {
  Start(ClientOptions().seed_turn_bytes);
  RemotePeer& a = *a_;
  RemotePeer& b = *b_;
  // `a` loses interest: `b` gets the slot.
  a.Send(protocol::NotInterested{});
  EXPECT_EQ(Count<protocol::Unchoke>(b.Read()), 1);
  // `b` leaves while `a` wants data again: `a` gets it back.
  a.Send(protocol::Interested{});
  EXPECT_EQ(Count<protocol::Unchoke>(a.Read()), 0);
  b.transport()->DeliverEof();
  sim_->RunPending();
  EXPECT_EQ(Count<protocol::Unchoke>(a.Read()), 1);
}

// Seeding, a slot passes to the waiting peer as soon as its holder has been
// sent its turn's bytes, again without waiting for a tick; the two then
// take turns.
TEST_F(OneSlotSeedTest, SeedingSlotPassesOnWhenATurnIsUsedUp) {
  Start(2 * kBlock);
  RemotePeer& a = *a_;
  RemotePeer& b = *b_;
  // One block into its turn, `a` keeps the slot.
  a.Send(protocol::Request{0, 0, kBlock});
  sim_->RunPending();
  std::vector<SentMessage> got = a.Read();
  EXPECT_EQ(Count<protocol::Piece>(got), 1);
  EXPECT_EQ(Count<protocol::Choke>(got), 0);
  EXPECT_EQ(Count<protocol::Unchoke>(b.Read()), 0);
  // The second block ends the turn: `b` gets the slot.
  a.Send(protocol::Request{0, kBlock, kBlock});
  sim_->RunPending();
  got = a.Read();
  EXPECT_EQ(Count<protocol::Piece>(got), 1);
  EXPECT_EQ(Count<protocol::Choke>(got), 1);
  EXPECT_EQ(Count<protocol::Unchoke>(b.Read()), 1);
  // And after `b`'s turn, `a` has it back.
  b.Send(protocol::Request{1, 0, kBlock});
  b.Send(protocol::Request{1, kBlock, kBlock});
  sim_->RunPending();
  got = b.Read();
  EXPECT_EQ(Count<protocol::Piece>(got), 2);
  EXPECT_EQ(Count<protocol::Choke>(got), 1);
  EXPECT_EQ(Count<protocol::Unchoke>(a.Read()), 1);
}

}  // namespace
}  // namespace bt::client::testing
