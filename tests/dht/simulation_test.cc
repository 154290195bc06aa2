// Hundreds of Nodes on a lossy in-memory network: bootstrap from one node,
// lookups converge on the true closest nodes, announces are found.
#include <algorithm>
#include <cstdio>
#include <optional>
#include <random>
#include <set>

#include "dht/item.h"
#include "dht/node_id.h"
#include "gtest/gtest.h"
#include "tests/dht/sim_network.h"

namespace bt::dht {
namespace {

using testing::SimNetwork;

constexpr int kNodes = 300;

Endpoint PublicAddress(int i) {
  // Distinct public addresses, spread over many /8s.
  return Endpoint::V4({static_cast<uint8_t>(20 + i % 150),
                       static_cast<uint8_t>(1 + i / 150), 7,
                       static_cast<uint8_t>(i % 251)},
                      static_cast<uint16_t>(6881 + i % 7));
}

class SimulationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    SimNetwork::Options net;
    net.loss = 0.10;
    net.seed = 42;
    net_ = std::make_unique<SimNetwork>(net);
    for (int i = 0; i < kNodes; ++i) {
      NodeOptions o;
      o.external_address = PublicAddress(i);  // BEP 42 ids
      o.enforce_node_id = true;
      o.query_timeout = absl::Seconds(2);
      o.seed = 1000 + i;
      nodes_.push_back(net_->AddNode(PublicAddress(i), o));
    }
    // Everyone bootstraps from node 0, a few at a time.
    for (int i = 1; i < kNodes; ++i) {
      nodes_[i]->AddBootstrapNode(PublicAddress(0));
      nodes_[i]->Bootstrap(net_->now());
      net_->Collect(PublicAddress(i), nodes_[i]);
      if (i % 10 == 0) net_->Run(absl::Milliseconds(500));
    }
    net_->Run(absl::Seconds(60));
  }

  std::vector<NodeId> TrueClosest(const NodeId& target, size_t k) {
    std::vector<NodeId> ids;
    for (Node* n : nodes_) ids.push_back(n->id());
    std::sort(ids.begin(), ids.end(), [&](const NodeId& a, const NodeId& b) {
      return CloserTo(target, a, b);
    });
    ids.resize(k);
    return ids;
  }

  // RunLookup runs a lookup from `from` to completion and returns its result.
  template <typename Start>
  LookupResult RunLookup(int from, Start start) {
    std::optional<LookupResult> result;
    uint64_t id = start(nodes_[from], [&](const LookupResult& r) { result = r; });
    EXPECT_NE(id, 0u);
    net_->Collect(PublicAddress(from), nodes_[from]);
    for (int i = 0; i < 600 && !result; ++i) net_->Run(absl::Milliseconds(100));
    EXPECT_TRUE(result.has_value());
    return result.value_or(LookupResult{});
  }

  std::unique_ptr<SimNetwork> net_;
  std::vector<Node*> nodes_;
};

