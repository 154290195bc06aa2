// A Client bootstrapping its DHT from routers that answer badly: garbage,
// a wrong transaction id, errors, truncated or datagram-sized "nodes" (of
// loopback ports nothing answers on), nodes pointing back at the router and
// at the client, a flood of datagrams, and silence; the same routers are
// also a torrent's BEP 5 "nodes". One good router (another Client's node)
// knows a seeder. The client's loop stays responsive, its table and
// pending queries stay bounded, and it still finds the seeder. Loopback
// only: the routers are UDP sockets the test owns on 127.0.0.1.
#include <algorithm>
#include <array>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/time/clock.h"
#include "bencode/encoder.h"
#include "client/client.h"
#include "client/net/event_loop.h"
#include "client/net/udp_socket.h"
#include "dht/krpc.h"
#include "dht/lookup.h"
#include "dht/node.h"
#include "dht/routing_table.h"
#include "gtest/gtest.h"
#include "tests/client/testing/loopback_options.h"
#include "tests/metainfo/test_torrents.h"
#include "tests/testing/thread_cpu_time.h"

namespace bt::client {
namespace {

enum class Behaviour {
  kGarbage,
  kWrongTransactionId,
  kError,
  kTruncatedNodes,
  kHugeNodes,
  kSelfAndClient,
  kFlood,
  kSilent,
};

// kFloodDatagrams: how many datagrams the flooding router sends in all.
constexpr int kFloodDatagrams = 5000;

// CompactNode: 26 bytes, id filled with `id_byte`, at `ip`:`port`.
std::string CompactNode(uint8_t id_byte, std::array<uint8_t, 4> ip,
                        uint16_t port) {
  std::string out(20, static_cast<char>(id_byte));
  for (uint8_t b : ip) out.push_back(static_cast<char>(b));
  out.push_back(static_cast<char>(port >> 8));
  out.push_back(static_cast<char>(port & 0xff));
  return out;
}

// HostileRouter: a UDP socket on 127.0.0.1 that answers each KRPC query
// as its Behaviour says.
class HostileRouter {
 public:
  HostileRouter(EventLoop* loop, Behaviour behaviour) : behaviour_(behaviour) {
    absl::StatusOr<std::unique_ptr<UdpSocket>> s =
        UdpSocket::Bind(loop, Endpoint::V4({127, 0, 0, 1}, 0));
    EXPECT_TRUE(s.ok()) << s.status();
    if (!s.ok()) return;
    socket_ = *std::move(s);
    auto on = [this](std::string_view d, const Endpoint& from) {
      OnDatagram(d, from);
    };
    socket_->SetDhtHandler(on);
    socket_->SetUtpHandler(on);
  }
  Endpoint endpoint() const { return socket_->local_endpoint(); }
  int queries() const { return queries_; }
  // client: the client's DHT endpoint, for kSelfAndClient.
  void set_client(const Endpoint& client) { client_ = client; }

 private:
  void OnDatagram(std::string_view d, const Endpoint& from) {
    dht::Message q;
    if (!dht::ParseMessage(d, &q).ok() || q.kind != dht::MessageKind::kQuery) {
      return;  // only queries are answered: no ping-pong with the client
    }
    ++queries_;
    switch (behaviour_) {
      case Behaviour::kGarbage:
        socket_->SendTo("d1:y1:r\xff\xfe garbage", from);
        socket_->SendTo(std::string(300, '\x80'), from);
        return;
      case Behaviour::kWrongTransactionId:
        Respond(from, q.transaction_id + "x", Nodes(4, 1));
        return;
      case Behaviour::kError: {
        bencode::Value::Dict m{{"t", q.transaction_id},
                               {"y", "e"},
                               {"e", bencode::Value::List{201, "go away"}}};
        socket_->SendTo(bencode::Encode(m), from);
        return;
      }
      case Behaviour::kTruncatedNodes:
        Respond(from, q.transaction_id, Nodes(3, 1) + "tail!!!");
        return;
      case Behaviour::kHugeNodes:
        // In turn as many nodes as a datagram takes (2,400: 62,400 bytes,
        // beyond KRPC's packet bound) and as many as fit that bound (150).
        ++round_;
        Respond(from, q.transaction_id, Nodes(round_ % 2 ? 2400 : 150, round_));
        return;
      case Behaviour::kSelfAndClient: {
        std::string nodes =
            CompactNode(0x11, {127, 0, 0, 1}, endpoint().port());
        nodes += CompactNode(0x22, {127, 0, 0, 1}, client_.port());
        Respond(from, q.transaction_id, nodes);
        return;
      }
      case Behaviour::kFlood:
        for (int i = 0; i < 1000 && flooded_ < kFloodDatagrams; ++i) {
          ++flooded_;
          if (i % 2 == 0) {
            Respond(from, q.transaction_id, Nodes(8, i));
          } else {
            socket_->SendTo("d1:t2:zz1:y1:re", from);
          }
        }
        return;
      case Behaviour::kSilent:
        return;
    }
  }

