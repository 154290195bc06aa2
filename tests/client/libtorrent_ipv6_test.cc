// btkit against libtorrent 2.0 over IPv6 loopback (::1): a 67 MiB
// multi-file torrent downloaded by btkit from a libtorrent seeder listening
// on [::1] over TCP and over uTP, by libtorrent from a btkit seeder, and by
// `bt download --bind ... --peer [::1]:PORT`; and peer exchange of IPv6
// peers (BEP 11 "added6") in both directions. Every peer connection must
// be an IPv6 one, and each copy identical to the source. Skipped where ::1
// cannot be bound.
#include <algorithm>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "client/client.h"
#include "gtest/gtest.h"
#include "tests/client/interop_support.h"
#include "tests/client/testing/loopback_options.h"
#include "tests/testing/subprocess.h"

namespace bt::client {
namespace {

namespace fs = std::filesystem;

constexpr char kPython[] = "/usr/bin/python3";
constexpr char kPeerScript[] = "tests/client/libtorrent_peer.py";
constexpr char kBt[] = "client/cli/bt";

class LibtorrentIpv6Test : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (!fs::exists(kPython) || !testing::HaveIpv6Loopback()) return;
    root_ = testing::TempDir("client_lt_ipv6");
    interop::WritePayload(root_ + "/seed");
    torrent_ = root_ + "/payload.torrent";
    auto ih = interop::WriteTorrent(root_ + "/seed", torrent_, {});
    ASSERT_TRUE(ih.ok()) << ih.status();
  }

  void SetUp() override {
    if (!fs::exists(kPython)) GTEST_SKIP() << "no " << kPython;
    if (!testing::HaveIpv6Loopback()) {
      GTEST_SKIP() << "no IPv6 loopback here: cannot bind [::1]";
    }
    deadline_ = absl::Now() + absl::Seconds(150);
  }

  // NewClient listens on 127.0.0.1 and ::1 and records whom it connects
  // to.
  std::unique_ptr<Client> NewClient(PeerTransport transport) {
    ClientOptions options = testing::LoopbackClientOptions();
    options.local_hosts = {"127.0.0.1", "::1"};
    options.transport = transport;
    auto c = Client::Create(options);
    EXPECT_TRUE(c.ok()) << c.status();
    if (!c.ok()) return nullptr;
    (*c)->OnEvent(EventType::kPeerConnect, [this](const Event& e) {
      peers_.push_back(e.peer.address);
      return true;
    });
    return *std::move(c);
  }