TEST_F(SimulationTest, BootstrapLookupsAndAnnounces) {
  // Every node found others.
  size_t min_table = SIZE_MAX, total_table = 0;
  for (Node* n : nodes_) {
    if (n->table().size() < 8) {
      std::printf("node %zu: %zu contacts, %zu lookups\n", &n - &nodes_[0],
                  n->table().size(), n->active_lookups());
    }
    min_table = std::min(min_table, n->table().size());
    total_table += n->table().size();
  }
  std::printf("routing tables: min %zu, mean %.1f contacts\n", min_table,
              double(total_table) / kNodes);
  EXPECT_GE(min_table, 8u);

  // find_node lookups from random nodes converge on the true closest.
  std::mt19937_64 rng(7);
  constexpr int kLookups = 30;
  size_t total_overlap = 0, exact_nearest = 0, total_queries = 0, max_queries = 0;
  for (int l = 0; l < kLookups; ++l) {
    NodeId target;
    for (size_t i = 0; i < 20; ++i) target[i] = static_cast<uint8_t>(rng());
    int from = static_cast<int>(rng() % kNodes);
    LookupResult r = RunLookup(from, [&](Node* n, LookupCallback cb) {
      return n->FindNode(target, net_->now(), cb);
    });
    std::vector<NodeId> truth = TrueClosest(target, 8);
    // The querying node itself never appears in its own result.
    truth.erase(std::remove(truth.begin(), truth.end(), nodes_[from]->id()),
                truth.end());
    std::set<NodeId> found;
    for (const NodeInfo& n : r.closest) found.insert(n.id);
    size_t overlap = 0;
    for (size_t i = 0; i < truth.size() && i < 7; ++i) overlap += found.count(truth[i]);
    total_overlap += overlap;
    exact_nearest += !r.closest.empty() && r.closest[0].id == truth[0];
    total_queries += r.queries;
    max_queries = std::max(max_queries, r.queries);
  }
  std::printf("find_node: %d lookups, mean %.1f of the true 7 closest found, "
              "nearest exact in %zu; messages per lookup mean %.1f max %zu\n",
              kLookups, double(total_overlap) / kLookups, exact_nearest,
              double(total_queries) / kLookups, max_queries);
  EXPECT_GE(double(total_overlap) / kLookups, 6.0);
  // With 10% loss each way a query fails ~19% of the time (each node is
  // asked twice), so the very nearest is occasionally missed.
  EXPECT_GE(exact_nearest, size_t{kLookups * 8 / 10});
  EXPECT_LE(max_queries, 200u);

  // An announce from one node is found by get_peers from others.
  Sha1Hash info_hash;
  for (size_t i = 0; i < 20; ++i) info_hash[i] = static_cast<uint8_t>(rng());
  LookupResult announce = RunLookup(5, [&](Node* n, LookupCallback cb) {
    return n->Announce(info_hash, 7777, false, net_->now(), cb);
  });
  std::printf("announce: %zu messages, acknowledged by %zu nodes\n",
              announce.queries, announce.announced);
  EXPECT_GE(announce.announced, 4u);
  Endpoint expected = PublicAddress(5);
  expected.set_port(7777);
  int found = 0;
  size_t get_peers_messages = 0;
  constexpr int kSearchers = 10;
  for (int s = 0; s < kSearchers; ++s) {
    int from = 100 + s * 17;
    LookupResult r = RunLookup(from, [&](Node* n, LookupCallback cb) {
      return n->GetPeers(info_hash, net_->now(), cb);
    });
    get_peers_messages += r.queries;
    found += std::count(r.peers.begin(), r.peers.end(), expected) > 0;
  }
  std::printf("get_peers: announced peer found by %d of %d nodes, mean %.1f "
              "messages per lookup; network: %llu packets sent\n",
              found, kSearchers, double(get_peers_messages) / kSearchers,
              static_cast<unsigned long long>(net_->sent()));
  EXPECT_GE(found, kSearchers - 1);

  // BEP 44: an immutable and a mutable item put by one node are got by
  // another; a newer mutable version replaces the older.
  DhtItem imm = MakeImmutableItem("12:Hello World!");
  LookupResult put = RunLookup(7, [&](Node* n, LookupCallback cb) {
    return n->PutItem(imm, net_->now(), cb);
  });
  EXPECT_GE(put.announced, 4u);
  LookupResult got = RunLookup(250, [&](Node* n, LookupCallback cb) {
    return n->GetItem(ItemTarget(imm), "", net_->now(), cb);
  });
  ASSERT_TRUE(got.item.has_value());
  EXPECT_EQ(got.item->value, "12:Hello World!");
  std::array<uint8_t, 32> seed{};
  seed[0] = 3;
  Ed25519KeyPair keys = Ed25519KeyPairFromSeed(seed);
  for (int64_t seq = 1; seq <= 2; ++seq) {
    DhtItem m = SignMutableItem(keys, "topic", seq, seq == 1 ? "3:one" : "3:two");
    put = RunLookup(8, [&](Node* n, LookupCallback cb) {
      return n->PutItem(m, net_->now(), cb);
    });
    EXPECT_GE(put.announced, 4u);
  }
  got = RunLookup(251, [&](Node* n, LookupCallback cb) {
    return n->GetItem(MutableTarget(keys.public_key, "topic"), "topic",
                      net_->now(), cb);
  });
  ASSERT_TRUE(got.item.has_value());
  EXPECT_EQ(got.item->value, "3:two");
  EXPECT_EQ(got.item->seq, 2);
  std::printf("BEP 44: put acknowledged by %zu nodes, get %zu messages\n",
              put.announced, got.queries);

  // A BEP 51 traversal towards the info-hash samples it from the nodes
  // that store it.
  LookupResult sampled = RunLookup(200, [&](Node* n, LookupCallback cb) {
    return n->SampleInfohashes(NodeId::FromBytes(info_hash.span()),
                               net_->now(), cb);
  });
  std::printf("sample_infohashes: %zu hashes from %zu responses\n",
              sampled.samples.size(), sampled.responses);
  EXPECT_NE(std::find(sampled.samples.begin(), sampled.samples.end(), info_hash),
            sampled.samples.end());
}

TEST_F(SimulationTest, SavedStateRestartsWithoutBootstrapNode) {
  std::string saved = nodes_[9]->SaveState();
  absl::StatusOr<SavedState> state = ParseSavedState(saved);
  ASSERT_TRUE(state.ok()) << state.status();
  EXPECT_EQ(state->id, nodes_[9]->id());
  EXPECT_GE(state->nodes.size(), 8u);
  // A new node with that state (and no bootstrap node) joins quickly.
  NodeOptions o;
  o.id = state->id;
  o.seed = 99;
  Endpoint ep = Endpoint::V4({200, 1, 1, 1}, 5000);
  Node* restarted = net_->AddNode(ep, o);
  for (const NodeInfo& n : state->nodes) restarted->AddNode(n);
  std::optional<LookupResult> done;
  restarted->Bootstrap(net_->now(), [&](const LookupResult& r) { done = r; });
  net_->Collect(ep, restarted);
  net_->Run(absl::Seconds(20));
  ASSERT_TRUE(done.has_value());
  EXPECT_GE(restarted->table().size(), 8u);
}

}  // namespace
}  // namespace bt::dht

