// btkit's client over uTP (BEP 29) on loopback: against libtorrent 2.0
// with TCP turned off (uTP only, in and out), both directions, encryption
// forced and disabled; and btkit against btkit with transport kUtp. Every
// copy is compared byte for byte with the source.
#include <filesystem>
#include <fstream>
#include <string>

#include "absl/strings/numbers.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "client/client.h"
#include "gtest/gtest.h"
#include "metainfo/torrent_creator.h"
#include "tests/client/interop_support.h"
#include "tests/testing/files.h"
#include "tests/testing/subprocess.h"

namespace bt::client {
namespace {

namespace fs = std::filesystem;
using interop::PolicyName;

constexpr char kPython[] = "/usr/bin/python3";
constexpr char kPeerScript[] = "tests/client/libtorrent_peer.py";

class UtpInteropTest : public ::testing::TestWithParam<interop::TransferCase> {
 protected:
  static void SetUpTestSuite() {
    root_ = testing::TempDir("client_utp_interop");
    interop::WritePayload(root_ + "/seed");
    torrent_path_ = root_ + "/payload.torrent";
    auto ih = interop::WriteTorrent(root_ + "/seed", torrent_path_, {});
    ASSERT_TRUE(ih.ok()) << ih.status();
  }

  static std::unique_ptr<Client> NewClient(PeerTransport transport,
                                           protocol::EncryptionPolicy policy) {
    ClientOptions options;
    options.local_hosts = {"127.0.0.1"};
    options.encryption = policy;
    options.transport = transport;
    options.enable_dht = false;
    options.enable_lsd = false;
    auto c = Client::Create(options);
    EXPECT_TRUE(c.ok()) << c.status();
    return c.ok() ? *std::move(c) : nullptr;
  }