  // Nodes: `n` nodes on 127.0.0.2.. at ports nothing in the test listens
  // on (the discard port and the top of the range; a stray query to
  // another process there is harmless), ids varying with `salt`.
  static std::string Nodes(int n, int salt) {
    std::string out;
    for (int i = 0; i < n; ++i) {
      const uint8_t id = static_cast<uint8_t>(i * 7 + salt);
      out += CompactNode(id,
                         {127, 0, static_cast<uint8_t>(i / 250),
                          static_cast<uint8_t>(2 + i % 250)},
                         i % 2 == 0 ? 9 : 65535 - i % 100);
    }
    return out;
  }

  void Respond(const Endpoint& to, const std::string& tid,
               const std::string& nodes) {
    bencode::Value::Dict r{
        {"id", std::string(20, '\x5a')}, {"nodes", nodes}, {"token", "tok"}};
    bencode::Value::Dict m{{"t", tid}, {"y", "r"}, {"r", r}};
    socket_->SendTo(bencode::Encode(m), to);
  }

  Behaviour behaviour_;
  std::unique_ptr<UdpSocket> socket_;
  Endpoint client_;
  int queries_ = 0;
  int round_ = 0;
  int flooded_ = 0;
};

std::unique_ptr<Client> NewClient(ClientOptions options) {
  absl::StatusOr<std::unique_ptr<Client>> c = Client::Create(options);
  EXPECT_TRUE(c.ok()) << c.status();
  return c.ok() ? *std::move(c) : nullptr;
}

// TorrentListing: a small torrent whose BEP 5 "nodes" are `nodes`.
metainfo::TorrentInfo TorrentListing(const std::vector<Endpoint>& nodes) {
  bencode::Value v = metainfo::testing::MakeTorrent(
      "f", {{{"f"}, "abc", ""}}, 16384, metainfo::testing::Version::kV1, true);
  bencode::Value::List list;
  for (const Endpoint& e : nodes) {
    list.push_back(bencode::Value::List{"127.0.0.1", int64_t{e.port()}});
  }
  v.dict()["nodes"] = list;
  absl::StatusOr<metainfo::TorrentInfo> info =
      metainfo::TorrentInfo::Parse(bencode::Encode(v));
  EXPECT_TRUE(info.ok()) << info.status();
  return info.ok() ? *std::move(info) : metainfo::TorrentInfo();
}

// World: one hostile router of each Behaviour, the good router, a seeder
// announced on it, and the client, whose routers (looked up by name) are
// all of them and whose torrent lists the hostile ones as "nodes".
struct World {
  World() {
    for (Behaviour b :
         {Behaviour::kGarbage, Behaviour::kWrongTransactionId,
          Behaviour::kError, Behaviour::kTruncatedNodes, Behaviour::kHugeNodes,
          Behaviour::kSelfAndClient, Behaviour::kFlood, Behaviour::kSilent}) {
      hostile.push_back(std::make_unique<HostileRouter>(loop.get(), b));
    }
    router = NewClient(bt::testing::LoopbackClientOptions());
    seeder = NewClient(bt::testing::LoopbackClientOptions());
    if (router == nullptr || seeder == nullptr) return;
    seeder->AddDhtNode(router->dht()->local_endpoint());
    client = NewClient(ClientOptionsWithRouters());
    if (client == nullptr) return;
    std::vector<Endpoint> nodes;
    for (auto& h : hostile) {
      h->set_client(client->dht()->local_endpoint());
      nodes.push_back(h->endpoint());
    }
    TorrentParams params;
    params.info =
        std::make_shared<const metainfo::TorrentInfo>(TorrentListing(nodes));
    params.save_path = ::testing::TempDir();
    params.start = false;
    EXPECT_TRUE(client->AddTorrent(params).ok());
    hash = *params.info->info_hash_v1();
  }

  ClientOptions ClientOptionsWithRouters() {
    std::map<std::string, Endpoint> names;
    ClientOptions options = bt::testing::LoopbackClientOptions();
    for (size_t i = 0; i < hostile.size(); ++i) {
      const std::string name = "hostile" + std::to_string(i) + ".test";
      names[name] = hostile[i]->endpoint();
      options.dht_bootstrap.push_back({name, hostile[i]->endpoint().port()});
    }
    names["good.test"] = router->dht()->local_endpoint();
    options.dht_bootstrap.push_back({"good.test", names["good.test"].port()});
    options.host_lookup =
        [names](const std::string& host,
                uint16_t) -> absl::StatusOr<std::vector<Endpoint>> {
      auto it = names.find(host);
      if (it == names.end()) return absl::NotFoundError(host);
      return std::vector<Endpoint>{it->second};
    };
    return options;
  }

