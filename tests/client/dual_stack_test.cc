// IPv4 and IPv6 at once: the listening sockets bind every local address on
// one port number and leave out addresses the machine lacks; a default
// client takes TCP connections and DHT queries of both families on that
// port; and two clients find each other through the IPv6 DHT alone (BEP
// 32) and transfer a torrent over ::1, keeping the IPv6 node's identity
// across a restart. Tests that need ::1 skip without it.
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "absl/time/clock.h"
#include "bencode/encoder.h"
#include "client/client.h"
#include "client/client_state.h"
#include "client/net/listen_sockets.h"
#include "client/net/socket_address.h"
#include "dht/node.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "metainfo/compact.h"
#include "metainfo/torrent_creator.h"
#include "metainfo/torrent_info.h"
#include "tests/client/testing/fake_http_tracker.h"
#include "tests/client/testing/loopback_options.h"
#include "tests/testing/files.h"
#include "tests/testing/subprocess.h"

namespace bt::client {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::UnorderedElementsAre;

const Endpoint kV4Loopback = Endpoint::V4({127, 0, 0, 1}, 0);
const Endpoint kV6Loopback = *Endpoint::ParseAddress("::1", 0);

#define SKIP_WITHOUT_IPV6()                                         \
  if (!bt::testing::HaveIpv6Loopback())                             \
  GTEST_SKIP() << "no IPv6 loopback here: cannot bind [::1] (IPv6 " \
                  "turned off, or ::1 missing from lo)"

std::unique_ptr<EventLoop> NewLoop() { return *EventLoop::Create(); }

TEST(ListenSocketsTest, BindsEveryAddressOnOnePortNumber) {
  SKIP_WITHOUT_IPV6();
  auto loop = NewLoop();
  auto sockets =
      ListenSockets::Bind(loop.get(), {.hosts = {"127.0.0.1", "::1"}});
  ASSERT_TRUE(sockets.ok()) << sockets.status();
  const uint16_t port = (*sockets)->port();
  ASSERT_NE(port, 0);
  ASSERT_EQ((*sockets)->sockets().size(), 2u);
  for (const ListenSockets::Socket& s : (*sockets)->sockets()) {
    EXPECT_EQ(s.tcp->local().port(), port);
    EXPECT_EQ(s.udp->local_endpoint().port(), port);
  }
  EXPECT_EQ((*sockets)->Find(false)->local, Endpoint::V4({127, 0, 0, 1}, port));
  EXPECT_EQ((*sockets)->Find(true)->local.AddressString(), "::1");
  EXPECT_TRUE((*sockets)->skipped().empty());
}

// 192.0.2.1 and 2001:db8::1 (documentation addresses) are not on this
// machine, as :: is not on one without IPv6: left out, not fatal.
TEST(ListenSocketsTest, AnAddressTheMachineLacksIsLeftOut) {
  auto loop = NewLoop();
  auto sockets = ListenSockets::Bind(
      loop.get(), {.hosts = {"192.0.2.1", "127.0.0.1", "2001:db8::1"}});
  ASSERT_TRUE(sockets.ok()) << sockets.status();
  ASSERT_EQ((*sockets)->sockets().size(), 1u);
  EXPECT_EQ((*sockets)->sockets()[0].local.AddressString(), "127.0.0.1");
  ASSERT_EQ((*sockets)->skipped().size(), 2u);
  EXPECT_THAT((*sockets)->skipped()[0], HasSubstr("192.0.2.1"));
  EXPECT_THAT((*sockets)->skipped()[1], HasSubstr("2001:db8::1"));

  auto none = ListenSockets::Bind(loop.get(), {.hosts = {"192.0.2.1"}});
  EXPECT_EQ(none.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(none.status().message(), HasSubstr("192.0.2.1"));
  auto bad = ListenSockets::Bind(loop.get(), {.hosts = {"localhost"}});
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  auto empty = ListenSockets::Bind(loop.get(), {.hosts = {}});
  EXPECT_EQ(empty.status().code(), absl::StatusCode::kInvalidArgument);
}

// A port number taken in one family moves every address to the next.
TEST(ListenSocketsTest, APortTakenInOneFamilyIsGivenUpForAll) {
  SKIP_WITHOUT_IPV6();
  auto loop = NewLoop();
  auto taken = TcpListener::Listen(loop.get(), kV6Loopback);
  ASSERT_TRUE(taken.ok()) << taken.status();
  const uint16_t busy = (*taken)->local().port();
  auto only = ListenSockets::Bind(
      loop.get(), {.hosts = {"127.0.0.1", "::1"}, .ports = {busy}});
  EXPECT_EQ(only.status().code(), absl::StatusCode::kUnavailable);
  auto sockets = ListenSockets::Bind(
      loop.get(), {.hosts = {"127.0.0.1", "::1"}, .ports = {busy, 0}});
  ASSERT_TRUE(sockets.ok()) << sockets.status();
  EXPECT_NE((*sockets)->port(), busy);
  EXPECT_EQ((*sockets)->sockets().size(), 2u);
}

// RunUntil pumps every client until `done` or 30 s pass; returns done().
bool RunUntil(const std::vector<Client*>& clients,
              const std::function<bool()>& done,
              absl::Duration limit = absl::Seconds(30)) {
  const absl::Time deadline = absl::Now() + limit;
  while (!done() && absl::Now() < deadline) {
    for (Client* c : clients) EXPECT_TRUE(c->DoOneLoop(0.005).ok());
  }
  return done();
}

// OpenSocket is a blocking socket of `to`'s family; TCP ones connected.
int OpenSocket(const Endpoint& to, int type) {
  const int fd = ::socket(to.is_v6() ? AF_INET6 : AF_INET, type, 0);
  EXPECT_GE(fd, 0);
  if (type == SOCK_STREAM) {
    sockaddr_storage ss;
    const socklen_t len = ToSockaddr(to, &ss);
    EXPECT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&ss), len), 0)
        << to.ToString();
  }
  return fd;
}

