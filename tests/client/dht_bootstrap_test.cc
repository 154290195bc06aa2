// How a real Client finds the DHT: the default routers are asked for by
// name (through an injected lookup: no DNS query leaves the test), a
// router's addresses bootstrap the node, and a torrent's BEP 5 "nodes" are
// pinged. The DHT nodes on the other end are other Clients' nodes on
// loopback.
#include "client/dht_bootstrap.h"

#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "absl/time/clock.h"
#include "bencode/encoder.h"
#include "client/client.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/client/testing/loopback_options.h"
#include "tests/metainfo/test_torrents.h"

namespace bt::client {
namespace {

using ::testing::ElementsAre;
using ::testing::Pair;

// Lookups records the names a client asks for (on its resolver's thread)
// and answers from a fixed table; other names do not resolve.
class Lookups {
 public:
  void Answer(const std::string& host, const Endpoint& e) {
    std::lock_guard<std::mutex> lock(mu_);
    answers_.emplace_back(host, e);
  }
  std::vector<std::pair<std::string, uint16_t>> asked() const {
    std::lock_guard<std::mutex> lock(mu_);
    return asked_;
  }
  // Function is the ClientOptions::host_lookup; `this` must outlive it.
  auto Function() {
    return [this](const std::string& host,
                  uint16_t port) -> absl::StatusOr<std::vector<Endpoint>> {
      std::lock_guard<std::mutex> lock(mu_);
      asked_.emplace_back(host, port);
      std::vector<Endpoint> found;
      for (const auto& [name, e] : answers_) {
        if (name == host) found.push_back(e);
      }
      if (found.empty()) return absl::NotFoundError(host);
      return found;
    };
  }

 private:
  mutable std::mutex mu_;
  std::vector<std::pair<std::string, uint16_t>> asked_;
  std::vector<std::pair<std::string, Endpoint>> answers_;
};

// RunUntil pumps every client until `done` or 20 s pass; returns done().
bool RunUntil(const std::vector<Client*>& clients,
              const std::function<bool()>& done) {
  const absl::Time deadline = absl::Now() + absl::Seconds(20);
  while (!done() && absl::Now() < deadline) {
    for (Client* c : clients) EXPECT_TRUE(c->DoOneLoop(0.01).ok());
  }
  return done();
}

bool InTable(Client& c, const Endpoint& node) {
  DhtUdpNode* dht = node.is_v6() ? c.dht6() : c.dht();
  for (const metainfo::NodeInfo& n : dht->node().table().AllContacts()) {
    if (n.endpoint == node) return true;
  }
  return false;
}

std::unique_ptr<Client> NewClient(ClientOptions options) {
  absl::StatusOr<std::unique_ptr<Client>> c = Client::Create(options);
  EXPECT_TRUE(c.ok()) << c.status();
  return c.ok() ? *std::move(c) : nullptr;
}

TEST(DhtBootstrapTest, DefaultOptionsAskForTheWellKnownRouters) {
  Lookups lookups;
  ClientOptions options;  // the defaults, but for where names go
  options.local_hosts = {"127.0.0.1"};
  options.host_lookup = lookups.Function();
  options.enable_lsd = false;  // no multicast outside a namespace
  std::unique_ptr<Client> client = NewClient(options);
  ASSERT_NE(client, nullptr);
  ASSERT_TRUE(
      RunUntil({client.get()}, [&] { return lookups.asked().size() >= 4; }));
  EXPECT_THAT(lookups.asked(), ElementsAre(Pair("router.bittorrent.com", 6881),
                                           Pair("router.utorrent.com", 6881),
                                           Pair("dht.transmissionbt.com", 6881),
                                           Pair("dht.libtorrent.org", 25401)));
}

// RouterWorld: a loopback DHT node known by the name "router.test", and
// a client whose only router is that name (and whose saved DHT state is
// `dht_state`).
struct RouterWorld {
  explicit RouterWorld(const std::string& dht_state = "") {
    router = NewClient(bt::testing::LoopbackClientOptions());
    if (router == nullptr) return;
    router_node = router->dht()->local_endpoint();
    lookups.Answer("router.test", router_node);
    ClientOptions options = bt::testing::LoopbackClientOptions();
    options.dht_state = dht_state;
    options.dht_bootstrap = {{"router.test", router_node.port()}};
    options.host_lookup = lookups.Function();
    client = NewClient(options);
  }
  // Bootstrapped: the client's table came to hold the router, and the
  // router's name was looked up exactly once.
  void ExpectBootstrapped() {
    EXPECT_TRUE(RunUntil({client.get(), router.get()},
                         [&] { return InTable(*client, router_node); }));
    EXPECT_THAT(lookups.asked(),
                ElementsAre(Pair("router.test", router_node.port())));
  }