  // Turn runs one turn of every loop and records the client's worst, in
  // CPU time (its work) and in wall time (reported only: on a loaded
  // machine it includes the waits for a core).
  void Turn() {
    const absl::Time before = absl::Now();
    const absl::Duration cpu_before = ::bt::testing::ThreadCpuTime();
    ASSERT_TRUE(client->DoOneLoop(0.01).ok());
    most_turn_cpu =
        std::max(most_turn_cpu, ::bt::testing::ThreadCpuTime() - cpu_before);
    slowest_turn = std::max(slowest_turn, absl::Now() - before);
    ASSERT_TRUE(router->DoOneLoop(0).ok());
    ASSERT_TRUE(seeder->DoOneLoop(0).ok());
    ASSERT_TRUE(loop->RunOnce(0).ok());
    const dht::Node& node = client->dht()->node();
    most_pending = std::max(most_pending, node.pending_queries());
    most_lookups = std::max(most_lookups, node.active_lookups());
    // Never itself in its table, whoever names it.
    for (const metainfo::NodeInfo& n : node.table().AllContacts()) {
      ASSERT_NE(n.endpoint, client->dht()->local_endpoint());
    }
    // The table holds at most bucket_size contacts per bucket.
    ASSERT_LE(node.table().size(), node.table().bucket_count() *
                                       dht::RoutingTableOptions().bucket_size);
  }

  std::unique_ptr<EventLoop> loop = std::move(*EventLoop::Create());
  std::vector<std::unique_ptr<HostileRouter>> hostile;  // on `loop`
  std::unique_ptr<Client> router;
  std::unique_ptr<Client> seeder;
  std::unique_ptr<Client> client;
  Sha1Hash hash;
  absl::Duration most_turn_cpu;
  absl::Duration slowest_turn;
  size_t most_pending = 0;
  size_t most_lookups = 0;
};

TEST(DhtBootstrapHostileTest, BadRoutersNeitherStallNorBloatTheClient) {
  World w;
  ASSERT_NE(w.client, nullptr);
  w.seeder->dht()->Announce(w.hash, 4242, false,
                            [](const dht::LookupResult&) {});
  // The client looks up the seeder's torrent as a torrent would: again
  // whenever a lookup ends without peers. Each lookup ends within its
  // max_duration (30 s) whatever the routers send; with 150 dead nodes
  // from kHugeNodes to wait out it takes about all of it. The peers come
  // as the good router answers all the same.
  const absl::Duration max_lookup = dht::LookupOptions().max_duration;
  const Endpoint seeder = Endpoint::V4({127, 0, 0, 1}, 4242);
  std::optional<absl::Duration> seeder_after;
  absl::Duration longest_lookup;
  bool looking = false;
  int lookups = 0;
  const absl::Time start = absl::Now();
  while ((!seeder_after || looking) && absl::Now() < start + 3 * max_lookup) {
    w.Turn();
    if (!looking && !seeder_after &&
        w.router->dht()->node().peer_store().peer_count() > 0) {
      looking = true;
      ++lookups;
      w.client->dht()->GetPeers(
          w.hash,
          [&](const dht::LookupResult& r) {
            looking = false;
            longest_lookup = std::max(longest_lookup, r.duration);
          },
          [&](const dht::LookupResult& r) {
            if (!seeder_after && std::find(r.peers.begin(), r.peers.end(),
                                           seeder) != r.peers.end()) {
              seeder_after = absl::Now() - start;
            }
          });
    }
  }
  const absl::Duration took = absl::Now() - start;
  ASSERT_TRUE(seeder_after.has_value())
      << "the seeder was not found in " << took;
  EXPECT_LT(*seeder_after, max_lookup / 2) << "peers wait for the lookup";
  EXPECT_LE(longest_lookup, max_lookup + absl::Seconds(1));
  EXPECT_LT(w.most_turn_cpu, absl::Milliseconds(500));
  EXPECT_LE(w.most_pending, dht::NodeOptions().max_pending_queries);
  EXPECT_LE(w.most_lookups, dht::NodeOptions().max_lookups);
  for (const auto& h : w.hostile) EXPECT_GT(h->queries(), 0);
  const dht::Node& node = w.client->dht()->node();
  std::cout << "seeder found after " << *seeder_after << " in lookup "
            << lookups << " (longest lookup " << longest_lookup
            << "), slowest turn " << w.slowest_turn << " (most CPU "
            << w.most_turn_cpu << "), most pending queries " << w.most_pending
            << ", table " << node.table().size() << " in "
            << node.table().bucket_count() << " buckets, dropped malformed "
            << node.stats().dropped_malformed << ", unmatched "
            << node.stats().dropped_unmatched << "\n";
}

}  // namespace
}  // namespace bt::client
