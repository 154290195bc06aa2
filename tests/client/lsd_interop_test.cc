// Local Service Discovery (BEP 14) between real clients that know nothing
// of each other (no tracker, no DHT, no --peer): `bt seed` and
// `bt download`, btkit and libtorrent 2.0 (python3-libtorrent) both ways,
// and a btkit client sent malformed announces and floods. Everything runs
// in a network namespace the test makes for itself (tests/testing/netns.h),
// with multicast routed over its loopback: no datagram leaves it. Where no
// namespace can be made, every case is skipped with the reason.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "base/file_util.h"
#include "client/client.h"
#include "gtest/gtest.h"
#include "lsd/message.h"
#include "metainfo/torrent_creator.h"
#include "tests/client/interop_support.h"
#include "tests/client/testing/loopback_options.h"
#include "tests/testing/netns.h"
#include "tests/testing/subprocess.h"
#include "tests/testing/thread_cpu_time.h"

namespace bt::client {
namespace {

namespace fs = std::filesystem;

constexpr char kBt[] = "client/cli/bt";
constexpr char kPython[] = "/usr/bin/python3";
constexpr char kPeerScript[] = "tests/client/libtorrent_peer.py";

class LsdInteropTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    // Before any thread starts (a user namespace needs a single thread).
    network_ = new absl::Status(testing::EnterPrivateNetwork());
    if (!network_->ok()) return;
    root_ = testing::TempDir("client_lsd_interop");
    interop::WritePayload(root_ + "/seed");
    torrent_ = root_ + "/payload.torrent";
    auto ih = interop::WriteTorrent(root_ + "/seed", torrent_, {});
    ASSERT_TRUE(ih.ok()) << ih.status();
  }
  static void TearDownTestSuite() {
    if (!root_.empty()) fs::remove_all(root_);
  }

  void SetUp() override {
    if (!network_->ok()) {
      GTEST_SKIP() << "no network namespace of our own: " << *network_;
    }
    dir_ = root_ + "/" +
           ::testing::UnitTest::GetInstance()->current_test_info()->name();
    fs::create_directories(dir_);
  }

  // StartBtSeed runs `bt seed` bound to `host` with LSD and no other peer
  // source; on 127.0.0.1 it returns once the seed listens.
  std::unique_ptr<testing::Subprocess> StartBtSeed(
      const std::string& host = "127.0.0.1") {
    const uint16_t port = ::bt::testing::FreePort(SOCK_STREAM);
    auto p = testing::Subprocess::Start({kBt, "seed", torrent_, root_ + "/seed",
                                         "--port", absl::StrCat(port), "--bind",
                                         host, "--no-dht"});
    EXPECT_TRUE(p.ok()) << p.status();
    if (!p.ok()) return nullptr;
    if (host == "127.0.0.1") {
      EXPECT_TRUE(
          ::bt::testing::WaitForTcpPort(port, absl::Now() + absl::Seconds(30)));
    }
    return *std::move(p);
  }

  // StartBtDownload runs `bt download` into dir_/dl, bound to `host`, with
  // LSD as its only peer source.
  std::unique_ptr<testing::Subprocess> StartBtDownload(
      const std::string& host = "127.0.0.1") {
    auto p =
        testing::Subprocess::Start({kBt, "download", torrent_, "-o",
                                    dir_ + "/dl", "--bind", host, "--no-dht"});
    EXPECT_TRUE(p.ok()) << p.status();
    return p.ok() ? *std::move(p) : nullptr;
  }

  // StartLibtorrent runs libtorrent_peer.py in `mode` with LSD on and no
  // peer given; a seeder is ready once it wrote its port file.
  std::unique_ptr<testing::Subprocess> StartLibtorrent(const std::string& mode,
                                                       const std::string& dir) {
    auto p = testing::Subprocess::Start({kPython, kPeerScript, mode, torrent_,
                                         dir, dir_ + "/lt_port", "enabled",
                                         "--timeout", "110", "--lsd"});
    EXPECT_TRUE(p.ok()) << p.status();
    if (!p.ok()) return nullptr;
    auto port = testing::WaitForFile(dir_ + "/lt_port",
                                     absl::Now() + absl::Seconds(60));
    EXPECT_TRUE(port.ok()) << port.status();
    return *std::move(p);
  }

