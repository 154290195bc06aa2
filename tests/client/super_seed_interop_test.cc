// `bt seed --superseed` (BEP 16) on loopback, with two libtorrent
// downloaders and one btkit downloader that find each other through
// opentracker: every copy completes and equals the source byte for byte,
// and the seeder told the btkit downloader it had nothing ("have none")
// rather than everything.
#include <unistd.h>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "client/client.h"
#include "gtest/gtest.h"
#include "tests/client/interop_support.h"
#include "tests/client/testing/loopback_options.h"
#include "tests/testing/opentracker.h"
#include "tests/testing/subprocess.h"

namespace bt::client {
namespace {

namespace fs = std::filesystem;

constexpr char kPython[] = "/usr/bin/python3";
constexpr char kPeerScript[] = "tests/client/libtorrent_peer.py";

TEST(SuperSeedInteropTest, LibtorrentAndBtkitDownloadersComplete) {
  if (!fs::exists(kPython)) GTEST_SKIP() << "no " << kPython;
  if (access(::bt::testing::Opentracker::kPath, X_OK) != 0) {
    GTEST_SKIP() << "no " << ::bt::testing::Opentracker::kPath;
  }
  const absl::Time deadline = absl::Now() + absl::Seconds(150);
  const std::string root = testing::TempDir("super_seed_interop");
  interop::WritePayload(root + "/seed");
  auto ih = interop::WriteTorrent(root + "/seed", root + "/probe.torrent", {});
  ASSERT_TRUE(ih.ok()) << ih.status();
  auto tracker = ::bt::testing::Opentracker::Start({*ih}, deadline);
  ASSERT_TRUE(tracker.ok()) << tracker.status();
  const std::string torrent = root + "/payload.torrent";
  ASSERT_TRUE(
      interop::WriteTorrent(root + "/seed", torrent, {(*tracker)->http_url()})
          .ok());

  auto seed = interop::StartBtSeed(torrent, root + "/seed", {"--superseed"});
  ASSERT_TRUE(seed.ok()) << seed.status();
  ASSERT_TRUE((*tracker)->WaitForPeers(*ih, 1, 0, deadline).ok());
  const std::string seed_peer = absl::StrFormat("127.0.0.1:%d", seed->port);

  std::vector<std::unique_ptr<testing::Subprocess>> lt;
  for (int i = 0; i < 2; ++i) {
    const std::string dir = absl::StrFormat("%s/lt%d", root, i);
    auto p = testing::Subprocess::Start({kPython, kPeerScript, "download",
                                         torrent, dir, dir + ".port",
                                         "disabled", seed_peer, "--timeout",
                                         "140"});
    ASSERT_TRUE(p.ok()) << p.status();
    lt.push_back(*std::move(p));
  }

  auto client = Client::Create(testing::LoopbackClientOptions());
  ASSERT_TRUE(client.ok()) << client.status();
  int have_none = 0, have_all = 0, bitfields = 0;
  auto from_seed = [&](const Event& e) {
    return !e.peer.incoming && e.peer.address.port() == seed->port;
  };
  (*client)->OnEvent(EventType::kPacketIncomingHaveNone, [&](const Event& e) {
    have_none += from_seed(e);
    return true;
  });
  (*client)->OnEvent(EventType::kPacketIncomingHaveAll, [&](const Event& e) {
    have_all += from_seed(e);
    return true;
  });
  (*client)->OnEvent(EventType::kPacketIncomingBitfield, [&](const Event& e) {
    bitfields += from_seed(e);
    return true;
  });
  TorrentParams params;
  params.torrent_path = torrent;
  params.save_path = root + "/btkit";
  params.peers = {*Endpoint::Parse(seed_peer)};
  auto t = (*client)->AddTorrent(params);
  ASSERT_TRUE(t.ok()) << t.status();

  std::vector<int> codes(lt.size(), -1);
  auto lt_running = [&] {
    bool running = false;
    for (size_t i = 0; i < lt.size(); ++i) {
      if (codes[i] >= 0) continue;
      absl::StatusOr<int> code = lt[i]->Wait(absl::Now());
      if (code.ok()) codes[i] = *code;
      running |= !code.ok();
    }
    return running;
  };
  while (((*t)->pieces_have() < (*t)->info().num_pieces() || lt_running()) &&
         absl::Now() < deadline) {
    ASSERT_TRUE((*client)->DoOneLoop(0.01).ok());
  }
  EXPECT_TRUE((*t)->complete());
  EXPECT_TRUE(interop::SameFiles(root + "/seed", root + "/btkit"));
  for (size_t i = 0; i < lt.size(); ++i) {
    EXPECT_EQ(codes[i], 0) << "libtorrent downloader " << i;
    EXPECT_TRUE(interop::SameFiles(root + "/seed",
                                   absl::StrFormat("%s/lt%d", root, i)));
  }
  EXPECT_GE(have_none, 1);
  EXPECT_EQ(have_all, 0);
  EXPECT_EQ(bitfields, 0);
  fs::remove_all(root);
}

}  // namespace
}  // namespace bt::client