  // StartLibtorrent runs libtorrent_peer.py `mode` (seed or download into
  // `dir`/`name`) on [::1] with `extra` arguments; returns its port (0 on
  // failure). The process lives as long as the test.
  uint16_t StartLibtorrent(const std::string& mode, const std::string& dir,
                           const std::string& name,
                           const std::vector<std::string>& extra) {
    const std::string port_file = dir + "/" + name + ".port";
    std::vector<std::string> argv = {
        kPython,
        kPeerScript,
        mode,
        torrent_,
        mode == "seed" ? root_ + "/seed" : dir + "/" + name,
        port_file,
        "enabled",
        "--listen",
        "::1"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    auto lt = testing::Subprocess::Start(argv);
    EXPECT_TRUE(lt.ok()) << lt.status();
    if (!lt.ok()) return 0;
    lt_.push_back(*std::move(lt));
    auto text = testing::WaitForFile(port_file, deadline_);
    EXPECT_TRUE(text.ok()) << text.status();
    uint32_t port = 0;
    EXPECT_TRUE(text.ok() && absl::SimpleAtoi(*text, &port));
    return static_cast<uint16_t>(port);
  }
  uint16_t StartLibtorrentSeed(const std::string& dir,
                               const std::string& transport) {
    return StartLibtorrent("seed", dir, "lt", {"--transport", transport});
  }

  // OnlyIpv6Peers: connections were made, every one of them over IPv6.
  ::testing::AssertionResult OnlyIpv6Peers() const {
    if (peers_.empty()) return ::testing::AssertionFailure() << "no peers";
    for (const Endpoint& e : peers_) {
      if (!e.is_v6()) {
        return ::testing::AssertionFailure() << "IPv4 peer " << e.ToString();
      }
    }
    return ::testing::AssertionSuccess();
  }

  // DownloadFromLibtorrent: btkit downloads from a libtorrent seeder on
  // [::1] that speaks only `lt_transport`.
  void DownloadFromLibtorrent(const std::string& name, PeerTransport transport,
                              const std::string& lt_transport) {
    const std::string dir = root_ + "/" + name;
    fs::create_directories(dir);
    const uint16_t port = StartLibtorrentSeed(dir, lt_transport);
    ASSERT_NE(port, 0);
    std::unique_ptr<Client> client = NewClient(transport);
    ASSERT_TRUE(client);
    Torrent* t = nullptr;
    interop::WireEncryption wire;
    wire.Watch(*client, t);
    TorrentParams params;
    params.torrent_path = torrent_;
    params.save_path = dir + "/btkit";
    params.peers = {*Endpoint::ParseAddress("::1", port)};
    auto added = client->AddTorrent(params);
    ASSERT_TRUE(added.ok()) << added.status();
    t = *added;
    ASSERT_TRUE(interop::DownloadAll(*client, *t, deadline_));
    EXPECT_TRUE(interop::SameFiles(root_ + "/seed", dir + "/btkit"));
    EXPECT_TRUE(OnlyIpv6Peers());
    EXPECT_TRUE(wire.OnlyOver(/*utp=*/lt_transport == "utp"));
  }

  static std::string root_;
  static std::string torrent_;
  absl::Time deadline_;
  std::vector<Endpoint> peers_;
  std::vector<std::unique_ptr<testing::Subprocess>> lt_;
};

std::string LibtorrentIpv6Test::root_;
std::string LibtorrentIpv6Test::torrent_;

TEST_F(LibtorrentIpv6Test, BtkitDownloadsOverTcp) {
  DownloadFromLibtorrent("tcp", PeerTransport::kTcp, "tcp");
}

// uTP over the IPv6 UDP socket (auto: uTP first).
TEST_F(LibtorrentIpv6Test, BtkitDownloadsOverUtp) {
  DownloadFromLibtorrent("utp", PeerTransport::kAuto, "utp");
}

TEST_F(LibtorrentIpv6Test, LibtorrentDownloadsFromBtkit) {
  const std::string dir = root_ + "/lt_downloads";
  fs::create_directories(dir);
  std::unique_ptr<Client> client = NewClient(PeerTransport::kTcp);
  ASSERT_TRUE(client);
  TorrentParams params;
  params.torrent_path = torrent_;
  params.save_path = root_ + "/seed";
  auto added = client->AddTorrent(params);
  ASSERT_TRUE(added.ok()) << added.status();
  ASSERT_TRUE((*added)->complete());
  auto lt = testing::Subprocess::Start(
      {kPython, kPeerScript, "download", torrent_, dir + "/lt", dir + "/port",
       "enabled", absl::StrFormat("[::1]:%d", client->port()), "--listen",
       "::1", "--timeout", "140"});
  ASSERT_TRUE(lt.ok()) << lt.status();
  ASSERT_EQ(interop::RunUntilExit(*client, **lt, deadline_), 0)
      << "libtorrent did not finish its download";
  EXPECT_TRUE(interop::SameFiles(root_ + "/seed", dir + "/lt"));
  EXPECT_GE((*added)->uploaded(), int64_t{64} << 20);
  EXPECT_TRUE(OnlyIpv6Peers());
}

// Receiving "added6": btkit is told only of libtorrent B, which downloads
// slowly from libtorrent A; B's ut_pex must lead btkit to A over IPv6. A
// has no ut_pex, so it cannot learn of btkit and connect first.
TEST_F(LibtorrentIpv6Test, PeerExchangeFromLibtorrentLeadsToAnIpv6Peer) {
  const std::string dir = root_ + "/pex_in";
  fs::create_directories(dir);
  const uint16_t a = StartLibtorrent("seed", dir, "a", {"--no-pex"});
  ASSERT_NE(a, 0);
  const uint16_t b =
      StartLibtorrent("download", dir, "b",
                      {absl::StrFormat("[::1]:%d", a), "--download-limit",
                       "100000", "--timeout", "140"});
  ASSERT_NE(b, 0);
  std::unique_ptr<Client> client = NewClient(PeerTransport::kTcp);
  ASSERT_TRUE(client);
  TorrentParams params;
  params.torrent_path = torrent_;
  params.save_path = dir + "/btkit";
  params.peers = {*Endpoint::ParseAddress("::1", b)};
  auto added = client->AddTorrent(params);
  ASSERT_TRUE(added.ok()) << added.status();
  const Endpoint seeder = *Endpoint::ParseAddress("::1", a);
  auto met_a = [&] {
    return std::find(peers_.begin(), peers_.end(), seeder) != peers_.end();
  };
  while (!(met_a() && (*added)->complete()) && absl::Now() < deadline_) {
    ASSERT_TRUE(client->DoOneLoop(0.01).ok());
  }
  EXPECT_TRUE(met_a()) << "btkit never heard of libtorrent A";
  EXPECT_TRUE((*added)->complete());
  EXPECT_TRUE(interop::SameFiles(root_ + "/seed", dir + "/btkit"));
  EXPECT_TRUE(OnlyIpv6Peers());
}

// Sending "added6": libtorrent C is told only of btkit B, which downloads
// slowly from libtorrent A (so it never has the whole torrent); C can only
// complete by finding A through B's ut_pex.
TEST_F(LibtorrentIpv6Test, PeerExchangeFromBtkitLeadsLibtorrentToAnIpv6Peer) {
  const std::string dir = root_ + "/pex_out";
  fs::create_directories(dir);
  const uint16_t a = StartLibtorrent("seed", dir, "a", {"--no-pex"});
  ASSERT_NE(a, 0);
  std::unique_ptr<Client> client = NewClient(PeerTransport::kTcp);
  ASSERT_TRUE(client);
  client->SetRateLimits(0, 100000);
  TorrentParams params;
  params.torrent_path = torrent_;
  params.save_path = dir + "/btkit";
  params.peers = {*Endpoint::ParseAddress("::1", a)};
  auto added = client->AddTorrent(params);
  ASSERT_TRUE(added.ok()) << added.status();
  auto c = testing::Subprocess::Start(
      {kPython, kPeerScript, "download", torrent_, dir + "/c", dir + "/c_port",
       "enabled", absl::StrFormat("[::1]:%d", client->port()), "--listen",
       "::1", "--timeout", "140"});
  ASSERT_TRUE(c.ok()) << c.status();
  ASSERT_EQ(interop::RunUntilExit(*client, **c, deadline_), 0)
      << "libtorrent C did not complete: it never found A";
  EXPECT_FALSE((*added)->complete());
  EXPECT_TRUE(interop::SameFiles(root_ + "/seed", dir + "/c"));
  EXPECT_TRUE(OnlyIpv6Peers());
}

// The command line: two --bind flags, the peer as [::1]:PORT.
TEST_F(LibtorrentIpv6Test, BtDownloadWithBindAndAnIpv6Peer) {
  const std::string dir = root_ + "/cli";
  fs::create_directories(dir);
  const uint16_t port = StartLibtorrentSeed(dir, "tcp");
  ASSERT_NE(port, 0);
  auto bt = testing::Subprocess::Start(
      {kBt, "download", torrent_, "-o", dir + "/bt", "--bind", "127.0.0.1",
       "--bind", "[::1]", "--peer", absl::StrFormat("[::1]:%d", port),
       "--no-dht", "--no-lsd"});
  ASSERT_TRUE(bt.ok()) << bt.status();
  absl::StatusOr<int> status = (*bt)->Wait(deadline_);
  ASSERT_TRUE(status.ok()) << status.status();
  EXPECT_EQ(*status, 0);
  EXPECT_TRUE(interop::SameFiles(root_ + "/seed", dir + "/bt"));
}

}  // namespace
}  // namespace bt::client