  static absl::Status* network_;
  static std::string root_, torrent_;
  // ExpectCopied waits for the downloader `p` to exit 0 and compares its
  // copy in `copy` with the seed's files.
  void ExpectCopied(testing::Subprocess& p, const std::string& copy) {
    auto code = p.Wait(deadline_);
    ASSERT_TRUE(code.ok()) << code.status();
    EXPECT_EQ(*code, 0) << "the download into " << copy << " did not finish";
    EXPECT_TRUE(interop::SameFiles(root_ + "/seed", copy));
  }

  std::string dir_;
  const absl::Time deadline_ = absl::Now() + absl::Seconds(120);
};

absl::Status* LsdInteropTest::network_ = nullptr;
std::string LsdInteropTest::root_, LsdInteropTest::torrent_;

TEST_F(LsdInteropTest, BtkitFindsBtkit) {
  auto seed = StartBtSeed();
  ASSERT_TRUE(seed);
  auto dl = StartBtDownload();
  ASSERT_TRUE(dl);
  ExpectCopied(*dl, dir_ + "/dl");
}

// Over the IPv6 group. The seed is not waited for: whichever of the two
// announces first is not heard (the other has not joined yet, or not
// registered the torrent), but the second is, and its hearer connects.
TEST_F(LsdInteropTest, BtkitFindsBtkitOverIpv6) {
  auto seed = StartBtSeed(testing::kPrivateIpv6);
  ASSERT_TRUE(seed);
  auto dl = StartBtDownload(testing::kPrivateIpv6);
  ASSERT_TRUE(dl);
  ExpectCopied(*dl, dir_ + "/dl");
}

TEST_F(LsdInteropTest, BtkitDownloadsFromLibtorrentFoundByLsd) {
  if (!fs::exists(kPython)) GTEST_SKIP() << "no " << kPython;
  auto lt = StartLibtorrent("seed", root_ + "/seed");
  ASSERT_TRUE(lt);
  auto dl = StartBtDownload();
  ASSERT_TRUE(dl);
  ExpectCopied(*dl, dir_ + "/dl");
}

TEST_F(LsdInteropTest, LibtorrentDownloadsFromBtkitFoundByLsd) {
  if (!fs::exists(kPython)) GTEST_SKIP() << "no " << kPython;
  auto seed = StartBtSeed();
  ASSERT_TRUE(seed);
  auto lt = StartLibtorrent("download", dir_ + "/lt");
  ASSERT_TRUE(lt);
  ExpectCopied(*lt, dir_ + "/lt");
}

// LsdErrors joins why `client` runs no LSD in some family.
std::string LsdErrors(const Client& client) {
  std::string out;
  for (const absl::Status& s : client.lsd_errors()) out += s.ToString() + "; ";
  return out;
}