// The library's default addresses (0.0.0.0 and ::) take peers and DHT
// queries of both families on one port number.
TEST(DualStackClientTest, DefaultClientAnswersBothFamiliesOnOnePort) {
  SKIP_WITHOUT_IPV6();
  ClientOptions options = bt::testing::LoopbackClientOptions();
  options.local_hosts = ClientOptions().local_hosts;
  auto client = Client::Create(options);
  ASSERT_TRUE(client.ok()) << client.status();
  Client& c = **client;
  const uint16_t port = c.port();
  EXPECT_THAT(c.listen_endpoints(),
              UnorderedElementsAre(Endpoint::V4({0, 0, 0, 0}, port),
                                   *Endpoint::ParseAddress("::", port)));
  EXPECT_TRUE(c.skipped_addresses().empty());
  ASSERT_NE(c.dht(), nullptr);
  ASSERT_NE(c.dht6(), nullptr);
  EXPECT_EQ(c.dht6()->local_endpoint().port(), port);

  std::vector<Endpoint> accepted;
  c.OnEvent(EventType::kIpFilter, [&](const Event& e) {
    accepted.push_back(e.address);
    return true;
  });
  Endpoint v4 = kV4Loopback, v6 = kV6Loopback;
  v4.set_port(port);
  v6.set_port(port);
  const int tcp4 = OpenSocket(v4, SOCK_STREAM);
  const int tcp6 = OpenSocket(v6, SOCK_STREAM);
  ASSERT_TRUE(RunUntil({&c}, [&] { return accepted.size() >= 2; }));
  EXPECT_EQ(accepted[0].is_v6() + accepted[1].is_v6(), 1)
      << accepted[0].ToString() << " " << accepted[1].ToString();
  EXPECT_TRUE(RunUntil({&c}, [&] { return c.connection_count() == 2; }));

  // A KRPC ping to each family's UDP socket on that port is answered.
  const std::string ping =
      "d1:ad2:id20:abcdefghij0123456789e1:q4:ping1:t2:aa1:y1:qe";
  for (const Endpoint& to : {v4, v6}) {
    const int udp = OpenSocket(to, SOCK_DGRAM);
    sockaddr_storage ss;
    const socklen_t len = ToSockaddr(to, &ss);
    ASSERT_EQ(::sendto(udp, ping.data(), ping.size(), 0,
                       reinterpret_cast<sockaddr*>(&ss), len),
              static_cast<ssize_t>(ping.size()));
    std::string reply(1500, '\0');
    ssize_t n = -1;
    EXPECT_TRUE(RunUntil({&c},
                         [&] {
                           n = ::recv(udp, reply.data(), reply.size(),
                                      MSG_DONTWAIT);
                           return n > 0;
                         }))
        << "no DHT answer on " << to.ToString();
    EXPECT_THAT(reply.substr(0, n > 0 ? n : 0), HasSubstr("1:y1:re"));
    ::close(udp);
  }
  ::close(tcp4);
  ::close(tcp6);
}