  Lookups lookups;  // outlives the clients, whose lookups it answers
  std::unique_ptr<Client> router;
  Endpoint router_node;
  std::unique_ptr<Client> client;
};

TEST(DhtBootstrapTest, ARoutersAddressesBootstrapTheNode) {
  RouterWorld world;
  ASSERT_NE(world.client, nullptr);
  world.ExpectBootstrapped();
}

// Saved contacts that all went away since: the routers are asked after
// all, as if there were no saved state.
TEST(DhtBootstrapTest, RoutersAreAskedWhenNoSavedContactAnswers) {
  std::string state;
  {
    std::unique_ptr<Client> gone =
        NewClient(bt::testing::LoopbackClientOptions());
    std::unique_ptr<Client> saver =
        NewClient(bt::testing::LoopbackClientOptions());
    ASSERT_NE(gone, nullptr);
    ASSERT_NE(saver, nullptr);
    const Endpoint gone_node = gone->dht()->local_endpoint();
    saver->AddDhtNode(gone_node);
    ASSERT_TRUE(RunUntil({saver.get(), gone.get()},
                         [&] { return InTable(*saver, gone_node); }));
    state = saver->dht()->node().SaveState();
  }
  RouterWorld world(state);
  ASSERT_NE(world.client, nullptr);
  EXPECT_TRUE(world.lookups.asked().empty())
      << "routers asked before the saved contacts had their chance";
  world.ExpectBootstrapped();
}

// A router name with an IPv4 and an IPv6 address (A and AAAA) bootstraps
// each family's node (BEP 32) from the one of its family.
TEST(DhtBootstrapTest, ARoutersAddressesOfEachFamilyFeedThatFamilysNode) {
  if (!bt::testing::HaveIpv6Loopback()) {
    GTEST_SKIP() << "no IPv6 loopback here: cannot bind [::1]";
  }
  ClientOptions options = bt::testing::LoopbackClientOptions();
  options.local_hosts = {"127.0.0.1", "::1"};
  std::unique_ptr<Client> router = NewClient(options);
  ASSERT_NE(router, nullptr);
  const Endpoint v4 = router->dht()->local_endpoint();
  const Endpoint v6 = router->dht6()->local_endpoint();
  Lookups lookups;
  lookups.Answer("router.test", v4);
  lookups.Answer("router.test", v6);
  options.dht_bootstrap = {{"router.test", v4.port()}};
  options.host_lookup = lookups.Function();
  std::unique_ptr<Client> client = NewClient(options);
  ASSERT_NE(client, nullptr);
  EXPECT_TRUE(RunUntil({client.get(), router.get()}, [&] {
    return InTable(*client, v4) && InTable(*client, v6);
  }));
  EXPECT_EQ(client->dht()->node().table().size(), 1u);
  EXPECT_EQ(client->dht6()->node().table().size(), 1u);
  EXPECT_THAT(lookups.asked(), ElementsAre(Pair("router.test", v4.port())));
}

TEST(DhtBootstrapTest, ATorrentsNodesArePinged) {
  std::unique_ptr<Client> by_address =
      NewClient(bt::testing::LoopbackClientOptions());
  std::unique_ptr<Client> by_name =
      NewClient(bt::testing::LoopbackClientOptions());
  ASSERT_NE(by_address, nullptr);
  ASSERT_NE(by_name, nullptr);
  const Endpoint a = by_address->dht()->local_endpoint();
  const Endpoint b = by_name->dht()->local_endpoint();
  Lookups lookups;
  lookups.Answer("node.test", b);
  ClientOptions options = bt::testing::LoopbackClientOptions();
  options.host_lookup = lookups.Function();
  std::unique_ptr<Client> client = NewClient(options);
  ASSERT_NE(client, nullptr);

  bencode::Value v = metainfo::testing::MakeTorrent(
      "f", {{{"f"}, "abc", ""}}, 16384, metainfo::testing::Version::kV1, true);
  v.dict()["nodes"] = bencode::Value::List{
      bencode::Value::List{"127.0.0.1", int64_t{a.port()}},
      bencode::Value::List{"node.test", int64_t{b.port()}}};
  absl::StatusOr<metainfo::TorrentInfo> info =
      metainfo::TorrentInfo::Parse(bencode::Encode(v));
  ASSERT_TRUE(info.ok()) << info.status();
  TorrentParams params;
  params.info = std::make_shared<const metainfo::TorrentInfo>(*info);
  params.save_path = ::testing::TempDir();
  params.start = false;
  ASSERT_TRUE(client->AddTorrent(params).ok());

  EXPECT_TRUE(RunUntil({client.get(), by_address.get(), by_name.get()}, [&] {
    return InTable(*client, a) && InTable(*client, b);
  }));
  EXPECT_THAT(lookups.asked(), ElementsAre(Pair("node.test", b.port())));
}

TEST(DhtBootstrapTest, LooksUpAtMostSoManyNodesOfATorrent) {
  auto loop = std::move(*EventLoop::Create());
  Lookups lookups;
  Resolver resolver(loop.get(), lookups.Function());
  std::vector<Endpoint> hints;
  DhtBootstrap bootstrap(
      &resolver, [](const Endpoint&) { ADD_FAILURE() << "not a router"; },
      [&](const Endpoint& e) { hints.push_back(e); });
  std::vector<metainfo::DhtNode> nodes;
  for (int i = 0; i < 40; ++i) {
    nodes.push_back({"n" + std::to_string(i) + ".test", 1000 + i});
    lookups.Answer(nodes.back().host, Endpoint::V4({127, 0, 0, 1}, 1000 + i));
  }
  bootstrap.AddTorrentNodes(nodes);
  EXPECT_EQ(bootstrap.pending(), DhtBootstrap::kMaxTorrentNodes);
  const absl::Time deadline = absl::Now() + absl::Seconds(20);
  while (bootstrap.pending() > 0 && absl::Now() < deadline) {
    ASSERT_TRUE(loop->RunOnce(0.05).ok());
  }
  ASSERT_EQ(hints.size(), DhtBootstrap::kMaxTorrentNodes);
  EXPECT_EQ(hints.front(), Endpoint::V4({127, 0, 0, 1}, 1000));
  EXPECT_EQ(lookups.asked().size(), DhtBootstrap::kMaxTorrentNodes);
}

TEST(DhtBootstrapTest, DestroyedBeforeTheAnswersNeverCallsBack) {
  auto loop = std::move(*EventLoop::Create());
  Resolver resolver(loop.get());
  {
    DhtBootstrap bootstrap(
        &resolver, [](const Endpoint&) { ADD_FAILURE() << "called back"; },
        [](const Endpoint&) { ADD_FAILURE() << "called back"; });
    // IP literals: answered from the loop, without DNS.
    bootstrap.AddRouters({{"127.0.0.1", 1}, {"::1", 2}});
    bootstrap.AddTorrentNodes({{"127.0.0.1", 3}});
    EXPECT_EQ(bootstrap.pending(), 3u);
  }
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(loop->RunOnce(0.01).ok());
}

}  // namespace
}  // namespace bt::client