// Two in-process clients on the namespace's loopback, LSD their only peer
// source, each with the shared public torrent and a private one of the
// same files: they connect for the public torrent, and the private one is
// neither announced nor given peers from LSD.
TEST_F(LsdInteropTest, PrivateTorrentsStayOutOfLsd) {
  metainfo::CreateOptions create;
  create.version = metainfo::TorrentVersion::kV1;
  create.is_private = true;
  auto bytes = metainfo::CreateTorrent(root_ + "/seed/payload", create);
  ASSERT_TRUE(bytes.ok()) << bytes.status();
  const std::string private_torrent = dir_ + "/private.torrent";
  ASSERT_TRUE(WriteFileAtomically(private_torrent, *bytes).ok());
  std::vector<std::unique_ptr<Client>> clients;
  std::vector<Torrent*> open, closed;
  for (const std::string& save : {root_ + "/seed", dir_ + "/b"}) {
    ClientOptions options = testing::LoopbackClientOptions();
    options.enable_dht = false;
    options.enable_lsd = true;  // in this namespace only
    auto c = Client::Create(options);
    ASSERT_TRUE(c.ok()) << c.status();
    ASSERT_EQ((*c)->lsd_nodes().size(), 1u) << LsdErrors(**c);
    auto o = (*c)->AddTorrent({.torrent_path = torrent_, .save_path = save});
    auto p =
        (*c)->AddTorrent({.torrent_path = private_torrent, .save_path = save});
    ASSERT_TRUE(o.ok() && p.ok()) << o.status() << p.status();
    ASSERT_TRUE((*p)->is_private());
    open.push_back(*o);
    closed.push_back(*p);
    clients.push_back(*std::move(c));
  }
  // The one that hears the other's announce connects to it.
  auto found_each_other = [&] {
    return open[0]->known_peers(PeerSet::Source::kLsd) +
                   open[1]->known_peers(PeerSet::Source::kLsd) >
               0 &&
           !open[0]->peers().empty() && !open[1]->peers().empty();
  };
  while (!found_each_other() && absl::Now() < deadline_) {
    for (auto& c : clients) ASSERT_TRUE(c->DoOneLoop(0.01).ok());
  }
  ASSERT_TRUE(found_each_other());
  for (size_t i = 0; i < clients.size(); ++i) {
    EXPECT_EQ(clients[i]->lsd_nodes()[0]->service().stats().announced, 1u)
        << "announced more than the public torrent";
    EXPECT_EQ(closed[i]->known_peers(PeerSet::Source::kLsd), 0u);
  }
}

// --- hostile datagrams -------------------------------------------------------

// Multicaster sends datagrams to the BEP's IPv4 group from 127.0.0.1 (over
// the namespace's loopback; without an interface address the source would
// be 0.0.0.0, which names no peer).
class Multicaster {
 public:
  Multicaster() : fd_(socket(AF_INET, SOCK_DGRAM, 0)) {
    in_addr loopback{htonl(INADDR_LOOPBACK)};
    setsockopt(fd_, IPPROTO_IP, IP_MULTICAST_IF, &loopback, sizeof loopback);
    group_.sin_family = AF_INET;
    group_.sin_port = htons(lsd::kPort);
    inet_pton(AF_INET, std::string(lsd::kGroupV4).c_str(), &group_.sin_addr);
  }
  ~Multicaster() { close(fd_); }
  void Send(std::string_view d) {
    sendto(fd_, d.data(), d.size(), 0, reinterpret_cast<sockaddr*>(&group_),
           sizeof group_);
  }

 private:
  int fd_;
  sockaddr_in group_{};
};

// Pump runs one turn of `client`, and more until `d` has passed; it
// returns the most CPU time one turn took (not its wall time, which on a
// loaded machine counts waits for a core).
absl::Duration Pump(Client& client, absl::Duration d) {
  absl::Duration most;
  const absl::Time end = absl::Now() + d;
  do {
    const absl::Duration start = ::bt::testing::ThreadCpuTime();
    EXPECT_TRUE(client.DoOneLoop(0.01).ok());
    most = std::max(most, ::bt::testing::ThreadCpuTime() - start);
  } while (absl::Now() < end);
  return most;
}

std::string Header(const std::string& ih_hex, const std::string& port) {
  return absl::StrCat("BT-SEARCH * HTTP/1.1\r\nHost: 239.192.152.143:6771\r\n",
                      "Port: ", port, "\r\nInfohash: ", ih_hex, "\r\n");
}