// A client whose IPv6 address cannot be bound here still starts, on IPv4,
// and says what it left out.
TEST(DualStackClientTest, StartsOnIpv4WhenTheIpv6AddressIsMissing) {
  ClientOptions options = bt::testing::LoopbackClientOptions();
  options.local_hosts = {"127.0.0.1", "2001:db8::1"};
  auto client = Client::Create(options);
  ASSERT_TRUE(client.ok()) << client.status();
  EXPECT_EQ(
      (*client)->listen_endpoints(),
      std::vector<Endpoint>{Endpoint::V4({127, 0, 0, 1}, (*client)->port())});
  ASSERT_EQ((*client)->skipped_addresses().size(), 1u);
  EXPECT_THAT((*client)->skipped_addresses()[0], HasSubstr("2001:db8::1"));
  EXPECT_NE((*client)->dht(), nullptr);
  EXPECT_EQ((*client)->dht6(), nullptr);
  options.local_hosts = {"2001:db8::1"};
  EXPECT_EQ(Client::Create(options).status().code(),
            absl::StatusCode::kFailedPrecondition);
}

// A client listening on one family only does not dial peers of the other
// (they could not reach back, and it would not connect from its address).
TEST(DualStackClientTest, PeersOfAFamilyNotListenedOnAreNotDialled) {
  SKIP_WITHOUT_IPV6();
  ClientOptions options = bt::testing::LoopbackClientOptions();
  options.local_hosts = {"::1"};
  auto v6_only = Client::Create(options);
  ASSERT_TRUE(v6_only.ok()) << v6_only.status();
  EXPECT_EQ((*v6_only)->dht(), nullptr);
  ASSERT_NE((*v6_only)->dht6(), nullptr);
  auto v4_only = Client::Create(bt::testing::LoopbackClientOptions());
  ASSERT_TRUE(v4_only.ok());
  EXPECT_EQ((*v4_only)->dht6(), nullptr);

  const std::string dir = bt::testing::TempDir("dual_stack_not_dialled");
  std::ofstream(dir + "/f", std::ios::binary) << std::string(40000, 'x');
  auto bytes = metainfo::CreateTorrent(dir + "/f", {});
  ASSERT_TRUE(bytes.ok()) << bytes.status();
  TorrentParams params;
  params.info = std::make_shared<const metainfo::TorrentInfo>(
      *metainfo::TorrentInfo::Parse(*bytes));
  params.save_path = dir;
  params.start = false;
  auto t = (*v4_only)->AddTorrent(params);
  ASSERT_TRUE(t.ok()) << t.status();
  const Endpoint v6_peer = *Endpoint::ParseAddress("::1", (*v6_only)->port());
  EXPECT_FALSE((*v4_only)->Connect(**t, v6_peer, false, false));
  EXPECT_FALSE((*v4_only)->Connect(**t, v6_peer, false, true));
  EXPECT_EQ((*v4_only)->connection_count(), 0u);
}

