// A real Client with many torrents announces every one of them in the DHT
// (BEP 5), a few at a time: the announce lookups running at once stay
// within Client::kMaxDhtAnnounces, far below what its DHT node would
// refuse (dht::NodeOptions::max_lookups, 64), and none is lost to that
// limit. The DHT on the other end is another Client's node on loopback.
#include <algorithm>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "base/file_util.h"
#include "bencode/encoder.h"
#include "client/client.h"
#include "gtest/gtest.h"
#include "tests/client/testing/loopback_options.h"
#include "tests/metainfo/test_torrents.h"
#include "tests/testing/subprocess.h"

namespace bt::client {
namespace {

using metainfo::testing::MakeTorrent;
using metainfo::testing::Pattern;
using metainfo::testing::Version;

std::unique_ptr<Client> NewClient() {
  absl::StatusOr<std::unique_ptr<Client>> c =
      Client::Create(testing::LoopbackClientOptions());
  EXPECT_TRUE(c.ok()) << c.status();
  return c.ok() ? *std::move(c) : nullptr;
}

TEST(DhtAnnounceTest, ManyTorrentsAreAllAnnouncedAFewAtATime) {
  // More torrents than the node runs lookups at once: before announces
  // were paced, those past its limit were simply not announced.
  constexpr int kTorrents = 100;
  std::unique_ptr<Client> router = NewClient();
  std::unique_ptr<Client> client = NewClient();
  ASSERT_TRUE(router && client && router->dht() && client->dht());
  client->AddDhtNode(router->dht()->local_endpoint());

  const std::string dir = bt::testing::TempDir("client_dht_announce");
  for (int i = 0; i < kTorrents; ++i) {
    const std::string name = absl::StrCat("t", i);
    const std::string data = Pattern(1000, i);
    ASSERT_TRUE(WriteFileAtomically(dir + "/" + name, data).ok());
    const std::string torrent = bencode::Encode(
        MakeTorrent(name, {{{name}, data}}, 16384, Version::kV1, true));
    ASSERT_TRUE(
        WriteFileAtomically(dir + "/" + name + ".torrent", torrent).ok());
    TorrentParams params;
    params.torrent_path = dir + "/" + name + ".torrent";
    params.save_path = dir;
    ASSERT_TRUE(client->AddTorrent(params).ok()) << i;
  }

  const dht::Node& node = client->dht()->node();
  const dht::PeerStore& store = router->dht()->node().peer_store();
  size_t most_lookups = 0;
  const absl::Time deadline = absl::Now() + absl::Seconds(30);
  while (store.hash_count() < kTorrents && absl::Now() < deadline) {
    ASSERT_TRUE(router->DoOneLoop(0).ok());
    ASSERT_TRUE(client->DoOneLoop(0.005).ok());
    most_lookups = std::max(most_lookups, node.active_lookups());
  }
  EXPECT_EQ(store.hash_count(), static_cast<size_t>(kTorrents));
  // The announces, and at most the bootstrap lookup beside them.
  EXPECT_LE(most_lookups, Client::kMaxDhtAnnounces + 1);
  EXPECT_GE(most_lookups, Client::kMaxDhtAnnounces / 2);
  EXPECT_EQ(client->dht_announces().running(), 0u);
  EXPECT_EQ(client->dht_announces().waiting(), 0u);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace bt::client