TEST_F(LsdInteropTest, BadDatagramsNeitherStallNorFloodTheClient) {
  ClientOptions options = testing::LoopbackClientOptions();
  options.enable_dht = false;
  options.enable_lsd = true;  // in this namespace only
  auto client = Client::Create(options);
  ASSERT_TRUE(client.ok()) << client.status();
  ASSERT_EQ((*client)->lsd_nodes().size(), 1u) << LsdErrors(**client);
  LsdNode* lsd = (*client)->lsd_nodes()[0];
  auto added = (*client)->AddTorrent(
      {.torrent_path = torrent_, .save_path = root_ + "/seed"});
  ASSERT_TRUE(added.ok()) << added.status();
  Torrent* t = *added;
  ASSERT_TRUE(t->complete());
  const std::string ih = t->info_hash().ToHex();
  const lsd::ServiceStats& stats = lsd->service().stats();
  // It announces the torrent (and takes peers for it) from its next tick.
  for (const absl::Time end = absl::Now() + absl::Seconds(5);
       stats.announced == 0 && absl::Now() < end;) {
    Pump(**client, absl::Milliseconds(50));
  }
  ASSERT_EQ(stats.announced, 1u);

  // Malformed: garbage, empty, huge, port 0, too many infohashes, cut off.
  std::string many = Header(ih, "7000");
  for (int i = 0; i < 40; ++i) absl::StrAppend(&many, "Infohash: ", ih, "\r\n");
  const std::vector<std::string> malformed = {
      "garbage",
      "",
      std::string(60000, 'x'),
      std::string("BT-SEARCH * HTTP/1.1\r\n\0\0\0\r\n\r\n", 29),
      Header(ih, "0") + "\r\n\r\n",
      Header(ih, "99999") + "\r\n\r\n",
      Header(ih.substr(1), "7000") + "\r\n\r\n",
      many + "\r\n\r\n",
      Header(ih, "7000"),  // no empty line
  };
  Multicaster attacker;
  for (const std::string& d : malformed) attacker.Send(d);
  // Well-formed, but for another torrent.
  attacker.Send(Header(std::string(40, 'e'), "7001") + "\r\n\r\n");
  Pump(**client, absl::Milliseconds(500));
  EXPECT_EQ(stats.malformed, malformed.size()) << lsd->service().last_error();
  EXPECT_EQ(t->known_peers(PeerSet::Source::kLsd), 0u);

  // A flood of valid announces, each naming another port.
  const absl::Time flood_start = absl::Now();
  absl::Duration most_cpu;
  for (int i = 0; i < 5000; ++i) {
    attacker.Send(Header(ih, absl::StrCat(10000 + i)) + "\r\n\r\n");
    if (i % 100 == 99) most_cpu = std::max(most_cpu, Pump(**client, {}));
  }
  most_cpu = std::max(most_cpu, Pump(**client, absl::Seconds(1)));
  const double seconds = absl::ToDoubleSeconds(absl::Now() - flood_start);
  const lsd::ServiceOptions limits;
  EXPECT_GT(stats.rate_limited, 0u);
  EXPECT_GT(t->known_peers(PeerSet::Source::kLsd), 0u);
  EXPECT_LE(t->known_peers(PeerSet::Source::kLsd),
            limits.peer_burst + limits.peer_rate * seconds);
  EXPECT_EQ(lsd->service().tracked(), 1u);
  EXPECT_LT(most_cpu, absl::Milliseconds(500)) << "a turn of the loop stalled";
  // Its own announce came back over multicast loopback and was ignored.
  EXPECT_EQ(stats.own, 1u);
  std::printf(
      "flood of 5000 announces: %llu received, %llu parsed, %zu peers added "
      "in %.1f s; most CPU in one loop turn %s\n",
      static_cast<unsigned long long>(stats.received),
      static_cast<unsigned long long>(stats.received - stats.rate_limited),
      t->known_peers(PeerSet::Source::kLsd), seconds,
      absl::FormatDuration(most_cpu).c_str());

  // The client still serves a peer that finds it by LSD.
  Pump(**client, absl::Seconds(2));  // the buckets refill
  auto dl = StartBtDownload();
  ASSERT_TRUE(dl);
  EXPECT_EQ(interop::RunUntilExit(**client, *dl, deadline_), 0);
  EXPECT_TRUE(interop::SameFiles(root_ + "/seed", dir_ + "/dl"));
  EXPECT_GT(t->uploaded(), 0);
}

}  // namespace
}  // namespace bt::client