// Payload: `dir`/seed/f.bin (3 MiB of pseudo-random bytes) and its
// torrent, announcing to `trackers`.
struct Payload {
  std::string data;
  metainfo::TorrentInfo info;
};
Payload MakePayload(const std::string& dir,
                    std::vector<std::vector<std::string>> trackers = {}) {
  Payload p;
  std::mt19937 rng(7);
  p.data.resize(3 * 1024 * 1024 + 1234);
  for (char& ch : p.data) ch = static_cast<char>(rng());
  fs::create_directories(dir + "/seed");
  std::ofstream(dir + "/seed/f.bin", std::ios::binary) << p.data;
  metainfo::CreateOptions create;
  create.piece_length = 64 * 1024;
  create.trackers = std::move(trackers);
  auto bytes = metainfo::CreateTorrent(dir + "/seed/f.bin", create);
  EXPECT_TRUE(bytes.ok()) << bytes.status();
  auto info = metainfo::TorrentInfo::Parse(bytes.value_or(""));
  EXPECT_TRUE(info.ok()) << info.status();
  if (info.ok()) p.info = *std::move(info);
  return p;
}

// Seed / Leech add `info` to a client, as a seeder of `dir`/seed or a
// leecher into `dir`/leech.
Torrent* Add(Client& c, const metainfo::TorrentInfo& info,
             const std::string& save_path) {
  TorrentParams params;
  params.info = std::make_shared<const metainfo::TorrentInfo>(info);
  params.save_path = save_path;
  auto t = c.AddTorrent(params);
  EXPECT_TRUE(t.ok()) << t.status();
  return t.value_or(nullptr);
}
Torrent* Seed(Client& c, const metainfo::TorrentInfo& info,
              const std::string& dir) {
  Torrent* t = Add(c, info, dir + "/seed");
  EXPECT_TRUE(t && t->complete());
  return t;
}
Torrent* Leech(Client& c, const metainfo::TorrentInfo& info,
               const std::string& dir) {
  return Add(c, info, dir + "/leech");
}

// A tracker on [::1] that answers with the seeder in "peers6" only: the
// leecher (no DHT) connects to it over IPv6 and downloads.
TEST(DualStackClientTest, PeersFromAnIpv6TrackersPeers6TransferOverIpv6) {
  SKIP_WITHOUT_IPV6();
  const std::string dir = bt::testing::TempDir("dual_stack_peers6");
  ClientOptions options = bt::testing::LoopbackClientOptions();
  options.local_hosts = {"127.0.0.1", "::1"};
  options.enable_dht = false;
  auto seeder = Client::Create(options);
  auto leecher = Client::Create(options);
  ASSERT_TRUE(seeder.ok() && leecher.ok());
  std::string peers6;
  metainfo::AppendCompactPeer(*Endpoint::ParseAddress("::1", (*seeder)->port()),
                              &peers6);
  const std::string body = bencode::Encode(bencode::Value(bencode::Value::Dict{
      {"interval", 1800}, {"peers", ""}, {"peers6", peers6}}));
  testing::FakeHttpTracker tracker((*leecher)->loop(),
                                   [&](int) { return testing::Http200(body); },
                                   /*v6=*/true);
  const Payload p = MakePayload(dir, {{tracker.url()}});
  std::vector<Endpoint> connected;
  (*leecher)->OnEvent(EventType::kPeerConnect, [&](const Event& e) {
    connected.push_back(e.peer.address);
    return true;
  });
  ASSERT_TRUE(Seed(**seeder, p.info, dir));
  Torrent* t = Leech(**leecher, p.info, dir);
  ASSERT_TRUE(t);
  ASSERT_TRUE(
      RunUntil({seeder->get(), leecher->get()}, [&] { return t->complete(); }))
      << "peers " << t->peers().size() << ", announces " << tracker.requests();
  EXPECT_EQ(bt::testing::ReadFileOrDie(dir + "/leech/f.bin"), p.data);
  ASSERT_FALSE(connected.empty());
  for (const Endpoint& e : connected) EXPECT_TRUE(e.is_v6()) << e.ToString();
}

