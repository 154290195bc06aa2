// Torrent on a SimClient and BEP 21 upload_only: we say it in the extension
// handshake once every wanted piece is verified (and take it back when a
// skipped file becomes wanted), and a complete torrent drops peers that
// only upload, as it drops seeds, since neither side wants anything.
#include <optional>
#include <string>
#include <vector>

#include "client/torrent.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "protocol/message.h"
#include "storage/file_priority.h"
#include "tests/client/testing/remote_peer.h"
#include "tests/client/testing/sim_client.h"

namespace bt::client::testing {
namespace {

using metainfo::testing::MemFile;
using metainfo::testing::Pattern;

constexpr int64_t kPiece = 32 * 1024;

// ConnectWith connects a peer whose extension handshake says
// upload_only = `upload_only`, then sends `have`.
RemotePeer ConnectWith(SimClient& sim, Torrent& torrent, uint8_t last_octet,
                       bool upload_only, const protocol::Message& have) {
  RemotePeer peer =
      RemotePeer::ConnectIn(sim, torrent, Addr(10, 0, 0, last_octet),
                            /*extensions=*/false, PeerIdOf(last_octet));
  peer.extensions = protocol::ExtensionHandshake();
  peer.extensions.m["ut_metadata"] = 3;
  peer.extensions.upload_only = upload_only;
  peer.SendExtensionHandshake();
  peer.Send(have);
  peer.Read();
  return peer;
}

TEST(UploadOnlyTest, ASeedDropsUploadOnlyPeersAndKeepsDownloaders) {
  SimClient sim;
  const TestTorrent t = MakeSingleFile(4 * kPiece);
  t.PutOnDisk(sim.disk_backend());
  Torrent& torrent = **sim.AddTorrent(t.Params());
  ASSERT_EQ(torrent.state(), TorrentState::kSeeding);
  RemotePeer partial =
      ConnectWith(sim, torrent, 1, /*upload_only=*/true, protocol::HaveNone{});
  RemotePeer leecher =
      ConnectWith(sim, torrent, 2, /*upload_only=*/false, protocol::HaveNone{});
  EXPECT_TRUE(partial.closed());
  EXPECT_FALSE(leecher.closed());
  // Our handshake told both that we only upload.
  ASSERT_TRUE(leecher.ours().has_value());
  EXPECT_EQ(leecher.ours()->upload_only, true);
}

TEST(UploadOnlyTest, ADownloaderUsesUploadOnlyPeersAndSaysSoOnceComplete) {
  SimClient sim;
  const TestTorrent t = MakeSingleFile(4 * kPiece);
  Torrent& torrent = **sim.AddTorrent(t.Params());
  RemotePeer leecher =
      ConnectWith(sim, torrent, 2, /*upload_only=*/false, protocol::HaveNone{});
  ASSERT_TRUE(leecher.ours().has_value());
  EXPECT_EQ(leecher.ours()->upload_only, std::nullopt);

  RemotePeer source =
      ConnectWith(sim, torrent, 1, /*upload_only=*/true, protocol::HaveAll{});
  EXPECT_FALSE(source.closed());
  EXPECT_EQ(Count<protocol::Interested>(source.all_read()), 1);
  source.Send(protocol::Unchoke{});
  source.ServeUntilQuiet(t);
  ASSERT_TRUE(torrent.complete());
  EXPECT_TRUE(source.closed());  // nothing left to trade

  // The leecher hears the change in a second extension handshake.
  leecher.Read();
  ASSERT_TRUE(leecher.ours().has_value());
  EXPECT_EQ(leecher.ours()->upload_only, true);
  EXPECT_FALSE(leecher.closed());
}

TEST(UploadOnlyTest, APartialSeedSaysSoAndTakesItBackWhenItWantsMore) {
  SimClient sim;
  const TestTorrent t = MakeTestTorrent({
      MemFile{{"a.bin"}, Pattern(2 * kPiece, 1), ""},
      MemFile{{"b.bin"}, Pattern(2 * kPiece, 2), ""},
  });
  TorrentParams params = t.Params();
  params.file_priorities = {{1, storage::kFilePrioritySkip}};
  Torrent& torrent = **sim.AddTorrent(params);
  RemotePeer leecher =
      ConnectWith(sim, torrent, 2, /*upload_only=*/false, protocol::HaveNone{});
  RemotePeer seed = RemotePeer::ConnectIn(sim, torrent, Addr(10, 0, 0, 1));
  seed.Send(protocol::HaveAll{});
  seed.Send(protocol::Unchoke{});
  seed.ServeUntilQuiet(t);
  ASSERT_TRUE(torrent.complete());
  leecher.Read();
  EXPECT_EQ(leecher.ours()->upload_only, true);

  ASSERT_TRUE(torrent.SetFilePriority(1, storage::kFilePriorityNormal).ok());
  EXPECT_FALSE(torrent.complete());
  sim.RunPending();
  leecher.Read();
  EXPECT_EQ(leecher.ours()->upload_only, false);
  EXPECT_FALSE(leecher.closed());
}

}  // namespace
}  // namespace bt::client::testing
