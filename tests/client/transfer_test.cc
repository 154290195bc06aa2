// Two or three btkit clients in one process transfer a torrent over
// loopback: every encryption policy pair (and a pair that never connects),
// magnet links fetching the metadata (v1) and the piece layers (v2) before
// the data, and peer exchange introducing a third peer (never for a
// private torrent). What a seed serves is in transfer_serving_test.cc,
// what a client refuses in transfer_refusals_test.cc; their fixture is
// tests/client/testing/transfer_fixture.h.
#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_format.h"
#include "absl/time/time.h"
#include "client/client.h"
#include "gtest/gtest.h"
#include "metainfo/torrent_creator.h"
#include "metainfo/torrent_info.h"
#include "tests/client/testing/transfer_fixture.h"

namespace bt::client {
namespace {

using ::bt::testing::TransferTest;
using protocol::EncryptionPolicy;

struct PolicyPair {
  EncryptionPolicy seeder, leecher;
  bool encrypted;  // RC4 expected on the wire
};

class PolicyTest : public TransferTest,
                   public ::testing::WithParamInterface<PolicyPair> {};

TEST_P(PolicyTest, DownloadsVerifiedCopy) {
  auto seeder = NewClient(GetParam().seeder);
  auto leecher = NewClient(GetParam().leecher);
  Torrent* seed = Add(seeder.get(), "seed");
  ASSERT_TRUE(seed);
  EXPECT_EQ(seed->state(), TorrentState::kSeeding);
  Torrent* dl = Add(leecher.get(), "dl", {Local(*seeder)});
  ASSERT_TRUE(dl);

  int passed = 0, connects = 0;
  bool saw_encrypted = false;
  leecher->OnEvent(EventType::kPieceHashPass, [&](const Event& e) {
    EXPECT_EQ(e.info_hash, info_.WireInfoHash());
    ++passed;
    return true;
  });
  leecher->OnEvent(EventType::kPeerConnect, [&](const Event& e) {
    ++connects;
    EXPECT_FALSE(e.peer.peer_id.IsZero());
    for (const PeerInfo& p : dl->peers()) saw_encrypted |= p.encrypted;
    return true;
  });
  ASSERT_TRUE(RunUntil({seeder.get(), leecher.get()},
                       [&] { return dl->complete(); }));
  EXPECT_EQ(passed, static_cast<int>(info_.num_pieces()));
  EXPECT_EQ(connects, 1);
  EXPECT_EQ(saw_encrypted, GetParam().encrypted);
  EXPECT_EQ(dl->state(), TorrentState::kSeeding);
  EXPECT_EQ(seed->uploaded(), dl->downloaded());
  ExpectSameData("dl");
}

INSTANTIATE_TEST_SUITE_P(
    Policies, PolicyTest,
    ::testing::Values(
        PolicyPair{EncryptionPolicy::kDisabled, EncryptionPolicy::kDisabled, false},
        PolicyPair{EncryptionPolicy::kEnabled, EncryptionPolicy::kEnabled, true},
        PolicyPair{EncryptionPolicy::kForced, EncryptionPolicy::kForced, true},
        PolicyPair{EncryptionPolicy::kEnabled, EncryptionPolicy::kForced, true},
        PolicyPair{EncryptionPolicy::kForced, EncryptionPolicy::kEnabled, true},
        // Plaintext fallback: the seeder refuses MSE.
        PolicyPair{EncryptionPolicy::kDisabled, EncryptionPolicy::kEnabled, false},
        PolicyPair{EncryptionPolicy::kEnabled, EncryptionPolicy::kDisabled, false}));

TEST_F(TransferTest, IncompatiblePoliciesNeverConnect) {
  auto seeder = NewClient(EncryptionPolicy::kDisabled);
  auto leecher = NewClient(EncryptionPolicy::kForced);
  ASSERT_TRUE(Add(seeder.get(), "seed"));
  Torrent* dl = Add(leecher.get(), "dl", {Local(*seeder)});
  int connects = 0;
  leecher->OnEvent(EventType::kPeerConnect, [&](const Event&) {
    ++connects;
    return true;
  });
  RunUntil({seeder.get(), leecher.get()}, [] { return false; },
           absl::Seconds(3));
  EXPECT_EQ(connects, 0);
  EXPECT_EQ(dl->pieces_have(), 0u);
}

TEST_F(TransferTest, MagnetLinkFetchesMetadataThenData) {
  auto seeder = NewClient(EncryptionPolicy::kEnabled);
  auto leecher = NewClient(EncryptionPolicy::kEnabled);
  ASSERT_TRUE(Add(seeder.get(), "seed"));
  TorrentParams p;
  p.magnet = absl::StrFormat("magnet:?xt=urn:btih:%s&dn=payload&x.pe=%s",
                             info_.WireInfoHash().ToHex(),
                             Local(*seeder).ToString());
  p.save_path = (root_ / "dl").string();
  auto added = leecher->AddTorrent(p);
  ASSERT_TRUE(added.ok()) << added.status();
  Torrent* dl = *added;
  EXPECT_FALSE(dl->has_metadata());
  EXPECT_EQ(dl->name(), "payload");
  ASSERT_TRUE(RunUntil({seeder.get(), leecher.get()},
                       [&] { return dl->complete(); }))
      << "metadata " << dl->has_metadata() << " "
      << dl->metadata_progress().first << "/" << dl->metadata_progress().second
      << ", peers " << dl->peers().size() << ", pieces " << dl->pieces_have()
      << ", state " << TorrentStateName(dl->state()) << ", peer "
      << (dl->peers().empty()
              ? std::string("-")
              : absl::StrFormat("interested=%d choked=%d pieces=%d",
                                dl->peers()[0].am_interested,
                                dl->peers()[0].peer_choking,
                                dl->peers()[0].pieces));
  EXPECT_TRUE(dl->has_metadata());
  EXPECT_EQ(dl->info().info_bytes(), info_.info_bytes());
  ExpectSameData("dl");
}

// A v2-only magnet gives an info dictionary without piece layers; the
// leecher fetches them with BEP 52 hash requests before any data.
TEST_F(TransferTest, V2MagnetFetchesPieceLayersThenData) {
  ASSERT_NO_FATAL_FAILURE(UseV2(16 * 1024));  // big.bin spans 198 pieces
  auto seeder = NewClient(EncryptionPolicy::kEnabled);
  auto leecher = NewClient(EncryptionPolicy::kEnabled);
  ASSERT_TRUE(Add(seeder.get(), "seed"));
  TorrentParams p;
  p.magnet = absl::StrFormat("magnet:?xt=urn:btmh:1220%s&x.pe=%s",
                             info_.info_hash_v2()->ToHex(),
                             Local(*seeder).ToString());
  p.save_path = (root_ / "dl").string();
  auto added = leecher->AddTorrent(p);
  ASSERT_TRUE(added.ok()) << added.status();
  Torrent* dl = *added;
  uint32_t layer_ranges = 0;  // as reported while they are fetched
  ASSERT_TRUE(RunUntil({seeder.get(), leecher.get()}, [&] {
    layer_ranges = std::max(layer_ranges, dl->piece_layer_progress().second);
    return dl->complete();
  })) << "metadata " << dl->has_metadata() << ", state "
      << TorrentStateName(dl->state()) << " " << dl->error().message();
  EXPECT_TRUE(dl->info().has_piece_layers());
  EXPECT_EQ(layer_ranges, 2u);  // big.bin and small.bin span several pieces
  EXPECT_EQ(dl->piece_layer_progress(), (std::pair<uint32_t, uint32_t>{0, 0}));
  for (uint32_t piece = 0; piece < info_.num_pieces(); ++piece) {
    EXPECT_EQ(dl->info().V2PieceHash(piece), info_.V2PieceHash(piece));
  }
  ExpectSameData("dl");
}

TEST_F(TransferTest, PeerExchangeIntroducesTheThirdPeer) {
  auto a = NewClient(EncryptionPolicy::kEnabled);
  auto b = NewClient(EncryptionPolicy::kEnabled);
  auto c = NewClient(EncryptionPolicy::kEnabled);
  ASSERT_TRUE(Add(a.get(), "seed"));
  // b connects to a, then pauses: it keeps its peers but serves nothing,
  // so c can only finish by finding a, and only b can tell it of a.
  Torrent* tb = Add(b.get(), "b", {Local(*a)});
  ASSERT_TRUE(RunUntil({a.get(), b.get()}, [&] { return !tb->peers().empty(); }));
  ASSERT_TRUE(tb->Pause().ok());
  Torrent* tc = Add(c.get(), "c", {Local(*b)});
  std::vector<Endpoint> connected;
  c->OnEvent(EventType::kPeerConnect, [&](const Event& e) {
    connected.push_back(e.peer.address);
    return true;
  });
  ASSERT_TRUE(RunUntil({a.get(), b.get(), c.get()},
                       [&] { return tc->complete(); }));
  EXPECT_NE(std::find(connected.begin(), connected.end(), Local(*a)),
            connected.end());
  ExpectSameData("c");
}

TEST_F(TransferTest, PrivateTorrentsDoNotExchangePeers) {
  metainfo::CreateOptions options;
  options.version = metainfo::TorrentVersion::kV1;
  options.piece_length = 64 * 1024;
  options.is_private = true;
  auto bytes = metainfo::CreateTorrent((root_ / "seed/payload").string(), options);
  ASSERT_TRUE(bytes.ok());
  info_ = *metainfo::TorrentInfo::Parse(*bytes);
  auto a = NewClient(EncryptionPolicy::kEnabled);
  auto b = NewClient(EncryptionPolicy::kEnabled);
  auto c = NewClient(EncryptionPolicy::kEnabled);
  ASSERT_TRUE(Add(a.get(), "seed"));
  Torrent* tb = Add(b.get(), "b", {Local(*a)});
  Torrent* tc = Add(c.get(), "c", {Local(*b)});
  int pex_messages = 0;
  c->OnEvent(EventType::kPacketIncomingExtended, [&](const Event& e) {
    pex_messages += e.extension_id != 0;
    return true;
  });
  ASSERT_TRUE(RunUntil({a.get(), b.get(), c.get()},
                       [&] { return tb->complete() && tc->complete(); }));
  RunUntil({a.get(), b.get(), c.get()}, [] { return false; }, absl::Seconds(2));
  EXPECT_EQ(pex_messages, 0);
  for (const PeerInfo& p : tc->peers()) EXPECT_NE(p.address, Local(*a));
}

TEST(StandaloneTorrentTest, HashChecksWithoutAClient) {
  TorrentParams p;
  p.torrent_path = "/nonexistent.torrent";
  auto missing = Torrent::Open(p);
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace bt::client