// Three clients on 127.0.0.1 and ::1 whose DHT nodes know each other over
// IPv6 only (their IPv4 nodes know nobody): the leecher finds the seeder
// through the IPv6 DHT and downloads over ::1, byte for byte.
TEST(DualStackClientTest, PeersFromTheIpv6DhtTransferOverIpv6) {
  SKIP_WITHOUT_IPV6();
  const std::string dir = bt::testing::TempDir("dual_stack_dht6");
  const Payload p = MakePayload(dir);

  ClientOptions options = bt::testing::LoopbackClientOptions();
  options.local_hosts = {"127.0.0.1", "::1"};
  std::vector<std::unique_ptr<Client>> clients;
  for (int i = 0; i < 3; ++i) {
    auto c = Client::Create(options);
    ASSERT_TRUE(c.ok()) << c.status();
    clients.push_back(*std::move(c));
  }
  Client& router = *clients[0];
  Client& seeder = *clients[1];
  Client& leecher = *clients[2];
  seeder.AddDhtNode(router.dht6()->local_endpoint());
  leecher.AddDhtNode(router.dht6()->local_endpoint());
  std::vector<Endpoint> connected;
  leecher.OnEvent(EventType::kPeerConnect, [&](const Event& e) {
    connected.push_back(e.peer.address);
    return true;
  });
  ASSERT_TRUE(Seed(seeder, p.info, dir));
  Torrent* t = Leech(leecher, p.info, dir);
  ASSERT_TRUE(t);
  std::vector<Client*> all = {&router, &seeder, &leecher};
  ASSERT_TRUE(RunUntil(
      all, [&] { return t->complete(); }, absl::Seconds(60)))
      << "IPv6 DHT table " << leecher.dht6()->node().table().size()
      << ", peers " << t->peers().size();
  EXPECT_EQ(bt::testing::ReadFileOrDie(dir + "/leech/f.bin"), p.data);
  ASSERT_FALSE(connected.empty());
  for (const Endpoint& e : connected) EXPECT_TRUE(e.is_v6()) << e.ToString();
  EXPECT_EQ(leecher.dht()->node().table().size(), 0u);

  // Both nodes' identities are saved; the IPv6 one comes back with its
  // contacts. (A torrent given as parsed info has no source to save.)
  ASSERT_TRUE(leecher.RemoveTorrent(t).ok());
  const std::string state = dir + "/client.state";
  ASSERT_TRUE(leecher.SaveState(state).ok());
  auto saved = LoadClientState(state);
  ASSERT_TRUE(saved.ok()) << saved.status();
  auto dht6 = dht::ParseSavedState(saved->dht6);
  ASSERT_TRUE(dht6.ok()) << dht6.status();
  EXPECT_EQ(dht6->id, leecher.dht6()->node().id());
  EXPECT_FALSE(dht6->nodes.empty());
  EXPECT_THAT(saved->local_hosts, UnorderedElementsAre("127.0.0.1", "::1"));
  const NodeId id6 = leecher.dht6()->node().id();
  const NodeId id4 = leecher.dht()->node().id();
  clients.pop_back();
  auto restored = Client::Restore(state, nullptr, options);
  ASSERT_TRUE(restored.ok()) << restored.status();
  EXPECT_EQ((*restored)->dht6()->node().id(), id6);
  EXPECT_EQ((*restored)->dht()->node().id(), id4);
}

}  // namespace
}  // namespace bt::client