namespace bt::dht {
namespace {

TEST(Ipv6SimulationTest, AnnounceFoundOverIpv6) {
  testing::SimNetwork::Options net;
  net.seed = 7;
  testing::SimNetwork sim(net);
  std::vector<Node*> nodes;
  std::vector<Endpoint> eps;
  for (int i = 0; i < 60; ++i) {
    std::array<uint8_t, 16> a{0x20, 0x01, 0x0d, 0xb8, static_cast<uint8_t>(i)};
    a[15] = 1;
    eps.push_back(Endpoint::V6(a, 6881));
    NodeOptions o;
    o.ipv6 = true;
    o.external_address = eps.back();
    o.seed = 500 + i;
    nodes.push_back(sim.AddNode(eps.back(), o));
  }
  for (int i = 1; i < 60; ++i) {
    nodes[i]->AddBootstrapNode(eps[0]);
    nodes[i]->Bootstrap(sim.now());
    sim.Collect(eps[i], nodes[i]);
  }
  sim.Run(absl::Seconds(30));
  for (Node* n : nodes) {
    EXPECT_GE(n->table().size(), 8u)
        << "in " << n->stats().packets_in << " out " << n->stats().packets_out
        << " malformed " << n->stats().dropped_malformed << " unmatched "
        << n->stats().dropped_unmatched << " timeouts " << n->stats().timeouts;
  }
  Sha1Hash ih;
  ih[0] = 0x42;
  std::optional<LookupResult> ann, got;
  nodes[3]->Announce(ih, 9000, false, sim.now(),
                     [&](const LookupResult& r) { ann = r; });
  sim.Collect(eps[3], nodes[3]);
  sim.Run(absl::Seconds(20));
  ASSERT_TRUE(ann.has_value());
  EXPECT_GE(ann->announced, 4u);
  nodes[40]->GetPeers(ih, sim.now(), [&](const LookupResult& r) { got = r; });
  sim.Collect(eps[40], nodes[40]);
  sim.Run(absl::Seconds(20));
  ASSERT_TRUE(got.has_value());
  Endpoint expected = eps[3];
  expected.set_port(9000);
  EXPECT_NE(std::find(got->peers.begin(), got->peers.end(), expected),
            got->peers.end());
}

// A contact that hands out dead nodes holds a lookup until they time out;
// the peers the other contacts gave are reported at once all the same.
TEST(LookupProgressTest, PeersArriveBeforeTheLookupEnds) {
  SimNetwork::Options net;
  net.loss = 0;
  SimNetwork sim(net);
  auto add = [&](int i) {
    NodeOptions o;
    o.seed = 700 + i;
    return sim.AddNode(PublicAddress(i), o);
  };
  Node* storer = add(0);
  Node* announcer = add(1);
  Node* asker = add(2);
  Sha1Hash ih = Sha1Hash::FromBytes(storer->id().span());
  ih[19] ^= 1;  // the storer is the closest node to the info-hash
  announcer->AddNode({storer->id(), PublicAddress(0)});
  bool announced = false;
  announcer->Announce(ih, 9000, false, sim.now(),
                      [&](const LookupResult&) { announced = true; });
  sim.Collect(PublicAddress(1), announcer);
  sim.Run(absl::Seconds(30));
  ASSERT_TRUE(announced);

  asker->AddNode({storer->id(), PublicAddress(0)});
  for (int i = 10; i < 40; ++i) {  // contacts with no node behind them
    NodeId id;
    for (size_t b = 0; b < id.size(); ++b) id[b] = static_cast<uint8_t>(i * b);
    id[0] = static_cast<uint8_t>(~ih[0]);  // far from the info-hash
    asker->AddNode({id, PublicAddress(i)});
  }
  const absl::Time start = sim.now();
  std::optional<absl::Duration> found_after, done_after;
  std::vector<Endpoint> found;
  asker->GetPeers(
      ih, sim.now(),
      [&](const LookupResult& r) {
        done_after = sim.now() - start;
        EXPECT_EQ(r.peers.size(), 1u);
      },
      [&](const LookupResult& r) {
        if (!found_after) found_after = sim.now() - start;
        found.insert(found.end(), r.peers.begin(), r.peers.end());
      });
  sim.Collect(PublicAddress(2), asker);
  sim.Run(absl::Seconds(60));
  Endpoint expected = PublicAddress(1);
  expected.set_port(9000);
  EXPECT_EQ(found, std::vector<Endpoint>{expected});
  ASSERT_TRUE(found_after.has_value());
  ASSERT_TRUE(done_after.has_value());
  EXPECT_LT(*found_after, absl::Seconds(1));
  EXPECT_GT(*done_after, *found_after + absl::Seconds(2));
}

}  // namespace
}  // namespace bt::dht