  static std::string root_, torrent_path_;
};

std::string UtpInteropTest::root_;
std::string UtpInteropTest::torrent_path_;

// libtorrent speaks only uTP; btkit runs with the default transport
// (auto: uTP first, TCP as fallback), so this also shows the default works.
TEST_P(UtpInteropTest, WithLibtorrentUtpOnly) {
  if (!fs::exists(kPython)) GTEST_SKIP() << "no " << kPython;
  const interop::TransferCase& c = GetParam();
  const std::string dir =
      root_ + absl::StrFormat("/lt_%d_%s", c.btkit_seeds, PolicyName(c.policy));
  fs::create_directories(dir);
  const std::string port_file = dir + "/port";
  std::unique_ptr<Client> client = NewClient(PeerTransport::kAuto, c.policy);
  ASSERT_TRUE(client);
  Torrent* t = nullptr;
  interop::WireEncryption wire;
  wire.Watch(*client, t);
  interop::ConnectionDiary diary;
  diary.Watch(*client);
  const absl::Time deadline = absl::Now() + absl::Seconds(120);
  if (c.btkit_seeds) {
    TorrentParams params;
    params.torrent_path = torrent_path_;
    params.save_path = root_ + "/seed";
    auto added = client->AddTorrent(params);
    ASSERT_TRUE(added.ok()) << added.status();
    t = *added;
    auto lt = testing::Subprocess::Start(
        {kPython, kPeerScript, "download", torrent_path_, dir + "/lt",
         port_file, PolicyName(c.policy),
         absl::StrFormat("127.0.0.1:%d", client->port()), "--timeout", "110",
         "--transport", "utp"});
    ASSERT_TRUE(lt.ok()) << lt.status();
    ASSERT_EQ(interop::RunUntilExit(*client, **lt, deadline), 0)
        << "libtorrent did not finish its download over uTP\n"
        << diary;
    EXPECT_TRUE(interop::SameFiles(root_ + "/seed", dir + "/lt"));
  } else {
    auto lt = testing::Subprocess::Start(
        {kPython, kPeerScript, "seed", torrent_path_, root_ + "/seed",
         port_file, PolicyName(c.policy), "--transport", "utp"});
    ASSERT_TRUE(lt.ok()) << lt.status();
    auto port_text = testing::WaitForFile(port_file, deadline);
    ASSERT_TRUE(port_text.ok()) << port_text.status();
    uint32_t port = 0;
    ASSERT_TRUE(absl::SimpleAtoi(*port_text, &port));
    TorrentParams params;
    params.torrent_path = torrent_path_;
    params.save_path = dir + "/btkit";
    params.peers = {*Endpoint::ParseAddress("127.0.0.1", port)};
    auto added = client->AddTorrent(params);
    ASSERT_TRUE(added.ok()) << added.status();
    t = *added;
    ASSERT_TRUE(interop::DownloadAll(*client, *t, deadline)) << diary;
    EXPECT_TRUE(interop::SameFiles(root_ + "/seed", dir + "/btkit"));
  }
  EXPECT_TRUE(wire.Matches(c.policy));
  EXPECT_TRUE(wire.OnlyOver(/*utp=*/true)) << diary;
}

// Two btkit clients that speak only uTP.
TEST_P(UtpInteropTest, BtkitToBtkitUtpOnly) {
  const interop::TransferCase& c = GetParam();
  if (!c.btkit_seeds) GTEST_SKIP() << "one direction is enough";
  const std::string dir =
      root_ + absl::StrFormat("/bt_%s", PolicyName(c.policy));
  std::unique_ptr<Client> seeder = NewClient(PeerTransport::kUtp, c.policy);
  std::unique_ptr<Client> leecher = NewClient(PeerTransport::kUtp, c.policy);
  ASSERT_TRUE(seeder && leecher);
  TorrentParams seed;
  seed.torrent_path = torrent_path_;
  seed.save_path = root_ + "/seed";
  ASSERT_TRUE(seeder->AddTorrent(seed).ok());
  TorrentParams get;
  get.torrent_path = torrent_path_;
  get.save_path = dir;
  get.peers = {*Endpoint::ParseAddress("127.0.0.1", seeder->port())};
  auto added = leecher->AddTorrent(get);
  ASSERT_TRUE(added.ok()) << added.status();
  Torrent* t = *added;
  interop::WireEncryption wire;
  wire.Watch(*leecher, t);
  const absl::Time deadline = absl::Now() + absl::Seconds(120);
  while (!t->complete() && absl::Now() < deadline) {
    ASSERT_TRUE(seeder->DoOneLoop(0).ok());
    ASSERT_TRUE(leecher->DoOneLoop(0.001).ok());
  }
  ASSERT_TRUE(t->complete()) << t->pieces_have() << " pieces";
  EXPECT_TRUE(interop::SameFiles(root_ + "/seed", dir));
  EXPECT_TRUE(wire.Matches(c.policy));
  EXPECT_TRUE(wire.OnlyOver(/*utp=*/true));
}

// `bt download` with its default transport (auto) from a libtorrent seeder
// that speaks only uTP: the tool itself, as a user runs it.
TEST(UtpCliTest, BtDownloadWithDefaultsFromUtpOnlyLibtorrent) {
  if (!fs::exists(kPython)) GTEST_SKIP() << "no " << kPython;
  const std::string root = testing::TempDir("client_utp_cli");
  fs::create_directories(root + "/seed/payload");
  std::ofstream(root + "/seed/payload/data.bin", std::ios::binary)
      << std::string(6 << 20, 'u') + "tail";
  auto bytes = metainfo::CreateTorrent(root + "/seed/payload",
                                       metainfo::CreateOptions());
  ASSERT_TRUE(bytes.ok()) << bytes.status();
  const std::string torrent = root + "/p.torrent";
  std::ofstream(torrent, std::ios::binary) << *bytes;
  const absl::Time deadline = absl::Now() + absl::Seconds(60);
  auto lt = testing::Subprocess::Start({kPython, kPeerScript, "seed", torrent,
                                        root + "/seed", root + "/port",
                                        "enabled", "--transport", "utp"});
  ASSERT_TRUE(lt.ok()) << lt.status();
  auto port = testing::WaitForFile(root + "/port", deadline);
  ASSERT_TRUE(port.ok()) << port.status();
  auto bt = testing::Subprocess::Start(
      {"client/cli/bt", "download", torrent, "-o", root + "/dl", "--bind",
       "127.0.0.1", "--dht-bootstrap=", "--no-lsd", "--peer",
       "127.0.0.1:" + *port});
  ASSERT_TRUE(bt.ok()) << bt.status();
  auto code = (*bt)->Wait(deadline);
  ASSERT_TRUE(code.ok()) << code.status();
  EXPECT_EQ(*code, 0);
  EXPECT_EQ(testing::ReadFileOrDie(root + "/dl/payload/data.bin"),
            std::string(6 << 20, 'u') + "tail");
}

INSTANTIATE_TEST_SUITE_P(
    Directions, UtpInteropTest, ::testing::ValuesIn(interop::TransferCases()),
    [](const ::testing::TestParamInfo<interop::TransferCase>& info) {
      return interop::TransferCaseName(info.param, "Peer");
    });

}  // namespace
}  // namespace bt::client
